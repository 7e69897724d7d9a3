"""Acquisition cohorts: customers by the period (month or week) of their first completed order.

Definitions (also in docs/metrics.md). A customer's **cohort** is the calendar
month (or ISO week, Monday first) in the store's time zone of their first
completed order; guest orders (null ``customer_id``) and cancelled/refunded
orders never place a customer in a cohort. Period ``k`` of a cohort is the
``k``-th period after the cohort period (``k = 0`` is the cohort period).

- customer retention in ``k``: share of the cohort with a completed order in ``k``;
- revenue retention in ``k``: cohort revenue in ``k`` ÷ cohort revenue in ``k = 0``;
- orders per cohort customer in ``k``: the cohort's completed orders in ``k`` ÷ cohort size;
- cumulative revenue per acquired customer up to ``k`` (the cohort LTV curve).

Cells for periods after the data ends are missing (NaN), not 0.

Computation runs on the engine: :func:`~analysis.customers.customer_firsts` aggregates the orders
to one row per customer (persist it: several steps read it), optionally labelled
by :func:`label_customers`; :func:`cohort_activity` reduces orders and firsts to
one row per cut label, cohort and ``k``; the small result is collected and
:func:`cohort_matrices` pivots it in pandas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import narwhals as nw
import numpy as np
import pandas as pd

from analysis.calendar import Grain, index_of, period_index, period_starts
from analysis.customers import ACTIVE_PREFIX, customer_firsts, customer_orders, customer_periods
from analysis.frames import time_span
from analysis.warehouse import StoreWarehouse

__all__ = [
    "CohortMatrices",
    "label_customers",
    "cohort_activity",
    "activity_by",
    "cohort_matrices",
    "CUTS",
    "MISSING_CUT_REASONS",
    "cohort_cuts",
    "shown_cohorts",
    "segment_retention",
    "second_order_gaps",
    "same_cohorts_a_year_earlier",
    "latest_observed",
    "pooled_retention",
    "CohortPage",
    "cohort_page",
]


def label_customers(
    firsts: nw.LazyFrame, cuts: dict[str, nw.LazyFrame | nw.Expr], unknown: str = "unknown"
) -> nw.LazyFrame:
    """Add one label column per cut to :func:`~analysis.customers.customer_firsts` (for :func:`cohort_activity`).

    Parameters
    ----------
    firsts
        :func:`~analysis.customers.customer_firsts` output.
    cuts
        Column name → either a frame ``customer_id, segment`` with at most one
        row per customer (customers without a row get ``unknown``), or an
        expression over ``firsts``' own columns (e.g. from ``first_discount``),
        which needs no join.
    """
    out = firsts
    for name, cut in cuts.items():
        if isinstance(cut, nw.Expr):
            out = out.with_columns(cut.cast(nw.String).fill_null(unknown).alias(name))
            continue
        out = out.join(
            cut.select("customer_id", nw.col("segment").cast(nw.String).alias(name)),
            on="customer_id",
            how="left",
        ).with_columns(nw.col(name).fill_null(unknown))
    return out


CUTS: tuple[str, ...] = ("channel", "first_discount", "loyalty")
"""Cut keys of the cohort page, in page order (their titles are in ``narrative.cohorts``)."""

MISSING_CUT_REASONS: tuple[str, ...] = (
    "no_customers_table",
    "no_acquisition_channel",
    "no_discount",
    "no_loyalty_members",
)
"""Why :func:`cohort_cuts` leaves a cut out (``narrative.cohorts`` words each reason)."""


def cohort_cuts(
    wh: StoreWarehouse, orders: nw.LazyFrame, end: dt.datetime
) -> tuple[dict[str, nw.LazyFrame | nw.Expr], list[str]]:
    """The cuts of the cohort page (for :func:`label_customers`), and why any is left out.

    - ``channel``: ``customers.acquisition_channel`` (customers without a row
      or a value: ``unknown``);
    - ``first_discount``: ``discounted`` when the first completed order's
      ``discount`` > 0, else ``full_price``;
    - ``loyalty``: ``member`` with a ``loyalty_members`` row joined before
      ``end`` (everyone else: ``unknown``).

    A cut whose table or column is missing is left out; the rest of the page
    is unaffected.

    Returns
    -------
    tuple
        ``{cut key: cut}`` in page order (:data:`CUTS`), and the reasons
        (:data:`MISSING_CUT_REASONS`) of the cuts left out, in page order.
    """
    cuts: dict[str, nw.LazyFrame | nw.Expr] = {}
    missing: list[str] = []
    if not wh.has("customers"):
        missing.append("no_customers_table")
    elif "acquisition_channel" not in wh.columns("customers"):
        missing.append("no_acquisition_channel")
    else:
        cuts["channel"] = wh.table("customers").select(
            "customer_id", nw.col("acquisition_channel").alias("segment")
        )
    if "discount" in orders.collect_schema():
        cuts["first_discount"] = (
            nw.when(nw.col("first_discount"))
            .then(nw.lit("discounted"))
            .otherwise(nw.lit("full_price"))
        )
    else:
        missing.append("no_discount")
    if wh.has("loyalty_members"):
        members = wh.table("loyalty_members", end=end).group_by("customer_id").agg(nw.len())
        cuts["loyalty"] = members.select("customer_id", nw.lit("member").alias("segment"))
    else:
        missing.append("no_loyalty_members")
    return cuts, missing


def cohort_activity(
    orders: nw.LazyFrame,
    firsts: nw.LazyFrame,
    timezone: str,
    period: Grain = "month",
    by: tuple[str, ...] | list[str] = (),
) -> nw.LazyFrame:
    """Active customers, revenue and orders per cohort and period since acquisition.

    Parameters
    ----------
    orders
        Orders of one store (any status), the same frame ``firsts`` came from.
    firsts
        :func:`~analysis.customers.customer_firsts` output for ``orders`` with the same
        ``timezone`` and ``period`` (its ``cohort``), optionally with label
        columns from :func:`label_customers`; persist it when it is shared.
    timezone, period
        As for :func:`~analysis.customers.customer_periods`.
    by
        Label columns of ``firsts`` to cut by. One pass serves every cut:
        :func:`activity_by` sums the rows over the labels not wanted.

    Returns
    -------
    narwhals.LazyFrame
        ``*by, cohort`` (period index of the first order; see
        :func:`~analysis.calendar.period_starts`), ``k`` (int), ``customers`` (active customers),
        ``revenue``, ``orders``; sorted.

    Notes
    -----
    Active customers are distinct (customer, period) pairs. With the activity
    bitmaps of :func:`~analysis.customers.customer_firsts` (DuckDB) they are counted by summing
    bits per cohort, and revenue and orders come from joining the orders to
    their customer's cohort: no aggregation keyed by (customer, period).
    Otherwise :func:`~analysis.customers.customer_periods` is joined to ``firsts``. Tests check
    both against an independent pandas computation.
    """
    keys = [*by, "cohort", "k"]
    names = firsts.collect_schema().names()
    bitmaps = sorted(int(n[len(ACTIVE_PREFIX) :]) for n in names if n.startswith(ACTIVE_PREFIX))
    if not bitmaps:
        return (
            customer_periods(orders, timezone, period)
            .join(firsts.select("customer_id", "cohort", *by), on="customer_id")
            .with_columns((nw.col("index") - nw.col("cohort")).alias("k"))
            .group_by(*keys)
            .agg(
                nw.len().alias("customers"),
                nw.col("revenue").sum().alias("revenue"),
                nw.col("orders").sum().alias("orders"),
            )
            .sort(*keys)
        )
    done = customer_orders(orders)
    span = time_span(orders, "ordered_at")
    sums = (
        done.select(
            "customer_id",
            "revenue",
            period_index("ordered_at", timezone, period, span).alias("index"),
        )
        .join(firsts.select("customer_id", "cohort", *by), on="customer_id")
        .with_columns((nw.col("index") - nw.col("cohort")).alias("k"))
        .group_by(*keys)
        .agg(nw.col("revenue").sum().alias("revenue"), nw.len().alias("orders"))
    )
    return (
        _active_customers(firsts, bitmaps, [*by, "cohort"])
        .join(sums, on=keys, how="inner")
        .select(*keys, "customers", "revenue", "orders")
        .sort(*keys)
    )


def _active_customers(firsts: nw.LazyFrame, bitmaps: list[int], group: list[str]) -> nw.LazyFrame:
    """``*group, k, customers`` from the activity bitmaps (DuckDB): bit sums per group."""
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in group)
    bits = ", ".join(
        f'sum((("{ACTIVE_PREFIX}{s}" >> {b}::UBIGINT) & 1::UBIGINT)::BIGINT)'
        for s in bitmaps
        for b in range(64)
    )
    sql = (
        f"SELECT {quoted}, unnest(range({bitmaps[0]}, {bitmaps[-1] + 64})) AS _i, "
        f"unnest(_counts) AS customers FROM "
        f"(SELECT {quoted}, [{bits}] AS _counts FROM _firsts GROUP BY {quoted})"
    )
    rel = firsts.to_native().query("_firsts", sql)
    return (
        nw.from_native(rel)
        .filter(nw.col("customers") > 0)
        .select(*group, (nw.col("_i") - nw.col("cohort")).alias("k"), "customers")
    )


def activity_by(activity: pd.DataFrame, label: str | None = None) -> pd.DataFrame:
    """Collected :func:`cohort_activity` rows summed to one label (as ``segment``) or to none.

    Each customer carries exactly one value of every label, so summing active
    customers over the other labels counts every customer once.
    """
    keys = ["cohort", "k"] if label is None else [label, "cohort", "k"]
    out = activity.groupby(keys, as_index=False, sort=True)[
        ["customers", "revenue", "orders"]
    ].sum()
    return out.rename(columns={label: "segment"}) if label is not None else out


@dataclass
class CohortMatrices:
    """The cohort matrices of one store (rows = cohorts, columns = k).

    Attributes
    ----------
    size
        Customers acquired per cohort.
    retention
        Share of the cohort active in period k (0–1).
    revenue_retention
        Cohort revenue in k ÷ cohort revenue in k = 0.
    orders_per_customer
        Cohort orders in k ÷ cohort size.
    cumulative_revenue_per_customer
        Cohort revenue in periods 0..k ÷ cohort size (store currency).
    """

    size: pd.Series
    retention: pd.DataFrame
    revenue_retention: pd.DataFrame
    orders_per_customer: pd.DataFrame
    cumulative_revenue_per_customer: pd.DataFrame


def shown_cohorts(matrices: CohortMatrices, *, min_size: int, n: int) -> CohortMatrices:
    """The ``n`` latest cohorts with at least ``min_size`` customers (the page's matrices).

    Empty (no rows) when no cohort has ``min_size`` customers, or there is no
    cohort at all (no registered customer has a completed order).
    """
    size = matrices.size
    keep = size[size >= min_size].index[-n:]
    return CohortMatrices(*(getattr(matrices, f.name).loc[keep] for f in fields(CohortMatrices)))


def cohort_matrices(
    activity: pd.DataFrame,
    *,
    horizon: int | None = None,
    last: pd.Timestamp | dt.date | str | None = None,
    period: Grain = "month",
) -> CohortMatrices:
    """Pivot collected :func:`cohort_activity` rows (no ``segment``) into the cohort matrices.

    Parameters
    ----------
    activity
        One row per cohort and k (small: cohorts × periods).
    horizon
        Keep ``k <= horizon`` (None = all).
    last
        A date in the last period with data (e.g. the report month); periods
        after it are NaN. Default: the latest cohort + k in ``activity``.
    period
        The period ``activity`` was computed with.
    """
    frame = activity if horizon is None else activity[activity["k"] <= horizon]
    if last is None:
        last_index = int((activity["cohort"] + activity["k"]).max()) if len(activity) else 0
    else:
        last_index = index_of(pd.Timestamp(last), period)
    # Columns run to the last observed k (even if nobody came back then), capped by horizon.
    width = max(last_index - int(activity["cohort"].min()) + 1 if len(activity) else 1, 1)
    if horizon is not None:
        width = min(width, horizon + 1)
    cols = pd.RangeIndex(width, name="k")

    def pivot(values: str) -> pd.DataFrame:
        out = frame.pivot(index="cohort", columns="k", values=values).reindex(columns=cols)
        return out.sort_index().astype("float64")

    customers, revenue, orders = pivot("customers"), pivot("revenue"), pivot("orders")
    span = last_index - customers.index.to_numpy(dtype="int64")
    observed = np.asarray(cols)[None, :] <= span[:, None]
    starts = period_starts(customers.index.to_numpy(), period)
    for matrix in (customers, revenue, orders):
        matrix.index = starts
    size = customers[0].fillna(0).astype("int64").rename("size")

    def finish(matrix: pd.DataFrame) -> pd.DataFrame:
        matrix = matrix.where(observed)  # the future is unknown, not zero
        matrix = matrix.mask(observed & matrix.isna(), 0.0)  # observed, nobody came back
        matrix.index.name, matrix.columns.name = "cohort", "k"
        return matrix

    denominator = size.where(size != 0)  # NaN where a cohort has no customers
    retention = finish(customers.div(denominator, axis=0))
    # A cohort whose first-period revenue is 0 has no revenue retention (not 0).
    revenue_retention = finish(revenue.div(revenue[0].replace(0, np.nan), axis=0))
    revenue_retention.loc[~(revenue[0].to_numpy() > 0)] = np.nan
    orders_per_customer = finish(orders.div(denominator, axis=0))
    cumulative = finish(revenue).cumsum(axis=1, skipna=False).div(denominator, axis=0)
    return CohortMatrices(
        size, retention, revenue_retention, orders_per_customer, finish(cumulative)
    )


def segment_retention(
    activity: pd.DataFrame,
    *,
    horizon: int,
    last: pd.Timestamp | dt.date | str | None = None,
    period: Grain = "month",
    min_size: int = 1,
) -> pd.DataFrame:
    """Average customer retention by segment: for each k, active ÷ acquired over the cohorts observed at k.

    Parameters
    ----------
    activity
        Collected :func:`cohort_activity` rows with a ``segment`` column.

    Returns
    -------
    pandas.DataFrame
        Rows = segments (with ``customers``, their total cohort size), columns
        = k (0..horizon): pooled retention (cohort-size weighted). Segments
        smaller than ``min_size`` customers are dropped.
    """
    rows = []
    for segment, part in activity.groupby("segment", sort=True):
        m = cohort_matrices(part.drop(columns="segment"), horizon=horizon, last=last, period=period)
        active = (m.retention.mul(m.size, axis=0)).sum(axis=0, min_count=1)
        exposed = m.retention.notna().mul(m.size, axis=0).sum(axis=0)
        pooled = (active / exposed.replace(0, np.nan)).rename(segment)
        pooled["customers"] = int(m.size.sum())
        rows.append(pooled)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = out[out["customers"] >= min_size]
    out.index.name = "segment"
    return out[["customers", *[c for c in out.columns if c != "customers"]]]


def second_order_gaps(
    firsts: nw.LazyFrame, bins: tuple[int, ...] = (7, 14, 30, 60, 90, 180, 365)
) -> tuple[pd.DataFrame, float | None]:
    """Days from each customer's first to second completed order: a histogram and the median.

    ``firsts`` is :func:`~analysis.customers.customer_firsts` output (customers with one order are skipped).

    Returns
    -------
    (pandas.DataFrame, float or None)
        Histogram rows ``low``, ``high`` (days: more than ``low`` and at most
        ``high``; the first bucket has no ``low`` (at most 7 days), the last no
        ``high`` (more than 365 days); Int64 with missing values),
        ``customers``, ``share`` (of customers with a second order); and the
        median in days (None when nobody ordered twice).
    """
    gaps = firsts.filter(~nw.col("days_to_second").is_null()).select(
        nw.col("days_to_second").alias("days")
    )
    # One pass: the median and a count per bucket.
    counts = [nw.when(nw.col("days") <= bins[0]).then(nw.lit(1)).count().alias("b0")]
    counts += [
        nw.when((nw.col("days") > lo) & (nw.col("days") <= hi))
        .then(nw.lit(1))
        .count()
        .alias(f"b{i + 1}")
        for i, (lo, hi) in enumerate(zip(bins[:-1], bins[1:], strict=True))
    ]
    counts.append(nw.when(nw.col("days") > bins[-1]).then(nw.lit(1)).count().alias(f"b{len(bins)}"))
    row = gaps.select(nw.col("days").median().alias("median"), *counts).collect().row(0)
    median = row[0]
    hist = pd.DataFrame(
        {
            "low": pd.array([None, *bins], dtype="Int64"),
            "high": pd.array([*bins, None], dtype="Int64"),
            "customers": [int(v or 0) for v in row[1:]],
        }
    )
    total = hist["customers"].sum()
    hist["share"] = hist["customers"] / total if total else np.nan
    return hist, None if median is None else float(median)


def same_cohorts_a_year_earlier(
    retention: pd.DataFrame, n: int = 3, ks: tuple[int, ...] = (1, 2, 3), period: Grain = "month"
) -> pd.DataFrame:
    """The latest ``n`` cohorts observed at every k in ``ks``, next to the same cohorts a year earlier.

    Returns
    -------
    pandas.DataFrame
        One row per recent cohort: ``cohort``, ``year_earlier`` and, per k,
        ``k{k}`` / ``k{k}_year_earlier`` / ``k{k}_change`` (percentage points as 0–1).
    """
    lag = pd.DateOffset(years=1) if period == "month" else pd.Timedelta(weeks=52)
    complete = retention[[k for k in ks if k in retention.columns]].dropna()
    recent = complete.tail(n)
    rows = []
    for cohort, values in recent.iterrows():
        earlier = pd.Timestamp(cohort) - lag  # type: ignore[arg-type]  # index labels are Hashable to pandas-stubs
        row = {"cohort": cohort, "year_earlier": earlier}
        for k in ks:
            now = values.get(k, np.nan)  # k not observed yet for any cohort
            then = (
                retention.loc[earlier, k]
                if earlier in retention.index and k in retention.columns
                else np.nan
            )
            row[f"k{k}"], row[f"k{k}_year_earlier"] = now, then
            row[f"k{k}_change"] = now - then
        rows.append(row)
    return pd.DataFrame(rows)


def latest_observed(retention: pd.DataFrame, k: int) -> tuple[pd.Timestamp | None, float | None]:
    """The most recent cohort observed at period ``k`` and its retention there."""
    if k not in retention.columns:
        return None, None
    column = retention[k].dropna()
    if column.empty:
        return None, None
    return column.index[-1], float(column.iloc[-1])


def pooled_retention(matrices: CohortMatrices, last_n: int | None = None) -> pd.Series:
    """Retention at each k pooled over cohorts observed at k (size-weighted), optionally the last ``n`` cohorts."""
    retention, size = matrices.retention, matrices.size
    if last_n is not None:
        retention, size = retention.tail(last_n), size.tail(last_n)
    active = retention.mul(size, axis=0).sum(min_count=1)
    exposed = retention.notna().mul(size, axis=0).sum()
    return active / exposed.replace(0, np.nan)


@dataclass
class CohortPage:
    """Every number the cohort page shows (see :func:`cohort_page`).

    Attributes
    ----------
    grain
        ``"month"`` or ``"week"`` (``cohorts.period``).
    firsts
        Persisted :func:`~analysis.customers.customer_firsts` with the cut labels.
    cuts, missing_cuts
        Cut keys shown (:data:`CUTS` order) and the reasons of those left out.
    all_matrices
        Matrices of every cohort up to the report month (``horizon_months`` wide).
    matrices
        The cohorts shown: the ``n_cohorts`` latest with ``min_cohort_size``
        customers; empty when none qualifies (the page is then unavailable and
        the fields below are empty).
    segments
        Cut key → :func:`segment_retention` (pooled retention per segment, k ≤ 12).
    gaps, median_days_to_second
        :func:`second_order_gaps`.
    year_on_year
        :func:`same_cohorts_a_year_earlier` of the three latest cohorts.
    """

    grain: Grain
    firsts: nw.LazyFrame
    cuts: list[str]
    missing_cuts: list[str]
    all_matrices: CohortMatrices
    matrices: CohortMatrices
    segments: dict[str, pd.DataFrame]
    gaps: pd.DataFrame
    median_days_to_second: float | None
    year_on_year: pd.DataFrame


def cohort_page(
    wh: StoreWarehouse,
    end: dt.datetime,
    last: dt.date,
    *,
    grain: Grain,
    horizon: int,
    min_size: int,
    n: int,
) -> CohortPage:
    """Compute the cohort page of one store up to the end of the report month.

    Parameters
    ----------
    wh
        The store's warehouse (its zone is the cohorts' calendar).
    end
        End of the report month (UTC instant, exclusive): orders before it count.
    last
        A day in the last period with data (the report month's first day).
    grain, horizon, min_size, n
        ``cohorts.period``, ``cohorts.horizon_months`` (periods k shown),
        ``cohorts.min_cohort_size`` and ``cohorts.n_cohorts``.

    Notes
    -----
    One pass over the orders serves the matrices and every cut
    (:func:`cohort_activity` with the cut labels); the per-customer base is
    persisted once and read by the activity and the gap histogram.
    """
    orders = wh.table("orders", end=end)
    firsts = wh.persist(customer_firsts(orders, wh.timezone, grain))
    cuts, missing = cohort_cuts(wh, orders, end)
    labelled = wh.persist(label_customers(firsts, cuts))
    activity = (
        cohort_activity(orders, labelled, wh.timezone, grain, by=list(cuts)).collect().to_pandas()
    )
    all_matrices = cohort_matrices(activity_by(activity), horizon=horizon, last=last, period=grain)
    shown = shown_cohorts(all_matrices, min_size=min_size, n=n)
    segments: dict[str, pd.DataFrame] = {}
    gaps, median, year_on_year = pd.DataFrame(), None, pd.DataFrame()
    if len(shown.size):
        segments = {
            cut: segment_retention(
                activity_by(activity, cut),
                horizon=min(horizon, 12),
                last=last,
                period=grain,
                min_size=min_size,
            )
            for cut in cuts
        }
        gaps, median = second_order_gaps(firsts)
        year_on_year = same_cohorts_a_year_earlier(all_matrices.retention, n=3, period=grain)
    return CohortPage(
        grain, labelled, list(cuts), missing, all_matrices, shown, segments, gaps, median,
        year_on_year,
    )  # fmt: skip
