"""Words of the segments and loyalty A/B pages, in English (as before) and in Thai."""

from __future__ import annotations

import datetime as dt

import duckdb
import matplotlib.pyplot as plt
import narwhals as nw
import pandas as pd
import pytest
import seaborn as sns
from visible_words import english_words, figure_texts

from analysis.errors import SectionUnavailable
from analysis.i18n import _, use_language
from analysis.narrative import loyalty as loyalty_text
from analysis.narrative import markdown_text
from analysis.narrative import segments as segments_text
from analysis.segments.rfm import rf_counts, rfm_headlines, rfm_scores

# r_score, f_score of five customers: two in the top corner (r >= 4 and f >= 4)
RFM = pd.DataFrame({"r_score": [5, 4, 4, 1, 2], "f_score": [5, 4, 1, 5, 2]})


def test_rf_counts_and_headlines_by_hand():
    counts = rf_counts(RFM)
    assert counts.loc[4].tolist() == [1, 0, 1, 0]  # f_score columns 1, 2, 4, 5
    assert counts.loc[5].tolist() == [0, 0, 0, 1] and list(counts.columns) == [1, 2, 4, 5]
    assert rfm_headlines(RFM) == {"customers_scored": 5, "top_rf_share": 0.4}
    assert rfm_headlines(RFM.iloc[:0]) == {"customers_scored": 0, "top_rf_share": None}


def test_segments_page_words_in_english_as_before_and_in_thai():
    intro = markdown_text(segments_text.INTRO, days="365")
    assert intro.startswith("# Segments\n\nRFM scores over the last 365 days (parameter ")
    table = segments_text.rf_table(rf_counts(RFM))
    assert (table.index.name, table.columns.name) == ("R score", "F score")
    with use_language("th"):
        intro = markdown_text(segments_text.INTRO, days="1,095")
        table = segments_text.rf_table(rf_counts(RFM))
        fig, ax = plt.subplots()
        sns.heatmap(table.sort_index(ascending=False), annot=True, fmt=",d", cbar=False, ax=ax)
        ax.set_title(_(segments_text.HEATMAP_TITLE))
        reason = segments_text.no_customers_to_score(1095)
    assert "1\\,095 วันล่าสุด" in intro and english_words(intro) == []  # Markdown-escaped; RFM allowed
    assert english_words(" ".join(figure_texts(fig))) == []
    plt.close(fig)
    assert reason.startswith("ไม่มีลูกค้าที่ลงทะเบียนรายใดมีคำสั่งซื้อที่สำเร็จในช่วง 1,095 วัน")
    assert english_words(reason) == []


def test_no_customer_to_score_is_unavailable_in_the_language_of_the_run():
    orders = pd.DataFrame(
        {
            "order_id": ["1"],
            "store_id": "s",
            "customer_id": pd.Series([None], dtype="string"),  # a guest order
            "ordered_at": pd.to_datetime(["2026-01-31 12:00"], utc=True),
            "revenue": [10.0],
            "status": ["completed"],
        }
    )
    frame = nw.from_native(duckdb.from_df(orders))
    as_of = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    with pytest.raises(SectionUnavailable) as err:
        rfm_scores(frame, as_of, 365)
    assert err.value.reason == (
        "no registered customer has a completed order in the 365 days up to the end of the "
        "report month, so there is nobody to score (guest orders carry no customer id)."
    )
    with use_language("th"), pytest.raises(SectionUnavailable) as err:
        rfm_scores(frame, as_of, 365)
    assert err.value.reason.startswith("ไม่มีลูกค้าที่ลงทะเบียนรายใด")


def test_loyalty_page_words_in_thai():
    with use_language("th"):
        intro = markdown_text(loyalty_text.INTRO)
        reasons = [
            loyalty_text.no_experiment_data(),
            loyalty_text.no_assignment(),
            loyalty_text.experiment_not_found("spring-test"),
        ]
    assert english_words(intro) == []
    assert reasons[2] == (
        "การทดลอง 'spring-test' (loyalty.experiment_id) ไม่มีลูกค้าถูกสุ่มเข้ากลุ่มก่อนสิ้นเดือนของรายงาน"
    )
    assert [english_words(r) for r in reasons] == [[], [], ["spring-test"]]
