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

from analysis.errors import SectionUnavailable
from analysis.frames import materialize
from analysis.narrative.segments import no_customers_to_score
from analysis.segments.base import customer_base, window_base, window_columns

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
    "with_tied_scores",
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


def with_tied_scores(frame: nw.LazyFrame, scores: dict[str, str], n: int = 5) -> nw.LazyFrame:
    """``frame`` with the :func:`tied_score` of each column ``source`` as column ``alias``.

    The same scores as ``frame.with_columns(tied_score(source).alias(alias))``,
    computed without sorting the frame: the customers are counted per distinct
    value, the count of customers below each value (``rank_min - 1``) is a
    running sum over those few rows, and the scores are joined back on the value.
    On DuckDB that is 0.1 s per score for a million customers, where a window
    rank over the whole frame costs 0.25 s and more as the frame widens.

    Parameters
    ----------
    frame
        One row per customer.
    scores
        Source column -> name of its score column (null where the source is null).
    n
        Highest score.
    """
    joined = frame
    for source, alias in scores.items():
        # Each count reads ``frame`` itself, not the frame joined so far: the query stays
        # linear in the number of scores.
        counts = (
            frame.filter(~nw.col(source).is_null())
            .group_by(source)
            .agg(nw.len().alias("_customers"))
        )
        below = nw.col("_customers").cum_sum().over(order_by=source) - nw.col("_customers")
        total = nw.col("_customers").sum()
        score = (1 + (n * below / total).floor()).cast(nw.Int64)  # floor: as in tied_score
        joined = joined.join(counts.select(source, score.alias(alias)), on=source, how="left")
    return joined


def rfm_table(
    orders: nw.LazyFrame,
    as_of: dt.datetime,
    window_days: int = 365,
    *,
    base: nw.LazyFrame | None = None,
) -> nw.LazyFrame:
    """Recency, frequency, monetary value, their 1–5 scores and the segment per customer.

    Parameters
    ----------
    orders
        Orders of one store, as the warehouse returns them.
    as_of
        Timezone-aware end of the window (exclusive), e.g. the end of the report month.
    window_days
        Length of the window in days.
    base
        :func:`analysis.segments.base.customer_base` of ``orders`` at ``as_of``
        (``window_days``), when the caller has persisted it; built here otherwise.

    Returns
    -------
    narwhals.LazyFrame
        One row per customer with a completed order in the window, sorted by
        ``customer_id``: ``customer_id, recency_days, frequency, monetary``
        (store currency), ``r_score, f_score, m_score`` (1–5, :func:`tied_score`)
        and ``segment`` (a key of :data:`SEGMENTS`).
    """
    return scored_customers(orders, as_of, window_days, base=base).sort("customer_id")


def scored_customers(
    orders: nw.LazyFrame,
    as_of: dt.datetime,
    window_days: int = 365,
    *,
    base: nw.LazyFrame | None = None,
) -> nw.LazyFrame:
    """:func:`rfm_table` in no particular order, for steps that join or aggregate it further.

    Without ``base`` the customers are reduced from the window's orders to the
    three columns scoring reads (:func:`analysis.segments.base.window_base`)
    and the reduction is materialised on the engine
    (:func:`analysis.frames.materialize`), because each score counts it again.
    """
    if base is None:
        base = materialize(window_base(orders, as_of, window_days))
    recency, n, satang = window_columns("window")
    measures = base.filter(nw.col(n) > 0).select(
        "customer_id",
        nw.col(recency).alias("recency_days"),
        nw.col(n).alias("frequency"),
        nw.col(satang).alias("monetary_satang"),
    )
    scores = {"_neg_recency": "r_score", "frequency": "f_score", "monetary_satang": "m_score"}
    return (
        with_tied_scores(
            measures.with_columns((-nw.col("recency_days")).alias("_neg_recency")), scores
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
    orders: nw.LazyFrame,
    dates: Sequence[dt.datetime],
    window_days: int = 365,
    *,
    base: nw.LazyFrame | None = None,
) -> nw.LazyFrame:
    """Each customer's segment as of several dates, from one pass over the orders.

    For every date the customer is scored as :func:`rfm_table` does, among the
    customers with a completed order in the ``window_days`` days before that date
    (the windows' aggregates of :func:`analysis.segments.base.customer_base`,
    then the same tie rule and rules table per date).

    Parameters
    ----------
    orders
        Orders of one store, as the warehouse returns them.
    dates
        Timezone-aware instants, each the exclusive end of its window; the last
        is the latest.
    window_days
        Length of every window in days.
    base
        ``customer_base(orders, dates[-1], window_days, earlier=dates[:-1])``
        when the caller has persisted it; built here otherwise.

    Returns
    -------
    narwhals.LazyFrame
        One row per customer with a completed order in any of the windows:
        ``customer_id`` and ``segment_0`` … ``segment_<k-1>`` (keys of
        :data:`SEGMENTS`, in the order of ``dates``; null where the customer is
        not scored at that date).

    Raises
    ------
    ValueError
        No dates, or the last is not the latest.
    """
    if not dates or max(dates) != dates[-1]:
        raise ValueError("segments_at: dates must be non-empty with the latest last")
    if base is None:
        base = customer_base(orders, dates[-1], window_days, earlier=dates[:-1])
    keys: list[str | int] = [*range(len(dates) - 1), "window"]
    columns = [window_columns(key) for key in keys]
    scored = [nw.col(n) > 0 for _last, n, _satang in columns]
    # A customer whose orders all fall outside every window is scored nowhere and is left out.
    measures = base.filter(nw.any_horizontal(*scored, ignore_nulls=False)).select(
        "customer_id",
        *(
            nw.when(scored[i]).then(-nw.col(recency)).alias(f"_r_{i}")
            for i, (recency, _n, _s) in enumerate(columns)
        ),
        *(
            nw.when(scored[i]).then(nw.col(n)).alias(f"_f_{i}")
            for i, (_l, n, _s) in enumerate(columns)
        ),
        *(
            nw.when(scored[i]).then(nw.col(satang)).alias(f"_m_{i}")
            for i, (_l, _n, satang) in enumerate(columns)
        ),
    )
    stages = {f"_{x}_{i}": f"_{x}s_{i}" for i in range(len(dates)) for x in ("r", "f", "m")}
    return with_tied_scores(measures, stages).select(
        "customer_id",
        *(
            segment_expr(f"_rs_{i}", f"_fs_{i}", f"_ms_{i}").alias(f"segment_{i}")
            for i in range(len(dates))
        ),
    )


def rfm_scores(
    orders: nw.LazyFrame,
    as_of: dt.datetime,
    window_days: int = 365,
    *,
    base: nw.LazyFrame | None = None,
) -> pd.DataFrame:
    """:func:`rfm_table` collected (one row per customer: a small result).

    Raises
    ------
    SectionUnavailable
        No registered customer has a completed order in the window (a store of
        guest orders only, or none in the last ``window_days`` days).
    """
    rfm = rfm_table(orders, as_of, window_days, base=base).collect().to_pandas()
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
