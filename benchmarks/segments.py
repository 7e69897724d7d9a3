"""Segments section on a 1M-customer store: ``analysis.segments`` against hand-written SQL.

Targets: at 1,000,000 customers (the 1M-customer demo store, ~9.6M orders) the
section's computation takes under 10 s on 2 cores, and the RFM scores and
segments (:func:`analysis.segments.rfm.rfm_scores` on its own: one pass over
the orders, scores, collected to pandas) take at most 1.5x the time of one
hand-written DuckDB query computing the same scores and segments (the same tie
rule and rules table, written out in SQL here and nowhere else).

The section is timed step by step in one child process (``ours``), as the
segments page (:func:`analysis.segments.page.segments_page`) computes it:

- ``base``: :func:`analysis.segments.base.customer_base` (one pass over the
  orders for the report month's end and the two migration starts), persisted
  on the engine; every later step reads it;
- ``table``: :func:`analysis.segments.customer_table.customer_table`: RFM scores,
  bucket flags (orders, surveys, carts, campaigns) and profile (customers,
  campaign sends) of every customer, joined on the engine and collected once;
- ``grid``: :func:`analysis.segments.rfm.rfm_grid`;
- ``migrations``: :func:`analysis.segments.migration.segment_migrations` from the
  end of the previous month and of the same month a year earlier to the report
  month's end (one query for both);
- ``buckets``: bucket overlaps and combinations;
- ``value``: :func:`analysis.segments.value.group_value` per segment and per
  bucket, and the profile mixes per segment.

The CLV model's predictions (P(alive) for the at-risk bucket, mean CLV) are the
CLV page's computation and are timed by ``benchmarks/clv.py``; here the buckets
use the gap rule alone and the value tables have no CLV columns.

``seconds`` is the sum of the steps; after them the child times
``rfm_scores`` on its own (``rfm_seconds``, for the ratio) and writes the
page's scores for the check. The hand-written query runs in its own child
(``sql``; ``seconds`` is the query to a pandas frame). Each child writes its
per-customer scores and segments to
``benchmarks/.cache/segments-<customers>/<way>.parquet`` after its clock stops;
the two must agree on every customer (id, recency, frequency, monetary in
satang, R, F, M, segment), and the standalone ``rfm_scores`` must equal the
page's, else the benchmark fails. Results: ``benchmarks/results/segments.json``.

Usage: ``python -m benchmarks.segments --customers 1000000 --month 2026-10``
(``--customers 20000`` for a quick smoke run).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    CACHE,
    STORE,
    TIMEZONE,
    child,
    run_child,
    warehouse,
    warm,
    write_results,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "segments.json"
TARGET_SECONDS = 10.0
TARGET_RATIO = 1.5
WINDOW_DAYS = 365  # segments.rfm_window_days in params/default.yaml
WAYS = ("ours", "sql")
PRELOAD = {
    "ours": [
        "narwhals",
        "pandas",
        "analysis.segments.rfm",
        "analysis.segments.migration",
        "analysis.segments.buckets",
        "analysis.segments.customer_table",
        "analysis.segments.value",
        "analysis.config",
        "analysis.warehouse",
    ],
    "sql": ["duckdb", "pandas"],
}
COLUMNS = ["customer_id", "recency_days", "frequency", "monetary_satang"]
COLUMNS += ["r_score", "f_score", "m_score", "segment"]


def _scores_path(root: Path, way: str) -> Path:
    return CACHE / f"segments-{root.name.rsplit('-', 1)[-1]}" / f"{way}.parquet"


def _save_scores(frame: Any, root: Path, way: str) -> None:
    """Write the per-customer scores (pandas) for the parent's comparison."""
    path = _scores_path(root, way)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame[COLUMNS].to_parquet(path, index=False)


# --------------------------------------------------------------------------- ours


@dataclass
class Section:
    """What the section's steps share: the store's orders, the three as-of instants, results."""

    orders: Any
    end: Any
    previous_end: Any
    year_ago_end: Any
    wh: Any = None
    results: dict[str, Any] = field(default_factory=dict)


def section_steps() -> list[tuple[str, Callable[[Section], Any]]]:
    """The timed steps of the segments section, in order (add later parts here)."""
    from analysis.config import default_params
    from analysis.segments.base import customer_base
    from analysis.segments.buckets import bucket_combinations, bucket_overlaps
    from analysis.segments.customer_table import customer_table
    from analysis.segments.migration import segment_migrations
    from analysis.segments.rfm import SEGMENTS, rfm_grid
    from analysis.segments.value import group_mixes, group_value, membership_from_labels

    params = default_params().segments

    def table(s: Section, name: str) -> Any:
        return s.wh.table(name, end=s.end) if s.wh.has(name) else None

    def base(s: Section) -> Any:
        earlier = [s.previous_end, s.year_ago_end]
        return s.wh.persist(customer_base(s.orders, s.end, WINDOW_DAYS, earlier=earlier))

    def customers(s: Section) -> Any:
        year = int(s.results["rfm_month"][:4])
        return customer_table(
            s.orders, s.end, params, year, base=s.results["base"],
            customers=table(s, "customers"), surveys=table(s, "surveys"),
            carts=table(s, "carts"), campaigns=table(s, "campaigns"),
        )  # fmt: skip

    def grid(s: Section) -> Any:
        return rfm_grid(s.results["table"].rfm)

    def migrations(s: Section) -> Any:
        starts = [s.previous_end, s.year_ago_end]
        found = segment_migrations(s.orders, starts, s.end, WINDOW_DAYS, base=s.results["base"])
        return dict(zip(("previous", "year_ago"), found, strict=True))

    def buckets(s: Section) -> Any:
        flags = s.results["table"].flags.flags
        return bucket_overlaps(flags), bucket_combinations(flags)

    def value(s: Section) -> Any:
        t = s.results["table"]
        members = membership_from_labels(t.window["segment"], SEGMENTS)
        return (
            group_value(members, t.window, None, t.profile, population=len(t.rfm)),
            group_value(t.flags.flags, t.window, None, t.profile),
            group_mixes(members, t.profile),
        )

    return [
        ("base", base),
        ("table", customers),
        ("grid", grid),
        ("migrations", migrations),
        ("buckets", buckets),
        ("value", value),
    ]


def ours(root: Path, month: str) -> dict:
    """The section as the segments page computes it (narwhals on DuckDB), step by step."""
    from analysis.calendar import report_periods
    from analysis.segments.rfm import rfm_scores
    from analysis.warehouse import StoreWarehouse

    current, previous, year_ago = report_periods(month, TIMEZONE)
    wh = StoreWarehouse(root, STORE, TIMEZONE)
    state = Section(
        wh.table("orders", end=current.end), current.end, previous.end, year_ago.end, wh
    )
    state.results["rfm_month"] = month
    steps: dict[str, float] = {}
    for name, step in section_steps():
        t0 = time.perf_counter()
        state.results[name] = step(state)
        steps[name] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    alone = rfm_scores(state.orders, state.end, WINDOW_DAYS)
    rfm_seconds = round(time.perf_counter() - t0, 3)
    rfm = state.results["table"].rfm
    if not alone.equals(rfm):
        raise SystemExit("segments: rfm_scores on its own differs from the page's scores")
    grid = state.results["grid"]
    migrations = state.results["migrations"]
    moved = {
        name: m.moved(["champions", "loyal"], ["at_risk", "cant_lose"])
        for name, m in migrations.items()
    }
    summary = {
        "steps": steps,
        "section_seconds": round(sum(steps.values()), 3),
        "rfm_seconds": rfm_seconds,
        "customers_scored": int(len(rfm)),
        "segments": {str(k): int(v) for k, v in rfm["segment"].value_counts().items()},
        "grid_total": int(grid.counts.to_numpy().sum()),
        "migration_totals": {
            name: int(m.counts.to_numpy().sum()) for name, m in migrations.items()
        },
        "moved_best_to_slipping": moved,
    }
    # Outside the timed steps: the scores for the parent's per-customer check.
    rfm = rfm.assign(monetary_satang=(rfm["monetary"] * 100).round().astype("int64"))
    _save_scores(rfm, root, "ours")
    return summary


# --------------------------------------------------------------------------- hand-written SQL

_SEGMENT_CASE = """
    CASE
        WHEN r_score = 5 AND f_score = 1 THEN 'new_customers'
        WHEN r_score >= 4 AND f_score >= 4 AND m_score >= 4 THEN 'champions'
        WHEN r_score = 1 AND f_score >= 4 AND m_score >= 4 THEN 'cant_lose'
        WHEN r_score <= 2 AND f_score >= 3 AND m_score >= 3 THEN 'at_risk'
        WHEN r_score >= 3 AND f_score >= 4 THEN 'loyal'
        WHEN r_score = 4 AND f_score = 1 THEN 'promising'
        WHEN r_score >= 4 AND f_score BETWEEN 2 AND 3 THEN 'potential_loyalist'
        WHEN r_score = 3 AND f_score BETWEEN 2 AND 3 THEN 'need_attention'
        WHEN r_score = 3 AND f_score = 1 THEN 'about_to_sleep'
        WHEN r_score = 2 THEN 'hibernating'
        WHEN r_score = 1 THEN 'lost'
    END"""


def sql(root: Path, month: str) -> dict:
    """One DuckDB query: per-customer recency, frequency, monetary, tied scores and segment."""
    import datetime as dt

    import duckdb

    from analysis.calendar import month_bounds

    end = month_bounds(month, TIMEZONE)[1]
    start = end - dt.timedelta(days=WINDOW_DAYS)
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    query = f"""
    WITH c AS (
        SELECT customer_id, max(ordered_at) AS last_order, count(*) AS frequency,
               sum(round(revenue * 100)::BIGINT)::BIGINT AS monetary_satang
        FROM read_parquet('{root / "orders" / f"{STORE}.parquet"}')
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
    SELECT customer_id, recency_days, frequency, monetary_satang / 100 AS monetary,
           monetary_satang, r_score, f_score, m_score, {_SEGMENT_CASE} AS segment
    FROM s ORDER BY customer_id
    """
    t0 = time.perf_counter()
    scores = con.sql(query).df()
    seconds = time.perf_counter() - t0
    _save_scores(scores, root, "sql")
    return {"customers_scored": int(len(scores)), "query_seconds": round(seconds, 3)}


# --------------------------------------------------------------------------- run


def compare(root: Path) -> tuple[int, list[str]]:
    """Customers compared and the first mismatches between the two ways' scores."""
    import pandas as pd

    a = pd.read_parquet(_scores_path(root, "ours")).set_index("customer_id").sort_index()
    b = pd.read_parquet(_scores_path(root, "sql")).set_index("customer_id").sort_index()
    if not a.index.equals(b.index):
        only = a.index.symmetric_difference(b.index)
        return len(a), [f"  {len(only)} customers scored by one way only, e.g. {list(only[:5])}"]
    bad = []
    for column in a.columns:
        differ = a[column].astype(str) != b[column].astype(str)
        if differ.any():
            first = differ.idxmax()
            bad.append(
                f"  {column}: {int(differ.sum())} customers differ, e.g. {first}: "
                f"{a.loc[first, column]!r} vs {b.loc[first, column]!r}"
            )
    return len(a), bad


def run(customers: int, month: str) -> dict:
    """Both ways on the same warehouse, each in its own child process; checked to agree."""
    import pyarrow.parquet as pq

    root = warehouse(customers)
    warm(root)
    res = {way: run_child("benchmarks.segments", way, root, month) for way in ("sql", "ours")}
    compared, bad = compare(root)
    if bad:
        raise SystemExit("segments: ours and the hand-written SQL disagree:\n" + "\n".join(bad))
    o, s = res["ours"], res["sql"]
    rfm_ratio = o["rfm_seconds"] / s["query_seconds"]

    def way(r: dict, seconds: float) -> dict:
        return {
            "seconds": seconds,
            "child_seconds": round(r["seconds"], 3),
            "import_seconds": round(r["import_seconds"], 3),
            "process_seconds": round(r["process_seconds"], 3),
            "peak_rss_gib": round(r["peak_kib"] / 2**20, 3),
        }

    return {
        "customers": customers,
        "orders": pq.ParquetFile(root / "orders" / f"{STORE}.parquet").metadata.num_rows,
        "store": STORE,
        "month": month,
        "window_days": WINDOW_DAYS,
        "ours": way(o, o["section_seconds"])
        | {"steps": o["steps"], "rfm_scores_seconds": o["rfm_seconds"]},
        "sql": way(s, s["query_seconds"]),
        "customers_compared": compared,
        "agree": True,
        "customers_scored": o["customers_scored"],
        "segments": o["segments"],
        "migration_totals": o["migration_totals"],
        "moved_best_to_slipping": o["moved_best_to_slipping"],
        "ratio_rfm_over_sql": round(rfm_ratio, 2),
        "target_seconds": TARGET_SECONDS,
        "target_ratio": TARGET_RATIO,
        "meets_target": o["section_seconds"] < TARGET_SECONDS and rfm_ratio <= TARGET_RATIO,
    }


def main(customers: int = 1_000_000, month: str = "2026-10") -> dict:
    result = write_results(RESULTS, run(customers, month))
    o, s = result["ours"], result["sql"]
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in o["steps"].items())
    print(
        f"segments: {customers:,} customers, {result['orders']:,} orders up to {month}: section "
        f"{o['seconds']:.2f} s (target < {TARGET_SECONDS:.0f} s; {steps}); RFM scores "
        f"{o['rfm_scores_seconds']:.2f} s vs hand-written SQL {s['seconds']:.2f} s, "
        f"{result['ratio_rfm_over_sql']:.2f}x (target <= {TARGET_RATIO}x); "
        f"{result['customers_compared']:,} customers agree"
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fn = {"ours": ours, "sql": sql}[args.child]
        child(fn, args.root, args.month, time.perf_counter(), preload=PRELOAD[args.child])
    else:
        main(args.customers, args.month)
