"""Customer segments from RFM scores, computed on the engine.

Definitions (also in docs/metrics.md), for a window of ``window_days`` days
ending at ``as_of`` (exclusive):

- recency: days from the customer's last completed order to ``as_of``;
- frequency: completed orders in the window;
- monetary: revenue of those orders, summed in integer satang (minor units)
  so that ranking never depends on float rounding;
- scores 1–5, 5 = best (most recent, most frequent, highest spend), by the tie
  rule of :func:`tied_score`: ``1 + floor(5 · (rank_min − 1) / N)``, where
  ``rank_min`` is the value's 1-based rank with ties sharing the lowest rank and
  ``N`` the customers scored. Equal values always get equal scores, so a value
  many customers share never straddles two scores; scores may skip (when 60% of
  the customers have one order they all get F = 1 and the next frequency gets 4);
- segment: the first rule of :data:`SEGMENT_RULES` whose R, F and M ranges hold
  the customer's scores (most specific rule first; every one of the 125 cells
  matches at least one rule).

:func:`rfm_table` scores one date; :func:`segments_at` gives the segments at
several dates from one pass over the orders (for :mod:`analysis.segments.migration`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import narwhals as nw
import pandas as pd

from analysis.customers import customer_orders
from analysis.errors import SectionUnavailable
from analysis.narrative.segments import no_customers_to_score

__all__ = [
    "SCORES",
    "SEGMENTS",
    "SEGMENT_RULES",
    "RfmGrid",
    "SegmentRule",
    "rf_counts",
    "rfm_grid",
    "rfm_headlines",
    "rfm_scores",
    "rfm_table",
    "scored_customers",
    "segment_expr",
    "segment_of",
    "segments_at",
    "tied_score",
]

SCORES: tuple[int, ...] = (1, 2, 3, 4, 5)
"""The score values, lowest first."""

SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)
"""Segment keys in display order (best customers first); labels in :mod:`analysis.narrative.rfm`."""


@dataclass(frozen=True)
class SegmentRule:
    """One row of the segment rules table: a segment and inclusive score ranges.

    Attributes
    ----------
    segment
        Key in :data:`SEGMENTS`.
    r, f, m
        Inclusive ``(low, high)`` ranges of the recency, frequency and monetary
        scores (1–5) that the rule covers.
    """

    segment: str
    r: tuple[int, int]
    f: tuple[int, int]
    m: tuple[int, int]

    def matches(self, r: int, f: int, m: int) -> bool:
        """Whether the scores ``(r, f, m)`` lie in all three ranges."""
        return (
            self.r[0] <= r <= self.r[1]
            and self.f[0] <= f <= self.f[1]
            and self.m[0] <= m <= self.m[1]
        )


_ANY = (1, 5)

SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("new_customers", r=(5, 5), f=(1, 1), m=_ANY),
    SegmentRule("champions", r=(4, 5), f=(4, 5), m=(4, 5)),
    SegmentRule("cant_lose", r=(1, 1), f=(4, 5), m=(4, 5)),
    SegmentRule("at_risk", r=(1, 2), f=(3, 5), m=(3, 5)),
    SegmentRule("loyal", r=(3, 5), f=(4, 5), m=_ANY),
    SegmentRule("promising", r=(4, 4), f=(1, 1), m=_ANY),
    SegmentRule("potential_loyalist", r=(4, 5), f=(2, 3), m=_ANY),
    SegmentRule("need_attention", r=(3, 3), f=(2, 3), m=_ANY),
    SegmentRule("about_to_sleep", r=(3, 3), f=(1, 1), m=_ANY),
    SegmentRule("hibernating", r=(2, 2), f=_ANY, m=_ANY),
    SegmentRule("lost", r=(1, 1), f=_ANY, m=_ANY),
)
"""The segment rules, applied in this order: the first rule that matches wins."""


def segment_of(r: int, f: int, m: int) -> str:
    """The segment key of the scores ``(r, f, m)`` (each 1–5): first matching rule wins.

    Raises
    ------
    ValueError
        A score outside 1–5 (no rule matches).
    """
    for rule in SEGMENT_RULES:
        if rule.matches(r, f, m):
            return rule.segment
    raise ValueError(f"no segment rule matches the scores r={r}, f={f}, m={m} (each must be 1-5)")


def _in_range(column: str, bounds: tuple[int, int]) -> nw.Expr:
    low, high = bounds
    return nw.col(column).is_between(low, high, closed="both")


def segment_expr(r: str = "r_score", f: str = "f_score", m: str = "m_score") -> nw.Expr:
    """Expression: the segment key from the score columns ``r, f, m`` (:data:`SEGMENT_RULES`).

    A when/then chain in rule order, so the engine applies the same table as
    :func:`segment_of`; null when a score is null or outside 1–5.
    """
    chain = None
    for rule in SEGMENT_RULES:
        cond = _in_range(r, rule.r) & _in_range(f, rule.f) & _in_range(m, rule.m)
        value = nw.lit(rule.segment, dtype=nw.String())
        chain = nw.when(cond).then(value) if chain is None else chain.when(cond).then(value)
    assert chain is not None
    return chain.otherwise(nw.lit(None, dtype=nw.String()))


def tied_score(key: str, n: int = 5) -> nw.Expr:
    """Score 1–``n`` of column ``key`` ascending (``n`` = highest values), equal values equal.

    ``1 + floor(n · (rank_min − 1) / N)``: ``rank_min`` is the value's 1-based
    rank with ties sharing the rank of the tie's first member, ``N`` the number
    of non-null values in the frame (the customers scored). A tie gets the score
    of its lowest-ranked member, so it never straddles two scores; scores may
    skip values. A null value (a customer not scored) gets a null score.
    """
    rank = nw.col(key).rank(method="min", descending=False).cast(nw.Int64)
    # floor of a float quotient, not ``//``: narwhals spells integer ``//`` on DuckDB with a
    # per-row type check that costs seconds at a million rows. Exact: the quotient is below
    # n, and when it is not a whole number it is at least 1/N away from one.
    return (1 + (n * (rank - 1) / nw.col(key).count()).floor()).cast(nw.Int64)


def _minor_units() -> nw.Expr:
    """An order's revenue in integer minor units (satang), rounded half away from zero."""
    return (nw.col("revenue") * 100).round(0).cast(nw.Int64)


def _recency_days(last_order: nw.Expr, as_of: dt.datetime) -> nw.Expr:
    """Whole days from ``last_order`` to ``as_of`` (floored)."""
    as_of_utc = as_of.astimezone(dt.UTC)
    seconds = (nw.lit(as_of_utc) - last_order).dt.total_seconds()
    return (seconds / 86400).floor().cast(nw.Int64)  # exact, as in :func:`tied_score`


def _per_customer(orders: nw.LazyFrame, as_of: dt.datetime, window_days: int) -> nw.LazyFrame:
    """Recency (days), frequency and monetary (satang) per customer active in the window."""
    start = as_of - dt.timedelta(days=window_days)
    in_window = customer_orders(orders).filter(
        nw.col("ordered_at") >= start, nw.col("ordered_at") < as_of
    )
    per_customer = in_window.group_by("customer_id").agg(
        nw.col("ordered_at").max().alias("last_order"),
        nw.len().alias("frequency"),
        _minor_units().sum().alias("monetary_satang"),
    )
    return per_customer.with_columns(
        _recency_days(nw.col("last_order"), as_of).alias("recency_days")
    )


def rfm_table(orders: nw.LazyFrame, as_of: dt.datetime, window_days: int = 365) -> nw.LazyFrame:
    """Recency, frequency, monetary value, their 1–5 scores and the segment per customer.

    Parameters
    ----------
    orders
        Orders of one store, as the warehouse returns them.
    as_of
        Timezone-aware end of the window (exclusive), e.g. the end of the report month.
    window_days
        Length of the window in days.

    Returns
    -------
    narwhals.LazyFrame
        One row per customer with a completed order in the window, sorted by
        ``customer_id``: ``customer_id, recency_days, frequency, monetary``
        (store currency), ``r_score, f_score, m_score`` (1–5, :func:`tied_score`)
        and ``segment`` (a key of :data:`SEGMENTS`).
    """
    return scored_customers(orders, as_of, window_days).sort("customer_id")


def scored_customers(
    orders: nw.LazyFrame, as_of: dt.datetime, window_days: int = 365
) -> nw.LazyFrame:
    """:func:`rfm_table` in no particular order, for steps that join or aggregate it further."""
    return (
        _per_customer(orders, as_of, window_days)
        .with_columns((-nw.col("recency_days")).alias("_neg_recency"))
        .with_columns(
            tied_score("_neg_recency").alias("r_score"),
            tied_score("frequency").alias("f_score"),
            tied_score("monetary_satang").alias("m_score"),
        )
        .with_columns(segment_expr().alias("segment"))
        .select(
            "customer_id",
            "recency_days",
            "frequency",
            (nw.col("monetary_satang") / 100).alias("monetary"),
            "r_score",
            "f_score",
            "m_score",
            "segment",
        )
    )


def segments_at(
    orders: nw.LazyFrame, dates: Sequence[dt.datetime], window_days: int = 365
) -> nw.LazyFrame:
    """Each customer's segment as of several dates, from one pass over the orders.

    For every date the customer is scored as :func:`rfm_table` does, among the
    customers with a completed order in the ``window_days`` days before that date
    (conditional aggregates over the orders of all the windows, then the same
    tie rule and rules table per date).

    Parameters
    ----------
    orders
        Orders of one store, as the warehouse returns them.
    dates
        Timezone-aware instants, each the exclusive end of its window.
    window_days
        Length of every window in days.

    Returns
    -------
    narwhals.LazyFrame
        One row per customer with a completed order in any of the windows:
        ``customer_id`` and ``segment_0`` … ``segment_<k-1>`` (keys of
        :data:`SEGMENTS`, in the order of ``dates``; null where the customer is
        not scored at that date).
    """
    span = dt.timedelta(days=window_days)
    ordered = nw.col("ordered_at")
    rows = customer_orders(orders).filter(ordered >= min(dates) - span, ordered < max(dates))
    windows = [(ordered >= d - span) & (ordered < d) for d in dates]
    per_customer = (
        rows.with_columns(_minor_units().alias("_satang"))
        .group_by("customer_id")
        .agg(
            *(nw.when(w).then(ordered).max().alias(f"_last_{i}") for i, w in enumerate(windows)),
            *(w.cast(nw.Int64).sum().alias(f"_n_{i}") for i, w in enumerate(windows)),
            *(
                nw.when(w).then(nw.col("_satang")).sum().alias(f"_m_{i}")
                for i, w in enumerate(windows)
            ),
        )
    )
    scored = [nw.col(f"_n_{i}") > 0 for i in range(len(dates))]
    # A customer whose orders all fall between windows (dates further apart than a window)
    # is scored nowhere and is left out.
    measures = per_customer.filter(nw.any_horizontal(*scored, ignore_nulls=False)).with_columns(
        *(
            nw.when(scored[i]).then(-_recency_days(nw.col(f"_last_{i}"), d)).alias(f"_r_{i}")
            for i, d in enumerate(dates)
        ),
        *(nw.when(scored[i]).then(nw.col(f"_n_{i}")).alias(f"_f_{i}") for i in range(len(dates))),
        *(nw.when(scored[i]).then(nw.col(f"_m_{i}")).alias(f"_mm_{i}") for i in range(len(dates))),
    )
    scores = measures.with_columns(
        *(
            tied_score(f"_{x}_{i}").alias(f"_{x}s_{i}")
            for x in ("r", "f", "mm")
            for i in range(len(dates))
        )
    )
    return scores.select(
        "customer_id",
        *(
            segment_expr(f"_rs_{i}", f"_fs_{i}", f"_mms_{i}").alias(f"segment_{i}")
            for i in range(len(dates))
        ),
    )


def rfm_scores(orders: nw.LazyFrame, as_of: dt.datetime, window_days: int = 365) -> pd.DataFrame:
    """:func:`rfm_table` collected (one row per customer: a small result).

    Raises
    ------
    SectionUnavailable
        No registered customer has a completed order in the window (a store of
        guest orders only, or none in the last ``window_days`` days).
    """
    rfm = rfm_table(orders, as_of, window_days).collect().to_pandas()
    if rfm.empty:
        raise SectionUnavailable(no_customers_to_score(window_days))
    return rfm


@dataclass(frozen=True)
class RfmGrid:
    """The R × F grid of the scored customers.

    Attributes
    ----------
    counts
        Customers per cell: index ``r_score`` 1–5, columns ``f_score`` 1–5, every
        cell present (0 when empty), ints.
    revenue_share
        Share (0–1) of the scored customers' window revenue (``monetary``) in each
        cell, same shape; all 0 when they have no revenue.
    """

    counts: pd.DataFrame
    revenue_share: pd.DataFrame


def _cells(values: pd.Series) -> pd.DataFrame:
    """A (r_score, f_score)-indexed series as the full 5 × 5 table (0 for absent cells)."""
    table = values.unstack(fill_value=0) if len(values) else pd.DataFrame()
    table = table.reindex(index=list(SCORES), columns=list(SCORES), fill_value=0)
    table.index.name, table.columns.name = "r_score", "f_score"
    return table


def rfm_grid(rfm: pd.DataFrame) -> RfmGrid:
    """Customer counts and revenue shares per (R, F) score cell of :func:`rfm_scores`.

    Parameters
    ----------
    rfm
        One row per scored customer with ``r_score, f_score, monetary``.

    Returns
    -------
    RfmGrid
        5 × 5 tables, rows ``r_score`` 1–5, columns ``f_score`` 1–5.
    """
    cells = rfm.groupby(["r_score", "f_score"])
    counts = _cells(cells.size()).astype("int64")
    revenue = _cells(cells["monetary"].sum()).astype("float64")
    total = float(revenue.to_numpy().sum())
    share = revenue / total if total > 0 else revenue * 0.0
    return RfmGrid(counts=counts, revenue_share=share)


def rf_counts(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers per (recency score, frequency score) cell of :func:`rfm_scores`.

    Returns
    -------
    pandas.DataFrame
        Index ``r_score`` (1–5 present in the data), columns ``f_score``, values
        customer counts (0 for an empty cell).
    """
    return rfm.groupby(["r_score", "f_score"]).size().unstack(fill_value=0)


def rfm_headlines(rfm: pd.DataFrame) -> dict[str, int | float | None]:
    """Manifest headline values of the segments section.

    Returns
    -------
    dict
        ``customers_scored`` (customers with an RFM score) and ``top_rf_share``:
        the share (0–1, 4 decimals) of them with both recency and frequency
        scores of 4 or 5; None without customers.
    """
    top = ((rfm["r_score"] >= 4) & (rfm["f_score"] >= 4)).mean()
    return {
        "customers_scored": int(len(rfm)),
        "top_rf_share": round(float(top), 4) if len(rfm) else None,
    }
