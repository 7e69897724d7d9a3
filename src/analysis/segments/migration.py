"""Segment migration: how customers moved between RFM segments from one date to another.

Both dates are scored as :func:`analysis.segments.rfm.rfm_table` does (same window
length), the two tables are joined on ``customer_id`` (full outer join) on the
engine, and only the small segment-by-segment matrix is collected. A customer
without a completed order in the window before a date is **not scored** at that
date (``"not_scored"``: new since ``start``, or lapsed by ``end``); customers
scored at neither date are not counted.

The report compares the report month's end with the end of the previous month
and of the same month a year earlier: take them from
:func:`analysis.calendar.report_periods` (``previous.end``, ``year_ago.end``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import narwhals as nw
import pandas as pd

from analysis.segments.rfm import SEGMENTS, scored_customers

__all__ = ["NOT_SCORED", "STATES", "SegmentMigration", "segment_migration"]

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


def _segments_at(
    orders: nw.LazyFrame, as_of: dt.datetime, window_days: int, name: str
) -> nw.LazyFrame:
    """``customer_id`` and the segment at ``as_of`` (column ``name``) of the scored customers."""
    return scored_customers(orders, as_of, window_days).select(
        "customer_id", nw.col("segment").alias(name)
    )


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
    before = _segments_at(orders, start, window_days, "segment_start")
    after = _segments_at(orders, end, window_days, "segment_end")
    pairs = (
        before.join(after, on="customer_id", how="full")
        .with_columns(
            nw.col("segment_start").fill_null(NOT_SCORED),
            nw.col("segment_end").fill_null(NOT_SCORED),
        )
        .group_by("segment_start", "segment_end")
        .agg(nw.len().alias("customers"))
        .collect()
        .to_pandas()
    )
    counts = (
        pairs.pivot_table(
            index="segment_start",
            columns="segment_end",
            values="customers",
            aggfunc="sum",
            fill_value=0,
        )
        if len(pairs)
        else pd.DataFrame()
    )
    counts = counts.reindex(index=list(STATES), columns=list(STATES), fill_value=0)
    counts = counts.astype("int64")
    counts.index.name, counts.columns.name = "segment_start", "segment_end"
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0, 1), axis=0).astype("float64")
    return SegmentMigration(start=start, end=end, counts=counts, shares=shares)
