"""Acquisition cohorts: customers by the local month of their first completed order.

Definitions (also in docs/metrics.md): a customer's cohort is the calendar
month (store zone) of their first completed order; guest orders (null
``customer_id``) and cancelled/refunded orders never place a customer in a
cohort. Month ``k`` of a cohort is the ``k``-th calendar month after the cohort
month; retention in month ``k`` = share of the cohort with a completed order
in that month.
"""

from __future__ import annotations

import narwhals as nw
import pandas as pd

from analysis.frames import count_distinct, month_index
from analysis.kpis import completed
from analysis.warehouse import local_month

__all__ = ["cohort_activity", "retention_matrix"]


def cohort_activity(orders: nw.LazyFrame, timezone: str) -> nw.LazyFrame:
    """Active customers and revenue per (cohort, months since acquisition).

    Returns
    -------
    narwhals.LazyFrame
        ``cohort`` (month start), ``k`` (int, 0 = acquisition month),
        ``customers`` (distinct active customers), ``revenue`` (store currency),
        ``orders``; sorted by cohort and k.
    """
    done = (
        completed(orders)
        .filter(~nw.col("customer_id").is_null())
        .with_columns(local_month("ordered_at", timezone).alias("month"))
    )
    first = done.group_by("customer_id").agg(nw.col("month").min().alias("cohort"))
    return (
        done.join(first, on="customer_id")
        .with_columns((month_index(nw.col("month")) - month_index(nw.col("cohort"))).alias("k"))
        .group_by("cohort", "k")
        .agg(
            count_distinct(nw.col("customer_id")).alias("customers"),
            nw.col("revenue").sum().alias("revenue"),
            nw.len().alias("orders"),
        )
        .sort("cohort", "k")
    )


def retention_matrix(activity: pd.DataFrame, horizon: int | None = None) -> pd.DataFrame:
    """Customer retention matrix from collected :func:`cohort_activity` rows.

    Parameters
    ----------
    activity
        Output of :func:`cohort_activity`, collected to pandas (one row per
        cohort and month; small).
    horizon
        Keep months ``k <= horizon`` (None = all).

    Returns
    -------
    pandas.DataFrame
        Index ``cohort``; column ``size`` (customers acquired) then one column
        per ``k`` with the share of the cohort active in month ``k`` (0–1;
        NaN where month ``k`` is after the data ends).
    """
    frame = activity if horizon is None else activity[activity["k"] <= horizon]
    counts = frame.pivot(index="cohort", columns="k", values="customers").sort_index()
    counts = counts.reindex(columns=range(int(frame["k"].max()) + 1))  # months nobody came back
    size = counts[0]
    cohort_index = activity["cohort"].dt.year * 12 + activity["cohort"].dt.month - 1
    last = int((cohort_index + activity["k"]).max())  # last month with any activity
    share = counts.div(size, axis=0)
    # Months that have not happened yet are NaN, months with nobody active are 0.
    for cohort in share.index:
        months_observed = last - (cohort.year * 12 + cohort.month - 1)
        observed = share.columns <= months_observed
        share.loc[cohort, observed] = share.loc[cohort, observed].fillna(0.0)
    share.insert(0, "size", size.astype("int64"))
    share.columns.name = "k"
    return share
