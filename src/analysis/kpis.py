"""Store KPIs per calendar month (store time zone), computed on the engine.

Definitions (also in docs/metrics.md):

- revenue: sum of ``revenue`` of completed orders (cancelled/refunded excluded);
- orders: number of completed orders; AOV = revenue / orders;
- active customers: distinct registered customers with a completed order;
- purchase frequency = orders of registered customers / active customers;
- cancelled / refunded: counted separately, with their value.
"""

from __future__ import annotations

import narwhals as nw

from analysis.frames import count_distinct
from analysis.warehouse import local_month

__all__ = ["completed", "monthly_summary"]


def completed(orders: nw.LazyFrame) -> nw.LazyFrame:
    """Completed orders only (a missing ``status`` column means every order completed)."""
    if "status" not in orders.collect_schema():
        return orders
    return orders.filter(nw.col("status") == "completed")


def monthly_summary(orders: nw.LazyFrame, timezone: str) -> nw.LazyFrame:
    """Revenue, orders, AOV, active customers and purchase frequency per local month.

    Parameters
    ----------
    orders
        Orders of one store (any status), as the warehouse returns them.
    timezone
        Store zone; the engine session must be in the same zone.

    Returns
    -------
    narwhals.LazyFrame
        One row per month with a completed or cancelled/refunded order:
        ``month`` (naive datetime, first day), ``revenue`` (store currency),
        ``orders``, ``aov``, ``active_customers``, ``purchase_frequency``,
        ``cancelled_orders``, ``refunded_orders``, ``cancelled_value``,
        ``refunded_value``; sorted by month.
    """
    has_status = "status" in orders.collect_schema()
    status = nw.col("status") if has_status else nw.lit("completed")
    is_done = status == "completed"
    registered_done = is_done & ~nw.col("customer_id").is_null()
    with_month = orders.with_columns(local_month("ordered_at", timezone).alias("month"))
    summary = with_month.group_by("month").agg(
        nw.when(is_done).then(nw.col("revenue")).otherwise(0.0).sum().alias("revenue"),
        is_done.cast(nw.Int64).sum().alias("orders"),
        registered_done.cast(nw.Int64).sum().alias("_registered_orders"),
        count_distinct(nw.when(registered_done).then(nw.col("customer_id"))).alias(
            "active_customers"
        ),
        (status == "cancelled").cast(nw.Int64).sum().alias("cancelled_orders"),
        (status == "refunded").cast(nw.Int64).sum().alias("refunded_orders"),
        nw.when(status == "cancelled")
        .then(nw.col("revenue"))
        .otherwise(0.0)
        .sum()
        .alias("cancelled_value"),
        nw.when(status == "refunded")
        .then(nw.col("revenue"))
        .otherwise(0.0)
        .sum()
        .alias("refunded_value"),
    )
    return (
        summary.with_columns(
            (nw.col("revenue") / nw.col("orders")).alias("aov"),
            (nw.col("_registered_orders") / nw.col("active_customers")).alias(
                "purchase_frequency"
            ),
        )
        .select(
            "month", "revenue", "orders", "aov", "active_customers", "purchase_frequency",
            "cancelled_orders", "refunded_orders", "cancelled_value", "refunded_value",
        )
        .sort("month")
    )  # fmt: skip
