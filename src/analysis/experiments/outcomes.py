"""Experiment arms and their outcomes, computed on the engine.

Definitions (also in docs/metrics.md): for an experiment, a customer's outcome
window starts at their ``assigned_at`` and ends at ``end`` (exclusive).
Revenue per customer = completed-order revenue in the window ÷ customers
assigned to the arm (buyers and non-buyers alike: intent to treat).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import narwhals as nw

from analysis.customers import customer_orders
from analysis.errors import SectionUnavailable
from analysis.frames import count_distinct
from analysis.narrative import loyalty as text
from analysis.report.headlines import headline_key
from analysis.warehouse import StoreWarehouse

__all__ = [
    "arm_summary",
    "experiment_outcomes",
    "latest_experiment",
    "report_experiment",
    "variant_headlines",
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


def experiment_outcomes(
    experiments: nw.LazyFrame, orders: nw.LazyFrame, experiment_id: str, end: dt.datetime
) -> nw.LazyFrame:
    """Per assigned customer: variant, revenue and completed orders in their window.

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id, variant, revenue`` (store currency, 0 for non-buyers), ``orders``.
    """
    assigned = experiments.filter(nw.col("experiment_id") == experiment_id).select(
        "customer_id", "variant", "assigned_at"
    )
    window = (
        customer_orders(orders)
        .filter(nw.col("ordered_at") < end)
        .select("customer_id", "ordered_at", "revenue")
        .join(assigned.select("customer_id", "assigned_at"), on="customer_id")
        .filter(nw.col("ordered_at") >= nw.col("assigned_at"))
        .group_by("customer_id")
        .agg(nw.col("revenue").sum().alias("revenue"), nw.len().alias("orders"))
    )
    return (
        assigned.join(window, on="customer_id", how="left")
        .select(
            "customer_id",
            "variant",
            nw.col("revenue").fill_null(0.0),
            nw.col("orders").fill_null(0).cast(nw.Int64),
        )
        .sort("customer_id")
    )


def arm_summary(outcomes: nw.LazyFrame) -> nw.LazyFrame:
    """Customers, buyers, revenue and revenue per customer per variant.

    Returns
    -------
    narwhals.LazyFrame
        ``variant, customers, buyers, buyer_rate, revenue, revenue_per_customer``,
        sorted by variant.
    """
    return (
        outcomes.group_by("variant")
        .agg(
            count_distinct(nw.col("customer_id")).alias("customers"),
            (nw.col("orders") > 0).cast(nw.Int64).sum().alias("buyers"),
            nw.col("revenue").sum().alias("revenue"),
        )
        .with_columns(
            (nw.col("buyers") / nw.col("customers")).alias("buyer_rate"),
            (nw.col("revenue") / nw.col("customers")).alias("revenue_per_customer"),
        )
        .select("variant", "customers", "buyers", "buyer_rate", "revenue", "revenue_per_customer")
        .sort("variant")
    )


def variant_headlines(experiment_id: str, arms: Mapping[str, float]) -> dict[str, str | float]:
    """Manifest headline values of an experiment: its id and each arm's revenue per customer.

    Parameters
    ----------
    experiment_id
        The experiment the report read.
    arms
        Variant name → revenue per assigned customer (store currency), e.g. the
        ``revenue_per_customer`` column of :func:`arm_summary` indexed by variant.

    Returns
    -------
    dict
        ``experiment_id``, and per variant ``revenue_per_customer_<key>`` rounded to
        2 decimals, where ``<key>`` is :func:`~analysis.report.headlines.headline_key`
        of the variant: the name itself when it is a lower-case identifier
        (``holdout``), else a slug plus a hash (``Variant A`` → ``variant_a_<hash>``),
        in which case ``variant_<key>`` holds the variant's name as written in the data.
    """
    values: dict[str, str | float] = {"experiment_id": str(experiment_id)}
    for variant, value in arms.items():
        key = headline_key(variant)
        if key != variant:
            values[f"variant_{key}"] = str(variant)
        values[f"revenue_per_customer_{key}"] = round(float(value), 2)
    return values
