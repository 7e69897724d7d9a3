"""The loyalty programme dashboard (analysis.loyalty.programme) against hand-worked answers.

The toy store (zone Asia/Bangkok, UTC+7, report month 2026-03, three months
shown: Jan, Feb, Mar 2026) has these customers (times UTC):

- A joined 2025-12-20 (gold): orders 2025-12-10 (100), 2026-01-05 (200),
  2026-01-20 (100), 2026-03-10 (300); points earned 4 (Dec), 8 and 4 (Jan),
  12 (Mar), redeemed 10 on 2026-02-10 (52 days after joining).
- B joined 2026-02-15 (silver): orders 2026-01-10 (50), 2026-02-10 (80,
  before joining), 2026-02-25 (120, a member order); earned 5 on 2026-02-25,
  redeemed 5 on 2026-03-20 (33 days after joining).
- C never joins: orders 2026-01-31T17:30Z (60; local 1 Feb 00:30, so
  February), 2026-03-05 (40), 2026-03-06 (40).
- D joined 2026-03-31T16:00Z (local 31 Mar 23:00, silver): orders
  2026-01-15 (70), 2026-03-20 (500, cancelled).
- E joined 2026-04-02 (after the report month: not a member yet): order
  2026-03-15 (90); earned 100 on 2026-04-03 (after the month: not counted).
- F joined 2026-01-25 (no tier), never ordered.
- a guest order 2026-03-12 (1,000).
"""

from __future__ import annotations

import datetime as dt
import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import orders_frame, write_table

from analysis.calendar import report_periods
from analysis.config import default_params
from analysis.errors import SectionUnavailable
from analysis.i18n import use_language
from analysis.kpis.base import customer_base
from analysis.kpis.touchpoints import loyalty_participation
from analysis.loyalty import plotting
from analysis.loyalty.programme import (
    programme_headlines,
    programme_page,
    redemption_timing,
)
from analysis.narrative import programme as words
from analysis.report import record_headlines
from analysis.warehouse import StoreWarehouse

TZ, STORE, MONTH = "Asia/Bangkok", "toy", "2026-03"
JAN, FEB, MAR = (pd.Timestamp(f"2026-0{m}-01") for m in (1, 2, 3))

ORDERS = [
    ("o1", "A", "2025-12-10T05:00:00Z", 100, "completed"),
    ("o2", "A", "2026-01-05T05:00:00Z", 200, "completed"),
    ("o3", "A", "2026-01-20T05:00:00Z", 100, "completed"),
    ("o4", "A", "2026-03-10T05:00:00Z", 300, "completed"),
    ("o5", "B", "2026-01-10T05:00:00Z", 50, "completed"),
    ("o6", "B", "2026-02-10T05:00:00Z", 80, "completed"),
    ("o7", "B", "2026-02-25T05:00:00Z", 120, "completed"),
    ("o8", "C", "2026-01-31T17:30:00Z", 60, "completed"),
    ("o9", "C", "2026-03-05T05:00:00Z", 40, "completed"),
    ("o10", "C", "2026-03-06T05:00:00Z", 40, "completed"),
    ("o11", "D", "2026-01-15T05:00:00Z", 70, "completed"),
    ("o12", "D", "2026-03-20T05:00:00Z", 500, "cancelled"),
    ("o13", "E", "2026-03-15T05:00:00Z", 90, "completed"),
    ("o14", None, "2026-03-12T05:00:00Z", 1000, "completed"),
]
MEMBERS = [
    ("A", "2025-12-20T00:00:00Z", "gold"),
    ("B", "2026-02-15T00:00:00Z", "silver"),
    ("D", "2026-03-31T16:00:00Z", "silver"),
    ("E", "2026-04-02T00:00:00Z", "bronze"),
    ("F", "2026-01-25T00:00:00Z", None),
]
POINTS = [
    ("A", "2025-12-10T05:00:00Z", 4, 0),
    ("A", "2026-01-05T05:00:00Z", 8, 0),
    ("A", "2026-01-20T05:00:00Z", 4, 0),
    ("A", "2026-02-10T00:00:00Z", 0, 10),
    ("A", "2026-03-10T05:00:00Z", 12, 0),
    ("B", "2026-02-25T05:00:00Z", 5, 0),
    ("B", "2026-03-20T00:00:00Z", 0, 5),
    ("E", "2026-04-03T05:00:00Z", 100, 0),
]


def _members(tier: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(MEMBERS, columns=["customer_id", "joined_at", "tier"])
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame["tier"] = frame["tier"].astype("string")
    return frame if tier else frame.drop(columns="tier")


def _toy(root, *, points: bool = True, tier: bool = True, members: bool = True):
    write_table(root, "orders", STORE, orders_frame(ORDERS))
    if members:
        write_table(root, "loyalty_members", STORE, _members(tier))
    if points:
        frame = pd.DataFrame(
            POINTS, columns=["customer_id", "occurred_at", "points_earned", "points_redeemed"]
        )
        frame["customer_id"] = frame["customer_id"].astype("string")
        write_table(root, "loyalty_points", STORE, frame)
    return StoreWarehouse(root, STORE, TZ)


def _params(point_value: float | None = 0.5):
    return default_params({"kpis": {"trend_months": 3}, "loyalty": {"point_value": point_value}})


def _page(wh, point_value: float | None = 0.5):
    return programme_page(wh, report_periods(MONTH, TZ)[0], _params(point_value))


@pytest.fixture
def toy(warehouse_dir):
    wh = _toy(warehouse_dir)
    return wh, _page(wh)


def test_members_over_time(toy):
    _wh, page = toy
    assert list(page.members.index) == [JAN, FEB, MAR]
    # A joined in December (before the months shown) and counts in every month's members.
    assert page.members["joins"].tolist() == [1, 1, 1]  # F, B, D (local 31 Mar 23:00)
    assert page.members["members"].tolist() == [2, 3, 4]  # E joins after the month


def test_participation_by_month_and_the_scorecard_agree(toy):
    wh, page = toy
    part = page.participation
    # Jan: A, B, D active, only A a member; Feb: B (joined Feb 15), C (local 1 Feb); Mar: A, C, E.
    assert part["active_customers"].tolist() == [3, 2, 3]
    assert part["active_members"].tolist() == [1, 1, 1]
    assert part["participation_rate"].tolist() == pytest.approx([1 / 3, 1 / 2, 1 / 3])
    periods = report_periods(MONTH, TZ)
    orders = wh.table("orders", end=periods[0].end)
    kpi = loyalty_participation(
        wh.table("loyalty_members", end=periods[0].end),
        customer_base(orders, periods, 365),
        periods,
    )
    assert kpi["current"] == pytest.approx(part.loc[MAR, "participation_rate"])
    assert kpi["previous"] == pytest.approx(part.loc[FEB, "participation_rate"])


def test_points_by_month(toy):
    _wh, page = toy
    pts = page.points
    assert pts["earned"].tolist() == [12, 5, 12]
    assert pts["redeemed"].tolist() == [0, 10, 5]
    assert pts["earned_to_date"].tolist() == [16, 21, 33]  # December's 4 included
    assert pts["redeemed_to_date"].tolist() == [0, 10, 15]
    assert pts["outstanding"].tolist() == [16, 11, 18]
    assert pts["outstanding_value"].tolist() == [8.0, 5.5, 9.0]  # 0.5 a point
    assert pts["redemption_rate"].tolist() == pytest.approx([0.0, 2.0, 5 / 12])
    assert pts["redemption_rate_to_date"].tolist() == pytest.approx([0.0, 10 / 21, 15 / 33])
    assert page.missing == ()


def test_redemption_timing(toy):
    _wh, page = toy
    t = page.timing
    assert (t.members, t.redeemers) == (4, 2)
    assert t.median_days == pytest.approx((52 + 33) / 2)
    # 30 days: A, B, F joined by 1 Mar 17:00 UTC, none redeemed within 30 days;
    # 90 days: only A joined by 31 Dec 17:00 UTC (redeemed after 52 days); 180: nobody.
    assert t.windows["eligible"].tolist() == [3, 1, 0]
    assert t.windows["redeemed"].tolist() == [0, 1, 0]
    assert t.windows["share"].tolist() == [0.0, 1.0, None]


def test_redemption_before_joining_is_not_a_first_redemption(warehouse_dir):
    wh = _toy(warehouse_dir)
    members = wh.table("loyalty_members")
    extra = pd.DataFrame(
        {"customer_id": ["B"], "occurred_at": ["2026-02-01T00:00:00Z"], "points_redeemed": [1]}
    )
    extra["occurred_at"] = pd.to_datetime(extra["occurred_at"])
    points = wh.table("loyalty_points").select("customer_id", "occurred_at", "points_redeemed")
    native = wh.connection.from_df(extra)
    import narwhals as nw

    both = nw.concat([points, nw.from_native(native)])
    end = report_periods(MONTH, TZ)[0].end
    timing = redemption_timing(members, both, end)
    assert timing.redeemers == 2
    assert timing.median_days == pytest.approx(42.5)


def test_tiers(toy):
    _wh, page = toy
    tiers = page.tiers
    assert tiers.index[:2].tolist() == ["silver", "gold"]
    assert pd.isna(tiers.index[2])
    assert tiers["members"].tolist() == [2, 1, 1]  # E joined after the month
    assert tiers["share"].tolist() == [0.5, 0.25, 0.25]
    assert tiers["earned"].tolist() == [5, 28, 0]
    assert tiers["redeemed"].tolist() == [5, 10, 0]
    assert tiers["redemption_rate"].tolist()[:2] == pytest.approx([1.0, 10 / 28])
    assert tiers["redemption_rate"].tolist()[2] is None


def test_members_vs_non_members(toy):
    _wh, page = toy
    cmp = page.comparison
    member, other = cmp.xs("member", level="group"), cmp.xs("non_member", level="group")
    assert member["customers"].tolist() == [1, 1, 1]
    assert member["orders"].tolist() == [2, 1, 1]
    assert member["revenue"].tolist() == [300, 120, 300]
    assert member["aov"].tolist() == [150, 120, 300]
    assert member["frequency"].tolist() == [2, 1, 1]
    assert member["repeat_rate"].tolist() == [1, 0, 0]
    # B's order before joining (Feb 10) is a non-member order; D's cancelled order is none.
    assert other["customers"].tolist() == [2, 2, 2]
    assert other["orders"].tolist() == [2, 2, 3]
    assert other["revenue"].tolist() == [120, 140, 170]
    assert other["revenue_per_customer"].tolist() == [60, 70, 85]
    assert other["aov"].tolist() == pytest.approx([60, 70, 170 / 3])
    assert other["frequency"].tolist() == [1, 1, 1.5]
    assert other["repeat_rate"].tolist() == [0, 0, 0.5]  # C twice in March
    # March sales include the 1,000 guest order.
    assert member["sales_share"].tolist() == pytest.approx([300 / 420, 120 / 260, 300 / 1470])
    assert other["sales_share"].tolist() == pytest.approx([120 / 420, 140 / 260, 170 / 1470])


def test_headlines(toy):
    _wh, page = toy
    head = programme_headlines(page)
    assert head == pytest.approx(
        {
            "members": 4,
            "joins": 1,
            "participation_rate": 1 / 3,
            "redemption_rate": 15 / 33,
            "points_liability": 18,
            "points_liability_value": 9.0,
            "member_sales_share": 300 / 1470,
        }
    )
    assert record_headlines("loyalty", head)["values"]["points_liability"] == 18.0


def test_without_point_value_liability_is_points_only(warehouse_dir):
    page = _page(_toy(warehouse_dir), point_value=None)
    assert page.missing == ("point_value",)
    assert page.points["outstanding_value"].isna().all()
    assert programme_headlines(page)["points_liability_value"] is None
    notes = words.page_notes(page, "THB")
    assert (
        len(notes) == 1 and "loyalty.point_value" in notes[0] and notes[0].endswith("in Thai Baht.")
    )


def test_without_points_table(warehouse_dir):
    page = _page(_toy(warehouse_dir, points=False))
    assert page.points is None and page.timing is None
    assert page.missing == ("points",)
    assert page.tiers.columns.tolist() == ["members", "share"]
    assert page.participation["participation_rate"].tolist() == pytest.approx([1 / 3, 1 / 2, 1 / 3])
    head = programme_headlines(page)
    assert head["redemption_rate"] is None and head["points_liability"] is None
    assert words.points_table(page, "THB") is None and words.points_text(page, "THB") is None
    assert "loyalty_points" in words.page_notes(page, "THB")[0]


def test_without_tier_column(warehouse_dir):
    page = _page(_toy(warehouse_dir, tier=False))
    assert page.tiers is None
    assert page.missing == ("tier",)
    assert words.tier_table(page) is None
    assert words.page_notes(page, "THB") == [
        "The members table has no tier: the breakdown by tier is left out."
    ]


def test_tier_column_without_values(warehouse_dir):
    wh = _toy(warehouse_dir, tier=False)
    frame = _members(tier=False).assign(tier=pd.Series([None] * 5, dtype="string"))
    write_table(warehouse_dir, "loyalty_members", STORE, frame)
    page = _page(wh)
    assert page.tiers is None and "tier" in page.missing


def test_without_members_table_is_unavailable(warehouse_dir):
    wh = _toy(warehouse_dir, members=False)
    with pytest.raises(SectionUnavailable) as caught:
        _page(wh)
    assert "loyalty_members" in str(caught.value)
    note = words.unavailable_note(str(caught.value))
    assert note.startswith("**The programme dashboard is not shown:** no loyalty programme data")
    assert "loyalty\\_members" in note  # the reason is escaped for Markdown


def test_no_member_before_the_month_end_is_unavailable(warehouse_dir):
    wh = _toy(warehouse_dir)
    with pytest.raises(SectionUnavailable) as caught:
        programme_page(wh, report_periods("2025-11", TZ)[0], _params())
    assert "November 2025" in str(caught.value)
    params = default_params({"language": "th", "buddhist_era": True})
    with use_language("th"), pytest.raises(SectionUnavailable) as caught:
        programme_page(wh, report_periods("2025-11", TZ)[0], params)
    assert "พฤศจิกายน 2568" in str(caught.value)


def test_a_month_without_orders_has_no_rates(warehouse_dir):
    wh = _toy(warehouse_dir)
    params = default_params({"kpis": {"trend_months": 2}})
    page = programme_page(wh, report_periods("2026-06", TZ)[0], params)
    assert page.members["members"].tolist() == [5, 5]  # E joined in April
    assert page.participation["active_customers"].tolist() == [0, 0]
    assert page.participation["participation_rate"].tolist() == [None, None]
    assert page.comparison["customers"].tolist() == [0, 0, 0, 0]
    head = programme_headlines(page)
    assert head["participation_rate"] is None and head["member_sales_share"] is None
    assert head["points_liability"] == 118  # E's 100 points of April count by June
    findings = words.programme_findings(page, "THB")
    assert len(findings) == 1  # no member comparison sentence
    assert findings[0].startswith("The loyalty programme had 5 members at the end of June 2026.")


def test_months_start_at_the_first_order(warehouse_dir):
    wh = _toy(warehouse_dir)
    params = default_params({"kpis": {"trend_months": 24}})
    page = programme_page(wh, report_periods(MONTH, TZ)[0], params)
    assert page.members.index[0] == pd.Timestamp("2025-12-01")  # A's first order and join
    assert page.members["joins"].tolist() == [1, 1, 1, 1]


def test_findings_and_texts(toy):
    _wh, page = toy
    findings = words.programme_findings(page, "THB")
    assert findings[0] == (
        "33.3% of March 2026's active customers were loyalty members (4 members in all). "
        "Members have redeemed 45.5% of the points earned; 18 points (฿9) are outstanding."
    )
    assert findings[1].startswith("In March 2026 members spent ฿300 per customer against ฿85")
    assert "20.4% of sales" in findings[1]
    assert "**4**" in words.overview_text(page)
    assert words.timing_text(page.timing) == (
        "2 of 4 members have redeemed points; half of them did so within 42 days of joining."
    )


def test_tables_render_in_thai_with_escaped_tiers(warehouse_dir):
    from visible_words import english_words, visible_text

    frame = _members()
    frame.loc[0, "tier"] = "<b>gold</b>"
    wh = _toy(warehouse_dir)
    write_table(warehouse_dir, "loyalty_members", STORE, frame)
    page = _page(wh)
    with use_language("th"):
        html = "".join(
            t.to_html()
            for t in (
                words.members_table(page, buddhist_era=True),
                words.points_table(page, "THB"),
                words.timing_table(page.timing),
                words.tier_table(page),
                words.comparison_table(page, "THB"),
            )
        )
        texts = [*words.programme_findings(page, "THB"), words.overview_text(page)]
    assert "<b>gold</b>" not in html and "&lt;b&gt;gold&lt;/b&gt;" in html
    assert "มี.ค. 2569" in html
    # the tier names are data: allowed
    assert english_words(visible_text(html), allowed={"silver", "gold", "b"}) == []
    assert english_words(" ".join(texts)) == []


def test_charts_speak_thai(toy):
    from visible_words import english_words, figure_texts

    _wh, page = toy
    with use_language("th"), plt.rc_context():
        from analysis.plots import set_theme

        set_theme()
        fig, axes = plt.subplots(3, 1, figsize=(9, 12))
        plotting.members_chart(page.members, buddhist_era=True, ax=axes[0])
        plotting.points_chart(page.points, ax=axes[1])
        plotting.member_comparison_chart(page.comparison, "THB", ax=axes[2])
        texts = figure_texts(fig)
        titles = [ax.get_title(loc="left") for ax in axes]
        plt.close(fig)
    assert english_words(" ".join(texts)) == []
    assert titles[0] == "สมาชิกโปรแกรมสะสมแต้ม: สมัครใหม่รายเดือนและจำนวนสมาชิก ณ สิ้นเดือน"
    assert "ม.ค. 2569" in texts and "มี.ค. 2026" in texts


def test_charts_return_their_axes_and_draw_the_data(toy):
    _wh, page = toy
    ax = plotting.members_chart(page.members)
    assert [b.get_height() for b in ax.patches] == [1, 1, 1]
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert twin.lines[0].get_ydata().tolist() == [2, 3, 4]
    ax = plotting.points_chart(page.points)
    assert [b.get_height() for b in ax.patches] == [12, 5, 12, 0, 10, 5]
    ax = plotting.member_comparison_chart(page.comparison, "THB")
    assert ax.lines[0].get_ydata().tolist() == [300, 120, 300]  # members' revenue per customer
    assert ax.lines[3].get_ydata().tolist() == pytest.approx([60, 70, 170 / 3])  # others' AOV
    plt.close("all")


# --------------------------------------------------------------------------- demo stores


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis.demo import write_demo

    root = tmp_path_factory.mktemp("demo")
    write_demo(root)
    return root, json.loads((root / "_truth.json").read_text())


@pytest.mark.parametrize("store", ["demo-bangkok", "demo-chiangmai", "demo-online"])
def test_demo_truths_and_scorecard_participation(demo, store):
    root, truths = demo
    truth = truths[store]
    tz = truth["history"]["timezone"]
    last = dt.date.fromisoformat(truth["history"]["end_local_exclusive"]) - dt.timedelta(days=1)
    month = last.strftime("%Y-%m")  # the history ends with a whole month: the report month
    wh = StoreWarehouse(root, store, tz)
    periods = report_periods(month, tz)
    assert periods[0].end == dt.datetime.fromisoformat(truth["history"]["end_utc"])
    page = programme_page(wh, periods[0], default_params())
    head = programme_headlines(page)
    realised = truth["loyalty"]["realised"]
    assert head["members"] == realised["members"]
    assert page.points["earned_to_date"].iloc[-1] == realised["points_earned"]
    assert page.points["redeemed_to_date"].iloc[-1] == realised["points_redeemed"]
    assert head["redemption_rate"] == pytest.approx(realised["redemption_rate"], abs=5e-7)
    assert head["points_liability"] == realised["points_earned"] - realised["points_redeemed"]
    orders = wh.table("orders", end=periods[0].end)
    kpi = loyalty_participation(
        wh.table("loyalty_members", end=periods[0].end),
        customer_base(orders, periods, 365),
        periods,
    )
    rates = page.participation["participation_rate"]
    assert head["participation_rate"] == pytest.approx(kpi["current"], rel=1e-12)
    assert rates.iloc[-2] == pytest.approx(kpi["previous"], rel=1e-12)
    assert rates.iloc[-13] == pytest.approx(kpi["year_ago"], rel=1e-12)
