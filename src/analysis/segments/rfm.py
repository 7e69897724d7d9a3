"""Customer segments from RFM scores, computed on the engine.

Definitions (also in docs/metrics.md), for a window of ``window_days`` days
ending at ``as_of`` (exclusive):

- recency: days from the customer's last completed order to ``as_of``;
- frequency: completed orders in the window;
- monetary: revenue of those orders, summed in integer satang (minor units)
  so that ranking never depends on float rounding;
- scores 1–5: quintiles (NTILE(5)) of each measure, 5 = best (most recent,
  most frequent, highest spend); ties are broken by ``customer_id`` so the
  same data always gives the same scores.
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import pandas as pd

from analysis.customers import customer_orders
from analysis.errors import SectionUnavailable
from analysis.narrative.segments import no_customers_to_score

__all__ = ["rf_counts", "rfm_headlines", "rfm_scores", "rfm_table", "ntile"]


def ntile(key: str, n: int, tie_break: str = "customer_id") -> nw.Expr:
    """NTILE(n) of column ``key`` ascending (1 = lowest), as a window expression.

    narwhals has no ``ntile``/``qcut``: the tile is built from a row number and
    the row count, as SQL's NTILE does (the first ``len % n`` tiles get one extra row).
    """
    row = nw.col(key).cum_count().over(order_by=[key, tie_break]) - 1
    size = nw.len()  # broadcast: the whole frame's row count
    big = size // n + 1  # rows in each of the first (size % n) tiles
    small = size // n
    n_big = size % n
    cut = n_big * big
    return (
        nw.when(row < cut)
        .then(row // big)
        .otherwise(n_big + (row - cut) // nw.when(small > 0).then(small).otherwise(1))
        + 1
    ).cast(nw.Int64)


def rfm_table(orders: nw.LazyFrame, as_of: dt.datetime, window_days: int = 365) -> nw.LazyFrame:
    """Recency, frequency, monetary value and their 1–5 scores per customer.

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
        One row per customer with a completed order in the window:
        ``customer_id, recency_days, frequency, monetary`` (store currency),
        ``r_score, f_score, m_score`` (1–5).
    """
    start = as_of - dt.timedelta(days=window_days)
    in_window = customer_orders(orders).filter(
        nw.col("ordered_at") >= start, nw.col("ordered_at") < as_of
    )
    per_customer = in_window.group_by("customer_id").agg(
        nw.col("ordered_at").max().alias("last_order"),
        nw.len().alias("frequency"),
        (nw.col("revenue") * 100).round(0).cast(nw.Int64).sum().alias("monetary_satang"),
    )
    as_of_utc = as_of.astimezone(dt.UTC)
    return (
        per_customer.with_columns(
            ((nw.lit(as_of_utc) - nw.col("last_order")).dt.total_seconds() // 86400)
            .cast(nw.Int64)
            .alias("recency_days"),
        )
        .with_columns((-nw.col("recency_days")).alias("_neg_recency"))
        .with_columns(
            ntile("_neg_recency", 5).alias("r_score"),
            ntile("frequency", 5).alias("f_score"),
            ntile("monetary_satang", 5).alias("m_score"),
        )
        .select(
            "customer_id",
            "recency_days",
            "frequency",
            (nw.col("monetary_satang") / 100).alias("monetary"),
            "r_score",
            "f_score",
            "m_score",
        )
        .sort("customer_id")
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
