"""Words of the RFM segments and migration, in English and in Thai, and their charts."""

import datetime as dt

import matplotlib.pyplot as plt
import pandas as pd
from visible_words import english_words, figure_texts

from analysis.i18n import use_language
from analysis.narrative import rfm as words
from analysis.segments.migration import STATES, SegmentMigration
from analysis.segments.plotting import migration_chart, rfm_grid_chart
from analysis.segments.rfm import SEGMENT_RULES, SEGMENTS, RfmGrid, rfm_grid


def _migration(champions_to_at_risk: int, loyal_to_cant_lose: int) -> SegmentMigration:
    counts = pd.DataFrame(0, index=list(STATES), columns=list(STATES))
    counts.loc["champions", "at_risk"] = champions_to_at_risk
    counts.loc["loyal", "cant_lose"] = loyal_to_cant_lose
    counts.loc["champions", "champions"] = 7
    counts.loc["lost", "not_scored"] = 3
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0, 1), axis=0)
    start, end = dt.datetime(2026, 9, 30, 17, tzinfo=dt.UTC), dt.datetime(2026, 10, 31, 17)
    return SegmentMigration(start=start, end=end, counts=counts, shares=shares)


def _grid() -> RfmGrid:
    rfm = pd.DataFrame(
        {"r_score": [5, 5, 1, 3], "f_score": [5, 1, 4, 3], "monetary": [700.0, 100.0, 150.0, 50.0]}
    )
    return rfm_grid(rfm)


def test_migration_finding_counts_champions_or_loyal_to_at_risk_or_cant_lose():
    m = _migration(2, 1)
    assert words.migration_finding(m, "Sep 2026") == (
        "3 customers moved from Champions or Loyal to At Risk or Can't Lose Them since Sep 2026."
    )
    assert words.migration_finding(_migration(1, 0), "Sep 2026") == (
        "1 customer moved from Champions or Loyal to At Risk or Can't Lose Them since Sep 2026."
    )
    assert words.migration_finding(_migration(0, 0), "Sep 2026") is None
    with use_language("th"):
        thai = words.migration_finding(m, "ก.ย. 2569")
    assert thai == (
        "ลูกค้า 3 รายย้ายจากกลุ่มลูกค้าชั้นยอดหรือลูกค้าประจำ ไปอยู่กลุ่มเสี่ยงหายหรือเสียไปไม่ได้ นับตั้งแต่ ก.ย. 2569"
    )


def test_rules_table_follows_the_rules_in_order_in_both_languages():
    table = words.rules_table()
    assert list(table.columns) == ["Segment", "Rule (scores 1–5)", "What it means"]
    assert list(table.index) == list(range(1, 12))
    assert table.iloc[0].tolist()[:2] == ["New Customers", "R 5, F 1"]
    assert table.iloc[1].tolist()[:2] == ["Champions", "R 4–5, F 4–5, M 4–5"]
    assert table.iloc[9].tolist()[:2] == ["Hibernating", "R 2"]
    assert len(table) == len(SEGMENT_RULES)
    with use_language("th"):
        thai = words.rules_table()
        names = {words.segment_label(key) for key in (*SEGMENTS, "not_scored")}
    assert list(thai.columns) == ["กลุ่มลูกค้า", "เกณฑ์ (คะแนน 1–5)", "ความหมาย"]
    assert len(names) == 12  # every segment has a Thai name of its own
    assert english_words(thai.to_string()) == []


def test_migration_table_has_translated_labels():
    m = _migration(2, 1)
    table = words.migration_table(m)
    assert table.loc["Champions", "At Risk"] == 2 and table.loc["Lost", "Not scored"] == 3
    assert (table.index.name, table.columns.name) == ("Segment before", "Segment now")
    shares = words.migration_table(m, shares=True)
    assert shares.loc["Champions", "Champions"] == 7 / 9
    with use_language("th"):
        thai = words.migration_table(m)
    assert thai.loc["ลูกค้าชั้นยอด", "เสี่ยงหาย"] == 2
    assert english_words(thai.to_string()) == []


def test_charts_draw_counts_shares_and_thai_labels():
    fig, ax = plt.subplots()
    rfm_grid_chart(_grid(), ax=ax)
    texts = figure_texts(fig)
    # each cell: count, then its share of the 1,000 of revenue (one decimal under 9.5%)
    assert {"1\n70%", "1\n10%", "1\n15%", "1\n5.0%", "0\n0%"} <= set(texts)
    assert "R score (5 = most recent)" in texts and "F score (5 = most frequent)" in texts
    plt.close(fig)
    with use_language("th"):
        fig, (left, right) = plt.subplots(1, 2)
        rfm_grid_chart(_grid(), ax=left)
        migration_chart(_migration(2, 1), ax=right, since="ก.ย. 2569")
        texts = figure_texts(fig)
    assert english_words(" ".join(texts)) == []
    assert any("ก.ย. 2569" in t for t in texts)
    plt.close(fig)
