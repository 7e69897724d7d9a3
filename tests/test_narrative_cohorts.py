"""Words of the cohort page: English as before, Thai throughout (sentences, tables, charts)."""

from dataclasses import replace

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from visible_words import english_words, figure_texts

from analysis import plots
from analysis.cohorts import CohortMatrices, CohortPage, same_cohorts_a_year_earlier
from analysis.errors import SectionUnavailable
from analysis.i18n import _, use_language
from analysis.narrative import cohorts as text
from analysis.narrative import markdown_text


def _page(k1_now: float, k1_then: float, grain: str = "month", size: int = 100) -> CohortPage:
    index = pd.to_datetime(["2025-08-01", "2026-08-01"])
    retention = pd.DataFrame({0: [1.0, 1.0], 1: [k1_then, k1_now]}, index=index)
    sizes = pd.Series([size, size], index=index, name="size")
    m = CohortMatrices(sizes, retention, retention, retention, retention)
    yoy = same_cohorts_a_year_earlier(retention, n=1, ks=(1,))
    gaps = pd.DataFrame(
        {
            "low": pd.array([None, 7, 365], dtype="Int64"),
            "high": pd.array([7, 365, None], dtype="Int64"),
            "customers": [1, 2, 1],
            "share": [0.25, 0.5, 0.25],
        }
    )
    segments = {
        "loyalty": pd.DataFrame(
            {"customers": [10, 30], 0: [1.0, 1.0], 1: [0.5, 0.2]},
            index=pd.Index(["member", "unknown"], name="segment"),
        )
    }
    return CohortPage(grain, None, ["loyalty"], ["no_discount"], m, m, segments, gaps, 12.5, yoy)  # type: ignore[arg-type]


def test_findings_in_thai_with_buddhist_era():
    with use_language("th"):
        lines = text.findings(_page(0.072, 0.050), buddhist_era=True)
    assert lines == [
        "อัตราการกลับมาซื้อในเดือนที่ 1 ของกลุ่ม ส.ค. 2569 คือ 7.2% (ค่าเฉลี่ยทุกกลุ่ม 6.1%)",
        "กลุ่ม ส.ค. 2569 กลับมาซื้อในเดือนที่ 1 สูงกว่ากลุ่ม ส.ค. 2568 เมื่อหนึ่งปีก่อน 2.2 จุด (7.2% เทียบกับ 5.0%)",
    ]


def test_week_findings_read_weeks():
    lines = text.findings(_page(0.05, 0.06, grain="week"))
    assert (
        lines[0] == "Week-1 retention of the 01 Aug 2026 cohort 5.0% (average of all cohorts 5.5%)."
    )
    assert lines[1].startswith("The 01 Aug 2026 cohort retains 1.0 pp worse in week 1 than")


def test_headlines_keep_their_values():
    got = text.headlines(_page(0.072, 0.050))
    assert got == {
        "cohorts": 2,
        "k1_retention_latest": 0.072,
        "k1_latest_cohort": "2026-08-01",
        "k1_retention_pooled": 0.061,
        "k3_retention_latest": None,
        "k3_latest_cohort": None,
        "k3_retention_pooled": None,
        "median_days_to_second_order": 12.5,
    }


def test_unavailable_reasons():
    empty = _page(0.1, 0.1)
    none = CohortMatrices(
        *(x.iloc[:0] for x in (empty.matrices.size, *[empty.matrices.retention] * 4))
    )
    small = CohortPage(
        "month", None, [], [], empty.all_matrices, none, {}, pd.DataFrame(), None, pd.DataFrame()
    )  # type: ignore[arg-type]
    with pytest.raises(
        SectionUnavailable,
        match="no cohort has 1,000 customers or more yet \\(the largest has 100\\)",
    ):
        text.require_cohorts(small, 1000)
    nobody = CohortPage("month", None, [], [], none, none, {}, pd.DataFrame(), None, pd.DataFrame())  # type: ignore[arg-type]
    with use_language("th"), pytest.raises(SectionUnavailable) as caught:
        text.require_cohorts(nobody, 10)
    assert english_words(str(caught.value)) == []
    text.require_cohorts(empty, 10)  # cohorts shown: nothing raised


def test_labels_and_tables_in_both_languages():
    page = _page(0.1, 0.1)
    assert text.gap_labels(page.gaps) == ["≤ 7 days", "7–365 days", "> 365 days"]
    table = text.segment_table(page.segments["loyalty"], "loyalty")
    assert table.index.tolist() == ["member", "not a member"] and table.index.name == "segment"
    assert text.cut_notes(page) == [
        "First order discounted: left out, the orders table has no discount column."
    ]
    with use_language("th"):
        assert text.gap_labels(page.gaps) == ["≤ 7 วัน", "7–365 วัน", "> 365 วัน"]
        table = text.segment_table(page.segments["loyalty"], "loyalty")
        assert table.index.tolist() == ["สมาชิก", "ไม่ใช่สมาชิก"]
        assert list(table.columns)[0] == "ลูกค้า"
        words = [
            *text.cut_notes(page),
            text.cut_title("channel"),
            text.cut_chart_title("first_discount"),
            text.heatmap_title("week"),
            text.periods_since_first("month"),
            markdown_text(text.INTRO),
            markdown_text(text.CUTS),
            markdown_text(text.REPEAT),
            text.summary(page, "ร้าน", "ต.ค. 2569").data,
            text.median_gap(4.5).data,
            text.year_on_year(replace(page, year_on_year=pd.DataFrame()), "th").data,
        ]
        assert english_words(" ".join(words)) == []


def test_cohort_charts_in_thai():
    plots.set_theme()  # registers the Thai font
    page = _page(0.072, 0.050)
    m = page.matrices
    with use_language("th"):
        names = text.cohort_labels(m.size.index, "month", buddhist_era=True)
        fig, axes = plt.subplots(2, 2)
        plots.retention_heatmap(
            m.retention.set_axis(names),
            title=text.heatmap_title("month"),
            xlabel=text.periods_since_first("month"),
            ax=axes[0, 0],
        )
        plots.retention_curves(
            m.retention,
            m.size,
            labels=names,
            title=text.CHART.recent_cohorts,
            xlabel=text.periods_since_first("month"),
            ylabel=text.CHART.share_of_cohort_active,
            average_label=text.CHART.average,
            ax=axes[0, 1],
        )
        plots.cohort_lines(
            m.cumulative_revenue_per_customer,
            labels=names,
            currency="THB",
            title=text.CHART.cumulative_revenue,
            ylabel=text.CHART.revenue_per_customer,
            xlabel=text.periods_since_first("month"),
            ax=axes[1, 0],
        )
        plots.second_order_chart(
            page.gaps["share"],
            text.gap_labels(page.gaps),
            title=text.CHART.gap_title,
            xlabel=text.CHART.gap_xlabel,
            ylabel=text.CHART.gap_ylabel,
            ax=axes[1, 1],
        )
        texts = figure_texts(fig)
    plt.close(fig)
    assert "ส.ค. 2569" in texts and _("Time to second order") not in texts
    assert english_words(" ".join(texts)) == []
