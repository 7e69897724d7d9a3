"""The per-customer RFM summary that lifetimes' models fit on, computed on the engine.

:func:`rfm_summary` computes, on the engine, exactly what
``lifetimes.utils.summary_data_from_transaction_data`` computes in pandas
(daily periods), so the fitters receive one small row per customer instead
of the whole orders table.
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import pandas as pd

from analysis.frames import completed
from analysis.warehouse import local_time

__all__ = ["rfm_summary"]


def rfm_summary(
    orders: nw.LazyFrame,
    observation_end: dt.date,
    *,
    timezone: str = "UTC",
    time_unit: float = 1.0,
) -> pd.DataFrame:
    """Frequency, recency, T and monetary value per customer (lifetimes semantics, daily).

    Parameters
    ----------
    orders
        Orders of one store; completed orders of registered customers are used.
    observation_end
        Last local calendar day observed (inclusive); later orders are ignored.
    timezone
        Store zone: purchase days are local calendar days.
    time_unit
        Days per reported unit (lifetimes' ``freq_multiplier``): 7 reports weeks.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``: ``frequency`` (repeat purchase days),
        ``recency`` and ``T`` (in ``time_unit`` days, first purchase to last
        purchase / to ``observation_end``), ``monetary_value`` (mean revenue of
        the repeat purchase days, 0 when none).
    """
    end = pd.Timestamp(observation_end).date()
    days = (
        completed(orders)
        .filter(~nw.col("customer_id").is_null())
        .with_columns(local_time("ordered_at", timezone).dt.date().alias("day"))
        .filter(nw.col("day") <= end)
        .group_by("customer_id", "day")
        .agg(nw.col("revenue").sum().alias("value"))
    )
    per_customer = (
        days.with_columns(nw.col("day").min().over("customer_id").alias("first_day"))
        .group_by("customer_id")
        .agg(
            nw.len().alias("n_days"),
            nw.col("first_day").min(),
            nw.col("day").max().alias("last_day"),
            nw.when(nw.col("day") > nw.col("first_day"))
            .then(nw.col("value"))
            .otherwise(0.0)
            .sum()
            .alias("repeat_value"),
        )
        .with_columns(nw.lit(end).alias("end_day"))
        .select(
            "customer_id",
            (nw.col("n_days") - 1).cast(nw.Float64).alias("frequency"),
            ((nw.col("last_day") - nw.col("first_day")).cast(nw.Int64) / time_unit).alias(
                "recency"
            ),
            ((nw.col("end_day") - nw.col("first_day")).cast(nw.Int64) / time_unit).alias("T"),
            nw.when(nw.col("n_days") > 1)
            .then(nw.col("repeat_value") / (nw.col("n_days") - 1))
            .otherwise(0.0)
            .alias("monetary_value"),
        )
        .sort("customer_id")
    )
    return per_customer.collect().to_pandas().set_index("customer_id")
