"""The CLV input: ``analysis.clv.rfm_summary`` against lifetimes' own summary.

What is measured, on the demo store at about 100k, 1M and 10M orders
(10k, 100k and 1M customers; one run measures all three on the same data):

- ``lifetimes``: ``lifetimes.utils.summary_data_from_transaction_data`` the
  way a lifetimes user calls it on an in-memory pandas frame of the orders
  (completed orders of registered customers, times converted to the store's
  zone and made naive, ``freq="D"``, revenue as the monetary value, the
  observation end the last instant of the report month);
- ``ours_pandas``: ``rfm_summary`` on the same in-memory pandas frame (DuckDB
  scans it in place);
- ``ours_warehouse``: ``rfm_summary`` on the warehouse's orders (Parquet,
  narwhals on DuckDB), timed from opening the warehouse.

The two pandas ways read the same columns of the orders Parquet file into a
frame first; that read is not timed, and their memory is also reported above
the frame's own footprint (the resident size after the read; the peak is reset
there with ``/proc/self/clear_refs``). Each way runs in a fresh child process
(:func:`benchmarks.harness.run_child`), three times, interleaved. In each child
the computation runs once (``first_call_seconds``: it includes what a process
pays once, such as starting DuckDB's in-memory database, about 0.02 s, and the
first touch of freshly mapped memory) and then :data:`CALLS_AFTER_FIRST` more
times; ``seconds`` is the steady-state time, the fastest of those later calls
over the three children, and the speed targets are judged on it, the way
timeit-style benchmarks time a function. The first-call times and ratios are
reported beside it (``first_call_*``; lifetimes' first call at 1M orders varies
from 0.70 to 1.01 s between processes on this machine, its later calls from
0.66 to 0.73 s). ``peak_rss_gib`` is the process's peak resident size up to the
end of the first computation (the read of the pandas ways included), taken
before the child writes its per-customer result to ``benchmarks/.cache``
(``process_peak_rss_gib`` includes that write). The parent checks that every
result has the same customers, columns and values as lifetimes' within 1e-9
relative, else the benchmark fails.

Then, on the 1M-customer store (``--fit-customers``), each in a fresh child:

- ``fit_collapsed`` / ``fit_uncollapsed``: BG/NBD and Gamma-Gamma fitted as the
  report fits them (identical rows collapsed, ``weights``) and as a lifetimes
  user fits them (one row per customer), from the same summary (computed
  untimed); the parameters must agree within ``FIT_REL_TOL``;
- ``section``: the whole CLV section (:func:`analysis.clv.section.clv_section`:
  both summaries, the three-model holdout comparison, the final fit, spend,
  per-customer predictions and CLV, chart data), from opening the warehouse,
  with the default params.

Targets: at 1M orders ``ours_pandas`` at least 5x faster than lifetimes; at
10M orders ``ours_warehouse`` at least 10x faster than lifetimes, with a peak
resident memory under a fifth of lifetimes'; the whole section at 1M customers
under 60 s on 2 cores.

Results go to ``benchmarks/results/clv.json``. Usage:
``python -m benchmarks.clv`` (all sizes), ``python -m benchmarks.clv
--customers 10000 --fit-customers 10000 --output /tmp/clv.json`` (a quick
smoke run that leaves the committed results alone).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

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
RESULTS = HERE / "results" / "clv.json"
MODULE = "benchmarks.clv"
SIZES = (10_000, 100_000, 1_000_000)  # customers: ~100k, ~1M, ~10M orders
REL_TOL = 1e-9
TARGET_RATIO_PANDAS_1M = 5.0  # ours_pandas vs lifetimes at 100k customers (~1M orders)
TARGET_RATIO_WAREHOUSE_10M = 10.0  # ours_warehouse vs lifetimes at 1M customers (~10M orders)
REPEATS = 3  # fresh children per way and size; the fastest run is reported
CALLS_AFTER_FIRST = 2  # further calls in each child, for the steady-state time
TARGET_MEMORY_SHARE_10M = 0.2  # ours_warehouse peak RSS / lifetimes peak RSS at ~10M orders
TARGET_SECTION_SECONDS = 60.0  # the whole CLV section at 1M customers, 2 cores
FIT_REL_TOL = 1e-4  # collapsed vs per-customer fitted parameters (both BFGS to gtol 1e-7)
COLUMNS = ["customer_id", "ordered_at", "revenue", "status"]
WAYS = ("lifetimes", "ours_pandas", "ours_warehouse")


# --------------------------------------------------------------------------- the ways


def _observation_end(month: str):
    """The last local day of the report month (a ``datetime.date``)."""
    import pandas as pd

    return (pd.Period(month, "M").end_time).date()


def _output(root: Path, way: str) -> Path:
    return CACHE / f"clv-{root.name}-{way}.parquet"


def _read_frame(root: Path):
    """The orders as the pandas ways hold them: the Parquet columns both need."""
    import pandas as pd

    return pd.read_parquet(root / "orders" / f"{STORE}.parquet", columns=COLUMNS)


def _memory_kib() -> tuple[int, int]:
    """Current and peak resident size of this process since the last reset (KiB)."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def _reset_peak() -> bool:
    """Reset this process's peak resident size (Linux >= 4.0); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _import_engine() -> None:
    """Import what narwhals loads lazily on first use, so that imports are not timed."""
    import narwhals._arrow.dataframe
    import narwhals._duckdb.dataframe
    import narwhals._duckdb.namespace  # noqa: F401
    import pyarrow.pandas_compat  # noqa: F401


def _again(compute) -> list[float]:
    """Times of :data:`CALLS_AFTER_FIRST` further calls of ``compute()`` in this process."""
    times = []
    for _ in range(CALLS_AFTER_FIRST):
        t0 = time.perf_counter()
        compute()
        times.append(time.perf_counter() - t0)
    return times


def _timed_from_frame(root: Path, way: str, compute) -> dict:
    """Read the frame (untimed), then time ``compute(frame)``; memory above the frame too."""
    frame = _read_frame(root)
    frame_kib = int(frame.memory_usage(deep=True).sum() // 1024)
    _, read_peak_kib = _memory_kib()
    reset = _reset_peak()
    before_kib, _ = _memory_kib()
    t0 = time.perf_counter()
    result = compute(frame)
    seconds = time.perf_counter() - t0
    _, peak_kib = _memory_kib()
    again = _again(lambda: compute(frame))
    result.to_parquet(_output(root, way))
    return {
        "seconds": seconds,
        "again_seconds": again,
        "rows": len(frame),
        "frame_kib": frame_kib,
        "rss_after_read_kib": before_kib,
        "peak_above_frame_kib": peak_kib - before_kib if reset else None,
        "peak_computed_kib": max(read_peak_kib, peak_kib),
    }


def lifetimes(root: Path, month: str) -> dict:
    """lifetimes' summary on the in-memory frame, the way a lifetimes user writes it."""
    import pandas as pd

    from analysis.compat import import_lifetimes

    import_lifetimes()
    from lifetimes.utils import summary_data_from_transaction_data

    end = pd.Timestamp(_observation_end(month)) + pd.Timedelta(days=1) - pd.Timedelta(1, "us")

    def compute(frame: pd.DataFrame) -> pd.DataFrame:
        done = frame[(frame["status"] == "completed") & frame["customer_id"].notna()]
        done = done[["customer_id", "ordered_at", "revenue"]].copy()
        done["ordered_at"] = done["ordered_at"].dt.tz_convert(TIMEZONE).dt.tz_localize(None)
        return summary_data_from_transaction_data(
            done, "customer_id", "ordered_at", monetary_value_col="revenue",
            observation_period_end=end, freq="D",
        )  # fmt: skip

    return _timed_from_frame(root, "lifetimes", compute)


def ours_pandas(root: Path, month: str) -> dict:
    """``rfm_summary`` on the same in-memory frame."""
    from analysis.clv import rfm_summary

    _import_engine()
    end = _observation_end(month)
    return _timed_from_frame(
        root, "ours_pandas", lambda frame: rfm_summary(frame, end, timezone=TIMEZONE)
    )


def ours_warehouse(root: Path, month: str) -> dict:
    """``rfm_summary`` on the warehouse's orders, from opening the warehouse."""
    from analysis.calendar import month_bounds
    from analysis.clv import rfm_summary
    from analysis.warehouse import StoreWarehouse

    _import_engine()

    def compute():
        _, end_instant = month_bounds(month, TIMEZONE)
        wh = StoreWarehouse(root, STORE, TIMEZONE)
        return rfm_summary(
            wh.table("orders", end=end_instant), _observation_end(month), timezone=TIMEZONE
        )

    t0 = time.perf_counter()
    result = compute()
    seconds = time.perf_counter() - t0
    _, peak_kib = _memory_kib()
    again = _again(compute)
    result.to_parquet(_output(root, "ours_warehouse"))
    return {"seconds": seconds, "again_seconds": again, "peak_computed_kib": peak_kib}


def _summary_for_fit(root: Path, month: str):
    """The daily summary the fits start from (computed untimed, from the warehouse)."""
    from analysis.calendar import month_bounds
    from analysis.clv import rfm_summary
    from analysis.warehouse import StoreWarehouse

    _, end_instant = month_bounds(month, TIMEZONE)
    wh = StoreWarehouse(root, STORE, TIMEZONE)
    return rfm_summary(
        wh.table("orders", end=end_instant), _observation_end(month), timezone=TIMEZONE
    )


def fit_collapsed(root: Path, month: str) -> dict:
    """BG/NBD and Gamma-Gamma as the report fits them: distinct rows with weights."""
    from analysis import clv
    from analysis.compat import import_lifetimes

    import_lifetimes()  # imported before the clock, as in fit_uncollapsed
    summary = _summary_for_fit(root, month)
    t0 = time.perf_counter()
    fit = clv.fit_model(summary, "bgnbd")
    t1 = time.perf_counter()
    spend = clv.fit_spend(summary)
    t2 = time.perf_counter()
    return {
        "bgnbd_seconds": t1 - t0,
        "gamma_gamma_seconds": t2 - t1,
        "bgnbd_rows": fit.diagnostics.n_rows_fitted,
        "gamma_gamma_rows": spend.diagnostics.n_rows_fitted,
        "customers": fit.diagnostics.n_customers,
        "bgnbd_params": fit.params,
        "gamma_gamma_params": spend.params,
    }


def fit_uncollapsed(root: Path, month: str) -> dict:
    """The same two fits the way a lifetimes user writes them: one row per customer."""
    import contextlib
    import io

    from analysis.compat import import_lifetimes, quiet_lifetimes

    lt = import_lifetimes()
    summary = _summary_for_fit(root, month)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    with quiet_lifetimes(), contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        bgf = lt.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
        t1 = time.perf_counter()
        # spend divided by its mean as fit_spend does (same optimiser path), v scaled back
        scale = float(repeat["monetary_value"].mean())
        ggf = lt.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"] / scale)
        t2 = time.perf_counter()
    gg = {k: float(v) for k, v in ggf.params_.items()}
    gg["v"] *= scale
    return {
        "bgnbd_seconds": t1 - t0,
        "gamma_gamma_seconds": t2 - t1,
        "bgnbd_rows": len(summary),
        "gamma_gamma_rows": len(repeat),
        "customers": len(summary),
        "bgnbd_params": {k: float(v) for k, v in bgf.params_.items()},
        "gamma_gamma_params": gg,
    }


def section(root: Path, month: str) -> dict:
    """The whole CLV section (``analysis.clv.section.clv_section``), from opening the warehouse.

    Parameters as ``params/default.yaml`` sets them for the store; the
    pseudonym key is a fixed test key (no file is written).
    """
    from analysis.calendar import month_bounds
    from analysis.clv.section import clv_section
    from analysis.config import load_params
    from analysis.warehouse import StoreWarehouse

    _import_engine()
    p = load_params(STORE)
    t0 = time.perf_counter()
    _, end_instant = month_bounds(month, TIMEZONE)
    wh = StoreWarehouse(root, STORE, TIMEZONE)
    result = clv_section(
        wh.table("orders", end=end_instant),
        observation_end=_observation_end(month),
        timezone=TIMEZONE,
        holdout_days=p.clv.holdout_days,
        horizon_months=p.clv.horizon_months,
        monthly_discount_rate=p.clv.monthly_discount_rate,
        model=p.clv.model,
        comparison_customers=p.clv.comparison_customers,
        seed=p.seed,
        top_n=p.clv.top_customers,
        pseudonym_key=b"benchmark",
    )
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "steps_seconds": {k: round(v, 3) for k, v in result.timings.items()},
        "customers": len(result.summary),
        "chosen": result.comparison.chosen,
        "comparison_customers": len(result.comparison.predictions),
        "rows_fitted": result.fit.diagnostics.n_rows_fitted,
    }


def fit_row_collapsing(customers: int, month: str) -> dict:
    """BG/NBD + Gamma-Gamma with and without row collapsing, each in a fresh child."""
    root = warehouse(customers)
    res = {way: run_child(MODULE, way, root, month) for way in ("fit_collapsed", "fit_uncollapsed")}
    collapsed, plain = res["fit_collapsed"]["values"], res["fit_uncollapsed"]["values"]
    worst = 0.0
    for model in ("bgnbd_params", "gamma_gamma_params"):
        for key, value in plain[model].items():
            worst = max(worst, abs(collapsed[model][key] / value - 1))
    if worst > FIT_REL_TOL:
        raise SystemExit(
            f"clv benchmark: collapsed and per-customer fits disagree (max rel diff {worst:.1e})"
        )

    def way(r: dict) -> dict:
        v = r["values"]
        return {
            "bgnbd_seconds": round(v["bgnbd_seconds"], 3),
            "gamma_gamma_seconds": round(v["gamma_gamma_seconds"], 3),
            "bgnbd_rows": v["bgnbd_rows"],
            "gamma_gamma_rows": v["gamma_gamma_rows"],
            "peak_rss_gib": round(r["peak_kib"] / 2**20, 3),
        }

    out = {"customers": collapsed["customers"], "max_rel_param_diff": worst}
    out |= {"collapsed": way(res["fit_collapsed"]), "per_customer": way(res["fit_uncollapsed"])}
    out["bgnbd_speedup"] = round(plain["bgnbd_seconds"] / collapsed["bgnbd_seconds"], 2)
    return out


def time_section(customers: int, month: str) -> dict:
    """The whole CLV section on the store, in a fresh child."""
    root = warehouse(customers)
    warm(root)
    r = run_child(MODULE, "section", root, month)
    v = r["values"]
    return {
        "customers": v["customers"],
        "seconds": round(v["seconds"], 3),
        "steps_seconds": v["steps_seconds"],
        "chosen": v["chosen"],
        "comparison_customers": v["comparison_customers"],
        "rows_fitted": v["rows_fitted"],
        "peak_rss_gib": round(r["peak_kib"] / 2**20, 3),
        "target_seconds": TARGET_SECTION_SECONDS,
        "met": v["seconds"] < TARGET_SECTION_SECONDS,
    }


CHILDREN = {
    "lifetimes": lifetimes,
    "ours_pandas": ours_pandas,
    "ours_warehouse": ours_warehouse,
    "fit_collapsed": fit_collapsed,
    "fit_uncollapsed": fit_uncollapsed,
    "section": section,
}


# --------------------------------------------------------------------------- checks


def compare(ours_path: Path, ref_path: Path) -> tuple[list[str], float]:
    """Mismatches (readable lines) of two per-customer results, and the largest relative diff."""
    import numpy as np
    import pandas as pd

    ours, ref = pd.read_parquet(ours_path), pd.read_parquet(ref_path).sort_index()
    bad: list[str] = []
    if list(ours.columns) != list(ref.columns):
        return [f"  columns differ: {list(ours.columns)} vs {list(ref.columns)}"], float("inf")
    if len(ours) != len(ref) or not (ours.index.astype(str) == ref.index.astype(str)).all():
        return [f"  customers differ: {len(ours)} vs {len(ref)} rows"], float("inf")
    x, y = ours.to_numpy(dtype=float), ref.to_numpy(dtype=float)
    scale = np.maximum(np.abs(x), np.abs(y))
    rel = np.where(x == y, 0.0, np.abs(x - y) / np.where(scale == 0, 1.0, scale))
    worst = float(rel.max()) if rel.size else 0.0
    for row, col in zip(*np.nonzero(rel > REL_TOL), strict=True):
        if len(bad) >= 20:
            bad.append("  ...")
            break
        bad.append(
            f"  {ref.index[row]} {ref.columns[col]}: ours={x[row, col]!r} "
            f"lifetimes={y[row, col]!r} (rel {rel[row, col]:.2e})"
        )
    return bad, worst


def run_size(customers: int, month: str) -> dict:
    """Every way on one warehouse, each in a fresh child; checked against lifetimes."""
    import pyarrow.parquet as pq

    root = warehouse(customers)
    warm(root)
    res = {}
    for way in WAYS:
        # Best of REPEATS fresh children, the ways interleaved run by run: single runs
        # of lifetimes at 1M orders varied from 0.75 s to 0.99 s on this machine.
        res[way] = []
    for _ in range(REPEATS):
        for way in WAYS:
            res[way].append(run_child(MODULE, way, root, month))
    runs = {way: [r["values"]["seconds"] for r in rs] for way, rs in res.items()}
    steady_runs = {way: [min(r["values"]["again_seconds"]) for r in rs] for way, rs in res.items()}
    res = {way: min(rs, key=lambda r: r["values"]["seconds"]) for way, rs in res.items()}
    checks = {}
    for way in ("ours_pandas", "ours_warehouse"):
        bad, worst = compare(_output(root, way), _output(root, "lifetimes"))
        if bad:
            raise SystemExit(
                f"clv benchmark ({customers:,} customers): {way} and lifetimes disagree "
                f"(tolerance {REL_TOL:g} relative):\n" + "\n".join(bad)
            )
        checks[way] = worst
    orders = pq.ParquetFile(root / "orders" / f"{STORE}.parquet").metadata.num_rows
    import pandas as pd

    customers_out = len(pd.read_parquet(_output(root, "lifetimes"), columns=[]))

    def gib(kib: int | None) -> float | None:
        return None if kib is None else round(kib / 2**20, 3)

    def way(r: dict) -> dict:
        v = r["values"]
        out = {
            "first_call_seconds": round(v["seconds"], 3),
            "child_seconds": round(r["seconds"], 3),
            "import_seconds": round(r["import_seconds"], 3),
            "process_seconds": round(r["process_seconds"], 3),
            # up to the end of the computation (before the result is written for the check)
            "peak_rss_gib": gib(v.get("peak_computed_kib", r["peak_kib"])),
            "process_peak_rss_gib": gib(r["peak_kib"]),
        }
        if "frame_kib" in v:
            out |= {
                "frame_gib": gib(v["frame_kib"]),
                "rss_after_read_gib": gib(v["rss_after_read_kib"]),
                "peak_above_frame_gib": gib(v["peak_above_frame_kib"]),
            }
        return out

    ways = {
        name: way(r)
        | {
            "seconds": round(min(steady_runs[name]), 3),
            "steady_runs_seconds": [round(x, 3) for x in steady_runs[name]],
            "first_call_runs_seconds": [round(x, 3) for x in runs[name]],
        }
        for name, r in res.items()
    }

    def ratio(key: str, ours: str) -> float:
        return round(ways["lifetimes"][key] / ways[ours][key], 2)

    return {
        "customers": customers,
        "orders": orders,
        "summary_rows": customers_out,
        **ways,
        "ratio_lifetimes_over_ours_pandas": ratio("seconds", "ours_pandas"),
        "ratio_lifetimes_over_ours_warehouse": ratio("seconds", "ours_warehouse"),
        "first_call_ratio_lifetimes_over_ours_pandas": ratio("first_call_seconds", "ours_pandas"),
        "first_call_ratio_lifetimes_over_ours_warehouse": ratio(
            "first_call_seconds", "ours_warehouse"
        ),
        "memory_share_ours_warehouse": round(
            ways["ours_warehouse"]["peak_rss_gib"] / ways["lifetimes"]["peak_rss_gib"], 3
        ),
        "max_rel_diff": checks,
        "agree": True,
    }


def _target(value: float, target: float, *, at_least: bool) -> dict:
    """A target record: the value, the target and whether it is met (>= or <)."""
    return {
        "target": target,
        "value": value,
        "met": value >= target if at_least else value < target,
    }


def main(
    sizes: tuple[int, ...] = SIZES,
    month: str = "2026-10",
    fit_customers: int = 1_000_000,
    output: Path = RESULTS,
) -> dict:
    results = {f"{c}": run_size(c, month) for c in sizes}
    targets = {}
    if "100000" in results:
        r = results["100000"]
        targets["ours_pandas_1M_ratio"] = _target(
            r["ratio_lifetimes_over_ours_pandas"], TARGET_RATIO_PANDAS_1M, at_least=True
        ) | {"first_call_value": r["first_call_ratio_lifetimes_over_ours_pandas"]}
    if "1000000" in results:
        r = results["1000000"]
        targets["ours_warehouse_10M_ratio"] = _target(
            r["ratio_lifetimes_over_ours_warehouse"], TARGET_RATIO_WAREHOUSE_10M, at_least=True
        ) | {"first_call_value": r["first_call_ratio_lifetimes_over_ours_warehouse"]}
        targets["ours_warehouse_10M_memory_share"] = _target(
            r["memory_share_ours_warehouse"], TARGET_MEMORY_SHARE_10M, at_least=False
        )
    fits = fit_row_collapsing(fit_customers, month)
    whole = time_section(fit_customers, month)
    if fit_customers >= 1_000_000:
        targets["section_1M_seconds"] = _target(
            whole["seconds"], TARGET_SECTION_SECONDS, at_least=False
        )
    result = write_results(
        output,
        {
            "store": STORE,
            "month": month,
            "by_customers": results,
            "targets": targets,
            "meets_targets": all(t["met"] for t in targets.values()),
            "fit_row_collapsing": fits,
            "section": whole,
        },
    )
    for c, r in results.items():
        lt, op, ow = r["lifetimes"], r["ours_pandas"], r["ours_warehouse"]
        print(
            f"clv: {int(c):,} customers, {r['orders']:,} orders: lifetimes {lt['seconds']:.2f} s "
            f"(peak {lt['peak_rss_gib']:.2f} GiB, +{lt['peak_above_frame_gib']} above frame), "
            f"ours/pandas {op['seconds']:.3f} s ({r['ratio_lifetimes_over_ours_pandas']:.1f}x; "
            f"first call {op['first_call_seconds']:.3f} s vs {lt['first_call_seconds']:.2f} s, "
            f"{r['first_call_ratio_lifetimes_over_ours_pandas']:.1f}x; "
            f"+{op['peak_above_frame_gib']} GiB above frame), ours/warehouse "
            f"{ow['seconds']:.3f} s ({r['ratio_lifetimes_over_ours_warehouse']:.1f}x, peak "
            f"{ow['peak_rss_gib']:.2f} GiB = {r['memory_share_ours_warehouse']:.0%} of lifetimes'); "
            f"agree (max rel diff {max(r['max_rel_diff'].values()):.1e})"
        )
    c, u = fits["collapsed"], fits["per_customer"]
    print(
        f"clv fits, {fits['customers']:,} customers: BG/NBD on {c['bgnbd_rows']:,} distinct rows "
        f"{c['bgnbd_seconds']:.2f} s vs {u['bgnbd_rows']:,} rows {u['bgnbd_seconds']:.2f} s; "
        f"Gamma-Gamma {c['gamma_gamma_seconds']:.2f} s vs {u['gamma_gamma_seconds']:.2f} s "
        f"(max rel param diff {fits['max_rel_param_diff']:.1e})"
    )
    print(
        f"clv section, {whole['customers']:,} customers: {whole['seconds']:.1f} s "
        f"(steps {whole['steps_seconds']}; chosen {whole['chosen']})"
    )
    for name, t in targets.items():
        print(
            f"  target {name}: {t['value']} (target {t['target']}) {'met' if t['met'] else 'MISSED'}"
        )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--customers", type=int, nargs="+", default=list(SIZES), help="demo sizes to run"
    )
    parser.add_argument("--month", default="2026-10")
    parser.add_argument(
        "--fit-customers", type=int, default=1_000_000,
        help="store size of the fit and whole-section timings",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS, help="results JSON file")
    parser.add_argument("--child", choices=list(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(CHILDREN[args.child], args.root, args.month, time.perf_counter(), wrap=True)
    else:
        main(tuple(args.customers), args.month, args.fit_customers, args.output)
