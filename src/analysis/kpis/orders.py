"""Order metrics per period: revenue, orders, AOV, active/new/returning customers, statuses."""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import pandas as pd

from analysis.calendar import ReportPeriod
from analysis.kpis.expressions import any_of, ratio, within, within_any

__all__ = ["period_order_metrics"]


def period_order_metrics(
    orders: nw.LazyFrame, base: nw.LazyFrame, periods: Sequence[ReportPeriod]
) -> pd.DataFrame:
    """Revenue, orders and customer counts per period.

    Returns
    -------
    pandas.DataFrame
        Indexed by period label: ``revenue, orders, aov, active_customers,
        new_customers, returning_customers, purchase_frequency,
        repeat_revenue_share, discount_order_share`` (None without a
        ``discount`` column), ``placed_orders`` (any status),
        ``cancelled_orders, cancelled_value, refunded_orders, refunded_value``.
    """
    schema = orders.collect_schema()
    has_status = "status" in schema
    status = nw.col("status") if has_status else nw.lit("completed")
    label = None
    for p in periods:
        cond = within("ordered_at", p.start, p.end)
        label = (
            nw.when(cond).then(nw.lit(p.label))
            if label is None
            else label.when(cond).then(nw.lit(p.label))
        )
    lo, hi = min(p.start for p in periods), max(p.end for p in periods)
    cols = ["customer_id", "ordered_at", "revenue"] + (["status"] if has_status else [])
    cols += ["discount"] if "discount" in schema else []
    # Only customers whose first order falls in one of the periods can be new there or
    # have a first order there: joining those few (not the whole base) is enough.
    newcomers = base.filter(any_of([within("first_at", p.start, p.end) for p in periods]))
    rows = (
        orders.filter(within("ordered_at", lo, hi), within_any("ordered_at", periods))
        .select(cols)
        .with_columns(label.otherwise(nw.lit(None)).alias("period"))  # type: ignore[union-attr]
        .filter(~nw.col("period").is_null())
        .join(newcomers.select("customer_id", "first_at"), on="customer_id", how="left")
    )
    done = status == "completed"
    registered = done & ~nw.col("customer_id").is_null()
    money = lambda cond: nw.when(cond).then(nw.col("revenue")).otherwise(0.0).sum()  # noqa: E731
    aggs = [
        money(done).alias("revenue"),
        done.cast(nw.Int64).sum().alias("orders"),
        nw.len().alias("placed_orders"),
        registered.cast(nw.Int64).sum().alias("registered_orders"),
        money(
            registered
            & (nw.col("first_at").is_null() | (nw.col("ordered_at") > nw.col("first_at")))
        ).alias("repeat_revenue"),
        (status == "cancelled").cast(nw.Int64).sum().alias("cancelled_orders"),
        money(status == "cancelled").alias("cancelled_value"),
        (status == "refunded").cast(nw.Int64).sum().alias("refunded_orders"),
        money(status == "refunded").alias("refunded_value"),
    ]
    if "discount" in schema:
        aggs.append((done & (nw.col("discount") > 0)).cast(nw.Int64).sum().alias("discounted"))
    out = rows.group_by("period").agg(*aggs).collect().to_pandas().set_index("period")
    out = out.reindex([p.label for p in periods])
    # Customers come from the per-customer base: no distinct counts over orders.
    customers = (
        base.select(
            *[
                nw.col(f"bought_{i}").cast(nw.Int64).sum().cast(nw.Int64).alias(f"a{i}")
                for i in range(len(periods))
            ],
            *[
                within("first_at", p.start, p.end)
                .cast(nw.Int64)
                .sum()
                .cast(nw.Int64)
                .alias(f"n{i}")
                for i, p in enumerate(periods)
            ],
        )
        .collect()
        .row(0)
    )
    out["active_customers"] = [int(customers[i] or 0) for i in range(len(periods))]
    out["new_customers"] = [int(customers[len(periods) + i] or 0) for i in range(len(periods))]
    counts = ["orders", "placed_orders", "registered_orders", "active_customers", "new_customers",
              "cancelled_orders", "refunded_orders"]  # fmt: skip
    out[counts] = out[counts].fillna(0).astype("int64")
    money_cols = ["revenue", "repeat_revenue", "cancelled_value", "refunded_value"]
    out[money_cols] = out[money_cols].fillna(0.0)
    out["returning_customers"] = out["active_customers"] - out["new_customers"]
    out["aov"] = ratio(out["revenue"], out["orders"])
    out["purchase_frequency"] = ratio(out["registered_orders"], out["active_customers"])
    out["repeat_revenue_share"] = ratio(out["repeat_revenue"], out["revenue"])
    out["discount_order_share"] = (
        ratio(out["discounted"].fillna(0), out["orders"]) if "discounted" in out else None
    )
    return out
