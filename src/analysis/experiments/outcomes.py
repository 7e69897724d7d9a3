"""Experiment arms and their outcomes, computed on the engine.

Definitions (also in docs/metrics.md): for an experiment, a customer's outcome
window starts at their ``assigned_at`` and ends at ``end`` (exclusive); the
pre-assignment window has the same length and ends at ``assigned_at``. Every
metric is per assigned customer (buyers and non-buyers alike: intention to
treat):

- ``revenue``: completed-order revenue in the window (store currency);
- ``orders``: completed orders in the window;
- ``repeat``: 1 when the customer placed a completed order in the window and
  it was not their first ever (another completed order before it), else 0;
- ``retained``: 1 when the customer placed a completed order within
  ``retention_days`` of assignment; only for customers assigned at least
  ``retention_days`` before ``end`` (null for the others).

Each metric's ``_pre`` column is the same metric over the pre-assignment
window (``retained_pre``: an order in the ``retention_days`` before
assignment); CUPED uses it as the covariate.
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import numpy as np
import pandas as pd

from analysis.customers import customer_orders
from analysis.errors import SectionUnavailable
from analysis.frames import count_distinct
from analysis.narrative import loyalty as text
from analysis.warehouse import StoreWarehouse

__all__ = [
    "METRICS",
    "assignments",
    "bucket_sums",
    "customer_outcomes",
    "metric_sums",
    "revenue_caps",
    "latest_experiment",
    "report_experiment",
]


def latest_experiment(experiments: nw.LazyFrame) -> str | None:
    """Id of the experiment with the latest first assignment, or None when there is none."""
    row = (
        experiments.group_by("experiment_id")
        .agg(nw.col("assigned_at").min().alias("start"))
        .sort("start", "experiment_id", descending=True)
        .head(1)
        .collect()
    )
    return None if len(row) == 0 else str(row["experiment_id"][0])


def report_experiment(
    wh: StoreWarehouse, end: dt.datetime, experiment_id: str | None = None
) -> tuple[nw.LazyFrame, str]:
    """The experiments table up to ``end`` and the experiment the report reads.

    ``experiment_id`` (``loyalty.experiment_id``) or, when None, the most recent
    experiment (:func:`latest_experiment`).

    Raises
    ------
    SectionUnavailable
        No experiments table, no assignment before ``end``, or the named
        experiment has none.
    """
    if not wh.has("experiments"):
        raise SectionUnavailable(text.no_experiment_data())
    experiments = wh.table("experiments", end=end)
    chosen = experiment_id or latest_experiment(experiments)
    if chosen is None:
        raise SectionUnavailable(text.no_assignment())
    if experiment_id is not None:
        found = experiments.filter(nw.col("experiment_id") == experiment_id).head(1).collect()
        if len(found) == 0:
            raise SectionUnavailable(text.experiment_not_found(experiment_id))
    return experiments, chosen


METRICS = ("revenue", "orders", "repeat", "retained")
"""The readout's metrics, in the order the page shows them."""


def assignments(experiments: nw.LazyFrame, experiment_id: str) -> nw.LazyFrame:
    """One row per customer assigned in the experiment: variant and first assignment.

    A customer listed more than once keeps their first ``assigned_at``; a
    customer listed under two or more variants cannot be attributed to an arm
    and is left out (``variants`` > 1 marks them; :func:`customer_outcomes`
    drops them and the readout counts them).

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id, variant, assigned_at, variants`` (number of distinct variants).
    """
    return (
        experiments.filter(nw.col("experiment_id") == experiment_id)
        .group_by("customer_id")
        .agg(
            nw.col("variant").min().alias("variant"),
            nw.col("assigned_at").min().alias("assigned_at"),
            count_distinct(nw.col("variant")).alias("variants"),
        )
    )


def customer_outcomes(
    experiments: nw.LazyFrame,
    orders: nw.LazyFrame,
    experiment_id: str,
    end: dt.datetime,
    retention_days: int,
) -> nw.LazyFrame:
    """Per assigned customer: every metric of :data:`METRICS` after and before assignment.

    Parameters
    ----------
    experiments, orders
        The store's tables (lazy, any engine narwhals supports).
    experiment_id
        The experiment to read.
    end
        End of the outcome window (exclusive; the report month's end), tz-aware.
    retention_days
        Days after assignment within which an order makes the customer
        ``retained`` (``experiment.retention_days``).

    Returns
    -------
    narwhals.LazyFrame
        One row per customer assigned to exactly one variant:
        ``customer_id, variant, assigned_at, revenue, revenue_pre, orders,
        orders_pre, repeat, repeat_pre, retained, retained_pre``; money in the
        store's currency, counts as Int64, ``repeat``/``retained`` as 0/1
        (``retained`` null when the customer's ``retention_days`` have not all
        passed by ``end``).
    """
    assigned = (
        assignments(experiments, experiment_id)
        .filter((nw.col("variants") == 1) & (nw.col("assigned_at") < end))
        .select("customer_id", "variant", "assigned_at")
    )
    at = nw.col("assigned_at")
    when = nw.col("ordered_at")
    pre_start = at - (nw.lit(end) - at)
    retention = dt.timedelta(days=retention_days)
    post = when >= at
    pre = (when < at) & (when >= pre_start)
    flags = (
        customer_orders(orders)
        .filter(nw.col("ordered_at") < end)
        .select("customer_id", "ordered_at", "revenue")
        .join(assigned.select("customer_id", "assigned_at"), on="customer_id")
        .group_by("customer_id")
        .agg(
            nw.when(post).then(nw.col("revenue")).otherwise(0.0).sum().alias("revenue"),
            nw.when(pre).then(nw.col("revenue")).otherwise(0.0).sum().alias("revenue_pre"),
            post.cast(nw.Int64).sum().alias("orders"),
            pre.cast(nw.Int64).sum().alias("orders_pre"),
            (when < at).cast(nw.Int64).sum().alias("_before"),
            (when < pre_start).cast(nw.Int64).sum().alias("_before_pre"),
            (post & (when < at + retention)).cast(nw.Int64).sum().alias("_kept"),
            (~post & (when >= at - retention)).cast(nw.Int64).sum().alias("_kept_pre"),
        )
    )
    orders_, orders_pre = nw.col("orders"), nw.col("orders_pre")
    return (
        assigned.join(flags, on="customer_id", how="left")
        .with_columns(
            nw.col("revenue", "revenue_pre").fill_null(0.0),
            nw.col("orders", "orders_pre", "_before", "_before_pre", "_kept", "_kept_pre")
            .fill_null(0)
            .cast(nw.Int64),
        )
        .select(
            "customer_id",
            "variant",
            "assigned_at",
            "revenue",
            "revenue_pre",
            "orders",
            "orders_pre",
            ((orders_ >= 1) & ((orders_ >= 2) | (nw.col("_before") >= 1)))
            .cast(nw.Int64)
            .alias("repeat"),
            ((orders_pre >= 1) & ((orders_pre >= 2) | (nw.col("_before_pre") >= 1)))
            .cast(nw.Int64)
            .alias("repeat_pre"),
            nw.when(at + retention <= nw.lit(end))
            .then((nw.col("_kept") >= 1).cast(nw.Int64))
            .alias("retained"),
            (nw.col("_kept_pre") >= 1).cast(nw.Int64).alias("retained_pre"),
        )
    )


def revenue_caps(outcomes: nw.LazyFrame, percentile: float) -> tuple[float, float]:
    """Winsorisation caps of revenue and of pre-assignment revenue over every assigned customer.

    Parameters
    ----------
    outcomes
        :func:`customer_outcomes`.
    percentile
        Percentile (0-100] of the pooled arms (``experiment.winsorize_percentile``),
        linear interpolation between order statistics; 100 means no cap.

    Returns
    -------
    tuple of float
        ``(revenue cap, pre-assignment revenue cap)`` in the store's currency.
    """
    q = percentile / 100.0
    row = (
        outcomes.select(
            nw.col("revenue").quantile(q, interpolation="linear").alias("cap"),
            nw.col("revenue_pre").quantile(q, interpolation="linear").alias("cap_pre"),
        )
        .collect()
        .to_pandas()
    )
    return float(row["cap"].iloc[0]), float(row["cap_pre"].iloc[0])


def _metric_columns(revenue_cap: float, pre_cap: float) -> dict[str, tuple[nw.Expr, nw.Expr]]:
    """Each metric's (outcome, covariate) expression; revenue capped at its caps."""
    return {
        "revenue": (
            nw.col("revenue").clip(upper_bound=revenue_cap),
            nw.col("revenue_pre").clip(upper_bound=pre_cap),
        ),
        "orders": (nw.col("orders").cast(nw.Float64), nw.col("orders_pre").cast(nw.Float64)),
        "repeat": (nw.col("repeat").cast(nw.Float64), nw.col("repeat_pre").cast(nw.Float64)),
        "retained": (nw.col("retained").cast(nw.Float64), nw.col("retained_pre").cast(nw.Float64)),
    }


def metric_sums(outcomes: nw.LazyFrame, revenue_cap: float, pre_cap: float) -> pd.DataFrame:
    """Per variant and metric: the sums the statistics need, in one pass on the engine.

    Revenue (and its covariate) are capped at ``revenue_cap`` (``pre_cap``);
    ``retained`` counts only customers whose retention window has passed.
    Also returns each variant's uncapped revenue and the customers whose
    revenue was capped.

    Returns
    -------
    pandas.DataFrame
        One row per variant (sorted): ``customers``, ``revenue_raw`` (uncapped
        sum), ``capped`` (customers above the cap), and for each metric ``m``
        the columns ``m_n, m_y, m_y2, m_x, m_x2, m_xy`` (count, sums of the
        outcome, its square, the covariate, its square and their product).
    """
    aggs: list[nw.Expr] = [
        nw.len().alias("customers"),
        nw.col("revenue").sum().alias("revenue_raw"),
        (nw.col("revenue") > revenue_cap).cast(nw.Int64).sum().alias("capped"),
    ]
    for name, (y, x) in _metric_columns(revenue_cap, pre_cap).items():
        known = ~nw.col(name).is_null()
        aggs += [
            known.cast(nw.Int64).sum().alias(f"{name}_n"),
            y.sum().alias(f"{name}_y"),
            (y * y).sum().alias(f"{name}_y2"),
            nw.when(known).then(x).otherwise(0.0).sum().alias(f"{name}_x"),
            nw.when(known).then(x * x).otherwise(0.0).sum().alias(f"{name}_x2"),
            (y * x).sum().alias(f"{name}_xy"),
        ]
    sums = outcomes.group_by("variant").agg(*aggs).sort("variant").collect().to_pandas()
    numbers = [c for c in sums.columns if c != "variant"]
    # integer sums arrive as decimals from some engines (DuckDB's HUGEINT)
    sums[numbers] = sums[numbers].astype("float64").fillna(0.0)
    sums["variant"] = sums["variant"].astype(str)
    return sums


def bucket_sums(
    outcomes: nw.LazyFrame, metric: str, revenue_cap: float, buckets: int = 10_000
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per variant: customers and the metric's sum in each of ``buckets`` buckets (the bootstrap's input).

    Customers are dealt into buckets in order of ``customer_id`` (row number
    modulo ``buckets``), so a bucket is a fixed, arm-independent draw of
    customers; with fewer customers than buckets each bucket holds one
    customer. Empty buckets are left out.

    Returns
    -------
    dict
        Variant → ``(n, sum)`` arrays of equal length (customers, metric sum).
    """
    y = _metric_columns(revenue_cap, 0.0)[metric][0]
    rows = (
        outcomes.filter(~nw.col(metric).is_null())
        .with_columns(
            (nw.col("customer_id").cum_count().over(order_by="customer_id") % buckets).alias(
                "_bucket"
            )
        )
        .group_by("variant", "_bucket")
        .agg(nw.len().alias("n"), y.sum().alias("sum"))
        .sort("variant", "_bucket")
        .collect()
        .to_pandas()
    )
    return {
        str(variant): (group["n"].to_numpy(dtype=np.int64), group["sum"].to_numpy(dtype=float))
        for variant, group in rows.groupby("variant", sort=True)
    }
