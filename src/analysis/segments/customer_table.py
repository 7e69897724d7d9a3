"""The segments page's customers in one query: window figures, RFM scores, buckets, profile.

The RFM scores (:func:`analysis.segments.rfm.scored_customers`), the bucket
flags (:func:`analysis.segments.buckets.bucket_rules`) and the profile
(:func:`analysis.segments.value.profile_frame`) are joined on the engine to the
per-customer base (:mod:`analysis.segments.base`) and collected once, sorted by
customer id. Every per-customer frame of the page then shares one index, so
the value tables line customers up without looking any id up (a lookup costs
about 0.3 s per million string ids).

The population is every registered customer with a completed order before the
report month's end (the buckets' population); the scored customers are those
among them with an order in the RFM window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import narwhals as nw
import pandas as pd

from analysis.config import SegmentParams
from analysis.segments.base import window_columns
from analysis.segments.buckets import BucketFlags, bucket_rules, flag_low_p_alive
from analysis.segments.rfm import scored_customers
from analysis.segments.value import (
    PROFILE_COLUMNS,
    CustomerProfile,
    profile_frame,
    profile_from_frame,
)

__all__ = ["RFM_COLUMNS", "CustomerTable", "customer_table"]

RFM_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
)
"""Columns of :attr:`CustomerTable.rfm`, those of :func:`analysis.segments.rfm.rfm_scores`."""

_PROFILE_COUNTS = ("sends", "opened", "clicked", "converted")


@dataclass(frozen=True)
class CustomerTable:
    """Every customer of the population, one row each, sorted by customer id.

    Attributes
    ----------
    window
        Index ``customer_id`` (the population, ascending): ``frequency`` and
        ``monetary`` (completed orders and revenue in the RFM window, 0
        without one) and ``segment`` (None when not scored).
    rfm
        The scored customers as :func:`analysis.segments.rfm.rfm_scores` gives
        them (:data:`RFM_COLUMNS`, sorted by customer id); may be empty.
    flags
        Bucket flags, indexed by the same index object as ``window``.
    profile
        Profile of the population, its frame indexed by the same index object.
    """

    window: pd.DataFrame
    rfm: pd.DataFrame
    flags: BucketFlags
    profile: CustomerProfile


def customer_table(
    orders: nw.LazyFrame,
    as_of: dt.datetime,
    params: SegmentParams,
    year: int,
    *,
    base: nw.LazyFrame,
    customers: nw.LazyFrame | None = None,
    surveys: nw.LazyFrame | None = None,
    carts: nw.LazyFrame | None = None,
    campaigns: nw.LazyFrame | None = None,
    p_alive: pd.Series | None = None,
) -> CustomerTable:
    """Scores, buckets and profile of every customer before ``as_of``, from one query.

    Parameters
    ----------
    orders
        Orders of one store (any status), as the warehouse returns them.
    as_of
        Timezone-aware end of the RFM window (exclusive): the report month's end.
    params
        The store's ``segments`` parameters.
    year
        Local calendar year at ``as_of`` (for age bands).
    base
        :func:`analysis.segments.base.customer_base` of ``orders`` at ``as_of``
        (``params.rfm_window_days``), persisted by the caller.
    customers, surveys, carts, campaigns
        The store's tables, None when it has none.
    p_alive
        P(alive) per customer from the CLV model, or None (the at-risk rule
        then uses the gap alone).

    Returns
    -------
    CustomerTable
        Small results (one row per customer); the orders stay on the engine.
    """
    window = params.rfm_window_days
    _recency, n, satang = window_columns("window")
    rules = bucket_rules(
        orders, as_of, params, surveys=surveys, carts=carts, campaigns=campaigns,
        with_p_alive=p_alive is not None, base=base,
    )  # fmt: skip
    scores = scored_customers(orders, as_of, window, base=base).select(
        "customer_id", "recency_days", "r_score", "f_score", "m_score", "segment"
    )
    table = (
        base.select(
            "customer_id",
            nw.col(n).alias("frequency"),
            (nw.col(satang) / 100).alias("monetary"),
        )
        .join(rules.frame, on="customer_id", how="left")
        .join(scores, on="customer_id", how="left")
    )
    profile = profile_frame(customers, campaigns, as_of, window, year)
    if profile is not None:
        counts = [c for c in _PROFILE_COUNTS if c in profile.collect_schema().names()]
        table = table.join(profile, on="customer_id", how="left").with_columns(
            *(nw.col(c).fill_null(0).cast(nw.Int64) for c in counts)  # no send: 0
        )
    frame = table.sort("customer_id").collect().to_pandas().set_index("customer_id")
    buckets = [c for c in rules.frame.collect_schema().names() if c != "customer_id"]
    flags = _on(frame.index, flag_low_p_alive(frame[buckets].astype(bool), p_alive, params))
    scored = frame.loc[frame["segment"].notna(), list(RFM_COLUMNS[1:])].reset_index()
    ints = ["recency_days", "frequency", "r_score", "f_score", "m_score"]
    scored[ints] = scored[ints].astype("int64")
    kept = [c for c in (*PROFILE_COLUMNS, *_PROFILE_COUNTS) if c in frame.columns]
    return CustomerTable(
        window=_on(frame.index, frame[["frequency", "monetary", "segment"]]),
        rfm=scored,
        flags=BucketFlags(
            flags=flags, unavailable=rules.unavailable, as_of=as_of, notes=rules.notes
        ),
        profile=profile_from_frame(
            _on(frame.index, frame[kept]), has_campaigns=campaigns is not None
        ),
    )


def _on(index: pd.Index, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (rows in the order of ``index``) indexed by that very index object."""
    frame.index = index
    return frame
