"""The segments page: its parts agree with each other and with independent counts.

A demo store (planted data) and the same store with tables taken away: each
missing table takes away only what needs it, and a store with nobody to score
says why in every part.
"""

import datetime as dt
import shutil

import duckdb
import numpy as np
import pytest

from analysis import DEFAULT_SEED
from analysis.context import section_context
from analysis.narrative import buckets as bucket_words
from analysis.narrative import rfm as rfm_words
from analysis.narrative import segments as text
from analysis.privacy import pseudonymous_ids
from analysis.segments.page import priority_sample, segments_headlines, segments_page
from analysis.segments.rfm import SEGMENTS

STORE, MONTH = "demo-bangkok", "2026-09"


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from analysis.demo import write_demo

    root = tmp_path_factory.mktemp("segments-page")
    write_demo(root, stores=[STORE], customers=1500, seed=DEFAULT_SEED)
    return root


@pytest.fixture(scope="module")
def page(demo_root):
    return segments_page(section_context(STORE, MONTH, {}, str(demo_root)))


def scored_at(root, end: dt.datetime, days: int = 365) -> int:
    """Registered customers with a completed order in the window, by SQL."""
    start = end - dt.timedelta(days=days)
    with duckdb.connect() as con:  # its own connection: other tests share the default one
        (count,) = con.execute(
            f"""SELECT count(DISTINCT customer_id) FROM '{root}/orders/{STORE}.parquet'
            WHERE customer_id IS NOT NULL AND coalesce(status, 'completed') = 'completed'
              AND ordered_at >= ? AND ordered_at < ?""",
            [start, end],
        ).fetchone()
    return count


def test_every_part_is_there_and_the_counts_agree(demo_root, page):
    assert page.reasons == []
    ctx = section_context(STORE, MONTH, {}, str(demo_root))
    values = segments_headlines(page)
    scored = scored_at(demo_root, ctx.end)
    assert values["customers_scored"] == scored
    assert all(type(v) in (int, float) for v in values.values())  # plain JSON numbers
    # the eleven segments partition the scored customers and their revenue
    assert sum(values[f"segment.{s}.customers"] for s in SEGMENTS) == scored
    assert sum(values[f"segment.{s}.revenue_share"] for s in SEGMENTS) == pytest.approx(1, abs=1e-5)
    # migration from the previous month: every customer scored now came from somewhere,
    # every customer scored then went somewhere
    prev = {
        k: values[f"migration.previous_month.{k}"] for k in ("stayed", "moved", "new", "lapsed")
    }
    assert prev["stayed"] + prev["moved"] + prev["new"] == scored
    assert prev["stayed"] + prev["moved"] + prev["lapsed"] == scored_at(demo_root, ctx.start)
    last = page.migration.value.last_year
    assert (
        last is not None
        and int(last.counts.to_numpy().sum())
        == values["migration.last_year.stayed"]
        + values["migration.last_year.moved"]
        + values["migration.last_year.new"]
        + values["migration.last_year.lapsed"]
    )
    # bucket sizes are the flags' column sums; a customer in several counts once per bucket
    flags = page.buckets.value.flags.flags
    for bucket in flags.columns:
        assert values[f"bucket.{bucket}.customers"] == int(flags[bucket].sum())
    assert values["buckets.in_several"] == int((flags.sum(axis=1) >= 2).sum())
    assert values["buckets.in_any"] == int(flags.any(axis=1).sum())
    # every scored customer has a prediction from the CLV model (it sees every customer)
    outlook = page.outlook.value
    assert set(page.scores.value.rfm["customer_id"]) <= set(outlook.index)


def test_value_of_a_segment_matches_its_members(page):
    scores = page.scores.value
    rfm = scores.rfm.set_index("customer_id")
    champions = rfm[rfm["segment"] == "champions"]
    row = scores.value.loc["champions"]
    assert row["customers"] == len(champions)
    assert row["revenue"] == pytest.approx(champions["monetary"].sum())
    assert row["aov"] == pytest.approx(champions["monetary"].sum() / champions["frequency"].sum())
    mean_clv = page.outlook.value["clv"].reindex(champions.index).mean()
    assert row["mean_clv"] == pytest.approx(mean_clv)


def test_sample_is_pseudonymised_and_ordered_by_clv(page):
    scores, outlook = page.scores.value, page.outlook.value
    key = b"k" * 32
    sample, pool = priority_sample(scores.rfm, outlook, key)
    assert pool == int(scores.rfm["segment"].isin(["cant_lose", "at_risk"]).sum())
    assert len(sample) == min(10, pool)
    assert "customer_id" not in sample.columns
    at_risk = scores.rfm[scores.rfm["segment"].isin(["cant_lose", "at_risk"])]
    best = outlook["clv"].reindex(at_risk["customer_id"]).sort_values(ascending=False)
    assert sample["pseudonym"].tolist() == pseudonymous_ids(best.index[: len(sample)], key)
    assert np.all(np.diff(sample["clv"].to_numpy()) <= 0)


def test_findings_name_the_top_segment_and_the_movers(page):
    labels = rfm_words.segment_labels()
    findings = text.segments_findings(page, labels, "THB")
    top = page.scores.value.value["revenue"].idxmax()
    assert findings[0].startswith(labels[top] + ":")
    moved = page.migration.value.previous_month.moved(
        ("champions", "loyal"), ("at_risk", "cant_lose")
    )
    assert any(f.startswith(f"{moved} customer") for f in findings) == (moved > 0)


def test_a_store_with_orders_only_loses_only_what_needs_the_other_tables(demo_root, tmp_path):
    root = tmp_path / "warehouse"
    shutil.copytree(demo_root, root)
    for table in ("customers", "surveys", "carts", "campaigns"):
        shutil.rmtree(root / table)
    page = segments_page(section_context(STORE, MONTH, {}, str(root)))
    assert page.reasons == []
    assert page.profile.mix_columns == () and page.scores.value.mixes == {}
    assert "open_rate" not in page.scores.value.value.columns
    flags = page.buckets.value.flags
    assert set(flags.unavailable) == {
        "cart_abandoners", "campaign_responders", "campaign_non_responders"
    }  # fmt: skip
    assert flags.unavailable["cart_abandoners"] == bucket_words.no_carts()
    # negative experience still comes from refunded and cancelled orders
    assert "negative_experience" in flags.flags.columns
    assert "negative_experience" in flags.notes


def test_a_store_with_nobody_to_score_says_why_in_every_part(tmp_path):
    from report import thin_stores

    root = thin_stores.one_guest_order(tmp_path / "warehouse")
    ctx = section_context(thin_stores.STORE, "2026-09", {}, str(root))
    page = segments_page(ctx)
    assert page.scores.value is None and page.buckets.value is None
    assert page.migration.value is None and page.outlook.value is None
    assert page.reasons == [page.scores.reason, page.buckets.reason]  # migration: as scores
    assert segments_headlines(page) == {}


def test_the_outlook_handed_over_by_the_clv_page_is_the_one_fitted_here(
    demo_root, monkeypatch, tmp_path
):
    """In a report run the CLV notebook shares the outlook; the segments page reads it back."""
    import pandas as pd

    from analysis.clv.page import store_clv
    from analysis.handover import ENV_HANDOVER
    from analysis.segments import page as page_mod

    ctx = section_context(STORE, MONTH, {}, str(demo_root))
    monkeypatch.delenv(ENV_HANDOVER, raising=False)
    fitted = page_mod.store_outlook(ctx)  # outside a run: fitted here, nothing kept
    monkeypatch.setenv(ENV_HANDOVER, str(tmp_path))
    shared = page_mod.share_outlook(ctx, store_clv(ctx))  # what the CLV notebook does
    pd.testing.assert_frame_equal(shared, fitted)

    def no_refit(_ctx):
        raise AssertionError("the segments page fitted the CLV model again")

    monkeypatch.setattr(page_mod, "store_clv", no_refit)
    pd.testing.assert_frame_equal(page_mod.store_outlook(ctx), fitted)
    # Other params (here the churn-risk bands) are another key: fitted again, not read.
    other = section_context(
        STORE, MONTH, {"segments": {"churn_risk_bands": [0.2, 0.6]}}, str(demo_root)
    )
    with pytest.raises(AssertionError, match="fitted the CLV model again"):
        page_mod.store_outlook(other)
