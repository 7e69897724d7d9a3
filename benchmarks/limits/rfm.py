"""The CLV input, the daily RFM summary, four ways: ours, hand-written SQL, Polars, Spark.

What the CLV page computes first for store ``demo-bangkok`` (zone
``Asia/Bangkok``) and a report month: lifetimes' summary
(``summary_data_from_transaction_data`` with ``freq="D"``) at the observation
end, the report month's last local calendar day. One row per customer with a
completed order (guests, ``customer_id`` null, left out) on or before that day:

``frequency``
    distinct local purchase days minus one;
``recency``
    days from the first to the last purchase day;
``T``
    days from the first purchase day to the observation end;
``monetary_value``
    mean revenue per purchase day over every purchase day but the first (the
    first day is dropped whole, however many orders it holds; a null revenue
    counts as 0); 0 without a repeat day.

The four ways (see :mod:`benchmarks.limits`):

``ours``
    :func:`analysis.clv.rfm_summary` on the warehouse's orders (DuckDB);
``sql``
    one DuckDB statement over the orders Parquet file;
``polars``
    Polars' lazy API over the same file;
``spark``
    :func:`analysis.clv.rfm_summary` on a ``local[2]`` Spark session.

The clock runs from the first read of the orders to the per-customer result in
memory (a pandas frame, an Arrow table, a Polars frame). The warehouse object
(its DuckDB connection, or the Spark session) is opened before it, as session
start-up. Each way then writes its result, untimed, to
``<root>/.limits/rfm-<way>.parquet``: a ``customer_id`` column and the four
float64 columns, one row per customer, and returns ``compute_seconds``,
``customers`` and ``path``. :func:`compare` checks two such files customer by
customer: frequency, recency and T exactly, monetary value to 1e-9 relative.

The hand-written ways take the local day as the UTC instant plus the zone's UTC
offset, an integer division with no per-row time-zone lookup: Asia/Bangkok has
been UTC+7, without daylight saving time, since 1 April 1920, so one offset gives
the local day of every order of the store (:func:`_utc_offset_us` checks that the
offset is the same on 1920-04-02 and on the observation end). Orders after the
observation end's local day are cut on ``ordered_at`` itself (the instant of the
next local midnight), so that Parquet statistics can skip row groups.

``python -m benchmarks.limits.rfm ROOT MONTH`` runs the four ways in this
process, one after the other, and prints their times and the comparisons with
``ours``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from benchmarks.harness import STORE, TIMEZONE

FAMILY = "rfm"
COLUMNS = ("frequency", "recency", "T", "monetary_value")
EXACT = ("frequency", "recency", "T")
REL_TOL = 1e-9  # monetary_value
US_PER_DAY = 86_400_000_000
# What the first computation would otherwise import inside the clock.
_NARWHALS = ["narwhals._namespace", "narwhals._interchange.dataframe", "narwhals.group_by"]
_NARWHALS_DUCKDB = [
    "narwhals._duckdb.dataframe",
    "narwhals._duckdb.namespace",
    "narwhals._arrow.dataframe",
    "pyarrow.pandas_compat",
]
# PySpark records the call site of each DataFrame operation and, to leave notebook frames
# out, imports IPython and ipykernel when they are installed (about a second, once).
_NOTEBOOK = [m for m in ("IPython", "ipykernel") if importlib.util.find_spec(m) is not None]
PRELOAD: dict[str, list[str]] = {
    "ours": ["analysis.clv", "analysis.warehouse", *_NARWHALS, *_NARWHALS_DUCKDB],
    "sql": ["duckdb"],
    "polars": ["polars"],
    "spark_sql": ["analysis.spark", "pyspark.sql", "pyspark.sql.classic.dataframe", *_NOTEBOOK],
    "spark": [
        "analysis.clv",
        "analysis.warehouse",
        "analysis.spark",
        "pyspark.sql",
        "pyspark.sql.classic.dataframe",
        "pyspark.sql.pandas.map_ops",
        "narwhals._spark_like.dataframe",
        "narwhals._spark_like.namespace",
        "narwhals._spark_like.group_by",
        *_NARWHALS,
        *_NARWHALS_DUCKDB,
        *_NOTEBOOK,
    ],
}


# --------------------------------------------------------------------------- shared


def _observation_end(month: str) -> dt.date:
    """The last local day of the report month ``"YYYY-MM"``."""
    year, number = map(int, month.split("-"))
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _cut(month: str) -> dt.datetime:
    """The first instant after the observation end: the next local midnight, in UTC."""
    midnight = dt.datetime.combine(
        _observation_end(month) + dt.timedelta(days=1), dt.time(), ZoneInfo(TIMEZONE)
    )
    return midnight.astimezone(dt.UTC)


def _utc_offset_us(month: str) -> int:
    """The store zone's UTC offset in microseconds, the same for every order since 1920."""
    zone = ZoneInfo(TIMEZONE)
    since = dt.datetime(1920, 4, 2, tzinfo=zone).utcoffset()
    at_end = dt.datetime.combine(_observation_end(month), dt.time(), zone).utcoffset()
    if since != at_end:
        raise RuntimeError(f"{TIMEZONE}: the UTC offset changed since 1920; use a per-row lookup")
    return at_end // dt.timedelta(microseconds=1)


def _end_day(month: str) -> int:
    """The observation end as a day number (days since 1970-01-01)."""
    return (_observation_end(month) - dt.date(1970, 1, 1)).days


def _orders_file(root: Path) -> Path:
    return Path(root) / "orders" / f"{STORE}.parquet"


def _output(root: Path, way: str) -> Path:
    path = Path(root) / ".limits" / f"{FAMILY}-{way}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _result(seconds: float, customers: int, path: Path) -> dict:
    return {"compute_seconds": seconds, "customers": customers, "path": str(path)}


# --------------------------------------------------------------------------- the ways


def _ours(root: Path, month: str, wh) -> dict:
    """``rfm_summary`` on the orders of ``wh`` (timed), written to ``rfm-<engine>.parquet``."""
    from analysis.clv import rfm_summary

    end = _observation_end(month)
    t0 = time.perf_counter()
    summary = rfm_summary(wh.table("orders"), end, timezone=TIMEZONE)
    seconds = time.perf_counter() - t0
    path = _output(root, "ours" if wh.engine == "duckdb" else wh.engine)
    summary.reset_index().to_parquet(path, index=False)
    return _result(seconds, len(summary), path)


def ours(root: Path, month: str) -> dict:
    """:func:`analysis.clv.rfm_summary` on the warehouse's orders, on DuckDB."""
    from analysis.warehouse import StoreWarehouse

    return _ours(root, month, StoreWarehouse(root, STORE, TIMEZONE))


def spark(root: Path, month: str) -> dict:
    """:func:`analysis.clv.rfm_summary` on the warehouse's orders, on local Spark (2 cores)."""
    from analysis.spark import spark_session
    from analysis.warehouse import StoreWarehouse

    session = spark_session("local[2]", {})
    return _ours(root, month, StoreWarehouse(root, STORE, TIMEZONE, engine="spark", spark=session))


def _statement(source: str, day: str, cut: str, month: str) -> str:
    """The hand statement, in words both DuckDB and Spark SQL read the same way.

    ``source`` is the orders (a table expression), ``day`` each order's local day
    number and ``cut`` the literal of the first instant after the observation end:
    the only parts the two dialects spell differently.
    """
    return f"""
        WITH days AS (
            SELECT customer_id, {day} AS day, sum(coalesce(revenue, CAST(0 AS DOUBLE))) AS value
            FROM {source}
            WHERE status = 'completed' AND customer_id IS NOT NULL AND ordered_at < {cut}
            GROUP BY 1, 2
        )
        SELECT
            customer_id,
            CAST(count(*) - 1 AS DOUBLE) AS frequency,
            CAST(max(day) - min(day) AS DOUBLE) AS recency,
            CAST({_end_day(month)} - min(day) AS DOUBLE) AS T,
            CASE WHEN count(*) > 1
                THEN (sum(value) - min_by(value, day)) / (count(*) - 1)
                ELSE CAST(0 AS DOUBLE)
            END AS monetary_value
        FROM days
        GROUP BY customer_id
    """


def sql(root: Path, month: str) -> dict:
    """One DuckDB statement: per (customer, local day) totals, then per customer."""
    import duckdb
    import pyarrow.parquet as pq

    day = f"CAST((epoch_us(ordered_at) + {_utc_offset_us(month)}) // {US_PER_DAY} AS INTEGER)"
    path = str(_orders_file(root)).replace("'", "''")
    query = _statement(
        f"read_parquet('{path}')", day, f"TIMESTAMPTZ '{_cut(month).isoformat()}'", month
    )
    connection = duckdb.connect()
    t0 = time.perf_counter()
    summary = connection.sql(query).to_arrow_table()
    seconds = time.perf_counter() - t0
    out = _output(root, "sql")
    pq.write_table(summary, out)
    return _result(seconds, summary.num_rows, out)


def spark_sql(root: Path, month: str) -> dict:
    """The same statement in Spark SQL on a ``local[2]`` session: Spark's own limit.

    The session (started before the clock, zone UTC) reads the orders file as a
    view; ``div`` is integer division (the day numbers are positive). Collected
    as Arrow, like the other ways.
    """
    import pyarrow.parquet as pq

    from analysis.spark import spark_session

    session = spark_session("local[2]", {})
    session.conf.set("spark.sql.session.timeZone", "UTC")
    cut = _cut(month).strftime("%Y-%m-%d %H:%M:%S.%f")
    day = f"CAST((unix_micros(ordered_at) + {_utc_offset_us(month)}) div {US_PER_DAY} AS INT)"
    query = _statement("rfm_orders", day, f"TIMESTAMP '{cut}'", month)
    t0 = time.perf_counter()
    session.read.parquet(str(_orders_file(root))).createOrReplaceTempView("rfm_orders")
    summary = session.sql(query).toArrow()
    seconds = time.perf_counter() - t0
    out = _output(root, "spark_sql")
    pq.write_table(summary, out)
    return _result(seconds, summary.num_rows, out)


def polars(root: Path, month: str) -> dict:
    """Polars' lazy API: per (customer, local day) totals, then per customer."""
    import polars as pl

    end_day, cut = _end_day(month), _cut(month)
    day = (pl.col("ordered_at").dt.epoch("us") + _utc_offset_us(month)) // US_PER_DAY
    t0 = time.perf_counter()
    summary = (
        pl.scan_parquet(_orders_file(root))
        .filter(
            pl.col("status") == "completed",
            pl.col("customer_id").is_not_null(),
            pl.col("ordered_at") < cut,
        )
        .group_by("customer_id", day.cast(pl.Int32).alias("day"))
        .agg(pl.col("revenue").sum().alias("value"))  # nulls count as 0, as in pandas
        .group_by("customer_id")
        .agg(
            pl.len().alias("days"),
            pl.col("day").min().alias("first"),
            pl.col("day").max().alias("last"),
            pl.col("value").sum().alias("total"),
            pl.col("value").min_by("day").alias("first_value"),
        )
        .select(
            "customer_id",
            (pl.col("days") - 1).cast(pl.Float64).alias("frequency"),
            (pl.col("last") - pl.col("first")).cast(pl.Float64).alias("recency"),
            (end_day - pl.col("first")).cast(pl.Float64).alias("T"),
            pl.when(pl.col("days") > 1)
            .then((pl.col("total") - pl.col("first_value")) / (pl.col("days") - 1))
            .otherwise(0.0)
            .alias("monetary_value"),
        )
        .collect()
    )
    seconds = time.perf_counter() - t0
    out = _output(root, "polars")
    summary.write_parquet(out)
    return _result(seconds, summary.height, out)


# --------------------------------------------------------------------------- check


def compare(a: dict, b: dict) -> list[str]:
    """Disagreements of the per-customer result ``b`` with ``a``; [] when they agree.

    ``a`` and ``b`` are the results of two ways; the files at their ``path`` must
    hold the same customers, with equal frequency, recency and T and monetary
    values equal within :data:`REL_TOL` relative.
    """
    import numpy as np
    import pandas as pd

    def load(result: dict) -> pd.DataFrame:
        frame = pd.read_parquet(result["path"], columns=["customer_id", *COLUMNS])
        frame["customer_id"] = frame["customer_id"].astype(str)
        return frame.set_index("customer_id").sort_index().astype("float64")

    x, y = load(a), load(b)
    bad: list[str] = []
    for name, frame in (("a", x), ("b", y)):
        if frame.index.has_duplicates:
            bad.append(f"{name}: customer {frame.index[frame.index.duplicated()][0]} repeated")
    only_a, only_b = x.index.difference(y.index), y.index.difference(x.index)
    if len(only_a):
        bad.append(f"{len(only_a)} customer(s) missing from b, e.g. {list(only_a[:5])}")
    if len(only_b):
        bad.append(f"{len(only_b)} customer(s) only in b, e.g. {list(only_b[:5])}")
    if bad:
        return bad
    y = y.loc[x.index]
    for column in COLUMNS:
        u, v = x[column].to_numpy(), y[column].to_numpy()
        same = (u == v) | (np.isnan(u) & np.isnan(v))
        if column not in EXACT:
            scale = np.maximum(np.abs(u), np.abs(v))
            same |= np.abs(u - v) <= REL_TOL * scale
        wrong = np.flatnonzero(~same)
        if len(wrong):
            examples = ", ".join(
                f"{x.index[i]} {float(u[i])!r} vs {float(v[i])!r}" for i in wrong[:5]
            )
            bad.append(f"{column}: {len(wrong)} customer(s) differ, e.g. {examples}")
    return bad


# --------------------------------------------------------------------------- by hand


def _main(root: Path, month: str) -> None:
    """Run the four ways in this process; print their times and the checks against ours."""
    for modules in PRELOAD.values():
        for module in modules:
            importlib.import_module(module)
    results = {}
    for way in (ours, sql, polars, spark):
        results[way.__name__] = way(root, month)
        r = results[way.__name__]
        print(f"rfm {way.__name__}: {r['compute_seconds']:.3f} s, {r['customers']:,} customers")
    for name, r in results.items():
        if name != "ours":
            bad = compare(results["ours"], r)
            print(f"rfm {name} vs ours: " + ("agree" if not bad else "\n  ".join(["", *bad])))


if __name__ == "__main__":
    _main(Path(sys.argv[1]), sys.argv[2])
