"""KPI scorecard of one store-month: ``analysis.kpis.scorecard`` against plain pandas.

Targets: at 1,000,000 customers (~9.6M orders) the whole
scorecard (three periods: the report month, the month before, the same month a
year earlier) takes under 5 s on 2 cores, and at least 10x less time than the
plain-pandas way an analyst would write it (``pd.read_parquet`` every table,
then masks, groupby and merges).

Both ways run on the same warehouse, each in a fresh child process so that its
peak resident memory is its own (the child reports its own ``VmHWM``). The
time of each way runs from opening the warehouse (ours) or the first
``read_parquet`` (pandas) to the finished numbers; imports and interpreter
start-up are reported separately. Every metric of ``Scorecard.table`` must agree
within 1e-9 relative (or be None on both sides), else the benchmark fails: a
speed-up over different numbers is worthless.

The warehouse is generated once with ``analysis.demo.write_demo`` into
``benchmarks/.cache/warehouse-<customers>`` (git-ignored). Results are written to
``benchmarks/results/kpis.json``.

Usage: ``python -m benchmarks.kpis --customers 1000000 --month 2026-10``
(``--customers 20000`` for a quick smoke run).
"""

from __future__ import annotations

import math
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
RESULTS = HERE / "results" / "kpis.json"
TARGET_SECONDS = 5.0
TARGET_RATIO = 10.0
REL_TOL = 1e-9
WINDOW_DAYS = 365  # kpis.scorecard's default retention / hero window

# The rows of kpis.METRICS, in order (kept here so the pandas child never imports analysis).
METRIC_KEYS = (
    "revenue", "orders", "aov", "active_customers", "new_customers", "returning_customers",
    "purchase_frequency", "retention_rate", "churn_rate", "repeat_purchase_rate",
    "repeat_revenue_share", "hero_multiplier", "conversion_rate", "cart_abandonment_rate",
    "cac", "ltv_cac", "nps", "csat", "discount_order_share", "cancelled_orders",
    "cancelled_value", "refunded_orders", "refunded_value", "loyalty_participation",
)  # fmt: skip
LABELS = ("current", "previous", "year_ago")

# Imported before each child's clock starts (reported as import_seconds).
PRELOAD = {
    "ours": ["narwhals", "analysis.kpis", "analysis.warehouse"],
    "pandas": ["pandas", "numpy", "pyarrow.parquet"],
}

# --------------------------------------------------------------------------- ours


def ours(root: Path, month: str) -> dict[str, list[float | None]]:
    """The scorecard as the project computes it (narwhals on DuckDB)."""
    from analysis.kpis import scorecard
    from analysis.warehouse import StoreWarehouse

    # lifecycle=False: the scorecard table only (the pandas way computes no ladder/onboarding).
    card = scorecard(StoreWarehouse(root, STORE, TIMEZONE), month, lifecycle=False)
    table = card.table
    assert tuple(table["metric"]) == METRIC_KEYS, "kpis.METRICS changed: update METRIC_KEYS"
    return {k: [as_float(table.loc[k, label]) for label in LABELS] for k in METRIC_KEYS}


# --------------------------------------------------------------------------- plain pandas


def plain_pandas(root: Path, month: str) -> dict[str, list[float | None]]:
    """The same scorecard the way an analyst writes it: read_parquet, masks, groupby, merge."""
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    def read(table: str, columns: list[str]) -> pd.DataFrame | None:
        path = root / table / f"{STORE}.parquet"
        if not path.is_file():
            return None
        present = set(pq.read_schema(path).names)
        return pd.read_parquet(path, columns=[c for c in columns if c in present])

    def ratio(num: float, den: float) -> float | None:
        return float(num) / float(den) if den > 0 else None

    # Periods: local calendar months as UTC instants, end exclusive.
    report = pd.Period(month, "M")
    periods = []
    for label, shift in zip(LABELS, (0, -1, -12), strict=True):
        m = report + shift
        first = m.start_time
        nxt = (m + 1).start_time
        periods.append(
            {
                "label": label,
                "first_day": first,
                "next_day": nxt,
                "start": first.tz_localize(TIMEZONE).tz_convert("UTC"),
                "end": nxt.tz_localize(TIMEZONE).tz_convert("UTC"),
            }
        )
    window = pd.Timedelta(days=WINDOW_DAYS)
    year = pd.Timedelta(days=365)
    last_end = periods[0]["end"]

    orders = read("orders", ["customer_id", "ordered_at", "revenue", "status", "discount"])
    orders = orders[orders["ordered_at"] < last_end]
    if "status" not in orders:
        orders["status"] = "completed"
    done = orders[(orders["status"] == "completed") & orders["customer_id"].notna()]
    done = done[["customer_id", "ordered_at", "revenue"]].assign(
        satang=(done["revenue"] * 100).round().astype("int64")
    )
    # Each registered completed order with its customer's first completed order.
    by_customer = done.groupby("customer_id")["ordered_at"]
    first_at = by_customer.min()
    done["first_at"] = by_customer.transform("min")

    sessions = read("sessions", ["date", "sessions"])
    carts = read("carts", ["created_at", "order_id"])
    spend = read("marketing_spend", ["date", "spend"])
    surveys = read("surveys", ["responded_at", "nps", "csat"])
    members = read("loyalty_members", ["customer_id", "joined_at"])
    for frame in (sessions, spend):
        if frame is not None:
            frame["date"] = pd.to_datetime(frame["date"])

    def spent(lo: pd.Timestamp, hi: pd.Timestamp) -> float:
        return float(spend.loc[(spend["date"] >= lo) & (spend["date"] < hi), "spend"].sum())

    def acquired(lo: pd.Timestamp, hi: pd.Timestamp) -> int:
        return int(((first_at >= lo) & (first_at < hi)).sum())

    out: dict[str, list[float | None]] = {k: [] for k in METRIC_KEYS}
    for p in periods:
        start, end = p["start"], p["end"]
        v: dict[str, float | None] = {}
        month_orders = orders[(orders["ordered_at"] >= start) & (orders["ordered_at"] < end)]
        completed = month_orders[month_orders["status"] == "completed"]
        registered = done[(done["ordered_at"] >= start) & (done["ordered_at"] < end)]
        active = registered["customer_id"].unique()
        new = registered.loc[registered["first_at"] >= start, "customer_id"].nunique()
        v["revenue"] = float(completed["revenue"].sum())
        v["orders"] = len(completed)
        v["aov"] = ratio(v["revenue"], v["orders"])
        v["active_customers"] = len(active)
        v["new_customers"] = new
        v["returning_customers"] = len(active) - new
        v["purchase_frequency"] = ratio(len(registered), len(active))
        repeat_revenue = registered.loc[
            registered["ordered_at"] > registered["first_at"], "revenue"
        ].sum()
        v["repeat_revenue_share"] = ratio(repeat_revenue, v["revenue"])
        if "discount" in completed:
            v["discount_order_share"] = ratio((completed["discount"] > 0).sum(), len(completed))
        else:
            v["discount_order_share"] = None
        for status in ("cancelled", "refunded"):
            rows = month_orders[month_orders["status"] == status]
            v[f"{status}_orders"] = len(rows)
            v[f"{status}_value"] = float(rows["revenue"].sum())

        # Retention |S ∩ E| / |S|: S = customers of the window before the last, E = the last;
        # None unless the store's first order (any status) is at or before S's start.
        def active_in(lo: pd.Timestamp, hi: pd.Timestamp) -> np.ndarray:
            t = done["ordered_at"]
            return done.loc[(t >= lo) & (t < hi), "customer_id"].unique()

        prior, recent = active_in(end - 2 * window, end - window), active_in(end - window, end)
        history = orders["ordered_at"].min() <= end - 2 * window
        kept = int(pd.Index(prior).isin(recent).sum())  # hashed (np.isin on ids is quadratic)
        crr = kept / len(prior) if history and len(prior) else None
        v["retention_rate"], v["churn_rate"] = crr, None if crr is None else 1 - crr

        # Repeat purchase rate: customers with 2+ completed orders before the month's end.
        counts = done.loc[done["ordered_at"] < end, "customer_id"].value_counts()
        v["repeat_purchase_rate"] = ratio((counts >= 2).sum(), len(counts))

        # Hero multiplier: top decile (ceil(n / 10) customers) of trailing spend in satang.
        t = done["ordered_at"]
        spend_by = done[(t >= end - window) & (t < end)].groupby("customer_id")["satang"].sum()
        spend_by = spend_by[spend_by > 0]
        if len(spend_by) and spend_by.mean() > 0:
            top = np.sort(spend_by.to_numpy())[::-1][: math.ceil(len(spend_by) / 10)]
            v["hero_multiplier"] = float(top.mean()) / float(spend_by.mean())
        else:
            v["hero_multiplier"] = None

        if sessions is not None:
            in_month = (sessions["date"] >= p["first_day"]) & (sessions["date"] < p["next_day"])
            v["conversion_rate"] = ratio(
                len(month_orders), sessions.loc[in_month, "sessions"].sum()
            )
        if carts is not None:
            c = carts[(carts["created_at"] >= start) & (carts["created_at"] < end)]
            converted = ratio(c["order_id"].notna().sum(), len(c))
            v["cart_abandonment_rate"] = None if converted is None else 1 - converted
        if spend is not None:
            cac = ratio(spent(p["first_day"], p["next_day"]), new)
            v["cac"] = cac
            # LTV: revenue of the trailing 365 days per customer who bought in them.
            t = done["ordered_at"]
            last_year = done[(t >= end - year) & (t < end)]
            buyers = last_year["customer_id"].nunique()
            ltv = float(last_year["satang"].sum()) / 100 / buyers if buyers else None
            year_start = end - year
            local_start = year_start.tz_convert(TIMEZONE).tz_localize(None).normalize()
            yearly_cac = ratio(spent(local_start, p["next_day"]), acquired(year_start, end))
            v["ltv_cac"] = ltv / yearly_cac if ltv is not None and yearly_cac else None
        if surveys is not None:
            r = surveys[(surveys["responded_at"] >= start) & (surveys["responded_at"] < end)]
            if "nps" in r:
                share = ratio((r["nps"] >= 9).sum() - (r["nps"] <= 6).sum(), r["nps"].notna().sum())
                v["nps"] = None if share is None else 100 * share
            if "csat" in r:
                v["csat"] = ratio((r["csat"] >= 4).sum(), r["csat"].notna().sum())
        if members is not None:
            joined = members.loc[members["joined_at"] < end, "customer_id"]
            v["loyalty_participation"] = ratio(pd.Series(active).isin(joined).sum(), len(active))
        for k in METRIC_KEYS:
            out[k].append(as_float(v.get(k)))
    return out


# --------------------------------------------------------------------------- children


def compare(a: dict, b: dict) -> tuple[list[str], float]:
    """Mismatching cells as readable lines, and the largest relative difference seen."""
    bad, worst = [], 0.0
    for key in METRIC_KEYS:
        for label, x, y in zip(LABELS, a[key], b[key], strict=True):
            if x is None or y is None:
                if x is not y:
                    bad.append(f"  {key}[{label}]: ours={x} pandas={y}")
                continue
            rel = 0.0 if x == y else abs(x - y) / max(abs(x), abs(y))
            worst = max(worst, rel)
            if rel > REL_TOL:
                bad.append(f"  {key}[{label}]: ours={x!r} pandas={y!r} (rel {rel:.2e})")
    return bad, worst


def run(customers: int, month: str) -> dict:
    """Both ways on the same warehouse, each in its own child process; checked to agree."""
    root = warehouse(customers)
    warm(root)
    res = {way: run_child("benchmarks.kpis", way, root, month) for way in ("pandas", "ours")}
    bad, worst = compare(res["ours"]["values"], res["pandas"]["values"])
    if bad:
        raise SystemExit(
            f"kpis benchmark: ours and pandas disagree on {len(bad)} cell(s) "
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

    return {
        "customers": customers,
        "orders": orders,
        "store": STORE,
        "month": month,
        "ours": way(res["ours"]),
        "pandas": way(res["pandas"]),
        "ratio_pandas_over_ours": round(ratio, 2),
        "cells_compared": 3 * len(METRIC_KEYS),
        "cells_none": sum(v is None for vs in res["ours"]["values"].values() for v in vs),
        "max_rel_diff": worst,
        "agree": True,
        "target_seconds": TARGET_SECONDS,
        "target_ratio": TARGET_RATIO,
        "meets_target": ours_s < TARGET_SECONDS and ratio >= TARGET_RATIO,
        "scorecard": res["ours"]["values"],
    }


def main(customers: int = 1_000_000, month: str = "2026-10") -> dict:
    result = write_results(RESULTS, run(customers, month))
    o, p = result["ours"], result["pandas"]
    print(
        f"kpis: scorecard {month}, {customers:,} customers, {result['orders']:,} orders: "
        f"ours {o['seconds']:.2f} s (target < {TARGET_SECONDS:.0f} s), "
        f"pandas {p['seconds']:.2f} s, {result['ratio_pandas_over_ours']:.1f}x "
        f"(target >= {TARGET_RATIO:.0f}x), peak {o['peak_rss_gib']:.2f} vs "
        f"{p['peak_rss_gib']:.2f} GiB; {result['cells_compared']} cells agree "
        f"(max rel diff {result['max_rel_diff']:.1e})"
    )
    return result


if __name__ == "__main__":
    entry_point(__doc__, ours, plain_pandas, main, preload=PRELOAD, wrap=True)
