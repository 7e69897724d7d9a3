"""Segment migration: how customers moved between RFM segments from one date to another.

Both dates are scored as :func:`analysis.segments.rfm.rfm_table` does (same window
length) in one pass over the orders (:func:`analysis.segments.rfm.segments_at`:
one row per customer with a segment column per date), the engine counts the
customers by their pair of segments, and only that small matrix is collected. A customer
without a completed order in the window before a date is **not scored** at that
date (``"not_scored"``: new since ``start``, or lapsed by ``end``); customers
scored at neither date are not counted.

The report compares the report month's end with the end of the previous month
and of the same month a year earlier: take them from
:func:`analysis.calendar.report_periods` (``previous.end``, ``year_ago.end``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import narwhals as nw
import pandas as pd

from analysis.segments.rfm import SEGMENTS, segments_at

__all__ = [
    "NOT_SCORED",
    "STATES",
    "SegmentMigration",
    "segment_migration",
    "segment_migrations",
]

NOT_SCORED = "not_scored"
"""The row/column of customers without an RFM score at that date."""

STATES: tuple[str, ...] = (*SEGMENTS, NOT_SCORED)
"""Rows and columns of the migration matrices, in display order."""


@dataclass(frozen=True)
class SegmentMigration:
    """Customers by segment at ``start`` (rows) and at ``end`` (columns).

    Attributes
    ----------
    start, end
        The two as-of instants (each the exclusive end of its RFM window).
    counts
        Customers per (segment at ``start``, segment at ``end``): 12 × 12 ints, index
        and columns :data:`STATES` (segments in display order, then
        ``"not_scored"``); the ``not_scored`` × ``not_scored`` cell is always 0.
    shares
        ``counts`` divided by its row sums (0–1); a row without customers stays 0.
    """

    start: dt.datetime
    end: dt.datetime
    counts: pd.DataFrame
    shares: pd.DataFrame

    def moved(self, from_segments: Iterable[str], to_segments: Iterable[str]) -> int:
        """Customers in any of ``from_segments`` at ``start`` and any of ``to_segments`` at ``end``.

        Keys are those of :data:`STATES`; a key in both lists counts those who stayed.

        Raises
        ------
        KeyError
            An unknown segment key.
        """
        rows, columns = list(from_segments), list(to_segments)
        unknown = sorted(set(rows + columns) - set(STATES))
        if unknown:
            raise KeyError(f"unknown segment keys {unknown}; known: {list(STATES)}")
        return int(self.counts.loc[rows, columns].to_numpy().sum())


def segment_migration(
    orders: nw.LazyFrame, start: dt.datetime, end: dt.datetime, window_days: int
) -> SegmentMigration:
    """The segment transition matrix between ``start`` and ``end``, computed on the engine.

    Parameters
    ----------
    orders
        Orders of one store (any status), as the warehouse returns them; they
        must reach ``end``.
    start, end
        Timezone-aware instants: each is the exclusive end of an RFM window of
        ``window_days`` days (e.g. the end of the previous month and of the report month).
    window_days
        ``segments.rfm_window_days``.

    Returns
    -------
    SegmentMigration
        Counts and row shares, 12 × 12 (:data:`STATES`).
    """
    return segment_migrations(orders, [start], end, window_days)[0]


def segment_migrations(
    orders: nw.LazyFrame,
    starts: Sequence[dt.datetime],
    end: dt.datetime,
    window_days: int,
    *,
    base: nw.LazyFrame | None = None,
) -> tuple[SegmentMigration, ...]:
    """:func:`segment_migration` from each of ``starts`` to ``end``, in one query.

    The customers are scored at every date in one pass over the orders
    (:func:`analysis.segments.rfm.segments_at`); the engine counts them by their
    segments at all the dates at once (at most 12 to the power of the dates
    rows), and each matrix is that count summed over the other starts.
    ``base`` is ``customer_base(orders, end, window_days, earlier=starts)`` when
    the caller has persisted it (:mod:`analysis.segments.base`).

    Returns
    -------
    tuple of SegmentMigration
        One per start, in the order of ``starts``.
    """
    dates = [*starts, end]
    names = [f"segment_{i}" for i in range(len(dates))]
    cube = (
        segments_at(orders, dates, window_days, base=base)
        .with_columns(*(nw.col(name).fill_null(NOT_SCORED) for name in names))
        .group_by(*names)
        .agg(nw.len().alias("customers"))
        .collect()
        .to_pandas()
    )
    last = names[-1]
    return tuple(_migration(cube, names[i], last, start, end) for i, start in enumerate(starts))


def _migration(
    cube: pd.DataFrame, before: str, after: str, start: dt.datetime, end: dt.datetime
) -> SegmentMigration:
    """The (``before``, ``after``) matrix of the cube; customers scored at neither are dropped."""
    counted = cube[(cube[before] != NOT_SCORED) | (cube[after] != NOT_SCORED)]
    counts = (
        counted.pivot_table(
            index=before, columns=after, values="customers", aggfunc="sum", fill_value=0
        )
        if len(counted)
        else pd.DataFrame()
    )
    counts = counts.reindex(index=list(STATES), columns=list(STATES), fill_value=0)
    counts = counts.astype("int64")
    counts.index.name, counts.columns.name = "segment_start", "segment_end"
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0, 1), axis=0).astype("float64")
    return SegmentMigration(start=start, end=end, counts=counts, shares=shares)
