"""Metrics of the optional touchpoint tables: sessions, carts, surveys, loyalty members.

Each takes its table (already cut to the periods' span by the caller) and
returns one value per period; a store without the table gets no call (the
scorecard marks the metric not available).
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import pandas as pd

from analysis.calendar import ReportPeriod
from analysis.kpis.expressions import any_of, date_period_label, period_label, ratio, within

__all__ = ["cart_metrics", "conversion_metrics", "loyalty_participation", "survey_metrics"]


def conversion_metrics(
    sessions: nw.LazyFrame, placed_orders: pd.Series, periods: Sequence[ReportPeriod]
) -> pd.DataFrame:
    """Sessions and conversion rate (orders placed ÷ sessions) per period.

    ``sessions.date`` is a local calendar date; a period covers the dates of its month.
    """
    label = date_period_label(periods)
    counts = (
        sessions.with_columns(label.alias("period"))
        .filter(~nw.col("period").is_null())
        .group_by("period")
        .agg(nw.col("sessions").sum().cast(nw.Float64).alias("sessions"))
        .collect()
        .to_pandas()
        .set_index("period")
        .reindex([p.label for p in periods])
        .fillna(0)
    )
    counts["conversion_rate"] = ratio(placed_orders.reindex(counts.index), counts["sessions"])
    return counts


def cart_metrics(carts: nw.LazyFrame, periods: Sequence[ReportPeriod]) -> pd.DataFrame:
    """Carts created, carts converted and abandonment rate per period (by ``created_at``).

    One small query per period: a plain time range lets DuckDB skip every row
    group of the (time-ordered) carts file outside the period, which an OR of
    the three periods does not (0.14 s → 0.10 s at 25M carts).
    """
    rows = {}
    for p in periods:
        carts_n, converted = (
            carts.filter(within("created_at", p.start, p.end))
            .select(
                nw.len().alias("carts"),
                nw.col("order_id").count().alias("converted_carts"),
            )
            .collect()
            .row(0)
        )
        rows[p.label] = {"carts": int(carts_n or 0), "converted_carts": int(converted or 0)}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "period"
    rate = ratio(out["converted_carts"], out["carts"])
    out["cart_abandonment_rate"] = rate.map(lambda v: None if v is None else 1 - v)
    return out


def survey_metrics(surveys: nw.LazyFrame, periods: Sequence[ReportPeriod]) -> pd.DataFrame:
    """NPS (points, −100..100) and CSAT (share of 4–5) per period, with answer counts."""
    schema = surveys.collect_schema()
    aggs = [nw.len().alias("responses")]
    if "nps" in schema:
        aggs += [
            (~nw.col("nps").is_null()).cast(nw.Int64).sum().alias("nps_answers"),
            (nw.col("nps") >= 9).fill_null(False).cast(nw.Int64).sum().alias("promoters"),
            (nw.col("nps") <= 6).fill_null(False).cast(nw.Int64).sum().alias("detractors"),
        ]
    if "csat" in schema:
        aggs += [
            (~nw.col("csat").is_null()).cast(nw.Int64).sum().alias("csat_answers"),
            (nw.col("csat") >= 4).fill_null(False).cast(nw.Int64).sum().alias("satisfied"),
        ]
    out = (
        surveys.with_columns(period_label("responded_at", periods).alias("period"))
        .filter(~nw.col("period").is_null())
        .group_by("period")
        .agg(*aggs)
        .collect()
        .to_pandas()
        .set_index("period")
        .reindex([p.label for p in periods])
        .fillna(0)
    )
    if "nps" in schema:
        share = ratio(out["promoters"] - out["detractors"], out["nps_answers"])
        out["nps"] = share.map(lambda v: None if v is None else 100 * v)
    else:
        out["nps"] = None
    out["csat"] = ratio(out["satisfied"], out["csat_answers"]) if "csat" in schema else None
    return out


def loyalty_participation(
    members: nw.LazyFrame, base: nw.LazyFrame, periods: Sequence[ReportPeriod]
) -> pd.Series:
    """Share of each period's active customers who joined the programme before the period's end.

    ``base`` is :func:`customer_base` for the same periods (its ``bought_i`` flags).
    """
    joined = members.group_by("customer_id").agg(nw.col("joined_at").min())
    n = len(periods)
    row = (
        base.filter(any_of([nw.col(f"bought_{i}") for i in range(n)]))
        .select("customer_id", *[f"bought_{i}" for i in range(n)])
        .join(joined, on="customer_id", how="left")
        .select(
            *[
                nw.col(f"bought_{i}").cast(nw.Int64).sum().cast(nw.Int64).alias(f"a{i}")
                for i in range(n)
            ],
            *[
                (nw.col(f"bought_{i}") & (nw.col("joined_at") < p.end).fill_null(False))
                .cast(nw.Int64)
                .sum()
                .cast(nw.Int64)
                .alias(f"m{i}")
                for i, p in enumerate(periods)
            ],
        )
        .collect()
        .row(0)
    )
    return pd.Series(
        {
            p.label: (int(row[n + i] or 0) / row[i]) if row[i] else None
            for i, p in enumerate(periods)
        },
        dtype=object,
    )
