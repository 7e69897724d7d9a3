"""The observational member comparison: naive gap, matching, difference-in-differences,
event study and a pre-trend check, on the engine.

Months are the store's local calendar months (:mod:`analysis.calendar` indexes). With
``E = loyalty.event_months``, ``K = loyalty.match_months`` and the report month ``R``:

- **Naive gap**: mean monthly spend (completed revenue over months ``R-E+1 .. R``,
  divided by ``E``) of members (joined before the report month's end) minus that of
  non-members, among the customers active in those months (at least one completed
  order). Biased by self-selection: heavier buyers join more.
- **Members in the comparison**: join month ``J`` with the first completed order
  before month ``J-E`` (E full months of history before joining) and months
  ``J .. J+E-1`` ending by the report month's end (``J <= R-E+1``).
- **Controls**: customers who are not members by the report month's end, with their
  first order before ``J-E``; each control is a candidate for every join month ``J``
  of the members, with ``J`` as a pseudo join month.
- **Matching**: coarsened exact matching on the join month and the pre-join
  recency, frequency and spend over the ``K`` months before the event window
  (months ``J-E-K .. J-E-1``): recency = months from the last active month to
  ``J-E`` (1 = the month before; ``K + 1`` = no order in the K months), bins 1,
  2-3, 4-6, 7-K, none; frequency = completed orders, bins 0, 1, 2, 3-4, 5-8, 9+;
  spend = completed revenue, bins 0 and the compared members' quintiles of
  positive spend. Weights: see :mod:`analysis.loyalty.matching`. The E months
  before joining are deliberately not matched on: matching on the outcome's own
  pre-period makes controls picked for a lucky month regress to their mean
  afterwards, which biases the difference-in-differences (Daw and Hatfield 2018;
  measured with the seeded warehouse of the tests and no planted effect: 6 of 12
  runs significant at 5% when the matching window included those months), and
  would make the pre-trend check partly mechanical.
- **Difference-in-differences**: per customer row, ``d`` = mean monthly spend over
  months ``J .. J+E-1`` minus over ``J-E .. J-1``; effect = members' mean ``d`` minus
  the controls' weighted mean ``d`` (the average effect on matched members, money
  per member-month). SE: sandwich of the weighted difference of means clustered by
  customer (a control used at several join months is one cluster): each row's
  influence is its weight times its outcome minus its arm's (members) or stratum's
  (controls) mean; the squared per-customer sums of influences, times ``G/(G-1)``
  per arm (``G`` customers), add up to the variance. Normal 95% interval and p.
- **Event study**: the same contrast of spend in each month ``k = -E .. E-1``
  relative to ``J``.
- **Pre-trend check**: the same contrast of each row's least-squares slope of spend
  over the pre months ``-E .. -1`` (money per month per month); flagged when its
  p-value is below 0.05.

Only aggregates per stratum and arm, per arm, and per member are collected; the
orders are never.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from analysis.calendar import month_bounds, month_index, parse_month, period_index
from analysis.config import Params
from analysis.customers import customer_periods
from analysis.errors import SectionUnavailable
from analysis.loyalty.matching import (
    STRATUM,
    Contrast,
    cem_weights,
    contrast,
    standardised_differences,
)
from analysis.narrative import members as text
from analysis.warehouse import StoreWarehouse

__all__ = [
    "CONFIDENCE",
    "MIN_MEMBERS",
    "PRETREND_ALPHA",
    "MemberComparison",
    "NaiveGap",
    "comparison_headlines",
    "member_comparison",
]

CONFIDENCE = 0.95
"""Confidence level of every interval of the comparison."""
PRETREND_ALPHA = 0.05
"""The pre-trend check is flagged below this p-value."""
MIN_MEMBERS = 30
"""Fewest matched members the comparison is shown for."""
MONETARY_QUANTILES = (0.2, 0.4, 0.6, 0.8)
"""Spend bin edges: these quantiles of the compared members' positive pre-join spend."""
COVARIATES = ["recency", "frequency", "monetary"]
"""Matching covariates (balance table rows)."""


@dataclass(frozen=True)
class NaiveGap:
    """Members' minus non-members' mean monthly spend over the last ``E`` months.

    Attributes
    ----------
    members, non_members
        Mean monthly spend per customer (store currency per month).
    gap, se
        ``members - non_members`` and its Welch standard error.
    members_count, non_members_count
        Customers in each group.
    first_month, last_month
        The window, ``YYYY-MM``.
    """

    members: float
    non_members: float
    gap: float
    se: float
    members_count: int
    non_members_count: int
    first_month: str
    last_month: str


@dataclass(frozen=True)
class MemberComparison:
    """Everything the member comparison shows.

    Attributes
    ----------
    naive
        The naive gap.
    did
        Difference-in-differences of monthly spend (money per member-month).
    pretrend
        Contrast of pre-join slopes (money per month per month); ``pretrend_flagged``
        when its p-value is below :data:`PRETREND_ALPHA`.
    event_study
        One row per month relative to joining ``k = -E .. E-1`` (index
        ``relative_month``): ``members``, ``members_low``, ``members_high``,
        ``controls``, ``controls_low``, ``controls_high`` (mean spend, money per
        month, with the interval), ``difference``, ``difference_low``,
        ``difference_high``. Shape (2E, 9).
    balance
        :func:`analysis.loyalty.matching.standardised_differences` of recency
        (months), frequency (orders) and spend (money) over the K months before
        the E months before joining. Shape (3, 6).
    eligible_members, matched_members, control_customers, strata
        Members meeting the history rule, those with a control in their stratum,
        distinct control customers used, strata with both.
    event_months, match_months
        ``E`` and ``K``.
    first_join_month, last_join_month
        Range of the compared members' join months, ``YYYY-MM``.
    """

    naive: NaiveGap
    did: Contrast
    pretrend: Contrast
    pretrend_flagged: bool
    event_study: pd.DataFrame
    balance: pd.DataFrame
    eligible_members: int
    matched_members: int
    control_customers: int
    strata: int
    event_months: int
    match_months: int
    first_join_month: str
    last_join_month: str


def _month_label(index: int) -> str:
    return f"{index // 12 + 1:04d}-{index % 12 + 1:02d}"


def _y(k: int) -> str:
    return f"y_m{-k}" if k < 0 else f"y_p{k}"


def _bin(expr: nw.Expr, edges: list[tuple[float, int]], last: int) -> nw.Expr:
    """Expression: code of the first edge ``expr <= edge``; ``last`` above every edge."""
    out: nw.Expr = nw.lit(last)
    for edge, code in reversed(edges):
        out = nw.when(expr <= nw.lit(edge)).then(nw.lit(code)).otherwise(out)
    return out


def _naive_gap(panel: nw.LazyFrame, members: nw.LazyFrame, report: int, e: int) -> NaiveGap:
    lo = report - e + 1
    base = (
        panel.filter(nw.col("index") >= lo, nw.col("index") <= report)
        .group_by("customer_id")
        .agg((nw.col("revenue").sum() / e).alias("x"))
        .join(
            members.select("customer_id", nw.lit(1).alias("member")), on="customer_id", how="left"
        )
        .with_columns(nw.col("member").fill_null(0).alias("member"))
        .group_by("member")
        .agg(
            nw.len().alias("n"), nw.col("x").sum().alias("s1"), (nw.col("x") ** 2).sum().alias("s2")
        )
    )
    frame = base.collect().to_pandas().set_index("member").reindex([0, 1]).fillna(0.0)
    got = frame[["n", "s1", "s2"]].to_numpy(dtype=float)
    means: dict[int, float] = {}
    var_of_mean: dict[int, float] = {}
    for g in (0, 1):
        n, s1, s2 = (float(v) for v in got[g])
        means[g] = s1 / n if n else math.nan
        var_of_mean[g] = (s2 - n * means[g] ** 2) / (n - 1) / n if n > 1 else math.nan
    return NaiveGap(
        members=means[1],
        non_members=means[0],
        gap=means[1] - means[0],
        se=math.sqrt(var_of_mean[0] + var_of_mean[1]),
        members_count=int(got[1, 0]),
        non_members_count=int(got[0, 0]),
        first_month=_month_label(lo),
        last_month=_month_label(report),
    )


def _candidates(
    panel: nw.LazyFrame,
    firsts: nw.LazyFrame,
    members: nw.LazyFrame,
    report: int,
    e: int,
    k: int,
    timezone: str,
) -> nw.LazyFrame:
    """One row per (customer, join month) candidate with its features and outcomes."""
    joins = members.with_columns(period_index("joined_at", timezone, "month").alias("join_month"))
    treated = (
        joins.join(firsts, on="customer_id", how="inner")
        .filter(nw.col("first") < nw.col("join_month") - e, nw.col("join_month") <= report - e + 1)
        .select("customer_id", "join_month", nw.lit(1).alias("treated"))
    )
    months = treated.select("join_month").unique()
    controls = (
        firsts.join(members.select("customer_id"), on="customer_id", how="anti")
        .join(months, how="cross")
        .filter(nw.col("first") < nw.col("join_month") - e)
        .select("customer_id", "join_month", nw.lit(0).alias("treated"))
    )
    cand = nw.concat([treated, controls], how="vertical")
    rel = nw.col("index") - nw.col("join_month")
    pre = (rel < -e) & (rel >= -e - k)  # the K months before the event window
    aggs = [
        nw.when(pre).then(nw.col("orders")).otherwise(0).sum().alias("frequency"),
        nw.when(pre).then(nw.col("revenue")).otherwise(0.0).sum().alias("monetary"),
        nw.when(pre).then(nw.col("index")).otherwise(None).max().alias("last"),
    ] + [
        nw.when(rel == j).then(nw.col("revenue")).otherwise(0.0).sum().alias(_y(j))
        for j in range(-e, e)
    ]
    feats = (
        cand.join(panel, on="customer_id", how="inner")
        .filter(rel >= -e - k, rel < e)
        .group_by("customer_id", "join_month")
        .agg(*aggs)
    )
    ys = [_y(j) for j in range(-e, e)]
    out = cand.join(feats, on=["customer_id", "join_month"], how="left").with_columns(
        nw.col("frequency").fill_null(0).cast(nw.Float64),
        nw.col("monetary").fill_null(0.0).cast(nw.Float64),
        *(nw.col(c).fill_null(0.0).cast(nw.Float64) for c in ys),
        (nw.col("join_month") - e - nw.col("last"))
        .fill_null(k + 1)
        .cast(nw.Float64)
        .alias("recency"),
    )
    ks = np.arange(-e, 0, dtype=float)
    c = (ks - ks.mean()) / ((ks - ks.mean()) ** 2).sum()
    slope = nw.lit(0.0)
    for j, cj in zip(range(-e, 0), c, strict=True):
        slope = slope + nw.col(_y(j)) * float(cj)
    pre_mean = nw.sum_horizontal(*(nw.col(_y(j)) for j in range(-e, 0))) / e
    post_mean = nw.sum_horizontal(*(nw.col(_y(j)) for j in range(0, e))) / e
    return out.with_columns((post_mean - pre_mean).alias("did"), slope.alias("slope"))


def _coarsen(cand: nw.LazyFrame, k: int, edges: list[float]) -> nw.LazyFrame:
    return cand.with_columns(
        _bin(nw.col("recency"), [(1, 0), (3, 1), (6, 2), (k, 3)], 4).alias("recency_bin"),
        _bin(nw.col("frequency"), [(0, 0), (1, 1), (2, 2), (4, 3), (8, 4)], 5).alias(
            "frequency_bin"
        ),
        nw.when(nw.col("monetary") <= 0)
        .then(nw.lit(0))
        .otherwise(
            _bin(nw.col("monetary"), [(x, i + 1) for i, x in enumerate(edges)], len(edges) + 1)
        )
        .alias("monetary_bin"),
    )


def _cluster_variances(
    cand: nw.LazyFrame, outcomes: list[str]
) -> tuple[pd.Series, pd.Series, int, int]:
    """Customer-clustered variances of the members' mean and the controls' weighted mean.

    Only rows of strata with both members and controls count. Returns the two variance
    series (by outcome), the matched members and the distinct control customers.
    """
    m_s = nw.col("treated").cast(nw.Float64).sum().over(*STRATUM)
    c_s = (1 - nw.col("treated")).cast(nw.Float64).sum().over(*STRATUM)
    rows = cand.with_columns(m_s.alias("m_s"), c_s.alias("c_s")).filter(
        nw.col("m_s") > 0, nw.col("c_s") > 0
    )
    infl = []
    for o in outcomes:
        arm_mean = nw.col(o).mean().over("treated")
        stratum_mean = nw.col(o).mean().over(*STRATUM, "treated")
        infl.append(
            nw.when(nw.col("treated") == 1)
            .then(nw.col(o) - arm_mean)
            .otherwise((nw.col(o) - stratum_mean) * nw.col("m_s") / nw.col("c_s"))
            .alias(f"u_{o}")
        )
    per_customer = (
        rows.with_columns(*infl)
        .group_by("customer_id", "treated")
        .agg(*(nw.col(f"u_{o}").sum() for o in outcomes))
    )
    ss = (
        per_customer.group_by("treated")
        .agg(nw.len().alias("customers"), *((nw.col(f"u_{o}") ** 2).sum() for o in outcomes))
        .collect()
        .to_pandas()
        .set_index("treated")
        .reindex([0, 1])
        .fillna(0.0)
    )
    counts = ss["customers"].to_numpy(dtype=float)
    squares = ss[[f"u_{o}" for o in outcomes]].to_numpy(dtype=float)
    members, controls = int(counts[1]), int(counts[0])
    out = []
    for g in (1, 0):
        n = counts[g]
        factor = n / (n - 1) / members**2 if n > 1 else math.nan
        out.append(pd.Series(squares[g] * factor, index=outcomes))
    return out[0], out[1], members, controls


def member_comparison(
    wh: StoreWarehouse, month: str, params: Params, *, min_members: int = MIN_MEMBERS
) -> MemberComparison:
    """The observational member comparison of one store up to the end of ``month``.

    Parameters
    ----------
    wh
        The store's warehouse (needs ``orders`` and ``loyalty_members``).
    month
        Report month ``YYYY-MM``: data up to its end (local) are used.
    params
        The run's params (``loyalty.event_months``, ``loyalty.match_months``).
    min_members
        Fewest matched members to show the comparison for.

    Returns
    -------
    MemberComparison
        Small frames and scalars (money in the store's currency per month).

    Raises
    ------
    SectionUnavailable
        No ``loyalty_members`` table, no member with enough history before and after
        joining, or fewer than ``min_members`` matched members.
    """
    if not wh.has("loyalty_members"):
        raise SectionUnavailable(text.no_members_table())
    e, k = params.loyalty.event_months, params.loyalty.match_months
    tz = wh.timezone
    end = month_bounds(month, tz)[1]
    report = month_index(parse_month(month))
    orders = wh.table("orders", end=end)
    panel = wh.persist(customer_periods(orders, tz, "month"))
    firsts = panel.group_by("customer_id").agg(nw.col("index").min().alias("first"))
    members = (
        wh.table("loyalty_members", end=end)
        .group_by("customer_id")
        .agg(nw.col("joined_at").min().alias("joined_at"))
    )
    naive = _naive_gap(panel, members, report, e)
    cand = wh.persist(_candidates(panel, firsts, members, report, e, k, tz))
    member_rows = (
        cand.filter(nw.col("treated") == 1).select("join_month", "monetary").collect().to_pandas()
    )
    if member_rows.empty:
        raise SectionUnavailable(text.no_eligible_members(e))
    positive = member_rows.loc[member_rows["monetary"] > 0, "monetary"]
    edges = [float(positive.quantile(q)) if len(positive) else 0.0 for q in MONETARY_QUANTILES]
    cand = _coarsen(cand, k, edges)
    outcomes = [_y(j) for j in range(-e, e)] + ["did", "slope"]
    sums = [nw.col(c).sum().alias(f"sum_{c}") for c in outcomes + COVARIATES] + [
        (nw.col(c) ** 2).sum().alias(f"sumsq_{c}") for c in COVARIATES
    ]
    strata = (
        cand.group_by(*STRATUM, "treated").agg(nw.len().alias("n"), *sums).collect().to_pandas()
    )
    weights = cem_weights(strata)
    matched_members = int(weights.loc[weights["matched"], "members"].sum())
    if matched_members < min_members:
        raise SectionUnavailable(text.too_few_members(matched_members, min_members))
    v_m, v_c, n_m, n_c = _cluster_variances(cand, outcomes)
    res = {o: contrast(strata, weights, o, (v_m[o], v_c[o]), CONFIDENCE) for o in outcomes}
    return MemberComparison(
        naive=naive,
        did=res["did"],
        pretrend=res["slope"],
        pretrend_flagged=bool(res["slope"].p_value < PRETREND_ALPHA),
        event_study=_event_frame(res, e),
        balance=standardised_differences(strata, weights, COVARIATES),
        eligible_members=len(member_rows),
        matched_members=n_m,
        control_customers=n_c,
        strata=int(weights["matched"].sum()),
        event_months=e,
        match_months=k,
        first_join_month=_month_label(int(member_rows["join_month"].min())),
        last_join_month=_month_label(int(member_rows["join_month"].max())),
    )


def _event_frame(res: dict[str, Contrast], e: int) -> pd.DataFrame:
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    rows = []
    for j in range(-e, e):
        r = res[_y(j)]
        rows.append(
            {
                "relative_month": j,
                "members": r.members,
                "members_low": r.members - z * r.members_se,
                "members_high": r.members + z * r.members_se,
                "controls": r.controls,
                "controls_low": r.controls - z * r.controls_se,
                "controls_high": r.controls + z * r.controls_se,
                "difference": r.difference,
                "difference_low": r.low,
                "difference_high": r.high,
            }
        )
    return pd.DataFrame(rows).set_index("relative_month")


def comparison_headlines(result: MemberComparison) -> dict[str, float | bool]:
    """The manifest values of the comparison (recorded under ``loyalty.*``).

    Keys ``did_effect``, ``did_ci_low``, ``did_ci_high``, ``did_p_value`` (money per
    member-month; p unitless), ``naive_gap`` (money per customer-month),
    ``pretrend_p`` and ``pretrend_flagged``.
    """
    return {
        "did_effect": float(result.did.difference),
        "did_ci_low": float(result.did.low),
        "did_ci_high": float(result.did.high),
        "did_p_value": float(result.did.p_value),
        "naive_gap": float(result.naive.gap),
        "pretrend_p": float(result.pretrend.p_value),
        "pretrend_flagged": bool(result.pretrend_flagged),
    }
