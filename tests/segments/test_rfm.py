"""RFM scores (tie rule, inverted recency), the segment rules table and the R × F grid, by hand."""

import datetime as dt
import itertools

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pytest
from conftest import orders_frame

from analysis.segments.base import customer_base
from analysis.segments.rfm import (
    SEGMENT_RULES,
    SEGMENTS,
    rfm_grid,
    rfm_headlines,
    rfm_table,
    segment_expr,
    segment_of,
    segments_at,
    tied_score,
    with_tied_scores,
)

AS_OF = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)


def _lazy(frame: pd.DataFrame) -> nw.LazyFrame:
    if "ordered_at" in frame:
        frame = frame.assign(ordered_at=pd.to_datetime(frame["ordered_at"], utc=True))
    return nw.from_native(duckdb.from_df(frame))


def _at(days_before: float) -> str:
    """An order time ``days_before`` days (plus one hour) before AS_OF, as a UTC string."""
    return str(AS_OF - dt.timedelta(days=days_before, hours=1))


def test_tied_score_gives_ties_the_score_of_their_lowest_member():
    # 10 customers, 6 with one order: rank_min 1 for all six -> F = 1 + floor(5*0/10) = 1;
    # two orders: rank_min 7 -> 1 + floor(5*6/10) = 4 (scores 2 and 3 are skipped);
    # three orders: rank 9 -> 1 + floor(40/10) = 5; five orders: rank 10 -> 1 + floor(45/10) = 5.
    frame = pd.DataFrame(
        {"customer_id": list("abcdefghij"), "frequency": [1, 1, 1, 1, 1, 1, 2, 2, 3, 5]}
    )
    out = _lazy(frame).with_columns(tied_score("frequency").alias("f")).collect().to_pandas()
    scores = out.set_index("customer_id")["f"].sort_index()
    assert scores.tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    # n = 4 on the same column: 1 + floor(4 * (rank_min - 1) / 10) = 1, 1 (x6), 3, 3, 4, 4
    out4 = _lazy(frame).with_columns(tied_score("frequency", 4).alias("f")).collect().to_pandas()
    assert out4.set_index("customer_id")["f"].sort_index().tolist() == [1] * 6 + [3, 3, 4, 4]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tied_score_never_splits_a_value_and_grows_with_it(seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"customer_id": range(997), "x": rng.integers(0, 12, 997)})
    out = _lazy(frame).with_columns(tied_score("x").alias("s")).collect().to_pandas()
    per_value = out.groupby("x")["s"].agg(["min", "max"])
    assert (per_value["min"] == per_value["max"]).all()  # one score per value
    assert per_value["min"].is_monotonic_increasing  # higher value, score not lower
    assert out["s"].between(1, 5).all() and out["s"].min() == 1


def _ten_customers() -> pd.DataFrame:
    """Ten customers whose R, F and M scores and segments are worked out in the test below."""
    # customer: (days before AS_OF of each order, revenue of each order); last order first
    plan = {
        "c0": ([0], [100.0]),
        "c1": ([0], [100.0]),
        "c2": ([10], [50.0]),
        "c3": ([10], [300.0]),
        "c4": ([10], [100.0]),
        "c5": ([100], [20.0]),
        "c6": ([200, 250], [250.0, 250.0]),
        "c7": ([5, 20], [50.0, 50.0]),
        "c8": ([300, 310, 320], [300.0, 300.0, 200.0]),
        "c9": ([50, 60, 70, 80, 90], [200.0] * 5),
    }
    rows = [
        (f"{cid}-{k}", cid, _at(days), revenue, "completed")
        for cid, (days_list, revenues) in plan.items()
        for k, (days, revenue) in enumerate(zip(days_list, revenues, strict=True))
    ]
    rows += [
        ("x-1", "c0", _at(3), 999.0, "cancelled"),  # not a completed order: ignored
        ("x-2", None, _at(3), 999.0, "completed"),  # a guest order: nobody's
        ("x-3", "old", _at(400), 999.0, "completed"),  # outside the 365-day window
    ]
    return orders_frame(rows)


def test_rfm_table_scores_and_segments_by_hand():
    out = rfm_table(_lazy(_ten_customers()), AS_OF, 365).collect().to_pandas()
    out = out.set_index("customer_id")
    assert list(out.index) == [f"c{i}" for i in range(10)]  # N = 10; "old" is not scored
    assert out["recency_days"].tolist() == [0, 0, 10, 10, 10, 100, 200, 5, 300, 50]
    assert out["frequency"].tolist() == [1, 1, 1, 1, 1, 1, 2, 2, 3, 5]
    assert out["monetary"].tolist() == [100, 100, 50, 300, 100, 20, 500, 100, 800, 1000]
    # Recency is inverted: ranked on -recency_days ascending, -300 (c8) rank 1 ... 0 (c0, c1)
    # rank_min 9. c8 r1 -> 1, c6 r2 -> 1, c5 r3 -> 2, c9 r4 -> 2, c2/c3/c4 r5 -> 3,
    # c7 r8 -> 4, c0/c1 r9 -> 5.
    assert out["r_score"].tolist() == [5, 5, 3, 3, 3, 2, 1, 4, 1, 2]
    # Frequency: six one-order customers share F = 1; two orders -> 4; 3 and 5 orders -> 5.
    assert out["f_score"].tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    # Monetary: 20 (c5) r1 -> 1, 50 (c2) r2 -> 1, 100 (c0 c1 c4 c7) r3 -> 2, 300 r7 -> 4,
    # 500 r8 -> 4, 800 r9 -> 5, 1000 r10 -> 5.
    assert out["m_score"].tolist() == [2, 2, 1, 4, 2, 1, 4, 2, 5, 5]
    assert out["segment"].tolist() == [
        "new_customers",  # c0 (5, 1, 2)
        "new_customers",  # c1 (5, 1, 2)
        "about_to_sleep",  # c2 (3, 1, 1)
        "about_to_sleep",  # c3 (3, 1, 4)
        "about_to_sleep",  # c4 (3, 1, 2)
        "hibernating",  # c5 (2, 1, 1)
        "cant_lose",  # c6 (1, 4, 4)
        "loyal",  # c7 (4, 4, 2): M < 4, so not champions
        "cant_lose",  # c8 (1, 5, 5)
        "at_risk",  # c9 (2, 5, 5)
    ]


ALL_CELLS = list(itertools.product(range(1, 6), repeat=3))


def test_every_cell_maps_to_exactly_one_segment_and_every_segment_is_reached():
    assert len(ALL_CELLS) == 125
    assert {rule.segment for rule in SEGMENT_RULES} == set(SEGMENTS) and len(SEGMENTS) == 11
    reached = set()
    for r, f, m in ALL_CELLS:
        matching = [rule.segment for rule in SEGMENT_RULES if rule.matches(r, f, m)]
        assert matching, (r, f, m)  # at least one rule ...
        assert segment_of(r, f, m) == matching[0]  # ... and the first one decides
        reached.add(matching[0])
    assert reached == set(SEGMENTS)


@pytest.mark.parametrize(
    ("cell", "segment"),
    [
        ((5, 1, 5), "new_customers"),  # rule 1 before champions' neighbours
        ((5, 1, 1), "new_customers"),
        ((4, 1, 5), "promising"),
        ((4, 1, 1), "promising"),
        ((5, 4, 4), "champions"),
        ((4, 4, 4), "champions"),
        ((4, 4, 3), "loyal"),  # M just below champions
        ((3, 4, 4), "loyal"),  # R just below champions
        ((3, 5, 1), "loyal"),
        ((2, 4, 4), "at_risk"),  # R just below loyal
        ((1, 4, 4), "cant_lose"),
        ((1, 5, 5), "cant_lose"),
        ((1, 4, 3), "at_risk"),  # M just below can't lose
        ((1, 3, 3), "at_risk"),
        ((2, 3, 3), "at_risk"),
        ((2, 3, 2), "hibernating"),  # M just below at risk
        ((2, 2, 5), "hibernating"),  # F just below at risk
        ((1, 3, 2), "lost"),
        ((1, 2, 5), "lost"),
        ((5, 2, 1), "potential_loyalist"),
        ((4, 3, 5), "potential_loyalist"),
        ((5, 3, 5), "potential_loyalist"),  # F just below champions
        ((3, 3, 5), "need_attention"),
        ((3, 2, 1), "need_attention"),
        ((3, 1, 5), "about_to_sleep"),
    ],
)
def test_segment_boundaries(cell, segment):
    assert segment_of(*cell) == segment


def test_segment_of_rejects_scores_outside_one_to_five():
    with pytest.raises(ValueError, match="r=0"):
        segment_of(0, 1, 1)


def test_segment_expr_agrees_with_segment_of_on_all_125_cells_on_duckdb():
    cells = pd.DataFrame(ALL_CELLS, columns=["r_score", "f_score", "m_score"])
    out = _lazy(cells).with_columns(segment_expr().alias("segment")).collect().to_pandas()
    expected = [
        segment_of(r, f, m) for r, f, m in out[["r_score", "f_score", "m_score"]].to_numpy()
    ]
    assert len(out) == 125 and out["segment"].tolist() == expected


def test_rfm_grid_counts_and_revenue_shares_by_hand():
    rfm = rfm_table(_lazy(_ten_customers()), AS_OF, 365).collect().to_pandas()
    grid = rfm_grid(rfm)
    assert grid.counts.shape == (5, 5) and grid.revenue_share.shape == (5, 5)
    assert list(grid.counts.index) == [1, 2, 3, 4, 5] == list(grid.counts.columns)
    assert int(grid.counts.to_numpy().sum()) == 10
    assert grid.revenue_share.to_numpy().sum() == pytest.approx(1.0)
    total = 3070.0  # 100 + 100 + 50 + 300 + 100 + 20 + 500 + 100 + 800 + 1000
    assert grid.counts.loc[3, 1] == 3  # c2, c3, c4
    assert grid.revenue_share.loc[3, 1] == pytest.approx(450 / total)
    assert grid.counts.loc[5, 1] == 2 and grid.revenue_share.loc[5, 1] == pytest.approx(200 / total)
    assert grid.counts.loc[1, 4] == 1 and grid.revenue_share.loc[1, 4] == pytest.approx(500 / total)
    assert grid.counts.loc[2, 5] == 1 and grid.counts.loc[1, 5] == 1 and grid.counts.loc[4, 4] == 1
    assert grid.counts.loc[2, 1] == 1  # c5
    assert grid.counts[[2, 3]].to_numpy().sum() == 0  # F = 2 and 3 are skipped by the ties
    assert grid.counts.dtypes.map(pd.api.types.is_integer_dtype).all()


def test_rfm_grid_of_no_customers_is_all_zero():
    empty = pd.DataFrame({"r_score": [], "f_score": [], "monetary": []})
    grid = rfm_grid(empty)
    assert grid.counts.shape == (5, 5) and grid.counts.to_numpy().sum() == 0
    assert grid.revenue_share.to_numpy().sum() == 0


def test_rfm_headlines_on_the_hand_table():
    rfm = rfm_table(_lazy(_ten_customers()), AS_OF, 365).collect().to_pandas()
    # r >= 4 and f >= 4: only c7 (4, 4)
    assert rfm_headlines(rfm) == {"customers_scored": 10, "top_rf_share": 0.1}


def test_monetary_sums_in_minor_units():
    orders = orders_frame(
        [("1", "a", _at(0), 10.10, "completed"), ("2", "a", _at(1), 20.20, "completed")]
    )
    out = rfm_table(_lazy(orders), AS_OF, 365).collect().to_pandas()
    assert out["monetary"].tolist() == [30.30]  # exactly: 1010 + 2020 satang


def test_tied_score_leaves_nulls_unscored_and_counts_only_the_scored():
    # N = 4 non-null values: 1, 1 (rank 1) -> 1; 2 (rank 3) -> 1 + floor(10/4) = 3;
    # 3 (rank 4) -> 1 + floor(15/4) = 4; the two nulls stay null.
    frame = pd.DataFrame({"customer_id": list("abcdef"), "x": [1, 1, None, 2, 3, None]})
    out = _lazy(frame).with_columns(tied_score("x").alias("s")).collect().to_pandas()
    scores = out.set_index("customer_id")["s"].sort_index()
    assert scores[["a", "b", "d", "e"]].tolist() == [1, 1, 3, 4]
    assert scores[["c", "f"]].isna().all()


def test_segments_at_one_date_agrees_with_rfm_table():
    orders = _lazy(_ten_customers())
    table = rfm_table(orders, AS_OF, 365).collect().to_pandas().set_index("customer_id")
    at = segments_at(orders, [AS_OF], 365).collect().to_pandas().set_index("customer_id")
    assert at.loc[table.index, "segment_0"].tolist() == table["segment"].tolist()
    assert set(at.index) == set(table.index)  # "old" (outside the window) is not there


def test_segments_at_two_dates_scores_each_date_among_its_own_customers():
    # 40 days earlier the window [AS_OF - 405 d, AS_OF - 40 d) holds c5, c6, c8, c9 and
    # "old" (400 days before AS_OF); each date must match rfm_table at that date.
    orders = _lazy(_ten_customers())
    earlier = AS_OF - dt.timedelta(days=40)
    at = segments_at(orders, [earlier, AS_OF], 365).collect().to_pandas().set_index("customer_id")
    for i, when in enumerate([earlier, AS_OF]):
        table = rfm_table(orders, when, 365).collect().to_pandas().set_index("customer_id")
        scored = at[f"segment_{i}"].dropna()
        assert scored.sort_index().to_dict() == table["segment"].to_dict()
    assert sorted(at["segment_0"].dropna().index) == ["c5", "c6", "c8", "c9", "old"]


def test_segments_at_leaves_out_customers_between_windows():
    # Windows of 30 days ending 500 days before AS_OF and at AS_OF: the orders 50 to 320
    # days before AS_OF fall in neither, so only c0-c4 (0 and 10 days) and c7 (5 and 20
    # days) are there, unscored at the earlier date.
    orders = _lazy(_ten_customers())
    dates = [AS_OF - dt.timedelta(days=500), AS_OF]
    at = segments_at(orders, dates, 30).collect().to_pandas().set_index("customer_id")
    assert sorted(at.index) == ["c0", "c1", "c2", "c3", "c4", "c7"]
    assert at["segment_0"].isna().all() and at["segment_1"].notna().all()


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_with_tied_scores_equals_the_tied_score_expression(seed):
    # Counting distinct values must give exactly the window-rank scores: ties, nulls
    # (unscored), negative values and a score scale other than 5 included.
    rng = np.random.default_rng(seed)
    n = 1009
    x = rng.integers(-20, 40, n).astype(float)
    x[rng.random(n) < 0.1] = np.nan
    y = rng.integers(0, 3, n)  # few distinct values: large ties
    frame = pd.DataFrame({"customer_id": range(n), "x": x, "y": y})
    want = (
        _lazy(frame)
        .with_columns(tied_score("x").alias("sx"), tied_score("y", 4).alias("sy"))
        .collect()
        .to_pandas()
        .set_index("customer_id")
        .sort_index()
    )
    got5 = with_tied_scores(_lazy(frame), {"x": "sx"}).collect().to_pandas()
    got4 = with_tied_scores(_lazy(frame), {"y": "sy"}, n=4).collect().to_pandas()
    got5, got4 = (
        got5.set_index("customer_id").sort_index(),
        got4.set_index("customer_id").sort_index(),
    )
    assert got5["sx"].equals(want["sx"]) and got4["sy"].equals(want["sy"])
    assert len(got5) == n and got5["sx"].isna().sum() == np.isnan(x).sum()


def test_rfm_table_on_its_own_equals_it_on_the_page_base():
    # On its own the window's orders are reduced (segments.base.window_base); the page
    # hands in the whole base (segments.base.customer_base): the same customers and scores.
    orders = _lazy(_ten_customers())
    alone = rfm_table(orders, AS_OF, 365).collect().to_pandas()
    paged = rfm_table(orders, AS_OF, 365, base=customer_base(orders, AS_OF, 365))
    pd.testing.assert_frame_equal(alone, paged.collect().to_pandas())
    assert len(alone) == 10
