"""Per-customer RFM scores and segments, four ways (family ``segments`` of the limits).

For the store ``demo-bangkok`` (zone Asia/Bangkok) and a report month, every way
computes, over the 365 days ending at the month's end (local midnight, exclusive),
one row per registered customer with a completed order in that window:

- ``recency_days``: elapsed 24-hour days from the customer's last completed order
  in the window to the window's end, floored (instants, not calendar dates);
- ``frequency``: completed orders in the window;
- ``monetary_satang``: their revenue in integer satang (each order rounded half
  away from zero, then summed), and ``monetary`` = satang / 100 (baht);
- ``r_score``, ``f_score``, ``m_score``: ``1 + floor(5 * (rank_min - 1) / N)`` with
  ties sharing the lowest rank (recency ranked on minus the days, so the most
  recent customers get 5), ``N`` the customers scored;
- ``segment``: the first rule of :data:`analysis.segments.rfm.SEGMENT_RULES` that
  the scores match.

The ways:

``ours``
    :func:`analysis.segments.rfm.rfm_scores` on DuckDB, collected to pandas: the
    call ``benchmarks/segments.py`` times as ``rfm_seconds``;
``sql``
    the hand-written DuckDB statement of ``benchmarks/segments.py`` (its rules
    table, ``_SEGMENT_CASE``, imported from there so the two stay one);
``polars``
    Polars' lazy API over the orders file: filter, one ``group_by``, frame-wide
    ``rank("min")`` expressions and a ``when/then`` chain, ``collect()``;
``spark``
    ``rfm_scores`` on a ``local[2]`` Spark session (started before the clock).

Each way writes its per-customer result to ``<root>/.limits/segments-<way>.parquet``
after its clock stops and returns ``compute_seconds``, ``customers`` and ``path``;
:func:`compare` checks two such files customer by customer (counts exactly, money
to 1e-9 relative, segments exactly).

Usage, for a check in one process (not a timing run)::

    python -m benchmarks.limits.segments benchmarks/.cache/warehouse-100000 2026-10
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import STORE, TIMEZONE
from benchmarks.segments import _SEGMENT_CASE, WINDOW_DAYS

PRELOAD: dict[str, list[str]] = {
    "ours": [
        "duckdb",
        "narwhals",
        "pandas",
        "pyarrow.parquet",
        "analysis.calendar",
        "analysis.segments.rfm",
        "analysis.warehouse",
    ],
    "sql": ["duckdb"],
    "polars": ["polars"],
    "spark_sql": ["pyspark", "pyspark.sql", "pyarrow.parquet", "analysis.spark"],
    "spark": [
        "pyspark",
        "pyspark.sql",
        "narwhals",
        "pandas",
        "pyarrow.parquet",
        "analysis.calendar",
        "analysis.spark",
        "analysis.segments.rfm",
        "analysis.warehouse",
    ],
}
"""Way -> modules imported before the clock starts."""

COLUMNS = ["customer_id", "recency_days", "frequency", "monetary_satang", "monetary"]
COLUMNS += ["r_score", "f_score", "m_score", "segment"]
"""Columns of every way's Parquet file, in this order."""

MONEY_RTOL = 1e-9
"""Relative tolerance of ``monetary`` (baht) in :func:`compare`; every other column is exact."""


def _orders(root: Path) -> Path:
    return root / "orders" / f"{STORE}.parquet"


def _window(month: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC start (inclusive) and end (exclusive) of the RFM window ending with ``month``."""
    from analysis.calendar import month_bounds

    end = month_bounds(month, TIMEZONE)[1].astimezone(dt.UTC)
    return end - dt.timedelta(days=WINDOW_DAYS), end


def _path(root: Path, way: str) -> Path:
    path = root / ".limits" / f"segments-{way}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _result(seconds: float, customers: int, path: Path) -> dict:
    return {"compute_seconds": round(seconds, 4), "customers": customers, "path": str(path)}


def _write_pandas(frame: Any, root: Path, way: str) -> Path:
    """Write a pandas frame from ``rfm_scores`` (``monetary`` in baht) in the common layout."""
    path = _path(root, way)
    frame = frame.assign(
        customer_id=frame["customer_id"].astype(str),
        monetary_satang=(frame["monetary"] * 100).round().astype("int64"),
    )
    for column in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        frame[column] = frame[column].astype("int64")
    frame[COLUMNS].to_parquet(path, index=False)
    return path


# --------------------------------------------------------------------------- ours


def _ours(root: Path, month: str, engine: str, session: Any = None) -> tuple[float, Any]:
    """``rfm_scores`` at the month's end on ``engine``: seconds from the first read, frame."""
    from analysis.calendar import month_bounds
    from analysis.segments.rfm import rfm_scores
    from analysis.warehouse import StoreWarehouse

    end = month_bounds(month, TIMEZONE)[1]
    wh = StoreWarehouse(root, STORE, TIMEZONE, engine=engine, spark=session)
    t0 = time.perf_counter()
    orders = wh.table("orders", end=end)
    rfm = rfm_scores(orders, end, WINDOW_DAYS)
    return time.perf_counter() - t0, rfm


def ours(root: Path, month: str) -> dict:
    """:func:`analysis.segments.rfm.rfm_scores` on DuckDB (narwhals), collected to pandas."""
    seconds, rfm = _ours(root, month, "duckdb")
    return _result(seconds, len(rfm), _write_pandas(rfm, root, "ours"))


def spark(root: Path, month: str) -> dict:
    """:func:`analysis.segments.rfm.rfm_scores` on a ``local[2]`` Spark session."""
    from analysis.spark import spark_session

    session = spark_session("local[2]", {})  # start-up outside the clock
    seconds, rfm = _ours(root, month, "spark", session)
    return _result(seconds, len(rfm), _write_pandas(rfm, root, "spark"))


# --------------------------------------------------------------------------- hand-written SQL


def query(root: Path, month: str) -> str:
    """The statement of ``benchmarks/segments.py`` (``sql``), with the same rules table."""
    start, end = _window(month)
    return f"""
    WITH c AS (
        SELECT customer_id, max(ordered_at) AS last_order, count(*) AS frequency,
               sum(round(revenue * 100)::BIGINT)::BIGINT AS monetary_satang
        FROM read_parquet('{_orders(root)}')
        WHERE status = 'completed' AND customer_id IS NOT NULL
          AND ordered_at >= TIMESTAMPTZ '{start.isoformat()}'
          AND ordered_at < TIMESTAMPTZ '{end.isoformat()}'
        GROUP BY customer_id
    ), d AS (
        SELECT *, floor(epoch(TIMESTAMPTZ '{end.isoformat()}' - last_order) / 86400)::BIGINT
                  AS recency_days
        FROM c
    ), s AS (
        SELECT *,
            1 + (5 * (rank() OVER (ORDER BY -recency_days) - 1)) // count(*) OVER () AS r_score,
            1 + (5 * (rank() OVER (ORDER BY frequency) - 1)) // count(*) OVER () AS f_score,
            1 + (5 * (rank() OVER (ORDER BY monetary_satang) - 1)) // count(*) OVER () AS m_score
        FROM d
    )
    SELECT customer_id, recency_days, frequency, monetary_satang,
           monetary_satang / 100 AS monetary, r_score, f_score, m_score,
           {_SEGMENT_CASE} AS segment
    FROM s ORDER BY customer_id
    """


def sql(root: Path, month: str) -> dict:
    """One hand-written DuckDB statement, fetched as a pandas frame: the engine's limit."""
    import duckdb
    import pandas  # noqa: F401  (fetching a frame imports it: not part of the query's time)

    statement = query(root, month)
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    t0 = time.perf_counter()
    scores = con.sql(statement).df()
    seconds = time.perf_counter() - t0
    path = _path(root, "sql")
    scores[COLUMNS].to_parquet(path, index=False)
    con.close()
    return _result(seconds, len(scores), path)


def spark_sql(root: Path, month: str) -> dict:
    """The same statement in Spark SQL on a ``local[2]`` session: Spark's own limit.

    The session (started before the clock, zone UTC) reads the orders file as a
    view; recency is whole days of integer microseconds (``div`` on positive
    numbers floors), the scores are the same frame-wide ``rank()`` windows and
    the rules the same CASE. Collected as Arrow, like the other ways.
    """
    import pyarrow.parquet as pq

    from analysis.spark import spark_session

    session = spark_session("local[2]", {})
    session.conf.set("spark.sql.session.timeZone", "UTC")
    start, end = (t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in _window(month))
    statement = f"""
    WITH c AS (
        SELECT customer_id, max(unix_micros(ordered_at)) AS last_us, count(*) AS frequency,
               CAST(sum(CAST(round(revenue * 100) AS BIGINT)) AS BIGINT) AS monetary_satang
        FROM segments_orders
        WHERE status = 'completed' AND customer_id IS NOT NULL
          AND ordered_at >= TIMESTAMP '{start}' AND ordered_at < TIMESTAMP '{end}'
        GROUP BY customer_id
    ), d AS (
        SELECT *, (unix_micros(TIMESTAMP '{end}') - last_us) div 86400000000 AS recency_days
        FROM c
    ), s AS (
        SELECT *,
            1 + (5 * (rank() OVER (ORDER BY -recency_days) - 1)) div count(*) OVER () AS r_score,
            1 + (5 * (rank() OVER (ORDER BY frequency) - 1)) div count(*) OVER () AS f_score,
            1 + (5 * (rank() OVER (ORDER BY monetary_satang) - 1)) div count(*) OVER () AS m_score
        FROM d
    )
    SELECT customer_id, recency_days, frequency, monetary_satang,
           monetary_satang / 100 AS monetary, r_score, f_score, m_score,
           {_SEGMENT_CASE} AS segment
    FROM s ORDER BY customer_id
    """
    t0 = time.perf_counter()
    session.read.parquet(str(_orders(root))).createOrReplaceTempView("segments_orders")
    scores = session.sql(statement).toArrow()
    seconds = time.perf_counter() - t0
    path = _path(root, "spark_sql")
    pq.write_table(scores.select(COLUMNS), path)
    return _result(seconds, scores.num_rows, path)


# --------------------------------------------------------------------------- polars


def _polars_segment() -> Any:
    """The rules table as one Polars ``when/then`` chain (first matching rule wins)."""
    import polars as pl

    from analysis.segments.rfm import SEGMENT_RULES

    chain: Any = pl
    for rule in SEGMENT_RULES:
        cond = pl.all_horizontal(
            pl.col(score).is_between(*bounds)
            for score, bounds in (("r_score", rule.r), ("f_score", rule.f), ("m_score", rule.m))
            if bounds != (1, 5)
        )
        chain = chain.when(cond).then(pl.lit(rule.segment))
    return chain.otherwise(None)


def polars(root: Path, month: str) -> dict:
    """Polars' lazy API over the orders file, as a Polars user would write it."""
    import polars as pl

    start, end = _window(month)
    day_us = 86_400 * 1_000_000
    end_us = (end - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    segment = _polars_segment()  # built from the rules table before the clock
    t0 = time.perf_counter()
    n = pl.len()

    def score(column: str, *, descending: bool = False) -> pl.Expr:
        rank = pl.col(column).rank("min", descending=descending).cast(pl.Int64)
        return 1 + 5 * (rank - 1) // n

    scores = (
        pl.scan_parquet(_orders(root))
        .filter(
            pl.col("status") == "completed",
            pl.col("customer_id").is_not_null(),
            pl.col("ordered_at") >= start,
            pl.col("ordered_at") < end,
        )
        .group_by("customer_id")
        .agg(
            last_us=pl.col("ordered_at").dt.epoch("us").max(),
            frequency=pl.len().cast(pl.Int64),
            monetary_satang=(pl.col("revenue") * 100)
            .round(0, mode="half_away_from_zero")
            .cast(pl.Int64)
            .sum(),
        )
        .with_columns(recency_days=(end_us - pl.col("last_us")) // day_us)
        .with_columns(
            r_score=score("recency_days", descending=True),
            f_score=score("frequency"),
            m_score=score("monetary_satang"),
        )
        .with_columns(segment=segment, monetary=pl.col("monetary_satang") / 100)
        .select(COLUMNS)
        .sort("customer_id")
        .collect()
    )
    seconds = time.perf_counter() - t0
    path = _path(root, "polars")
    scores.write_parquet(path)
    return _result(seconds, scores.height, path)


# --------------------------------------------------------------------------- compare


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (for readable messages)."""
    return value.item() if hasattr(value, "item") else value


def compare(a: dict, b: dict, limit: int = 5) -> list[str]:
    """Disagreements of way ``b``'s per-customer file with way ``a``'s; [] when they agree.

    Customers are matched on ``customer_id``; counts and scores must be equal,
    ``monetary`` equal to ``1e-9`` relative, ``segment`` equal. Each column that
    differs gives one line: how many customers, and the first ``limit`` of them.
    """
    import numpy as np
    import pandas as pd

    def load(result: dict) -> pd.DataFrame:
        frame = pd.read_parquet(result["path"])
        frame["customer_id"] = frame["customer_id"].astype(str)
        return frame.set_index("customer_id").sort_index()

    x, y = load(a), load(b)
    bad: list[str] = []
    if x.index.has_duplicates or y.index.has_duplicates:
        bad.append("a customer appears on several rows")
    only_a, only_b = x.index.difference(y.index), y.index.difference(x.index)
    for only, side in ((only_a, "first"), (only_b, "second")):
        if len(only):
            bad.append(
                f"{len(only)} customers scored by the {side} way only, e.g. {list(only[:limit])}"
            )
    common = x.index.intersection(y.index)
    x, y = x.loc[common], y.loc[common]
    for column in COLUMNS[1:]:
        if column not in x or column not in y:
            bad.append(f"{column}: missing from the {'first' if column not in x else 'second'} way")
            continue
        u, v = x[column], y[column]
        both_null = u.isna().to_numpy() & v.isna().to_numpy()
        if column == "segment":
            same = (u.astype(object) == v.astype(object)).to_numpy(dtype=bool, na_value=False)
        else:
            p = u.to_numpy(dtype="float64", na_value=np.nan)
            q = v.to_numpy(dtype="float64", na_value=np.nan)
            tol = MONEY_RTOL * np.abs(p) if column == "monetary" else 0.0
            same = np.abs(p - q) <= tol
        differ = ~(same | both_null)
        if differ.any():
            ids = common[differ][:limit]
            shown = ", ".join(
                f"{i}: {_plain(x.at[i, column])!r} vs {_plain(y.at[i, column])!r}" for i in ids
            )
            bad.append(f"{column}: {int(differ.sum())} customers differ, e.g. {shown}")
    return bad


# --------------------------------------------------------------------------- check


def _check(root: Path, month: str) -> int:
    """All four ways in this process, each compared with ``ours``; 1 on any disagreement."""
    ways = {"ours": ours, "sql": sql, "polars": polars, "spark": spark}
    results = {}
    for name, fn in ways.items():
        results[name] = fn(root, month)
        r = results[name]
        print(f"{name:7s} {r['compute_seconds']:8.3f} s  {r['customers']:,} customers")
    failed = 0
    for name in ("sql", "polars", "spark"):
        bad = compare(results["ours"], results[name])
        print(f"ours vs {name}: " + ("agree on every customer" if not bad else "DISAGREE"))
        for line in bad:
            print("  " + line)
        failed |= bool(bad)
    return int(failed)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m benchmarks.limits.segments ROOT MONTH")
    raise SystemExit(_check(Path(sys.argv[1]).resolve(), sys.argv[2]))
