"""Cohort analysis of one store-month four ways: ours, hand-written DuckDB SQL, Polars, Spark.

The numbers are those of :func:`benchmarks.cohorts.ours` (the cohorts notebook),
for store ``demo-bangkok`` (zone ``Asia/Bangkok``) and a report month ``YYYY-MM``,
over the completed orders of registered customers placed before the end of the
report month in the store's zone:

- ``size``: customers acquired per monthly cohort (local month of the first
  completed order);
- the cohort matrices, every cohort and k (months since the cohort month), the
  months after the report month missing: ``retention`` (active customers ÷
  size), ``revenue_retention`` (revenue in k ÷ revenue in k = 0; missing for a
  cohort without first-month revenue), ``orders_per_customer`` and
  ``cumulative_revenue_per_customer`` (revenue in 0..k ÷ size);
- three cuts, each as retention pooled over the cohorts observed at k
  (active ÷ acquired, size-weighted) per segment for k = 0..12, with the
  segment's customers: ``channel`` (``customers.acquisition_channel``),
  ``discount`` (an order at the customer's first instant had a discount above
  0) and ``membership`` (a ``loyalty_members`` row joined before the end of the
  report month); customers without a label are ``unknown``;
- days from the first to the second completed order (in time order; two orders
  at the same instant are 0 days apart): counts and shares in the buckets
  (..7], (7, 14], (14, 30], (30, 60], (60, 90], (90, 180], (180, 365], (365, ..)
  and the median.

Every way returns ``{"compute_seconds": ..., "values": {...}}``, the values in
the form of :func:`benchmarks.cohorts.ours` (``size``; each matrix and cut as
``index``, ``columns``, ``values`` with None for missing; ``gap_customers``,
``gap_share``, ``gap_median_days``), and :func:`compare` checks them against
ours (counts exactly, other numbers to 1e-9 relative).

See Also
--------
benchmarks.cohorts : the same analysis against plain pandas (definitions, output form).
benchmarks.limits : the interface of this module and the runner.

Notes
-----
The four ways:

``ours``
    :func:`benchmarks.cohorts.ours`' code (``analysis.customers.customer_firsts``
    persisted, ``analysis.cohorts`` activity, matrices, pooled cuts and gaps),
    narwhals on DuckDB.
``sql``
    Hand-written DuckDB SQL (session zone ``Asia/Bangkok``): one aggregation of
    the orders to customers (first two instants, first discounted instant,
    cohort, the three labels), one of the orders to customer-months joined to
    the customers and summed with ``GROUPING SETS`` (no cut and each cut), the
    pooled cuts and the gap histogram and median in SQL. Local months come from
    a binary search (nested ``CASE``) over the UTC instants at which the local
    months begin, cheaper than converting every instant. Python only pivots
    the cohort × k cells into the matrices.
``polars``
    Polars' lazy API (``pl.scan_parquet``, local months with
    ``dt.convert_time_zone``): customers (sorted, so the second order is
    ``get(1)``) and customer-months collected together (``pl.collect_all``) to
    the small labels × cohort × k table, from which the cells and the pooled
    cuts follow in a second ``collect_all``.
``spark``
    ours on a ``local[2]`` Spark session (``StoreWarehouse(engine="spark")``,
    ``wh.persist`` a local checkpoint); the session starts before the clock.

Examples
--------
Time the four ways in this process and check them against ours (a third
argument, e.g. ``ours,sql``, picks ways)::

    python -m benchmarks.limits.cohorts benchmarks/.cache/warehouse-100000 2026-10
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.cohorts import CUTS, GAP_BINS, MATRICES, REL_TOL, SEGMENT_HORIZON, _matrix
from benchmarks.harness import STORE, TIMEZONE, as_float

PRELOAD: dict[str, list[str]] = {
    "ours": ["narwhals", "numpy", "pandas", "analysis.cohorts", "analysis.warehouse"],
    "sql": ["duckdb", "numpy"],
    "polars": ["polars", "numpy"],
    "spark": [
        "narwhals",
        "numpy",
        "pandas",
        "pyspark.sql",
        "analysis.cohorts",
        "analysis.warehouse",
        "analysis.spark",
    ],
}

DISCOUNTED, FULL_PRICE = "discounted first order", "full price first order"
US_PER_DAY = 86_400_000_000.0


def _file(root: Path, table: str) -> str:
    return str(Path(root) / table / f"{STORE}.parquet")


def _month(month: str) -> tuple[int, dt.datetime]:
    """The report month's index (``year * 12 + month - 1``) and its end (UTC, exclusive)."""
    year, number = (int(x) for x in month.split("-"))
    index = year * 12 + number - 1
    nxt = index + 1
    local = dt.datetime(nxt // 12, nxt % 12 + 1, 1, tzinfo=ZoneInfo(TIMEZONE))
    return index, local.astimezone(dt.UTC)


def _month_case(column: str, low: dt.datetime | None, high: dt.datetime | None) -> str:
    """SQL: the local month index of ``column`` for instants from ``low`` to ``high``.

    A binary search (nested CASE) over the UTC instants at which the local months
    of the store's zone begin: a handful of comparisons a row instead of a time
    zone conversion.
    """
    if low is None or high is None:
        return "NULL::BIGINT"
    zone = ZoneInfo(TIMEZONE)
    first, last = (
        (t.astimezone(zone).year * 12 + t.astimezone(zone).month - 1) for t in (low, high)
    )
    index = list(range(first, last + 1))
    if not index:
        return "NULL::BIGINT"
    starts = [dt.datetime(i // 12, i % 12 + 1, 1, tzinfo=zone).astimezone(dt.UTC) for i in index]

    def search(lo: int, hi: int) -> str:
        if lo == hi:
            return str(index[lo])
        mid = (lo + hi + 1) // 2
        return (
            f"CASE WHEN {column} < TIMESTAMPTZ '{starts[mid].isoformat()}' "
            f"THEN {search(lo, mid - 1)} ELSE {search(mid, hi)} END"
        )

    return search(0, len(index) - 1)


def _label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# --------------------------------------------------------------------------- ours


def _project(wh, month: str) -> dict:
    """benchmarks.cohorts.ours' body on a given warehouse (DuckDB or Spark)."""
    import narwhals as nw

    from analysis import cohorts, customers
    from analysis.calendar import month_bounds

    steps: dict[str, float] = {}
    t = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps[name] = round(now - t, 3)
        t = now

    _, end = month_bounds(month, TIMEZONE)
    orders = wh.table("orders", end=end)
    members = wh.table("loyalty_members", end=end).group_by("customer_id").agg(nw.len())
    cuts = {
        "channel": wh.table("customers").select(
            "customer_id", nw.col("acquisition_channel").alias("segment")
        ),
        "discount": nw.when(nw.col("first_discount"))
        .then(nw.lit(DISCOUNTED))
        .otherwise(nw.lit(FULL_PRICE)),
        "membership": members.select("customer_id", nw.lit("member").alias("segment")),
    }
    firsts = wh.persist(
        cohorts.label_customers(customers.customer_firsts(orders, TIMEZONE, "month"), cuts)
    )
    step("customer_firsts_persist")
    act = (
        cohorts.cohort_activity(orders, firsts, TIMEZONE, "month", by=list(cuts))
        .collect()
        .to_pandas()
    )
    step("cohort_activity")
    m = cohorts.cohort_matrices(cohorts.activity_by(act), last=month)
    pooled = {
        name: cohorts.segment_retention(
            cohorts.activity_by(act, name), horizon=SEGMENT_HORIZON, last=month
        )
        for name in cuts
    }
    step("matrices_and_cuts")
    hist, median = cohorts.second_order_gaps(firsts)
    step("second_order_gaps")
    out = {
        "size": {
            "index": [c.strftime("%Y-%m") for c in m.size.index],
            "values": [int(v) for v in m.size],
        },
        **{name: _matrix(getattr(m, name)) for name in MATRICES},
        **{
            name: _matrix(frame, str, cols=["customers", *range(SEGMENT_HORIZON + 1)])
            for name, frame in pooled.items()
        },
        "gap_customers": [int(v) for v in hist["customers"]],
        "gap_share": [as_float(v) for v in hist["share"]],
        "gap_median_days": as_float(median),
    }
    return {"values": out, "steps": steps}


def ours(root: Path, month: str) -> dict:
    """The project's cohort analysis on DuckDB (narwhals), as benchmarks.cohorts runs it."""
    from analysis.warehouse import StoreWarehouse

    t0 = time.perf_counter()
    wh = StoreWarehouse(root, STORE, TIMEZONE)
    result = _project(wh, month)
    return {"compute_seconds": time.perf_counter() - t0, **result}


def spark(root: Path, month: str) -> dict:
    """The project's cohort analysis on a local[2] Spark session (started before the clock)."""
    from analysis.spark import spark_session
    from analysis.warehouse import StoreWarehouse

    session = spark_session("local[2]", {})
    t0 = time.perf_counter()
    wh = StoreWarehouse(root, STORE, TIMEZONE, engine="spark", spark=session)
    result = _project(wh, month)
    return {"compute_seconds": time.perf_counter() - t0, **result}


# --------------------------------------------------------------------------- shared reshaping


def _matrices(cohort, k, customers, revenue, orders, last: int) -> dict:
    """Cohort × k counts (one row per observed, non-empty cell) as the size and matrices.

    Pure reshaping of the aggregated cells: every cohort a row, k = 0 up to the
    last observed k of the oldest cohort the columns, observed empty cells 0,
    cells after the report month missing.
    """
    import numpy as np

    cohort = np.asarray(cohort, dtype="int64")
    k = np.asarray(k, dtype="int64")
    cohorts = np.unique(cohort)
    width = max(int(last - cohorts.min()) + 1, 1) if len(cohorts) else 1
    row = np.searchsorted(cohorts, cohort)
    observed = np.arange(width)[None, :] <= (last - cohorts)[:, None]

    def grid(values) -> np.ndarray:
        out = np.zeros((len(cohorts), width))
        out[row, k] = np.asarray(values, dtype="float64")
        return np.where(observed, out, np.nan)

    active, money, count = grid(customers), grid(revenue), grid(orders)
    size = active[:, 0]
    first = money[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        matrices = {
            "retention": active / size[:, None],
            "revenue_retention": np.where(first > 0, money / np.where(first > 0, first, 1), np.nan),
            "orders_per_customer": count / size[:, None],
            "cumulative_revenue_per_customer": np.cumsum(money, axis=1) / size[:, None],
        }
    index = [_label(int(c)) for c in cohorts]
    columns = [str(j) for j in range(width)]
    out: dict = {"size": {"index": index, "values": [int(v) for v in size]}}
    for name in MATRICES:
        values = [[as_float(v) for v in line] for line in matrices[name].tolist()]
        out[name] = {"index": index, "columns": columns, "values": values}
    return out


def _pooled(rows) -> dict:
    """Rows ``(cut, segment, customers, k, retention)`` as one ``_matrix``-form table per cut."""
    columns = ["customers", *(str(j) for j in range(SEGMENT_HORIZON + 1))]
    tables: dict[str, dict[str, list]] = {name: {} for name in CUTS}
    for cut, segment, customers, k, value in rows:
        line = tables[cut].setdefault(
            str(segment), [float(customers)] + [None] * (len(columns) - 1)
        )
        line[1 + int(k)] = as_float(value)
    return {
        name: {
            "index": sorted(lines),
            "columns": columns,
            "values": [lines[s] for s in sorted(lines)],
        }
        for name, lines in tables.items()
    }


def _buckets(days: str) -> list[str]:
    """SQL conditions on ``days`` of the gap buckets (..7], (7, 14], ..., (365, ..)."""
    bounds = [None, *GAP_BINS, None]
    return [
        " AND ".join(
            ([f"{days} > {lo}"] if lo is not None else [])
            + ([f"{days} <= {hi}"] if hi is not None else [])
        )
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _gaps(counts, median) -> dict:
    total = sum(int(c) for c in counts)
    return {
        "gap_customers": [int(c) for c in counts],
        "gap_share": [int(c) / total if total else None for c in counts],
        "gap_median_days": as_float(median),
    }


# --------------------------------------------------------------------------- DuckDB SQL


def sql(root: Path, month: str) -> dict:
    """Hand-written DuckDB SQL; Python pivots the aggregated cohort × k cells only."""
    import duckdb

    last, end = _month(month)
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    t0 = time.perf_counter()
    orders, customers, members = (
        _file(root, t) for t in ("orders", "customers", "loyalty_members")
    )
    stop = f"TIMESTAMPTZ '{end.isoformat()}'"
    # Local months without converting every instant: the first and last instant come from the
    # Parquet statistics, and a binary search over the UTC instants at which the local months
    # between them begin (nested CASE) gives each order's month.
    low, high = con.execute(
        f"SELECT min(ordered_at), max(ordered_at) FROM read_parquet('{orders}')"
    ).fetchone()
    month_of = _month_case("ordered_at", low, min(high, end - dt.timedelta(microseconds=1)))
    month_of_first = _month_case("two[1]", low, min(high, end - dt.timedelta(microseconds=1)))
    done = (
        f"FROM read_parquet('{orders}') "
        f"WHERE status = 'completed' AND customer_id IS NOT NULL AND ordered_at < {stop}"
    )
    # Customers: the first two completed instants (a tie gives the same instant twice), the
    # first discounted instant, the cohort (local month of the first) and the cut labels.
    con.execute(f"""
        CREATE TEMP TABLE firsts AS
        WITH c AS (
            SELECT customer_id,
                   min(ordered_at, 2) AS two,
                   min(ordered_at) FILTER (WHERE discount > 0) AS discounted
            {done}
            GROUP BY customer_id
        )
        SELECT c.customer_id,
               {month_of_first} AS cohort,
               (epoch_us(two[2]) - epoch_us(two[1])) / {US_PER_DAY} AS days,
               coalesce(ch.acquisition_channel, 'unknown') AS channel,
               CASE WHEN discounted = two[1] THEN '{DISCOUNTED}' ELSE '{FULL_PRICE}' END
                   AS discount,
               CASE WHEN lm.customer_id IS NULL THEN 'unknown' ELSE 'member' END AS membership
        FROM c
        LEFT JOIN (SELECT customer_id, acquisition_channel FROM read_parquet('{customers}')) ch
            ON ch.customer_id = c.customer_id
        LEFT JOIN (
            SELECT DISTINCT customer_id FROM read_parquet('{members}')
            WHERE joined_at < {stop}
        ) lm ON lm.customer_id = c.customer_id
    """)
    # Customer-months joined to their customer: one aggregation (grouping sets) serves the
    # matrices (no cut) and the three cuts.
    con.execute(f"""
        CREATE TEMP TABLE act AS
        SELECT CASE WHEN GROUPING(channel) = 0 THEN 'channel'
                    WHEN GROUPING(discount) = 0 THEN 'discount'
                    WHEN GROUPING(membership) = 0 THEN 'membership' END AS cut,
               coalesce(channel, discount, membership) AS segment,
               cohort, m - cohort AS k,
               count(*) AS customers, sum(revenue) AS revenue, sum(orders) AS orders
        FROM (
            SELECT customer_id, {month_of} AS m, sum(revenue) AS revenue, count(*) AS orders
            {done}
            GROUP BY ALL
        ) cm
        JOIN firsts USING (customer_id)
        GROUP BY GROUPING SETS (
            (cohort, k), (channel, cohort, k), (discount, cohort, k), (membership, cohort, k)
        )
    """)
    cells = con.execute(
        "SELECT cohort, k, customers, revenue, orders FROM act WHERE cut IS NULL"
    ).fetchnumpy()
    # Pooled retention per segment: active ÷ acquired over the cohorts observed at each k.
    pooled = con.execute(f"""
        WITH seg AS (SELECT cut, segment, cohort, k, customers FROM act WHERE cut IS NOT NULL),
        sizes AS (SELECT cut, segment, cohort, customers AS size FROM seg WHERE k = 0),
        exposed AS (
            SELECT cut, segment, r.k, sum(size) AS exposed
            FROM sizes, range(0, {SEGMENT_HORIZON + 1}) r(k)
            WHERE cohort + r.k <= {last}
            GROUP BY ALL
        ),
        active AS (
            SELECT cut, segment, k, sum(customers) AS active
            FROM seg WHERE k <= {SEGMENT_HORIZON} GROUP BY ALL
        )
        SELECT cut, segment, max(exposed) OVER (PARTITION BY cut, segment),
               k, coalesce(active, 0) / exposed
        FROM exposed LEFT JOIN active USING (cut, segment, k)
    """).fetchall()
    buckets = ", ".join(f"count(*) FILTER (WHERE {c})" for c in _buckets("days"))
    gaps = con.execute(
        f"SELECT median(days), {buckets} FROM firsts WHERE days IS NOT NULL"
    ).fetchone()
    values = {
        **_matrices(
            cells["cohort"],
            cells["k"],
            cells["customers"],
            cells["revenue"],
            cells["orders"],
            last,
        ),
        **_pooled(pooled),
        **_gaps(gaps[1:], gaps[0]),
    }
    seconds = time.perf_counter() - t0
    con.close()
    return {"compute_seconds": seconds, "values": values}


# --------------------------------------------------------------------------- Polars


def polars(root: Path, month: str) -> dict:
    """Polars' lazy API over the same Parquet files (local months via convert_time_zone)."""
    import polars as pl

    last, end = _month(month)
    t0 = time.perf_counter()
    local = pl.col("ordered_at").dt.convert_time_zone(TIMEZONE)
    done = (
        pl.scan_parquet(_file(root, "orders"))
        .filter(
            pl.col("status") == "completed",
            pl.col("customer_id").is_not_null(),
            pl.col("ordered_at") < end,
        )
        .select(
            "customer_id",
            "ordered_at",
            "revenue",
            "discount",
            (local.dt.year().cast(pl.Int64) * 12 + local.dt.month() - 1).alias("m"),
        )
    )
    # Customers: cohort, first and second completed order (in time order, so a tie at the
    # first instant is the second order), first discounted instant; customer-months: revenue
    # and orders. Sorting first makes the second order a positional pick (`get(1)`), cheaper
    # than a per-group `bottom_k(2)`.
    at = pl.col("ordered_at")
    firsts = (
        done.sort("customer_id", "ordered_at")
        .group_by("customer_id")
        .agg(
            pl.col("m").first().alias("cohort"),
            at.first().alias("first_at"),
            at.get(1, null_on_oob=True).alias("second_at"),
            pl.when(pl.col("discount") > 0).then(at).min().alias("discounted"),
        )
    )
    cm = done.group_by("customer_id", "m").agg(pl.col("revenue").sum(), pl.len().alias("orders"))
    channels = pl.scan_parquet(_file(root, "customers")).select(
        "customer_id", pl.col("acquisition_channel").alias("channel")
    )
    members = (
        pl.scan_parquet(_file(root, "loyalty_members"))
        .filter(pl.col("joined_at") < end)
        .select("customer_id", pl.lit("member").alias("membership"))
        .unique("customer_id")
    )
    labelled = (
        firsts.join(channels, on="customer_id", how="left")
        .join(members, on="customer_id", how="left")
        .select(
            "customer_id",
            "cohort",
            (
                (pl.col("second_at").dt.epoch("us") - pl.col("first_at").dt.epoch("us"))
                / US_PER_DAY
            ).alias("days"),
            pl.col("channel").fill_null("unknown"),
            pl.when(pl.col("discounted") == pl.col("first_at"))
            .then(pl.lit(DISCOUNTED))
            .otherwise(pl.lit(FULL_PRICE))
            .alias("discount"),
            pl.col("membership").fill_null("unknown"),
        )
    )
    # One pass over the customer-months: active customers, revenue, orders per label and k.
    detail = (
        cm.join(labelled.drop("days"), on="customer_id")
        .group_by(*CUTS, "cohort", (pl.col("m") - pl.col("cohort")).alias("k"))
        .agg(pl.len().alias("customers"), pl.col("revenue").sum(), pl.col("orders").sum())
    )
    bounds = [-math.inf, *GAP_BINS, math.inf]
    days = pl.col("days")
    gaps = labelled.filter(days.is_not_null()).select(
        days.median().alias("median"),
        *(
            ((days > lo) & (days <= hi)).sum().alias(f"b{i}")
            for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
        ),
    )
    detail_df, gaps_df = pl.collect_all([detail, gaps])
    # The small aggregate (labels x cohort x k): the matrices' cells and the pooled cuts.
    detail = detail_df.lazy()
    cells = (
        detail.group_by("cohort", "k")
        .agg(pl.col("customers", "revenue", "orders").sum())
        .sort("cohort", "k")
    )
    pooled = []
    for cut in CUTS:
        seg = detail.group_by(pl.col(cut).alias("segment"), "cohort", "k").agg(
            pl.col("customers").sum()
        )
        sizes = seg.filter(pl.col("k") == 0).select("segment", "cohort", size="customers")
        exposed = (
            sizes.join(pl.LazyFrame({"k": range(SEGMENT_HORIZON + 1)}), how="cross")
            .filter(pl.col("cohort") + pl.col("k") <= last)
            .group_by("segment", "k")
            .agg(pl.col("size").sum().alias("exposed"))
        )
        active = (
            seg.filter(pl.col("k") <= SEGMENT_HORIZON)
            .group_by("segment", "k")
            .agg(pl.col("customers").sum().alias("active"))
        )
        pooled.append(
            exposed.join(active, on=["segment", "k"], how="left")
            .join(sizes.group_by("segment").agg(pl.col("size").sum().alias("total")), "segment")
            .select(
                pl.lit(cut).alias("cut"),
                "segment",
                "total",
                "k",
                (pl.col("active").fill_null(0) / pl.col("exposed")).alias("retention"),
            )
        )
    cells_df, pooled_df = pl.collect_all([cells, pl.concat(pooled)])
    gap_row = gaps_df.row(0)
    values = {
        **_matrices(
            cells_df["cohort"].to_numpy(),
            cells_df["k"].to_numpy(),
            cells_df["customers"].to_numpy(),
            cells_df["revenue"].to_numpy(),
            cells_df["orders"].to_numpy(),
            last,
        ),
        **_pooled(pooled_df.iter_rows()),
        **_gaps(gap_row[1:], gap_row[0]),
    }
    return {"compute_seconds": time.perf_counter() - t0, "values": values}


# --------------------------------------------------------------------------- comparison


def _number(value) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def compare(a: dict, b: dict) -> list[str]:
    """Disagreements of ``b`` with ``a`` (way results or their ``values``); [] when they agree.

    Counts (cohort sizes, segment customers, gap bucket counts) must be equal,
    every other number within 1e-9 relative, missing (None or NaN) in the
    same places; tables must have the same rows and columns.
    """
    a, b = a.get("values", a), b.get("values", b)
    bad: list[str] = []

    def check(where: str, x, y, exact: bool = False) -> None:
        u, v = _number(x), _number(y)
        if u is None or v is None:
            if (u is None) != (v is None):
                bad.append(f"{where}: a={x!r} b={y!r}")
            return
        rel = 0.0 if u == v else abs(u - v) / max(abs(u), abs(v))
        if (exact and u != v) or rel > REL_TOL:
            bad.append(f"{where}: a={x!r} b={y!r} (rel {rel:.2e})")

    for name in ("size", *MATRICES, *CUTS):
        x, y = a[name], b[name]
        if x["index"] != y["index"] or x.get("columns") != y.get("columns"):
            bad.append(
                f"{name}: shape differs: a {x['index'][:3]}..{x['index'][-3:]} x "
                f"{x.get('columns')} vs b {y['index'][:3]}..{y['index'][-3:]} x "
                f"{y.get('columns')}"
            )
            continue
        if name == "size":
            for label, u, v in zip(x["index"], x["values"], y["values"], strict=True):
                check(f"size[{label}]", u, v, exact=True)
            continue
        for label, row_x, row_y in zip(x["index"], x["values"], y["values"], strict=True):
            for col, u, v in zip(x["columns"], row_x, row_y, strict=True):
                check(f"{name}[{label}, {col}]", u, v, exact=col == "customers")
    for name in ("gap_customers", "gap_share"):
        if len(a[name]) != len(b[name]):
            bad.append(f"{name}: {len(a[name])} vs {len(b[name])} buckets")
            continue
        for i, (u, v) in enumerate(zip(a[name], b[name], strict=True)):
            check(f"{name}[{i}]", u, v, exact=name == "gap_customers")
    check("gap_median_days", a["gap_median_days"], b["gap_median_days"])
    return bad[:40] + ([f"... {len(bad) - 40} more"] if len(bad) > 40 else [])


if __name__ == "__main__":
    import importlib

    root_arg, month_arg = Path(sys.argv[1]), sys.argv[2]
    ways = {"ours": ours, "sql": sql, "polars": polars, "spark": spark}
    chosen = sys.argv[3].split(",") if len(sys.argv) > 3 else list(ways)
    results = {}
    for way in chosen:
        for module in PRELOAD[way]:
            importlib.import_module(module)
        results[way] = ways[way](root_arg, month_arg)
        print(f"{way}: {results[way]['compute_seconds']:.3f} s", flush=True)
    reference = results.get("ours")
    for way, result in results.items():
        if way == "ours" or reference is None:
            continue
        problems = compare(reference, result)
        print(f"{way} vs ours: {'agree' if not problems else f'{len(problems)} disagreements'}")
        for line in problems:
            print(f"  {line}")
