"""Words of the KPI page (analysis.narrative.kpis) and its charts, in English and in Thai."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from visible_words import english_words, figure_texts

from analysis import plots
from analysis.calendar import report_periods
from analysis.i18n import use_language
from analysis.kpis.assemble import Scorecard, scorecard_table
from analysis.narrative import kpis as text


def _row(metric, unit, current, previous, year_ago, statuses=(None, None, None), **extra):
    row = {
        "metric": metric, "label": metric.title(), "unit": unit, "available": True,
        "missing_table": None, "current": current, "previous": previous, "year_ago": year_ago,
        "change_vs_previous": None if previous is None or current is None else current - previous,
        "pct_vs_previous": None, "change_vs_year_ago": None, "pct_vs_year_ago": None,
        "higher_is_better": True, "current_status": statuses[0],
        "previous_status": statuses[1], "year_ago_status": statuses[2],
    }  # fmt: skip
    row.update(extra)
    return row


@pytest.fixture
def missing_nps():
    return pd.DataFrame(
        [
            _row("revenue", "money", 100.0, 80.0, None, label="Revenue", pct_vs_previous=0.25),
            _row("nps", "points", None, None, None, label="NPS", available=False,
                 missing_table="surveys"),
        ]
    ).set_index("metric", drop=False)  # fmt: skip


def test_scorecard_frame_says_what_is_missing(missing_nps):
    frame = text.scorecard_frame(missing_nps, "THB")
    assert list(frame.columns) == [
        "Metric", "This month", "Previous month", "Change", "Year ago", "Change vs year ago",
    ]  # fmt: skip
    assert frame.iloc[0].tolist() == ["Revenue", "฿100", "฿80.00", "+25.0%", "–", "–"]
    assert frame.iloc[1, 1] == "not available — add surveys to the warehouse"
    cards = text.summary_cards(missing_nps, ["revenue", "nps"], "THB")
    assert [c["key"] for c in cards] == ["revenue"]  # no card for a missing metric
    assert cards[0] == {
        "key": "revenue", "label": "Revenue", "value": "฿100", "change": "+25.0%",
        "direction": "up", "good": True,
    }  # fmt: skip


def test_scorecard_frame_in_thai(missing_nps):
    with use_language("th"):
        frame = text.scorecard_frame(missing_nps, "THB")
        cards = text.summary_cards(missing_nps, ["revenue"], "THB")
    assert list(frame.columns) == [
        "ตัวชี้วัด", "เดือนนี้", "เดือนก่อน", "เปลี่ยนแปลง", "ปีก่อน", "เทียบปีก่อน",
    ]  # fmt: skip
    assert frame.iloc[0, 0] == "ยอดขาย" and frame.iloc[1, 0] == "NPS"
    assert frame.iloc[1, 1] == "ยังไม่มีข้อมูล — เพิ่มข้อมูลแบบสำรวจความพึงพอใจลงในคลังข้อมูลของร้าน"
    assert cards[0]["label"] == "ยอดขาย"


def test_not_available_names_the_table_in_english_and_says_it_in_thai():
    tables = ["sessions", "carts", "marketing_spend", "surveys", "customers", "loyalty_members"]
    assert text.not_available("carts") == (
        "Not available — add `carts` to the warehouse (`data/warehouse/carts/<store>.parquet`)."
    )
    with use_language("th"):
        thai = [text.not_available(t) for t in tables]
    assert thai[1] == "ยังไม่มีข้อมูลส่วนนี้ — เพิ่มข้อมูลตะกร้าสินค้าลงในคลังข้อมูลของร้าน"
    assert english_words(" ".join(thai)) == []


def test_scorecard_frame_says_no_data_and_leaves_the_change_blank():
    table = pd.DataFrame(
        [
            _row("revenue", "money", 100.0, 80.0, None, (None, None, "no data"),
                 pct_vs_previous=0.25),
            _row("orders", "count", 3, None, None, (None, "no data", "no data")),
            _row("aov", "money", None, 5.0, None, (None, None, "no data")),
        ]
    ).set_index("metric", drop=False)  # fmt: skip
    frame = text.scorecard_frame(table, "THB")
    assert frame.iloc[0].tolist() == ["Revenue", "฿100", "฿80.00", "+25.0%", "no data", ""]
    assert frame.iloc[1].tolist() == ["Orders", "3", "no data", "", "no data", ""]
    # a ratio of nothing in a month with data is "–", not "no data"
    assert frame.iloc[2].tolist()[1] == "–"
    with use_language("th"):
        assert text.scorecard_frame(table, "THB").iloc[1, 2] == "ไม่มีข้อมูล"
        assert text.scorecard_value(table, "orders", "THB", "previous") == "ไม่มีข้อมูล"
    cards = text.summary_cards(table, ["revenue", "orders"], "THB")
    assert cards[1]["value"] == "3" and cards[1]["change"] == ""  # vs a month without data
    assert cards[1]["direction"] == "flat" and cards[1]["good"] is None
    assert text.scorecard_value(table, "orders", "THB", period="previous") == "no data"


# --------------------------------------------------------------------------- lists, series


@pytest.fixture
def card():
    periods = report_periods("2026-03", "Asia/Bangkok")

    def series(current, previous=None, year_ago=None):
        return pd.Series({"current": current, "previous": previous, "year_ago": year_ago})

    values = {
        "revenue": series(100.0, 80.0),
        "retention_rate": series(0.25),
        "churn_rate": series(0.75),
    }
    table = scorecard_table(values, periods, ["sessions", "customers"])
    return Scorecard(
        table=table,
        periods=periods,
        acquisition=None,
        ladder=None,
        onboarding={
            "median_days_signup_to_first_order": None,
            "first_order_discount_share": 0.125,
            "median_days_first_to_second": 12.5,
        },
        ltv=None,
        missing=["sessions", "customers", "loyalty_members"],
    )


def test_onboarding_and_retention_lists_by_hand(card):
    from analysis.kpis import ONBOARDING_VALUES, RETENTION_VALUES

    assert text.lifecycle_list(card, ONBOARDING_VALUES, "THB").data == (
        "- **Conversion rate**: Not available — add `sessions` to the warehouse "
        "(`data/warehouse/sessions/<store>.parquet`).\n"
        "- **Days from sign-up to first order (median)**: Not available — add `customers` to "
        "the warehouse (`data/warehouse/customers/<store>.parquet`).\n"
        "- **First orders with a discount**: 12.5%"
    )
    assert text.lifecycle_list(card, RETENTION_VALUES, "THB").data == (
        "- **Customer retention rate**: 25.0%\n"
        "- **Churn rate**: 75.0%\n"
        "- **Days from first to second order (median)**: 12.5 days\n"
        "- **Loyalty participation**: Not available — add `loyalty_members` to the warehouse "
        "(`data/warehouse/loyalty_members/<store>.parquet`)."
    )
    with use_language("th"):
        thai = text.lifecycle_list(card, RETENTION_VALUES, "THB").data
    assert thai.splitlines()[2] == "- **จำนวนวันจากการซื้อครั้งแรกถึงครั้งที่สอง (มัธยฐาน)**: 12.5 วัน"


def test_trend_series_come_from_the_catalogue():
    assert text.trend_series() == [
        ("revenue", "Revenue", "money"),
        ("orders", "Orders", "count"),
        ("aov", "Average order value", "money"),
        ("active_customers", "Active customers", "count"),
        ("new_customers", "New customers", "count"),
        ("returning_customers", "Returning customers", "count"),
        ("conversion_rate", "Conversion rate", "ratio"),
        ("cart_abandonment_rate", "Cart abandonment", "ratio"),
        ("nps", "NPS", "points"),
    ]
    with use_language("th"):
        assert text.trend_series(["revenue", "nps"]) == [
            ("revenue", "ยอดขาย", "money"),
            ("nps", "NPS", "points"),
        ]


def test_definitions_and_acquisition_tables_in_thai(card):
    with use_language("th"):
        html = text.definitions_table(card.table).to_html()
        acquisition = pd.DataFrame(
            {"new_customers": [3, 1, 4], "spend": [300.0, 0.0, 300.0], "cac": [100.0, 0.0, 75.0]},
            index=pd.Index(["line_oa", "unknown", "all"], name="channel"),
        )
        table = text.acquisition_table(acquisition, "THB").to_html()
    assert "คำนิยาม" in html and "ผลรวมยอดขายของคำสั่งซื้อที่สำเร็จ" in html
    assert "ช่องทาง" in table and "รวมทุกช่องทาง" in table and "ไม่ทราบช่องทาง" in table
    assert "line_oa" in table  # a channel name from the data is shown as it is
    english = text.acquisition_table(acquisition, "THB").to_html()
    assert ">new_customers<" in english and ">all<" in english  # English reads as before
    assert "฿75.00" in english


def test_findings_in_thai_and_markdown():
    periods = report_periods("2026-03", "Asia/Bangkok")
    values = {
        "revenue": pd.Series({"current": 112.0, "previous": 100.0, "year_ago": None}),
        "new_customers": pd.Series({"current": 5, "previous": 5, "year_ago": None}),
        "returning_customers": pd.Series({"current": 9, "previous": 7, "year_ago": None}),
    }
    table = scorecard_table(values, periods, [])
    card = Scorecard(table, periods, None, None, {}, None)
    english = text.findings(card, previous_month_name="Feb 2026")
    assert english[0] == "Revenue +12% vs Feb 2026, driven by returning customers."
    with use_language("th"):
        thai = text.findings(card, previous_month_name="ก.พ. 2569")
        none = text.findings_markdown([]).data
    assert thai[0] == "ยอดขาย +12% เมื่อเทียบกับ ก.พ. 2569 โดยมาจากลูกค้าเก่าที่กลับมาซื้อเป็นหลัก"
    assert none == "เดือนนี้ไม่มีการเปลี่ยนแปลงที่น่าสังเกต"
    assert text.findings_markdown(["Revenue +12% vs Feb 2026."]).data == (
        "- Revenue \\+12\\% vs Feb 2026\\."
    )


# --------------------------------------------------------------------------- charts in Thai


def test_kpi_charts_have_no_english_words_in_thai():
    plots.set_theme()  # the Thai font, as the notebooks use it
    months = pd.date_range("2025-10-01", periods=13, freq="MS")
    trends = pd.DataFrame(
        {
            "month": months,
            "revenue": [1_200_000.0 + 1000 * i for i in range(13)],
            "orders": range(100, 113),
            "new_customers": range(10, 23),
            "conversion_rate": [0.02 + 0.001 * i for i in range(13)],
            "nps": [20.0 + i for i in range(13)],
            "spend": [50_000.0] * 13,
        }
    )
    ladder = pd.DataFrame(
        {"k": [1, 2], "customers": [10, 4], "next": [4, 1], "probability": [0.4, 0.25]}
    )
    with use_language("th"):
        figures = [
            plots.small_multiples(trends, text.trend_series(), currency="THB", buddhist_era=True),
            plots.spend_vs_new_customers(trends, currency="THB", buddhist_era=True).figure,
            plots.repeat_ladder_chart(ladder).figure,
        ]
        for fig in figures:
            words = figure_texts(fig)
            assert words, "the chart has text"
            assert english_words(" ".join(words)) == [], words
            plt.close(fig)
    # the same charts in English keep their words
    fig = plots.repeat_ladder_chart(ladder).figure
    assert "Repeat ladder: P(order k+1 | k orders)" in figure_texts(fig)
    plt.close(fig)
    assert plots.spend_vs_new_customers(trends.drop(columns="spend"), currency="THB") is None
