"""Headline KPIs month by month for the trend charts (:func:`monthly_trends`)."""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import pandas as pd

from analysis.calendar import format_month, local_month, month_bounds, parse_month, shift_month
from analysis.frames import completed, count_distinct
from analysis.kpis.expressions import ratio
from analysis.kpis.periods import table_starts
from analysis.warehouse import StoreWarehouse

__all__ = ["monthly_trends"]


def monthly_trends(wh: StoreWarehouse, month: str, months: int = 13) -> pd.DataFrame:
    """Headline KPIs for each of the ``months`` months ending with ``month``.

    Returns
    -------
    pandas.DataFrame
        One row per month (every month present, zeros where nothing
        happened; NaN in months that end before the store's data starts, see
        :func:`_blank_months_without_data`): ``month`` (Timestamp, first day), ``revenue, orders, aov,
        active_customers, new_customers, returning_customers``, and where the
        tables exist ``conversion_rate``, ``cart_abandonment_rate``, ``nps``,
        ``spend``.
    """
    first = shift_month(month, -(months - 1))
    start, _ = month_bounds(first, wh.timezone)
    _, end = month_bounds(month, wh.timezone)
    tz = wh.timezone
    orders = wh.table("orders", end=end)
    firsts = (
        completed(orders)
        .filter(~nw.col("customer_id").is_null())
        .group_by("customer_id")
        .agg(nw.col("ordered_at").min().alias("first_at"))
    )
    status = nw.col("status") if "status" in orders.collect_schema() else nw.lit("completed")
    done = status == "completed"
    registered = done & ~nw.col("customer_id").is_null()
    per = (
        orders.filter(nw.col("ordered_at") >= start)
        .join(firsts, on="customer_id", how="left")
        .with_columns(local_month("ordered_at", tz).alias("month"))
        .with_columns(
            (local_month("first_at", tz) == nw.col("month")).fill_null(False).alias("_is_new")
        )
        .group_by("month")
        .agg(
            nw.when(done).then(nw.col("revenue")).otherwise(0.0).sum().alias("revenue"),
            done.cast(nw.Int64).sum().alias("orders"),
            nw.len().alias("placed_orders"),
            count_distinct(nw.when(registered).then(nw.col("customer_id"))).alias(
                "active_customers"
            ),
            count_distinct(
                nw.when(registered & nw.col("_is_new")).then(nw.col("customer_id"))
            ).alias("new_customers"),
        )
        .collect()
        .to_pandas()
    )
    index = pd.date_range(pd.Timestamp(parse_month(first)), periods=months, freq="MS")
    out = per.set_index("month").reindex(index)
    out.index.name = "month"
    out = out.fillna(0)
    for col in ("orders", "placed_orders", "active_customers", "new_customers"):
        out[col] = out[col].astype("int64")
    out["returning_customers"] = out["active_customers"] - out["new_customers"]
    out["aov"] = ratio(out["revenue"], out["orders"]).astype("float64")
    lo_date = parse_month(first)
    if wh.has("sessions"):
        out = out.join(_monthly_total(wh.table("sessions", start=lo_date, end=end), "sessions"))
        out["conversion_rate"] = (out["placed_orders"] / out["sessions"]).where(out["sessions"] > 0)
    if "order_id" in wh.columns("carts"):
        c = (
            wh.table("carts", start=start, end=end)
            .with_columns(local_month("created_at", tz).alias("month"))
            .group_by("month")
            .agg(
                nw.len().alias("carts"),
                nw.col("order_id")
                .is_null()
                .cast(nw.Int64)
                .sum()
                .cast(nw.Float64)
                .alias("_abandoned"),
            )
            .collect()
            .to_pandas()
        )
        out = out.join(c.set_index("month"))
        out["cart_abandonment_rate"] = (out["_abandoned"] / out["carts"]).where(out["carts"] > 0)
        out = out.drop(columns="_abandoned")
    if wh.has("surveys") and "nps" in wh.table("surveys").collect_schema():
        n = (
            wh.table("surveys", start=start, end=end)
            .filter(~nw.col("nps").is_null())
            .with_columns(local_month("responded_at", tz).alias("month"))
            .group_by("month")
            .agg(
                nw.len().alias("_answers"),
                ((nw.col("nps") >= 9).cast(nw.Int64) - (nw.col("nps") <= 6).cast(nw.Int64))
                .sum()
                .cast(nw.Float64)
                .alias("_net"),
            )
            .collect()
            .to_pandas()
        )
        out = out.join(n.set_index("month"))
        out["nps"] = (100 * out["_net"] / out["_answers"]).where(out["_answers"] > 0)
        out = out.drop(columns=["_net", "_answers"])
    if wh.has("marketing_spend"):
        out = out.join(_monthly_total(wh.table("marketing_spend", start=lo_date, end=end), "spend"))
        out["spend"] = out["spend"].fillna(0.0)
    return _blank_months_without_data(out, table_starts(wh), tz).reset_index()


_TREND_TABLES = {
    "conversion_rate": "sessions",
    "sessions": "sessions",
    "cart_abandonment_rate": "carts",
    "carts": "carts",
    "nps": "surveys",
    "spend": "marketing_spend",
}


def _blank_months_without_data(
    out: pd.DataFrame, starts: dict[str, dt.datetime], timezone: str
) -> pd.DataFrame:
    """NaN (a gap, not 0) in months that end before the first row of the column's table.

    Order columns follow the first order of any status; ``conversion_rate``
    also the first session, ``cart_abandonment_rate`` the first cart, ``nps``
    the first survey, ``spend`` the first marketing-spend day. Counts become
    float columns when a month is blank.
    """
    ends = pd.Series(
        [month_bounds(format_month(m), timezone)[1] for m in out.index], index=out.index
    )
    first_order = starts.get("orders")
    for column in out.columns:
        firsts = [first_order] + (
            [starts[_TREND_TABLES[column]]] if _TREND_TABLES.get(column) in starts else []
        )
        blank = pd.Series(False, index=out.index)
        for first in firsts:
            blank |= True if first is None else ends <= first
        if blank.any():
            out[column] = out[column].astype("float64").mask(blank)
    return out


def _monthly_total(frame: nw.LazyFrame, column: str) -> pd.DataFrame:
    """Sum of ``column`` per calendar month of a table keyed by local ``date``.

    The month is cast back to a date: Spark truncates a date to a timestamp in
    the session's zone, which would come back zone-aware.
    """
    totals = (
        frame.with_columns(nw.col("date").dt.truncate("1mo").cast(nw.Date).alias("month"))
        .group_by("month")
        .agg(nw.col(column).sum().cast(nw.Float64))
        .collect()
        .to_pandas()
    )
    totals["month"] = pd.to_datetime(totals["month"])
    return totals.set_index("month")
