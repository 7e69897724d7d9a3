"""Experiment readout on a 1M-customer experiment: ``analysis.experiments.readout`` against hand-written SQL.

Targets: at 1,000,000 assigned customers (the 1M-customer demo store, ~9.6M
orders) the whole readout (per-customer outcomes before and after assignment,
winsorisation caps, per-arm sums of four metrics and their covariates, per-bucket
sums, then SRM, CUPED, power, Holm and a 1,000-resample bootstrap) takes under
15 s on 2 cores, and at most 1.5x the time of one hand-written DuckDB query that
computes the same per-arm sums (the least any readout must do). The plain-pandas
way (``read_parquet`` the orders, group by customer, scipy and a numpy bootstrap
over customers) runs beside them for scale.

The experiment assigns every customer of the store at 2026-05-01 00:00 Bangkok
time, half to ``invitation`` and half to ``holdout`` by a seeded permutation; it is
written once into ``benchmarks/.cache/experiment-<customers>/experiments.parquet``.
The per-arm sums of the three ways must agree within 1e-9 relative, else the
benchmark fails. Results: ``benchmarks/results/experiments.json``.

Usage: ``python -m benchmarks.experiments --customers 1000000 --month 2026-10``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.harness import (
    CACHE,
    SEED,
    STORE,
    TIMEZONE,
    child,
    run_child,
    warehouse,
    warm,
    write_results,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "experiments.json"
TARGET_SECONDS = 15.0
TARGET_RATIO = 1.5
REL_TOL = 1e-9
ASSIGNED_LOCAL = "2026-05-01 00:00:00"
PERCENTILE = 99.9
RETENTION_DAYS = 90
METRICS = ("revenue", "orders", "repeat", "retained")
WAYS = ("ours", "sql", "pandas")
PRELOAD = {
    "ours": ["narwhals", "analysis.experiments.readout", "analysis.warehouse"],
    "sql": ["duckdb"],
    "pandas": ["pandas", "numpy", "scipy.stats", "pyarrow.parquet"],
}


def experiment_file(root: Path) -> Path:
    """The benchmark's experiment: every customer of the store, 50/50, written once."""
    import numpy as np
    import pandas as pd

    path = CACHE / f"experiment-{root.name.rsplit('-', 1)[-1]}" / "experiments.parquet"
    if path.exists():
        return path
    ids = pd.read_parquet(root / "customers" / f"{STORE}.parquet", columns=["customer_id"])
    ids = ids["customer_id"].sort_values().to_numpy()
    rng = np.random.default_rng(SEED)
    variant = np.where(rng.permutation(len(ids)) < len(ids) // 2, "invitation", "holdout")
    at = pd.Timestamp(ASSIGNED_LOCAL, tz=TIMEZONE).tz_convert("UTC")
    frame = pd.DataFrame(
        {"experiment_id": "bench", "customer_id": ids, "store_id": STORE, "variant": variant}
    ).assign(assigned_at=at)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path.with_suffix(".tmp"), index=False)
    path.with_suffix(".tmp").rename(path)
    return path


def _end(month: str):
    from analysis.calendar import month_bounds

    return month_bounds(month, TIMEZONE)[1]


def _sums_json(sums) -> dict:
    """Per-arm sums as JSON: variant -> column -> float."""
    frame = sums.set_index("variant").sort_index()
    return {
        str(v): {c: float(frame.loc[v, c]) for c in frame.columns if c != "variant"}
        for v in frame.index
    }


# --------------------------------------------------------------------------- ours


def ours(root: Path, month: str) -> dict:
    """The readout as the loyalty page computes it (narwhals on DuckDB, stats on the sums)."""
    import narwhals as nw

    from analysis.config import default_params
    from analysis.experiments import outcomes as out
    from analysis.experiments.readout import experiment_readout
    from analysis.warehouse import StoreWarehouse

    end = _end(month)
    wh = StoreWarehouse(root, STORE, TIMEZONE)
    experiments = nw.from_native(wh.connection.read_parquet(str(experiment_file(root))))
    params = default_params().experiment.model_copy(
        update={"winsorize_percentile": PERCENTILE, "retention_days": RETENTION_DAYS}
    )
    persisted: list[nw.LazyFrame] = []

    def persist(frame: nw.LazyFrame) -> nw.LazyFrame:
        persisted.append(wh.persist(frame))
        return persisted[-1]

    readout = experiment_readout(
        experiments, wh.table("orders", end=end), "bench", end, params, SEED, persist=persist
    )
    cap, pre_cap = readout.winsorisation.cap, out.revenue_caps(persisted[0], PERCENTILE)[1]
    primary = readout.primary[0]
    return {
        "sums": _sums_json(out.metric_sums(persisted[0], cap, pre_cap)),
        "caps": [cap, pre_cap],
        "primary_rel_ci": [primary.reported.rel_ci_low, primary.reported.rel_ci_high],
        "bootstrap_rel_ci": [primary.bootstrap.rel_ci_low, primary.bootstrap.rel_ci_high]
        if primary.bootstrap
        else None,
    }


# --------------------------------------------------------------------------- hand-written SQL


def sql(root: Path, month: str) -> dict:
    """One DuckDB query: per-customer outcomes, caps and the per-arm sums (no statistics)."""
    import duckdb

    end = _end(month).isoformat()
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    metric_columns = {
        "revenue": ("least(revenue, cap)", "least(revenue_pre, cap_pre)"),
        "orders": ("orders::DOUBLE", "orders_pre::DOUBLE"),
        "repeat": ("repeat::DOUBLE", "repeat_pre::DOUBLE"),
        "retained": ("retained::DOUBLE", "retained_pre::DOUBLE"),
    }
    aggs = []
    for m, (y, x) in metric_columns.items():
        known = f"({m} IS NOT NULL)"
        aggs += [
            f"sum({known}::BIGINT)::DOUBLE AS {m}_n",
            f"coalesce(sum({y}), 0)::DOUBLE AS {m}_y",
            f"coalesce(sum(({y}) * ({y})), 0)::DOUBLE AS {m}_y2",
            f"sum(CASE WHEN {known} THEN {x} ELSE 0 END)::DOUBLE AS {m}_x",
            f"sum(CASE WHEN {known} THEN ({x}) * ({x}) ELSE 0 END)::DOUBLE AS {m}_x2",
            f"coalesce(sum(({y}) * ({x})), 0)::DOUBLE AS {m}_xy",
        ]
    query = f"""
    WITH a AS (
        SELECT customer_id, min(variant) AS variant, min(assigned_at) AS asg
        FROM read_parquet('{experiment_file(root)}') WHERE experiment_id = 'bench'
        GROUP BY customer_id HAVING count(DISTINCT variant) = 1
    ), o AS (
        SELECT o.customer_id, o.ordered_at AS t, o.revenue, a.asg,
               a.asg - (TIMESTAMPTZ '{end}' - a.asg) AS pre_start
        FROM read_parquet('{root / "orders" / f"{STORE}.parquet"}') o JOIN a USING (customer_id)
        WHERE o.status = 'completed' AND o.ordered_at < TIMESTAMPTZ '{end}'
    ), f AS (
        SELECT customer_id,
            sum(CASE WHEN t >= asg THEN revenue ELSE 0 END) AS revenue,
            sum(CASE WHEN t < asg AND t >= pre_start THEN revenue ELSE 0 END) AS revenue_pre,
            count(*) FILTER (t >= asg) AS orders,
            count(*) FILTER (t < asg AND t >= pre_start) AS orders_pre,
            count(*) FILTER (t < asg) AS before,
            count(*) FILTER (t < pre_start) AS before_pre,
            count(*) FILTER (t >= asg AND t < asg + INTERVAL {RETENTION_DAYS} DAY) AS kept,
            count(*) FILTER (t < asg AND t >= asg - INTERVAL {RETENTION_DAYS} DAY) AS kept_pre
        FROM o GROUP BY customer_id
    ), c AS (
        SELECT a.variant, coalesce(revenue, 0) AS revenue, coalesce(revenue_pre, 0) AS revenue_pre,
            coalesce(orders, 0) AS orders, coalesce(orders_pre, 0) AS orders_pre,
            (coalesce(orders, 0) >= 1 AND (coalesce(orders, 0) >= 2 OR coalesce(before, 0) >= 1))::INT AS repeat,
            (coalesce(orders_pre, 0) >= 1 AND (coalesce(orders_pre, 0) >= 2 OR coalesce(before_pre, 0) >= 1))::INT AS repeat_pre,
            CASE WHEN a.asg + INTERVAL {RETENTION_DAYS} DAY <= TIMESTAMPTZ '{end}'
                 THEN (coalesce(kept, 0) >= 1)::INT END AS retained,
            (coalesce(kept_pre, 0) >= 1)::INT AS retained_pre
        FROM a LEFT JOIN f USING (customer_id)
    ), caps AS (
        SELECT quantile_cont(revenue, {PERCENTILE / 100}) AS cap,
               quantile_cont(revenue_pre, {PERCENTILE / 100}) AS cap_pre FROM c
    )
    SELECT variant, count(*)::DOUBLE AS customers, sum(revenue)::DOUBLE AS revenue_raw,
        sum((revenue > cap)::BIGINT)::DOUBLE AS capped, {", ".join(aggs)}, any_value(cap) AS cap,
        any_value(cap_pre) AS cap_pre
    FROM c, caps GROUP BY variant ORDER BY variant
    """
    sums = con.sql(query).df()
    caps = [float(sums["cap"].iloc[0]), float(sums["cap_pre"].iloc[0])]
    return {"sums": _sums_json(sums.drop(columns=["cap", "cap_pre"])), "caps": caps}


# --------------------------------------------------------------------------- plain pandas


def plain_pandas(root: Path, month: str) -> dict:
    """The way an analyst writes it: read_parquet the orders, per-customer sums, scipy, numpy."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    end = pd.Timestamp(_end(month))
    exp = pd.read_parquet(experiment_file(root))
    orders = pd.read_parquet(
        root / "orders" / f"{STORE}.parquet",
        columns=["customer_id", "ordered_at", "revenue", "status"],
    )
    orders = orders[(orders["status"] == "completed") & (orders["ordered_at"] < end)]
    o = orders.merge(exp[["customer_id", "assigned_at"]], on="customer_id")
    at, t = o["assigned_at"], o["ordered_at"]
    pre_start = at - (end - at)
    window = pd.Timedelta(days=RETENTION_DAYS)
    o = o.assign(
        post=(t >= at), pre=(t < at) & (t >= pre_start), before=(t < at), before_pre=(t < pre_start),
        kept=(t >= at) & (t < at + window), kept_pre=(t < at) & (t >= at - window),
    )  # fmt: skip
    o["rev_post"] = o["revenue"].where(o["post"], 0.0)
    o["rev_pre"] = o["revenue"].where(o["pre"], 0.0)
    g = o.groupby("customer_id")[
        ["rev_post", "rev_pre", "post", "pre", "before", "before_pre", "kept", "kept_pre"]
    ].sum()
    c = exp.set_index("customer_id")[["variant", "assigned_at"]].join(g).fillna(0)
    c["repeat"] = ((c["post"] >= 1) & ((c["post"] >= 2) | (c["before"] >= 1))).astype(float)
    c["repeat_pre"] = ((c["pre"] >= 1) & ((c["pre"] >= 2) | (c["before_pre"] >= 1))).astype(float)
    c["retained"] = (c["kept"] >= 1).astype(float).where(c["assigned_at"] + window <= end)
    c["retained_pre"] = (c["kept_pre"] >= 1).astype(float)
    cap = float(np.percentile(c["rev_post"], PERCENTILE))
    cap_pre = float(np.percentile(c["rev_pre"], PERCENTILE))
    cols = {
        "revenue": (c["rev_post"].clip(upper=cap), c["rev_pre"].clip(upper=cap_pre)),
        "orders": (c["post"].astype(float), c["pre"].astype(float)),
        "repeat": (c["repeat"], c["repeat_pre"]),
        "retained": (c["retained"], c["retained_pre"]),
    }
    sums = {}
    for variant, idx in c.groupby("variant").groups.items():
        row = {
            "customers": float(len(idx)),
            "revenue_raw": float(c.loc[idx, "rev_post"].sum()),
            "capped": float((c.loc[idx, "rev_post"] > cap).sum()),
        }
        for m, (y, x) in cols.items():
            yy, xx = y.loc[idx], x.loc[idx]
            known = yy.notna()
            yy, xx = yy[known], xx[known]
            row.update(
                {f"{m}_n": float(known.sum()), f"{m}_y": float(yy.sum()),
                 f"{m}_y2": float((yy * yy).sum()), f"{m}_x": float(xx.sum()),
                 f"{m}_x2": float((xx * xx).sum()), f"{m}_xy": float((yy * xx).sum())}
            )  # fmt: skip
        sums[str(variant)] = row
    y = cols["revenue"][0]
    hold, inv = y[c["variant"] == "holdout"].to_numpy(), y[c["variant"] == "invitation"].to_numpy()
    stats.ttest_ind(inv, hold, equal_var=False)
    rng = np.random.default_rng(SEED)
    boots = [
        rng.choice(inv, len(inv)).mean() / rng.choice(hold, len(hold)).mean() - 1
        for _ in range(1000)
    ]
    return {
        "sums": sums,
        "caps": [cap, cap_pre],
        "bootstrap_rel_ci": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
    }


# --------------------------------------------------------------------------- run


def compare(a: dict, b: dict) -> tuple[list[str], float, int]:
    """Mismatching sums and caps as lines, the largest relative difference and the cells compared."""
    bad, worst, cells = [], 0.0, 0
    pairs = [
        (f"caps[{i}]", x, y) for i, (x, y) in enumerate(zip(a["caps"], b["caps"], strict=True))
    ]
    for variant in sorted(set(a["sums"]) | set(b["sums"])):
        for col in sorted(set(a["sums"].get(variant, {})) | set(b["sums"].get(variant, {}))):
            pairs.append(
                (f"{variant}.{col}", a["sums"].get(variant, {}).get(col),
                 b["sums"].get(variant, {}).get(col))
            )  # fmt: skip
    for where, x, y in pairs:
        cells += 1
        if x is None or y is None:
            bad.append(f"  {where}: {x!r} vs {y!r}")
            continue
        rel = 0.0 if x == y else abs(x - y) / max(abs(x), abs(y))
        worst = max(worst, rel)
        if rel > REL_TOL:
            bad.append(f"  {where}: {x!r} vs {y!r} (rel {rel:.2e})")
    return bad, worst, cells


def run(customers: int, month: str) -> dict:
    root = warehouse(customers)
    experiment_file(root)
    warm(root)
    result: dict = {"customers": customers, "month": month, "assigned_at_local": ASSIGNED_LOCAL}
    for way in WAYS:
        result[way] = run_child("benchmarks.experiments", way, root, month)
    for way in ("sql", "pandas"):
        bad, worst, cells = compare(result["ours"], result[way])
        if bad:
            raise SystemExit(f"experiments: ours and {way} disagree:\n" + "\n".join(bad))
        result[f"max_rel_diff_{way}"] = worst
        result["cells_compared"] = cells
    for way in WAYS:
        result[way].pop("sums", None)
    result["ratio_ours_over_sql"] = round(result["ours"]["seconds"] / result["sql"]["seconds"], 2)
    result["ratio_pandas_over_ours"] = round(
        result["pandas"]["seconds"] / result["ours"]["seconds"], 2
    )
    result["target_seconds"], result["target_ratio"] = TARGET_SECONDS, TARGET_RATIO
    return result


def main(customers: int = 1_000_000, month: str = "2026-10") -> dict:
    result = write_results(RESULTS, run(customers, month))
    o, s, p = result["ours"], result["sql"], result["pandas"]
    print(
        f"experiments: readout of {customers:,} assigned customers up to {month}: ours "
        f"{o['seconds']:.2f} s (target < {TARGET_SECONDS:.0f} s), hand-written SQL sums "
        f"{s['seconds']:.2f} s, ours/SQL {result['ratio_ours_over_sql']:.2f}x (target <= "
        f"{TARGET_RATIO}x), plain pandas {p['seconds']:.2f} s "
        f"({result['ratio_pandas_over_ours']:.1f}x ours); {result['cells_compared']} sums agree"
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
        fn = {"ours": ours, "sql": sql, "pandas": plain_pandas}[args.child]
        child(fn, args.root, args.month, time.perf_counter(), preload=PRELOAD[args.child])
    else:
        main(args.customers, args.month)
