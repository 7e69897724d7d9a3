"""The readout of one randomised experiment: every metric, every arm against the control.

:func:`experiment_readout` computes each assigned customer's outcomes on the
engine (:mod:`analysis.experiments.outcomes`), collects only per-arm sums and
per-bucket sums, and hands them to the statistics
(:mod:`analysis.experiments.stats`). Choices, also in docs/metrics.md:

- the control is ``experiment.control``, else a variant named ``control`` or
  ``holdout``, else the first variant by name; every other variant is compared
  with it;
- the sample-ratio check comes first, against ``experiment.split`` (equal
  shares when unset);
- revenue is winsorised at ``experiment.winsorize_percentile`` of the pooled
  arms (its pre-assignment covariate at the same percentile of its own values);
- the reported lift of every metric is CUPED-adjusted with the same metric's
  pre-assignment value (the raw lift is kept beside it, with the ratio of the
  interval widths); the primary metric (``experiment.primary_metric``) is
  tested at ``alpha``; the other metrics' p-values are Holm-adjusted together
  (and the primary's, across arms, when there are several treatment arms);
- the bootstrap cross-check (``experiment.bootstrap_resamples``, seeded by
  the run's ``seed``) resamples buckets of customers for the primary metric.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import narwhals as nw
import pandas as pd

from analysis.config import ExperimentParams
from analysis.errors import SectionUnavailable
from analysis.experiments.outcomes import (
    METRICS,
    assignments,
    bucket_sums,
    customer_outcomes,
    metric_sums,
    revenue_caps,
)
from analysis.experiments.stats import (
    BootstrapInterval,
    BucketSums,
    CupedLift,
    Lift,
    Moments,
    Power,
    SrmCheck,
    bootstrap_relative_lift,
    cuped_lift,
    holm_adjust,
    power_analysis,
    srm_check,
    welch_lift,
)
from analysis.narrative import experiments as words

__all__ = [
    "CONTROL_NAMES",
    "MetricComparison",
    "Readout",
    "Winsorisation",
    "choose_control",
    "experiment_headlines",
    "experiment_readout",
]

CONTROL_NAMES = ("control", "holdout")
"""Variant names taken as the control when ``experiment.control`` is unset (first match wins)."""


def choose_control(variants: Sequence[str], configured: str | None = None) -> str:
    """The control variant: ``configured``, else ``control``/``holdout``, else the first by name.

    Raises
    ------
    SectionUnavailable
        ``configured`` is not one of ``variants``.
    """
    ordered = sorted(variants)
    if configured is not None:
        if configured not in ordered:
            raise SectionUnavailable(words.unknown_control(configured, ordered))
        return configured
    for name in CONTROL_NAMES:
        if name in ordered:
            return name
    return ordered[0]


@dataclass(frozen=True)
class Winsorisation:
    """How revenue was capped.

    Attributes
    ----------
    percentile
        The cap's percentile of the pooled arms (0-100].
    cap
        Revenue per customer above which values are capped (store currency).
    capped_customers
        Customers whose revenue was above the cap.
    capped_share
        ``capped_customers`` ÷ assigned customers.
    revenue_removed_share
        Revenue cut off by the cap ÷ uncapped revenue of all arms.
    """

    percentile: float
    cap: float
    capped_customers: int
    capped_share: float
    revenue_removed_share: float


@dataclass(frozen=True)
class MetricComparison:
    """One metric, one treatment variant against the control.

    Attributes
    ----------
    metric
        One of :data:`~analysis.experiments.outcomes.METRICS`.
    control, variant
        Variant names as written in the data.
    primary
        True for ``experiment.primary_metric``.
    raw, cuped
        The unadjusted and the CUPED results (``cuped.lift`` is the reported one).
    p_value_adjusted
        The CUPED p-value after Holm's adjustment (see the module docstring).
    power
        Minimum detectable effect for the sample in hand and the sample needed
        for ``experiment.target_lift`` (from the raw variances).
    bootstrap
        The bootstrap interval of the relative lift (primary metric only).
    """

    metric: str
    control: str
    variant: str
    primary: bool
    raw: Lift
    cuped: CupedLift
    p_value_adjusted: float
    power: Power
    bootstrap: BootstrapInterval | None

    @property
    def reported(self) -> Lift:
        """The lift the page and the verdict report (CUPED-adjusted)."""
        return self.cuped.lift


@dataclass(frozen=True)
class Readout:
    """Everything the experiment page shows.

    Attributes
    ----------
    experiment_id
        The experiment read.
    control
        The control variant.
    customers
        Assigned customers per variant (after leaving out customers listed
        under several variants).
    several_variants
        Customers listed under two or more variants (left out).
    srm
        The sample-ratio-mismatch check.
    arms
        Per variant: raw means of every metric (``<metric>`` columns, revenue
        uncapped), the capped revenue mean (``revenue_capped``) and customers.
    comparisons
        Every metric × treatment variant, primary metric first.
    winsorisation
        How revenue was capped.
    retention_days, retained_customers
        The retention window and the customers whose window had passed by the
        end (those the ``retained`` metric counts).
    start, end
        First assignment and the end of the outcome window (tz-aware).
    """

    experiment_id: str
    control: str
    customers: dict[str, int]
    several_variants: int
    srm: SrmCheck
    arms: pd.DataFrame
    comparisons: tuple[MetricComparison, ...]
    winsorisation: Winsorisation
    retention_days: int
    retained_customers: int
    start: dt.datetime
    end: dt.datetime

    @property
    def primary(self) -> tuple[MetricComparison, ...]:
        """The primary metric's comparisons (one per treatment variant)."""
        return tuple(c for c in self.comparisons if c.primary)


def _moments(row: pd.Series, metric: str) -> Moments:
    return Moments(
        n=int(row[f"{metric}_n"]),
        sum_y=float(row[f"{metric}_y"]),
        sum_y2=float(row[f"{metric}_y2"]),
        sum_x=float(row[f"{metric}_x"]),
        sum_x2=float(row[f"{metric}_x2"]),
        sum_xy=float(row[f"{metric}_xy"]),
    )


def _arms(sums: pd.DataFrame) -> pd.DataFrame:
    arms = pd.DataFrame({"variant": sums["variant"], "customers": sums["customers"]})
    arms["revenue"] = sums["revenue_raw"] / sums["customers"]
    arms["revenue_capped"] = sums["revenue_y"] / sums["revenue_n"]
    for metric in METRICS[1:]:
        n = sums[f"{metric}_n"]
        arms[metric] = (sums[f"{metric}_y"] / n).where(n > 0)
    return arms.reset_index(drop=True)


def experiment_readout(
    experiments: nw.LazyFrame,
    orders: nw.LazyFrame,
    experiment_id: str,
    end: dt.datetime,
    params: ExperimentParams,
    seed: int,
    persist: Callable[[nw.LazyFrame], nw.LazyFrame] | None = None,
) -> Readout:
    """Read one experiment: outcomes on the engine, statistics on the per-arm sums.

    Parameters
    ----------
    experiments, orders
        The store's tables up to ``end`` (lazy).
    experiment_id
        The experiment to read.
    end
        End of the outcome window (exclusive), tz-aware.
    params
        The ``experiment`` params.
    seed
        Seed of the bootstrap (the run's ``seed``).
    persist
        Materialises the per-customer outcomes once (e.g.
        :meth:`analysis.warehouse.StoreWarehouse.persist`); None recomputes them
        for each of the three small queries.

    Raises
    ------
    SectionUnavailable
        ``params.control`` is not a variant of the data, or a variant of the
        data is missing from ``params.split``.
    """
    outcomes = customer_outcomes(experiments, orders, experiment_id, end, params.retention_days)
    if persist is not None:
        outcomes = persist(outcomes)
    several = int(
        assignments(experiments, experiment_id)
        .filter(nw.col("variants") > 1)
        .select(nw.len())
        .collect()
        .item()
    )
    start = (
        experiments.filter(nw.col("experiment_id") == experiment_id)
        .select(nw.col("assigned_at").min())
        .collect()
        .item()
    )
    cap, pre_cap = revenue_caps(outcomes, params.winsorize_percentile)
    sums = metric_sums(outcomes, cap, pre_cap)
    rows = {str(row["variant"]): row for _, row in sums.iterrows()}
    variants = list(rows)
    control = choose_control(variants, params.control)
    customers = {v: int(rows[v]["customers"]) for v in variants}
    if params.split is not None and set(variants) - set(params.split):
        raise SectionUnavailable(
            words.unplanned_variants(
                sorted(set(variants) - set(params.split)), sorted(params.split)
            )
        )
    srm = srm_check(customers, params.split, alpha=params.srm_alpha)
    treated = [v for v in variants if v != control]
    primary = params.primary_metric
    buckets = bucket_sums(outcomes, primary, cap)

    found: list[tuple[str, str, Lift, CupedLift, Power, BootstrapInterval | None]] = []
    for metric in (primary, *[m for m in METRICS if m != primary]):
        base = _moments(rows[control], metric)
        for variant in treated:
            other = _moments(rows[variant], metric)
            if base.n < 2 or other.n < 2 or base.mean_y == 0:
                continue
            boot = None
            if metric == primary:
                boot = bootstrap_relative_lift(
                    BucketSums(*buckets[control]),
                    BucketSums(*buckets[variant]),
                    resamples=params.bootstrap_resamples,
                    seed=seed,
                    alpha=params.alpha,
                )
            found.append(
                (
                    metric,
                    variant,
                    welch_lift(base, other, params.alpha),
                    cuped_lift(base, other, params.alpha),
                    power_analysis(base, other, params.target_lift, params.alpha, params.power),
                    boot,
                )
            )
    adjusted = [0.0] * len(found)
    for family in (True, False):
        members = [i for i, f in enumerate(found) if (f[0] == primary) is family]
        for i, p in zip(
            members, holm_adjust([found[i][3].lift.p_value for i in members]), strict=True
        ):
            adjusted[i] = p
    comparisons = tuple(
        MetricComparison(
            metric=metric,
            control=control,
            variant=variant,
            primary=metric == primary,
            raw=raw,
            cuped=cuped,
            p_value_adjusted=adjusted[i],
            power=power,
            bootstrap=boot,
        )
        for i, (metric, variant, raw, cuped, power, boot) in enumerate(found)
    )
    total = int(sums["customers"].sum())
    revenue_raw = float(sums["revenue_raw"].sum())
    winsorisation = Winsorisation(
        percentile=params.winsorize_percentile,
        cap=cap,
        capped_customers=int(sums["capped"].sum()),
        capped_share=float(sums["capped"].sum()) / total if total else 0.0,
        revenue_removed_share=(revenue_raw - float(sums["revenue_y"].sum())) / revenue_raw
        if revenue_raw > 0
        else 0.0,
    )
    return Readout(
        experiment_id=experiment_id,
        control=control,
        customers=customers,
        several_variants=several,
        srm=srm,
        arms=_arms(sums),
        comparisons=comparisons,
        winsorisation=winsorisation,
        retention_days=params.retention_days,
        retained_customers=int(sums["retained_n"].sum()),
        start=start,
        end=end,
    )


def experiment_headlines(readout: Readout) -> dict[str, str | float | int | bool | None]:
    """Manifest values of the readout (recorded under ``experiment.*``).

    Keys never hold data values: variant names are values (``control``,
    ``primary.variant``). ``primary.*`` is the primary metric's first
    comparison (the first treatment variant by name); relative values are
    fractions (0.068 = +6.8 %), all CUPED-adjusted except ``primary.lift_rel_raw``.
    """
    values: dict[str, str | float | int | bool | None] = {
        "id": readout.experiment_id,
        "control": readout.control,
        "customers": sum(readout.customers.values()),
        "variants": len(readout.customers),
        "srm_p": round(readout.srm.p_value, 6),
        "srm_mismatch": readout.srm.mismatch,
        "winsorize_cap": round(readout.winsorisation.cap, 2),
        "capped_share": round(readout.winsorisation.capped_share, 6),
    }
    if readout.primary:
        first = readout.primary[0]
        lift = first.reported
        values.update(
            {
                "primary.metric": first.metric,
                "primary.variant": first.variant,
                "primary.lift_rel": round(lift.rel_lift, 6),
                "primary.ci_low_rel": round(lift.rel_ci_low, 6),
                "primary.ci_high_rel": round(lift.rel_ci_high, 6),
                "primary.p_value": round(lift.p_value, 6),
                "primary.lift_abs": round(lift.abs_lift, 6),
                "primary.lift_rel_raw": round(first.raw.rel_lift, 6),
                "primary.cuped_ci_width_ratio": round(first.cuped.ci_width_ratio, 6),
                "primary.mde_rel": round(first.power.mde_rel, 6),
            }
        )
        if first.bootstrap is not None:
            values["primary.bootstrap_ci_low_rel"] = round(first.bootstrap.rel_ci_low, 6)
            values["primary.bootstrap_ci_high_rel"] = round(first.bootstrap.rel_ci_high, 6)
    return values
