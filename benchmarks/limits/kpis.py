"""KPI scorecard of one store-month: ours, one DuckDB SQL statement, Polars lazy, ours on Spark.

What is computed
----------------
The 24 metrics of ``analysis.kpis.METRICS`` (``benchmarks.kpis.METRIC_KEYS``) of
store ``demo-bangkok`` (zone Asia/Bangkok) for the report month, the month
before and the same month a year earlier (``current``, ``previous``,
``year_ago``): 72 cells, with a retention (and hero-multiplier spend) window of
365 days. Months are local calendar months, as UTC instants (timestamps in the
files are UTC instants); ``sessions.date`` and ``marketing_spend.date`` are local
dates. In short (``docs/metrics.md`` has the definitions):

- orders of the month (any status, guests included) give revenue, orders and
  AOV (completed), cancelled and refunded orders and value, the share of
  completed orders with a discount, and (all of them) the conversion rate's
  numerator;
- the per-customer base (registered customers' completed orders before the
  report month's end) gives active, new and returning customers, purchase
  frequency, the retention and churn rates (S = customers of the 365 days
  before the last 365, E = those of the last 365; None without two windows of
  history), the repeat purchase rate, the hero multiplier (mean spend in
  integer satang of the top ceil(n / 10) spenders ÷ mean of all), the LTV
  (365-day revenue per buyer) and the repeat revenue share (orders after the
  customer's first completed order);
- sessions, carts, surveys, marketing spend and loyalty members give the
  conversion rate, cart abandonment, NPS, CSAT, CAC, LTV : CAC and loyalty
  participation;
- a period that ends at or before the first row of the orders table or of the
  metric's own table reads None ("no data"), as in the scorecard.

The ``sql`` and ``polars`` ways compute the same few dozen aggregates (one
DuckDB statement; one Polars plan) and :func:`_cells` turns them into the 72
cells with plain ratios. They assume the demo warehouse's layout: one Parquet
file per table (``<root>/<table>/demo-bangkok.parquet``), every table present.
``ours`` runs ``scorecard(..., lifecycle=False)``: the scorecard table and
acquisition by channel, without the repeat ladder and onboarding blocks (no
other way computes those), as ``benchmarks/kpis.py`` does.

``python -m benchmarks.limits.kpis ROOT MONTH`` runs the four ways in this
process and prints their times and disagreements.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import STORE, TIMEZONE, as_float
from benchmarks.kpis import LABELS, METRIC_KEYS, REL_TOL

WINDOW_DAYS = 365  # retention and hero-multiplier window (scorecard's window_days)
LTV_DAYS = 365  # the LTV and the yearly CAC of LTV : CAC keep their own 365 days
# The sql and polars ways take the LTV's revenue and buyers from the window E (spend_i,
# in_e_i), which is the LTV's year only while the two lengths agree.
assert WINDOW_DAYS == LTV_DAYS

# Metrics compared exactly (the others within REL_TOL relative).
COUNTS = frozenset(
    {"orders", "active_customers", "new_customers", "returning_customers",
     "cancelled_orders", "refunded_orders"}
)  # fmt: skip

# The table each metric needs besides orders (for the "no data" rule), as in METRICS.
METRIC_TABLE = {
    "conversion_rate": "sessions", "cart_abandonment_rate": "carts", "cac": "marketing_spend",
    "ltv_cac": "marketing_spend", "nps": "surveys", "csat": "surveys",
    "loyalty_participation": "loyalty_members",
}  # fmt: skip

PRELOAD = {
    "ours": ["narwhals", "analysis.kpis", "analysis.warehouse"],
    "sql": ["duckdb", "analysis.calendar"],
    "polars": ["polars", "analysis.calendar"],
    "spark": ["narwhals", "analysis.kpis", "analysis.warehouse", "analysis.spark", "pyspark.sql"],
}


# --------------------------------------------------------------------------- shared


def _windows(month: str) -> list[dict[str, Any]]:
    """Per period: the month as UTC instants and local dates, and its trailing windows."""
    from analysis.calendar import local_date, month_dates, report_periods

    window, year = dt.timedelta(days=WINDOW_DAYS), dt.timedelta(days=LTV_DAYS)
    out = []
    for p in report_periods(month, TIMEZONE):
        first_day, next_day = month_dates(p.month)
        out.append(
            {
                "label": p.label,
                "start": p.start,  # the month, UTC instants, end exclusive
                "end": p.end,
                "first_day": first_day,  # the month, local dates, end exclusive
                "next_day": next_day,
                "prior": p.end - 2 * window,  # S = [prior, recent), E = [recent, end)
                "recent": p.end - window,
                "year": p.end - year,  # LTV and yearly CAC: [year, end)
                "year_day": local_date(p.end - year, TIMEZONE),
            }
        )
    return out


def _ratio(num: float | None, den: float | None) -> float | None:
    """num / den, None when den is not positive (a ratio of nothing is not 0)."""
    return float(num or 0) / float(den) if den is not None and den > 0 else None


def _cells(month: str, agg: dict[str, Any]) -> dict[str, list[float | None]]:
    """The 72 scorecard cells from the aggregates the SQL and Polars ways compute.

    ``agg`` holds, per period index ``i``, the counts and sums named ``<name>_<i>``
    and the first row of each table (``first_<table>``: an instant, or a local
    date for ``sessions`` and ``marketing_spend``; None for an empty table).
    Only ratios of these numbers are taken here.
    """
    from analysis.calendar import local_midnight

    firsts = {}
    for table in ("orders", "sessions", "carts", "marketing_spend", "surveys", "loyalty_members"):
        first = agg[f"first_{table}"]
        if isinstance(first, dt.date) and not isinstance(first, dt.datetime):
            first = local_midnight(first, TIMEZONE)
        firsts[table] = first
    out: dict[str, list[float | None]] = {k: [] for k in METRIC_KEYS}
    for i, w in enumerate(_windows(month)):
        a = {k[: -len(f"_{i}")]: v for k, v in agg.items() if k.endswith(f"_{i}")}
        v: dict[str, float | None] = {}
        orders, revenue, active, new = a["orders"], a["revenue"] or 0.0, a["active"], a["new"]
        v["revenue"], v["orders"], v["aov"] = revenue, orders, _ratio(revenue, orders)
        v["active_customers"], v["new_customers"] = active, new
        v["returning_customers"] = active - new
        v["purchase_frequency"] = _ratio(a["registered"], active)
        enough = firsts["orders"] is not None and firsts["orders"] <= w["prior"]
        crr = a["kept"] / a["prior"] if enough and a["prior"] else None
        v["retention_rate"], v["churn_rate"] = crr, None if crr is None else 1 - crr
        v["repeat_purchase_rate"] = _ratio(a["repeaters"], a["buyers"])
        v["repeat_revenue_share"] = _ratio(a["repeat_revenue"], revenue)
        n = a["spenders"]
        k = -(-n // 10)
        v["hero_multiplier"] = (float(a["top"]) / k) / (float(a["spent"]) / n) if n else None
        v["conversion_rate"] = _ratio(a["placed"], a["sessions"])
        converted = _ratio(a["converted"], a["carts"])
        v["cart_abandonment_rate"] = None if converted is None else 1 - converted
        v["cac"] = _ratio(a["spend"], new)
        ltv = float(a["recent_satang"] or 0) / 100 / a["recent"] if a["recent"] else None
        yearly_cac = _ratio(a["year_spend"], a["acquired"])
        v["ltv_cac"] = ltv / yearly_cac if ltv is not None and yearly_cac else None
        share = _ratio(a["promoters"] - a["detractors"], a["nps_answers"])
        v["nps"] = None if share is None else 100 * share
        v["csat"] = _ratio(a["satisfied"], a["csat_answers"])
        v["discount_order_share"] = _ratio(a["discounted"], orders)
        v["cancelled_orders"], v["cancelled_value"] = a["cancelled"], a["cancelled_value"] or 0.0
        v["refunded_orders"], v["refunded_value"] = a["refunded"], a["refunded_value"] or 0.0
        v["loyalty_participation"] = _ratio(a["members"], active)
        for key in METRIC_KEYS:
            needed = [firsts["orders"]]
            if key in METRIC_TABLE and firsts[METRIC_TABLE[key]] is not None:
                needed.append(firsts[METRIC_TABLE[key]])
            no_data = any(first is None or w["end"] <= first for first in needed)
            out[key].append(None if no_data else as_float(v[key]))
    return out


def _path(root: Path, table: str) -> str:
    return str(Path(root) / table / f"{STORE}.parquet")


# --------------------------------------------------------------------------- ours


def _scorecard_values(wh: Any, month: str) -> dict[str, list[float | None]]:
    from analysis.kpis import scorecard

    table = scorecard(wh, month, WINDOW_DAYS, lifecycle=False).table
    assert tuple(table["metric"]) == METRIC_KEYS, "kpis.METRICS changed: update METRIC_KEYS"
    return {k: [as_float(table.loc[k, label]) for label in LABELS] for k in METRIC_KEYS}


def ours(root: Path, month: str) -> dict:
    """The scorecard as the project computes it (narwhals on DuckDB)."""
    from analysis.warehouse import StoreWarehouse

    t0 = time.perf_counter()
    values = _scorecard_values(StoreWarehouse(root, STORE, TIMEZONE), month)
    return {"compute_seconds": time.perf_counter() - t0, "values": values}


def spark(root: Path, month: str) -> dict:
    """The scorecard as the project computes it on a local ``local[2]`` Spark session."""
    from analysis.spark import spark_session
    from analysis.warehouse import StoreWarehouse

    session = spark_session("local[2]", {})  # started before the clock
    t0 = time.perf_counter()
    wh = StoreWarehouse(root, STORE, TIMEZONE, engine="spark", spark=session)
    values = _scorecard_values(wh, month)
    return {"compute_seconds": time.perf_counter() - t0, "values": values}


# --------------------------------------------------------------------------- DuckDB SQL


def _sql_text(root: Path, month: str) -> str:
    """The one statement: one aggregate row per source (the base twice), side by side."""
    ws = _windows(month)
    e0, s2 = ws[0]["end"], ws[2]["start"]

    def ts(x: dt.datetime) -> str:
        return f"TIMESTAMPTZ '{x.astimezone(dt.UTC).isoformat()}'"

    def between(col: str, lo: str, hi: str) -> str:
        return f"{col} >= {lo} AND {col} < {hi}"

    def cols(template: str, col: str = "") -> str:
        """``template`` once per period, its {placeholders} filled with SQL.

        {i} is the period index; {start}, {end}, {prior}, {recent}, {year} are
        instants (TIMESTAMPTZ) and {first_day}, {next_day}, {year_day} local dates
        (see :func:`_windows`); {month}, {s}, {e}, {ltv} are ``col`` in the month,
        in the windows S and E, in the LTV year; {days} and {year_days} are
        ``date`` in the month's local dates and in the year's.
        """
        parts = []
        for i, w in enumerate(ws):
            lit = {
                k: ts(x) if isinstance(x, dt.datetime) else f"DATE '{x.isoformat()}'"
                for k, x in w.items()
                if k != "label"
            }
            lit |= {
                "month": between(col, lit["start"], lit["end"]),
                "s": between(col, lit["prior"], lit["recent"]),
                "e": between(col, lit["recent"], lit["end"]),
                "ltv": between(col, lit["year"], lit["end"]),
                "days": between("date", lit["first_day"], lit["next_day"]),
                "year_days": between("date", lit["year_day"], lit["next_day"]),
            }
            parts.append(template.format(i=i, **lit))
        return ",\n        ".join(parts)

    def source(table: str) -> str:
        return f"read_parquet('{_path(root, table)}')"

    done = "status = 'completed'"
    any_month = " OR ".join(f"({between('{col}', ts(w['start']), ts(w['end']))})" for w in ws)
    period = " ".join(
        f"WHEN {between('ordered_at', ts(w['start']), ts(w['end']))} THEN {i}"
        for i, w in enumerate(ws)
    )
    # Top decile of spenders: the ceil(n / 10) largest spends (ties do not change the sum).
    top = cols(
        "list_sum(list_reverse_sort(list(spend_{i}) FILTER (spend_{i} > 0))"
        "[:(count(*) FILTER (spend_{i} > 0) + 9) // 10]) AS top_{i}"
    )
    sales = ("placed", "orders", "revenue", "registered", "repeat_revenue", "discounted",
             "cancelled", "cancelled_value", "refunded", "refunded_value")  # fmt: skip
    pivot = ",\n        ".join(
        f"coalesce(any_value({name}) FILTER (p = {i}), 0) AS {name}_{i}"
        for name in sales
        for i in range(len(ws))
    )
    carts = "\n    POSITIONAL JOIN ".join(
        f"(SELECT count(*) AS carts_{i}, count(order_id) AS converted_{i} FROM {source('carts')}"
        f" WHERE {between('created_at', ts(w['start']), ts(w['end']))})"
        for i, w in enumerate(ws)
    )
    survey = "responded_at"
    return f"""
WITH orders AS (
    SELECT customer_id, ordered_at, revenue, status, discount
    FROM {source("orders")}
    WHERE ordered_at < {ts(e0)}
), base AS MATERIALIZED (
    -- one row per registered customer with a completed order before the report month's end
    SELECT customer_id, min(ordered_at) AS first_at,
        {cols("count(*) FILTER (ordered_at < {end}) AS n_{i}")},
        {cols("count(*) FILTER ({month}) > 0 AS bought_{i}", "ordered_at")},
        {cols("count(*) FILTER ({s}) > 0 AS in_s_{i}", "ordered_at")},
        {cols("count(*) FILTER ({e}) > 0 AS in_e_{i}", "ordered_at")},
        {cols("sum(satang) FILTER ({e}) AS spend_{i}", "ordered_at")}
    FROM (
        SELECT customer_id, ordered_at, round(revenue * 100)::BIGINT AS satang
        FROM orders
        WHERE {done} AND customer_id IS NOT NULL
    )
    GROUP BY customer_id
), customers AS (
    SELECT
        {cols("count(*) FILTER (bought_{i}) AS active_{i}")},
        {cols("count(*) FILTER ({month}) AS new_{i}", "first_at")},
        {cols("count(*) FILTER (in_s_{i}) AS prior_{i}")},
        {cols("count(*) FILTER (in_s_{i} AND in_e_{i}) AS kept_{i}")},
        {cols("count(*) FILTER (n_{i} >= 1) AS buyers_{i}")},
        {cols("count(*) FILTER (n_{i} >= 2) AS repeaters_{i}")},
        {cols("count(*) FILTER (in_e_{i}) AS recent_{i}")},
        {cols("sum(spend_{i}) AS recent_satang_{i}")},
        {cols("count(*) FILTER (spend_{i} > 0) AS spenders_{i}")},
        {cols("sum(spend_{i}) FILTER (spend_{i} > 0) AS spent_{i}")},
        {top},
        {cols("count(*) FILTER ({ltv}) AS acquired_{i}", "first_at")}
    FROM base
), newcomers AS (
    SELECT customer_id, first_at FROM base WHERE {any_month.format(col="first_at")}
), sales_by_month AS (
    -- the three months' orders (any status), with the first order of the months' new customers
    SELECT p,
        count(*) AS placed,
        count(*) FILTER (done) AS orders,
        sum(revenue) FILTER (done) AS revenue,
        count(customer_id) FILTER (done) AS registered,
        sum(revenue) FILTER (
            done AND customer_id IS NOT NULL AND (first_at IS NULL OR ordered_at > first_at)
        ) AS repeat_revenue,
        count(*) FILTER (done AND discount > 0) AS discounted,
        count(*) FILTER (status = 'cancelled') AS cancelled,
        sum(revenue) FILTER (status = 'cancelled') AS cancelled_value,
        count(*) FILTER (status = 'refunded') AS refunded,
        sum(revenue) FILTER (status = 'refunded') AS refunded_value
    FROM (
        SELECT customer_id, ordered_at, revenue, status, discount, {done} AS done,
            CASE {period} END AS p
        FROM orders
        WHERE ordered_at >= {ts(s2)}
    )
    LEFT JOIN newcomers USING (customer_id)
    WHERE p IS NOT NULL
    GROUP BY p
), sales AS (
    SELECT {pivot}
    FROM sales_by_month
), first_order AS (
    SELECT min(ordered_at) AS first_orders FROM orders
), sessions AS (
    SELECT min(date) AS first_sessions,
        {cols("coalesce(sum(sessions) FILTER ({days}), 0) AS sessions_{i}")}
    FROM {source("sessions")}
), carts AS (
    -- one scan per month: carts are stored by time, so each skips the other row groups
    SELECT * FROM {carts}
), first_cart AS (
    SELECT min(created_at) AS first_carts FROM {source("carts")}
), surveys AS (
    SELECT min(responded_at) AS first_surveys,
        {cols("count(nps) FILTER ({month}) AS nps_answers_{i}", survey)},
        {cols("count(*) FILTER ({month} AND nps >= 9) AS promoters_{i}", survey)},
        {cols("count(*) FILTER ({month} AND nps <= 6) AS detractors_{i}", survey)},
        {cols("count(csat) FILTER ({month}) AS csat_answers_{i}", survey)},
        {cols("count(*) FILTER ({month} AND csat >= 4) AS satisfied_{i}", survey)}
    FROM {source("surveys")}
), spend AS (
    SELECT min(date) AS first_marketing_spend,
        {cols("coalesce(sum(spend) FILTER ({days}), 0) AS spend_{i}")},
        {cols("coalesce(sum(spend) FILTER ({year_days}), 0) AS year_spend_{i}")}
    FROM {source("marketing_spend")}
), members AS (
    SELECT min(joined_at) AS first_loyalty_members FROM {source("loyalty_members")}
), loyalty AS (
    SELECT {cols("count(*) FILTER (bought_{i} AND joined_at < {end}) AS members_{i}")}
    FROM base
    JOIN (
        SELECT customer_id, min(joined_at) AS joined_at
        FROM {source("loyalty_members")}
        WHERE joined_at < {ts(e0)}
        GROUP BY customer_id
    ) USING (customer_id)
    WHERE bought_0 OR bought_1 OR bought_2
)
SELECT *  -- one row each, side by side (a cross product would send the planner exploring)
FROM customers POSITIONAL JOIN sales POSITIONAL JOIN first_order POSITIONAL JOIN sessions
    POSITIONAL JOIN carts POSITIONAL JOIN first_cart POSITIONAL JOIN surveys
    POSITIONAL JOIN spend POSITIONAL JOIN members POSITIONAL JOIN loyalty
"""


def sql(root: Path, month: str) -> dict:
    """The scorecard as one hand-written DuckDB statement (plus ratios of its one row)."""
    import duckdb

    query = _sql_text(root, month)
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    t0 = time.perf_counter()
    cursor = con.execute(query)
    row = cursor.fetchone()
    assert row is not None
    agg = dict(zip([d[0] for d in cursor.description], row, strict=True))
    values = _cells(month, agg)
    return {"compute_seconds": time.perf_counter() - t0, "values": values}


# --------------------------------------------------------------------------- Polars


def polars(root: Path, month: str) -> dict:
    """The scorecard with Polars' lazy API: one plan of one-row frames, collected once."""
    import polars as pl

    ws = _windows(month)
    t0 = time.perf_counter()
    e0 = ws[0]["end"]
    col = pl.col

    def within(name: str, lo: Any, hi: Any) -> pl.Expr:
        return (col(name) >= lo) & (col(name) < hi)

    def scan(table: str) -> pl.LazyFrame:
        return pl.scan_parquet(_path(root, table))

    columns = ["customer_id", "ordered_at", "revenue", "status", "discount"]
    orders = scan("orders").select(columns).filter(col("ordered_at") < e0)
    done = col("status") == "completed"

    # One row per registered customer with a completed order before the report month's end.
    satang = (col("revenue") * 100).round(0, mode="half_away_from_zero").cast(pl.Int64)
    base = (
        orders.filter(done, col("customer_id").is_not_null())
        .with_columns(satang.alias("satang"))
        .group_by("customer_id")
        .agg(
            col("ordered_at").min().alias("first_at"),
            *[(col("ordered_at") < w["end"]).sum().alias(f"n_{i}") for i, w in enumerate(ws)],
            *[
                within("ordered_at", w["start"], w["end"]).any().alias(f"bought_{i}")
                for i, w in enumerate(ws)
            ],
            *[
                within("ordered_at", w["prior"], w["recent"]).any().alias(f"in_s_{i}")
                for i, w in enumerate(ws)
            ],
            *[
                within("ordered_at", w["recent"], w["end"]).any().alias(f"in_e_{i}")
                for i, w in enumerate(ws)
            ],
            *[
                col("satang")
                .filter(within("ordered_at", w["recent"], w["end"]))
                .sum()
                .alias(f"spend_{i}")
                for i, w in enumerate(ws)
            ],
        )
    )

    def top_decile(i: int) -> pl.Expr:
        spend = col(f"spend_{i}").filter(col(f"spend_{i}") > 0)
        return spend.top_k((spend.len() + 9) // 10).sum().alias(f"top_{i}")

    customers = base.select(
        *[
            e
            for i, w in enumerate(ws)
            for e in (
                col(f"bought_{i}").sum().alias(f"active_{i}"),
                within("first_at", w["start"], w["end"]).sum().alias(f"new_{i}"),
                col(f"in_s_{i}").sum().alias(f"prior_{i}"),
                (col(f"in_s_{i}") & col(f"in_e_{i}")).sum().alias(f"kept_{i}"),
                (col(f"n_{i}") >= 1).sum().alias(f"buyers_{i}"),
                (col(f"n_{i}") >= 2).sum().alias(f"repeaters_{i}"),
                col(f"in_e_{i}").sum().alias(f"recent_{i}"),
                col(f"spend_{i}").sum().alias(f"recent_satang_{i}"),
                (col(f"spend_{i}") > 0).sum().alias(f"spenders_{i}"),
                col(f"spend_{i}").filter(col(f"spend_{i}") > 0).sum().alias(f"spent_{i}"),
                top_decile(i),
                within("first_at", w["year"], w["end"]).sum().alias(f"acquired_{i}"),
            )
        ]
    )

    # The three months' orders (any status), with the first order of the months' new customers.
    in_months = pl.any_horizontal(*[within("ordered_at", w["start"], w["end"]) for w in ws])
    newcomers = base.filter(
        pl.any_horizontal(*[within("first_at", w["start"], w["end"]) for w in ws])
    ).select("customer_id", "first_at")
    rows = orders.filter(in_months).join(newcomers, on="customer_id", how="left")
    registered = done & col("customer_id").is_not_null()
    repeat = registered & (col("first_at").is_null() | (col("ordered_at") > col("first_at")))
    sales_aggs = []
    for i, w in enumerate(ws):
        m = within("ordered_at", w["start"], w["end"])
        sales_aggs += [
            m.sum().alias(f"placed_{i}"),
            (m & done).sum().alias(f"orders_{i}"),
            col("revenue").filter(m & done).sum().alias(f"revenue_{i}"),
            (m & registered).sum().alias(f"registered_{i}"),
            col("revenue").filter(m & repeat).sum().alias(f"repeat_revenue_{i}"),
            (m & done & (col("discount") > 0)).sum().alias(f"discounted_{i}"),
        ]
        for status in ("cancelled", "refunded"):
            is_status = m & (col("status") == status)
            sales_aggs += [
                is_status.sum().alias(f"{status}_{i}"),
                col("revenue").filter(is_status).sum().alias(f"{status}_value_{i}"),
            ]
    sales = rows.select(*sales_aggs)
    first_order = orders.select(col("ordered_at").min().alias("first_orders"))

    sessions = scan("sessions").select(
        col("date").min().alias("first_sessions"),
        *[
            col("sessions")
            .filter(within("date", w["first_day"], w["next_day"]))
            .sum()
            .alias(f"sessions_{i}")
            for i, w in enumerate(ws)
        ],
    )
    # One scan per month: carts are stored by time, so each reads only its own row groups.
    carts = [
        scan("carts")
        .filter(within("created_at", w["start"], w["end"]))
        .select(pl.len().alias(f"carts_{i}"), col("order_id").count().alias(f"converted_{i}"))
        for i, w in enumerate(ws)
    ]
    first_cart = scan("carts").select(col("created_at").min().alias("first_carts"))
    surveys_aggs = [col("responded_at").min().alias("first_surveys")]
    for i, w in enumerate(ws):
        m = within("responded_at", w["start"], w["end"])
        surveys_aggs += [
            col("nps").filter(m).count().alias(f"nps_answers_{i}"),
            (m & (col("nps") >= 9)).sum().alias(f"promoters_{i}"),
            (m & (col("nps") <= 6)).sum().alias(f"detractors_{i}"),
            col("csat").filter(m).count().alias(f"csat_answers_{i}"),
            (m & (col("csat") >= 4)).sum().alias(f"satisfied_{i}"),
        ]
    surveys = scan("surveys").select(*surveys_aggs)
    spend = scan("marketing_spend").select(
        col("date").min().alias("first_marketing_spend"),
        *[
            col("spend").filter(within("date", w[lo], w["next_day"])).sum().alias(f"{name}_{i}")
            for name, lo in (("spend", "first_day"), ("year_spend", "year_day"))
            for i, w in enumerate(ws)
        ],
    )
    members = scan("loyalty_members")
    first_member = members.select(col("joined_at").min().alias("first_loyalty_members"))
    joined = (
        members.filter(col("joined_at") < e0).group_by("customer_id").agg(col("joined_at").min())
    )
    loyalty = (
        base.filter(pl.any_horizontal(*[col(f"bought_{i}") for i in range(len(ws))]))
        .join(joined, on="customer_id", how="inner")
        .select(
            *[
                (col(f"bought_{i}") & (col("joined_at") < w["end"])).sum().alias(f"members_{i}")
                for i, w in enumerate(ws)
            ]
        )
    )
    frames = [customers, sales, first_order, sessions, *carts, first_cart, surveys, spend,
              first_member, loyalty]  # fmt: skip
    agg = pl.concat(frames, how="horizontal").collect().row(0, named=True)
    values = _cells(month, agg)
    return {"compute_seconds": time.perf_counter() - t0, "values": values}


# --------------------------------------------------------------------------- comparison


def compare(a: dict, b: dict) -> list[str]:
    """Cells of ``b`` that disagree with ``a``: counts exactly, the rest within 1e-9 relative."""
    bad = []
    for key in METRIC_KEYS:
        for label, x, y in zip(LABELS, a["values"][key], b["values"][key], strict=True):
            if x is None or y is None:
                if x is not y:
                    bad.append(f"{key}[{label}]: {x!r} vs {y!r}")
                continue
            if key in COUNTS:
                if x != y:
                    bad.append(f"{key}[{label}]: {x!r} vs {y!r} (counts differ)")
                continue
            rel = 0.0 if x == y else abs(x - y) / max(abs(x), abs(y))
            if not math.isfinite(rel) or rel > REL_TOL:
                bad.append(f"{key}[{label}]: {x!r} vs {y!r} (rel {rel:.2e})")
    return bad


if __name__ == "__main__":
    import importlib
    import sys

    root_arg, month_arg = Path(sys.argv[1]), sys.argv[2]
    results = {}
    for way, fn in (("ours", ours), ("sql", sql), ("polars", polars), ("spark", spark)):
        for module in PRELOAD[way]:
            importlib.import_module(module)
        results[way] = fn(root_arg, month_arg)
        print(f"{way:>6}: {results[way]['compute_seconds']:.3f} s", flush=True)
    for way in ("sql", "polars", "spark"):
        bad = compare(results["ours"], results[way])
        print(f"{way} vs ours: " + ("agree on 72 cells" if not bad else f"{len(bad)} disagree"))
        for line in bad:
            print("  " + line)
