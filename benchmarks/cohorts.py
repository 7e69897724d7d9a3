"""Cohort analysis of one store-month: ``analysis.cohorts`` against plain pandas.

Targets: at 1,000,000 customers (~9.6M orders) the whole cohort analysis of a
report month (all completed orders up to its end in the store's zone) takes
under 5 s on 2 cores, and at least 10x less time than the plain-pandas way an
analyst would write it (``pd.read_parquet``, ``tz_convert``, groupby transform
and pivot tables). The analysis is what the cohorts notebook computes:

- the monthly cohort matrices (size, retention, revenue retention, orders per
  customer, cumulative revenue per customer), every cohort and k, with the
  months after the report month unknown;
- the notebook's three cuts, each as retention pooled over cohorts
  (size-weighted) per segment for k = 0..12: acquisition channel (customers
  table), first order discounted or not (an order at the customer's first
  instant had a discount above 0), loyalty member (joined before the end of
  the report month) or not;
- days from the first to the second completed order (in time order; two
  orders at the same instant are 0 days apart): histogram and median.

Both ways run on the same warehouse, each in a fresh child process so that its
peak resident memory is its own (the child reports its own ``VmHWM``). The
time of each way runs from opening the warehouse (ours) or the first
``read_parquet`` (pandas) to the finished numbers; imports and interpreter
start-up are reported separately (each child imports its libraries before its
clock starts), and ours also reports the time of each step.
Every matrix cell, every cell of each cut, the histogram and the median
must agree within 1e-9 relative, with missing cells in the same places, else
the benchmark fails: a speed-up over different numbers is worthless.

The warehouse is generated once with ``analysis.demo.write_demo`` into
``benchmarks/.cache/warehouse-<customers>`` (git-ignored; shared with the KPI
benchmark). Results are written to ``benchmarks/results/cohorts.json``.

Usage: ``python -m benchmarks.cohorts --customers 1000000 --month 2026-10``
(``--customers 20000`` for a quick smoke run).
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.harness import (
    STORE,
    TIMEZONE,
    as_float,
    entry_point,
    run_child,
    warehouse,
    warm,
    write_results,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "cohorts.json"
TARGET_SECONDS = 5.0
TARGET_RATIO = 10.0
REL_TOL = 1e-9
SEGMENT_HORIZON = 12  # k = 0..12 of the cuts, as in the notebook
CUTS = ("channel", "discount", "membership")
GAP_BINS = (7, 14, 30, 60, 90, 180, 365)  # cohorts.second_order_gaps' default buckets
MATRICES = (
    "retention",
    "revenue_retention",
    "orders_per_customer",
    "cumulative_revenue_per_customer",
)


# Imported before each child's clock starts (reported as import_seconds).
PRELOAD = {
    "ours": ["narwhals", "analysis.cohorts", "analysis.warehouse"],
    "pandas": ["pandas", "numpy", "pyarrow.parquet"],
}

# --------------------------------------------------------------------------- ours


def ours(root: Path, month: str) -> dict:
    """The cohort analysis as the project computes it (narwhals on DuckDB)."""
    import narwhals as nw

    from analysis import cohorts, customers
    from analysis.calendar import month_bounds
    from analysis.warehouse import StoreWarehouse

    steps: dict[str, float] = {}
    t = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps[name] = round(now - t, 3)
        t = now

    _, end = month_bounds(month, TIMEZONE)
    wh = StoreWarehouse(root, STORE, TIMEZONE)
    orders = wh.table("orders", end=end)
    # The notebook's three cuts: acquisition channel, first-order discount, membership.
    members = wh.table("loyalty_members", end=end).group_by("customer_id").agg(nw.len())
    cuts = {
        "channel": wh.table("customers").select(
            "customer_id", nw.col("acquisition_channel").alias("segment")
        ),
        "discount": nw.when(nw.col("first_discount"))
        .then(nw.lit("discounted first order"))
        .otherwise(nw.lit("full price first order")),
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


# --------------------------------------------------------------------------- plain pandas


def plain_pandas(root: Path, month: str) -> dict:
    """The same analysis the way an analyst writes it: read_parquet, tz_convert, pivot tables."""
    import numpy as np
    import pandas as pd

    report = pd.Period(month, "M")
    end = (report + 1).start_time.tz_localize(TIMEZONE).tz_convert("UTC")
    last = report.year * 12 + report.month - 1

    orders = pd.read_parquet(
        root / "orders" / f"{STORE}.parquet",
        columns=["customer_id", "ordered_at", "revenue", "discount", "status"],
    )
    done = orders[
        (orders["ordered_at"] < end)
        & (orders["status"] == "completed")
        & orders["customer_id"].notna()
    ].copy()
    local = done["ordered_at"].dt.tz_convert(TIMEZONE)
    done["month"] = local.dt.year * 12 + local.dt.month - 1
    done["cohort"] = done.groupby("customer_id")["month"].transform("min")
    done["k"] = done["month"] - done["cohort"]

    # The matrices: pivot tables of active customers, revenue and orders per cohort and k.
    def pivot(values: str, aggfunc: str) -> pd.DataFrame:
        table = done.pivot_table(index="cohort", columns="k", values=values, aggfunc=aggfunc)
        width = int(done["k"].max()) + 1
        return table.reindex(columns=range(width)).sort_index().astype("float64")

    customers = pivot("customer_id", "nunique")
    revenue = pivot("revenue", "sum")
    orders_n = pivot("revenue", "count")
    size = customers[0]
    observed = customers.columns.to_numpy()[None, :] <= (last - customers.index.to_numpy())[:, None]

    def finish(matrix: pd.DataFrame) -> pd.DataFrame:
        return matrix.fillna(0.0).where(observed)

    matrices = {
        "retention": finish(customers.div(size, axis=0)),
        "revenue_retention": finish(revenue.div(revenue[0], axis=0)),
        "orders_per_customer": finish(orders_n.div(size, axis=0)),
        "cumulative_revenue_per_customer": finish(revenue).cumsum(axis=1).div(size, axis=0),
    }

    def label(index: int) -> str:
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    # The cuts: retention pooled over the cohorts observed at each k, per segment.
    def pooled_cut(labels: pd.Series) -> pd.DataFrame:
        seg = done[["customer_id", "cohort", "k"]].copy()
        seg["segment"] = seg["customer_id"].map(labels).astype("object").fillna("unknown")
        seg = seg[seg["k"] <= SEGMENT_HORIZON]
        active = seg.pivot_table(
            index=["segment", "cohort"], columns="k", values="customer_id", aggfunc="nunique"
        ).reindex(columns=range(SEGMENT_HORIZON + 1))
        seg_size = active[0]
        seen = (
            active.columns.to_numpy()[None, :]
            <= (last - active.index.get_level_values("cohort").to_numpy())[:, None]
        )
        pooled_active = active.fillna(0.0).where(seen).groupby(level="segment").sum(min_count=1)
        exposed = pd.DataFrame(seen, index=active.index, columns=active.columns).mul(
            seg_size, axis=0
        )
        pooled = pooled_active / exposed.groupby(level="segment").sum().replace(0, np.nan)
        pooled.insert(0, "customers", seg_size.groupby(level="segment").sum())
        return pooled.sort_index()

    customers_table = pd.read_parquet(
        root / "customers" / f"{STORE}.parquet", columns=["customer_id", "acquisition_channel"]
    )
    channel = customers_table.set_index("customer_id")["acquisition_channel"]
    # First order discounted: an order at the customer's first instant had a discount > 0.
    first_at = done.groupby("customer_id")["ordered_at"].transform("min")
    at_first = done["ordered_at"] == first_at
    discounted = (done["discount"] > 0) & at_first
    first_discount = discounted.groupby(done["customer_id"]).any()
    discount = first_discount.map({True: "discounted first order", False: "full price first order"})
    members = pd.read_parquet(
        root / "loyalty_members" / f"{STORE}.parquet", columns=["customer_id", "joined_at"]
    )
    member_ids = members.loc[members["joined_at"] < end, "customer_id"].unique()
    membership = pd.Series("member", index=pd.Index(member_ids, name="customer_id"))
    cuts = {
        "channel": pooled_cut(channel),
        "discount": pooled_cut(discount),
        "membership": pooled_cut(membership),
    }

    # First to second completed order (in time order; a tie at the first instant is 0 days).
    ties = at_first.groupby(done["customer_id"]).sum()
    later = done[~at_first].groupby("customer_id")["ordered_at"].min()
    first = done.groupby("customer_id")["ordered_at"].min()
    second = later.reindex(first.index).where(ties.reindex(first.index) < 2, first).dropna()
    gap = second - first.reindex(second.index)
    seconds = gap.dt.total_seconds()
    days = seconds / 86400
    buckets = pd.cut(days, bins=[-np.inf, *GAP_BINS, np.inf], right=True)
    counts = buckets.value_counts(sort=False)

    out = {
        "size": {
            "index": [label(c) for c in size.index],
            "values": [int(v) for v in size],
        },
        **{name: _matrix(frame, label) for name, frame in matrices.items()},
        **{name: _matrix(frame, str) for name, frame in cuts.items()},
        "gap_customers": [int(v) for v in counts],
        "gap_share": [as_float(v / len(days)) for v in counts],
        "gap_median_days": as_float(days.median()) if len(days) else None,
    }
    return {"values": out}


def _matrix(frame, label=None, cols=None) -> dict:
    """A DataFrame as JSON: ``index`` (labels), ``columns``, ``values`` (NaN → None)."""
    if cols is not None:
        frame = frame.reindex(columns=cols)
    if label is None:
        index = [c.strftime("%Y-%m") for c in frame.index]
    else:
        index = [label(c) for c in frame.index]
    return {
        "index": index,
        "columns": [str(c) for c in frame.columns],
        "values": [[as_float(v) for v in row] for row in frame.itertuples(index=False)],
    }


# --------------------------------------------------------------------------- children


def _close(x: float | None, y: float | None) -> tuple[bool, float]:
    """Both missing, or both present within REL_TOL relative; and their relative difference."""
    if x is None or y is None:
        return x is y, 0.0
    rel = 0.0 if x == y else abs(x - y) / max(abs(x), abs(y))
    return rel <= REL_TOL, rel


def compare(a: dict, b: dict) -> tuple[list[str], float, int]:
    """Mismatches as readable lines, the largest relative difference seen and the cells compared."""
    bad: list[str] = []
    worst, cells = 0.0, 0

    def check(where: str, x: float | None, y: float | None) -> None:
        nonlocal worst, cells
        ok, rel = _close(x, y)
        cells += 1
        worst = max(worst, rel)
        if not ok:
            bad.append(f"  {where}: ours={x!r} pandas={y!r} (rel {rel:.2e})")

    for name in ("size", *MATRICES, *CUTS):
        x, y = a[name], b[name]
        if x["index"] != y["index"] or x.get("columns") != y.get("columns"):
            bad.append(
                f"  {name}: shape differs: ours {x['index'][:3]}..{x['index'][-3:]} × "
                f"{x.get('columns')} vs pandas {y['index'][:3]}..{y['index'][-3:]} × "
                f"{y.get('columns')}"
            )
            continue
        if name == "size":
            for label, u, v in zip(x["index"], x["values"], y["values"], strict=True):
                check(f"size[{label}]", u, v)
            continue
        for label, row_x, row_y in zip(x["index"], x["values"], y["values"], strict=True):
            for col, u, v in zip(x["columns"], row_x, row_y, strict=True):
                check(f"{name}[{label}, {col}]", u, v)
    for name in ("gap_customers", "gap_share"):
        if len(a[name]) != len(b[name]):
            bad.append(f"  {name}: {len(a[name])} vs {len(b[name])} buckets")
            continue
        for i, (u, v) in enumerate(zip(a[name], b[name], strict=True)):
            check(f"{name}[{i}]", u, v)
    check("gap_median_days", a["gap_median_days"], b["gap_median_days"])
    return bad[:40] + ([f"  ... {len(bad) - 40} more"] if len(bad) > 40 else []), worst, cells


def run(customers: int, month: str) -> dict:
    """Both ways on the same warehouse, each in its own child process; checked to agree."""
    root = warehouse(customers)
    warm(root)
    res = {way: run_child("benchmarks.cohorts", way, root, month) for way in ("pandas", "ours")}
    bad, worst, cells = compare(res["ours"]["values"], res["pandas"]["values"])
    if bad:
        raise SystemExit(
            "cohorts benchmark: ours and pandas disagree "
            f"(tolerance {REL_TOL:g} relative):\n" + "\n".join(bad)
        )
    import pyarrow.parquet as pq

    orders = pq.ParquetFile(root / "orders" / f"{STORE}.parquet").metadata.num_rows
    ours_s, pandas_s = res["ours"]["seconds"], res["pandas"]["seconds"]
    ratio = pandas_s / ours_s

    def way(r: dict) -> dict:
        return {
            "seconds": round(r["seconds"], 3),
            "import_seconds": round(r["import_seconds"], 3),
            "process_seconds": round(r["process_seconds"], 3),
            "peak_rss_gib": round(r["peak_kib"] / 2**20, 3),
        }

    values = res["ours"]["values"]
    return {
        "customers": customers,
        "orders": orders,
        "store": STORE,
        "month": month,
        "ours": way(res["ours"]) | {"steps": res["ours"]["steps"]},
        "pandas": way(res["pandas"]),
        "ratio_pandas_over_ours": round(ratio, 2),
        "cohorts": len(values["size"]["index"]),
        "cells_compared": cells,
        "cells_missing": sum(
            v is None for name in MATRICES for row in values[name]["values"] for v in row
        ),
        "max_rel_diff": worst,
        "agree": True,
        "target_seconds": TARGET_SECONDS,
        "target_ratio": TARGET_RATIO,
        "meets_target": ours_s < TARGET_SECONDS and ratio >= TARGET_RATIO,
        **{f"cut_{name}": values[name] for name in CUTS},
        "median_days_to_second_order": values["gap_median_days"],
    }


def main(customers: int = 1_000_000, month: str = "2026-10") -> dict:
    result = write_results(RESULTS, run(customers, month))
    o, p = result["ours"], result["pandas"]
    print(
        f"cohorts: {result['cohorts']} monthly cohorts up to {month}, {customers:,} customers, "
        f"{result['orders']:,} orders: ours {o['seconds']:.2f} s (target < {TARGET_SECONDS:.0f} s), "
        f"pandas {p['seconds']:.2f} s, {result['ratio_pandas_over_ours']:.1f}x "
        f"(target >= {TARGET_RATIO:.0f}x), peak {o['peak_rss_gib']:.2f} vs "
        f"{p['peak_rss_gib']:.2f} GiB; {result['cells_compared']} cells agree "
        f"(max rel diff {result['max_rel_diff']:.1e})"
    )
    return result


if __name__ == "__main__":
    entry_point(__doc__, ours, plain_pandas, main, preload=PRELOAD)
