"""Segment migration on a hand-built two-date history, counts worked out by hand."""

import datetime as dt

import duckdb
import narwhals as nw
import pandas as pd
import pytest
from conftest import orders_frame

from analysis.segments.migration import (
    NOT_SCORED,
    STATES,
    segment_migration,
    segment_migrations,
)
from analysis.segments.rfm import SEGMENTS

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
WINDOW = 30  # windows [Dec 2, Jan 1) and [Jan 2, Feb 1): every order falls in one at most


def _orders(as_of: dt.datetime, plan: dict[str, tuple[int, int, float]]) -> list[tuple]:
    """Orders so that each customer has (recency days, orders, revenue) at ``as_of``.

    With five customers and all values distinct, each score equals the rank
    (1 + floor(5 * (rank - 1) / 5) = rank).
    """
    rows = []
    for cid, (recency, count, revenue) in plan.items():
        times = [as_of - dt.timedelta(days=recency, hours=1)] + [
            as_of - dt.timedelta(days=20, hours=k) for k in range(1, count)
        ]
        for k, when in enumerate(times):
            rows.append((f"{cid}-{as_of:%m}-{k}", cid, str(when), revenue / count, "completed"))
    return rows


def _history() -> nw.LazyFrame:
    # At START (R, F, M as ranks): a (5,5,5) champions, b (4,4,3) loyal, c (3,3,2) need
    # attention, d (2,2,1) hibernating, e (1,1,4) lost.
    start = _orders(
        START,
        {
            "a": (1, 5, 500.0),
            "b": (2, 4, 300.0),
            "c": (3, 3, 200.0),
            "d": (4, 2, 100.0),
            "e": (5, 1, 400.0),
        },
    )
    # At END: a (1,5,5) can't lose, b (2,4,4) at risk, c (5,1,1) new, f (4,3,3) potential
    # loyalist, g (3,2,2) need attention; d and e have no order in the window: not scored.
    end = _orders(
        END,
        {
            "a": (5, 5, 500.0),
            "b": (4, 4, 400.0),
            "c": (1, 1, 100.0),
            "f": (2, 3, 300.0),
            "g": (3, 2, 200.0),
        },
    )
    # h orders only between the two windows: scored at neither date, counted nowhere.
    other = [("h-1", "h", "2026-01-01 12:00:00+00:00", 50.0, "completed")]
    return _lazy(orders_frame(start + end + other))


def _lazy(frame: pd.DataFrame) -> nw.LazyFrame:
    frame = frame.assign(ordered_at=pd.to_datetime(frame["ordered_at"], utc=True))
    return nw.from_native(duckdb.from_df(frame))


def test_migration_counts_by_hand():
    m = segment_migration(_history(), START, END, WINDOW)
    assert (m.start, m.end) == (START, END)
    assert list(m.counts.index) == list(STATES) == list(m.counts.columns)
    assert list(STATES) == [*SEGMENTS, NOT_SCORED]
    expected = {
        ("champions", "cant_lose"): 1,  # a
        ("loyal", "at_risk"): 1,  # b
        ("need_attention", "new_customers"): 1,  # c
        ("hibernating", NOT_SCORED): 1,  # d
        ("lost", NOT_SCORED): 1,  # e
        (NOT_SCORED, "potential_loyalist"): 1,  # f
        (NOT_SCORED, "need_attention"): 1,  # g
    }
    found = {
        (row, col): int(m.counts.loc[row, col])
        for row in STATES
        for col in STATES
        if m.counts.loc[row, col]
    }
    assert found == expected
    assert m.counts.loc[NOT_SCORED, NOT_SCORED] == 0  # h is not counted
    assert m.counts.to_numpy().sum() == 7
    assert m.counts.dtypes.map(lambda d: d.kind == "i").all()


def test_migration_shares_and_moved():
    m = segment_migration(_history(), START, END, WINDOW)
    assert m.shares.loc[NOT_SCORED, "potential_loyalist"] == pytest.approx(0.5)
    assert m.shares.loc[NOT_SCORED, "need_attention"] == pytest.approx(0.5)
    assert m.shares.loc["champions", "cant_lose"] == 1.0
    assert m.shares.loc["promising"].sum() == 0  # a row without customers stays 0
    sums = m.shares.sum(axis=1)
    assert sums[sums > 0].tolist() == pytest.approx([1.0] * 6)
    assert m.moved(["champions", "loyal"], ["at_risk", "cant_lose"]) == 2
    assert m.moved(["champions"], ["at_risk"]) == 0
    assert m.moved([NOT_SCORED], SEGMENTS) == 2  # new since START
    assert m.moved(SEGMENTS, [NOT_SCORED]) == 2  # lapsed by END
    with pytest.raises(KeyError, match="champion"):
        m.moved(["champion"], ["lost"])


def test_migration_without_customers_is_all_zero():
    empty = orders_frame([("1", "z", "2020-01-01 00:00:00+00:00", 1.0, "completed")])
    m = segment_migration(_lazy(empty), START, END, WINDOW)
    assert m.counts.shape == (12, 12) and m.counts.to_numpy().sum() == 0
    assert m.shares.to_numpy().sum() == 0


def test_migrations_from_several_starts_in_one_query_match_one_at_a_time():
    orders = _history()
    earlier = START - dt.timedelta(days=15)  # window [Nov 17, Dec 17): a part of the start orders
    both = segment_migrations(orders, [earlier, START], END, WINDOW)
    for start, m in zip([earlier, START], both, strict=True):
        alone = segment_migration(orders, start, END, WINDOW)
        assert m.start == start and m.end == END
        assert m.counts.equals(alone.counts) and m.shares.equals(alone.shares)
    assert both[1].counts.to_numpy().sum() == 7
