"""Statistics of a randomised experiment, as small pure functions over per-arm sums.

The engine computes, per arm, the count of assigned customers and the sums of a
metric ``y`` (and of a pre-assignment covariate ``x`` for CUPED); the functions
here take those sums (:class:`Moments`, :class:`BucketSums`) and return frozen
dataclasses of numbers. Nothing here reads a table or builds a word: the readout
assembles the sums, the narrative module words the results.

Every function compares two arms (a control and one treatment); an experiment
with more arms calls them once per variant against the control and adjusts the
secondary p-values with :func:`holm_adjust`. :func:`srm_check` takes all arms.

Units: means, lifts and their intervals are in the metric's units (baht per
customer, orders per customer, a share for 0/1 metrics); relative lifts are
fractions (0.068 = +6.8 %); counts are customers. Formulas are written out in
docs/metrics.md, "Experiment statistics".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

__all__ = [
    "BootstrapInterval",
    "BucketSums",
    "CupedLift",
    "Lift",
    "Moments",
    "Power",
    "SrmCheck",
    "bootstrap_relative_lift",
    "cuped_lift",
    "holm_adjust",
    "power_analysis",
    "srm_check",
    "welch_lift",
]


@dataclass(frozen=True)
class Moments:
    """Sums of one arm: a metric ``y`` and an optional pre-period covariate ``x``.

    Parameters
    ----------
    n : int
        Customers in the arm (intention to treat: every assigned customer).
    sum_y, sum_y2 : float
        Sum of the metric and of its square over the arm (metric units, squared).
    sum_x, sum_x2, sum_xy : float, default 0.0
        Sums of the covariate, of its square and of ``x * y`` (for CUPED; the
        covariate is the same metric measured before assignment). Left at 0 when
        there is no covariate, which makes CUPED a no-op.
    """

    n: int
    sum_y: float
    sum_y2: float
    sum_x: float = 0.0
    sum_x2: float = 0.0
    sum_xy: float = 0.0

    @property
    def mean_y(self) -> float:
        """Mean of the metric (metric units)."""
        return self.sum_y / self.n

    @property
    def mean_x(self) -> float:
        """Mean of the covariate (covariate units)."""
        return self.sum_x / self.n

    @property
    def var_y(self) -> float:
        """Sample variance of the metric, ddof = 1 (metric units squared); 0 for n < 2."""
        return _centred(self.sum_y2, self.sum_y, self.sum_y, self.n, clip=True)

    @property
    def var_x(self) -> float:
        """Sample variance of the covariate, ddof = 1; 0 for n < 2."""
        return _centred(self.sum_x2, self.sum_x, self.sum_x, self.n, clip=True)

    @property
    def cov_xy(self) -> float:
        """Sample covariance of covariate and metric, ddof = 1; 0 for n < 2."""
        return _centred(self.sum_xy, self.sum_x, self.sum_y, self.n, clip=False)

    @classmethod
    def from_arrays(cls, y: npt.ArrayLike, x: npt.ArrayLike | None = None) -> Moments:
        """Sums of per-customer values (for tests and small data).

        Parameters
        ----------
        y : array_like, shape (n,)
            The metric per customer.
        x : array_like, shape (n,), optional
            The pre-period covariate per customer.
        """
        ya = np.asarray(y, dtype=float).ravel()
        if x is None:
            return cls(len(ya), float(ya.sum()), float(ya @ ya))
        xa = np.asarray(x, dtype=float).ravel()
        if xa.shape != ya.shape:
            raise ValueError(f"x has {xa.size} values, y has {ya.size}")
        return cls(
            len(ya),
            float(ya.sum()),
            float(ya @ ya),
            float(xa.sum()),
            float(xa @ xa),
            float(xa @ ya),
        )

    def __add__(self, other: Moments) -> Moments:
        """The sums of two arms taken together (pooling)."""
        if not isinstance(other, Moments):
            return NotImplemented
        return Moments(
            self.n + other.n,
            self.sum_y + other.sum_y,
            self.sum_y2 + other.sum_y2,
            self.sum_x + other.sum_x,
            self.sum_x2 + other.sum_x2,
            self.sum_xy + other.sum_xy,
        )


def _centred(sum_ab: float, sum_a: float, sum_b: float, n: int, *, clip: bool) -> float:
    """(Σab − Σa Σb / n) / (n − 1); variances clipped at 0 against rounding."""
    if n < 2:
        return 0.0
    value = (sum_ab - sum_a * sum_b / n) / (n - 1)
    return max(value, 0.0) if clip else value


@dataclass(frozen=True)
class Lift:
    """Treatment versus control on one metric.

    Means, ``abs_*`` in metric units; ``rel_*`` as fractions of the control mean
    (``rel_lift = treatment_mean / control_mean - 1``). Intervals are two-sided at
    level ``1 - alpha``: absolute by Welch's t with ``df`` degrees of freedom,
    relative by the delta method with a normal quantile. ``p_value`` is the
    two-sided Welch test of equal means. Relative fields are NaN when the control
    mean is 0; ``p_value`` and ``df`` are NaN when both arms have zero variance.
    """

    control_mean: float
    treatment_mean: float
    abs_lift: float
    abs_se: float
    abs_ci_low: float
    abs_ci_high: float
    rel_lift: float
    rel_se: float
    rel_ci_low: float
    rel_ci_high: float
    p_value: float
    df: float
    alpha: float


def _check_arms(control: Moments, treatment: Moments) -> None:
    if control.n < 2 or treatment.n < 2:
        raise ValueError(f"each arm needs at least 2 customers (got {control.n}, {treatment.n})")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")


def _z(alpha: float) -> float:
    return float(sps.norm.ppf(1.0 - alpha / 2.0))


def _relative(
    mean_c: float, mean_t: float, var_rel: float, alpha: float
) -> tuple[float, float, float, float]:
    """(rel_lift, rel_se, low, high); NaN when the control mean is 0."""
    if mean_c == 0.0 or not math.isfinite(var_rel):
        nan = math.nan
        return nan, nan, nan, nan
    rel = mean_t / mean_c - 1.0
    se = math.sqrt(max(var_rel, 0.0))
    half = _z(alpha) * se
    return rel, se, rel - half, rel + half


def welch_lift(control: Moments, treatment: Moments, alpha: float = 0.05) -> Lift:
    """Absolute and relative lift of the treatment mean over the control mean.

    Absolute: ``d = m_t - m_c`` with ``se = sqrt(v_c/n_c + v_t/n_t)``, Welch's t
    interval ``d ± t_{1-alpha/2, df} se`` with Welch–Satterthwaite degrees of
    freedom ``df = se^4 / ((v_c/n_c)^2/(n_c-1) + (v_t/n_t)^2/(n_t-1))``, and the
    two-sided p-value of ``d / se`` on that t distribution (scipy's
    ``ttest_ind(equal_var=False)``).

    Relative: ``r = m_t / m_c - 1`` with the delta-method variance
    ``se_r^2 = v_t / (n_t m_c^2) + m_t^2 v_c / (n_c m_c^4)`` and the normal
    interval ``r ± z_{1-alpha/2} se_r``.

    Parameters
    ----------
    control, treatment : Moments
        Sums of each arm (``n >= 2``); the covariate sums are ignored here.
    alpha : float, default 0.05
        Two-sided level: intervals cover with probability ``1 - alpha``.

    Returns
    -------
    Lift
    """
    _check_arms(control, treatment)
    _check_alpha(alpha)
    mc, mt = control.mean_y, treatment.mean_y
    ac, at = control.var_y / control.n, treatment.var_y / treatment.n
    return _lift(mc, mt, ac, at, control.n, treatment.n, _delta_var(control, treatment), alpha)


def _delta_var(control: Moments, treatment: Moments) -> float:
    mc, mt = control.mean_y, treatment.mean_y
    if mc == 0.0:
        return math.nan
    return treatment.var_y / (treatment.n * mc**2) + mt**2 * control.var_y / (control.n * mc**4)


def _lift(
    mc: float,
    mt: float,
    ac: float,
    at: float,
    nc: int,
    nt: int,
    var_rel: float,
    alpha: float,
) -> Lift:
    """Lift from means and squared standard errors ``ac = v_c/n_c``, ``at = v_t/n_t``."""
    diff = mt - mc
    se2 = ac + at
    se = math.sqrt(se2)
    if se2 > 0.0:
        df = se2**2 / (ac**2 / (nc - 1) + at**2 / (nt - 1))
        half = float(sps.t.ppf(1.0 - alpha / 2.0, df)) * se
        p = float(2.0 * sps.t.sf(abs(diff) / se, df))
    else:
        df, half, p = math.nan, 0.0, math.nan
    rel, rel_se, rel_low, rel_high = _relative(mc, mt, var_rel, alpha)
    return Lift(
        control_mean=mc,
        treatment_mean=mt,
        abs_lift=diff,
        abs_se=se,
        abs_ci_low=diff - half,
        abs_ci_high=diff + half,
        rel_lift=rel,
        rel_se=rel_se,
        rel_ci_low=rel_low,
        rel_ci_high=rel_high,
        p_value=p,
        df=df,
        alpha=alpha,
    )


@dataclass(frozen=True)
class CupedLift:
    """CUPED-adjusted lift beside the raw one.

    Attributes
    ----------
    lift : Lift
        The adjusted result: means of ``y - theta (x - mean_x_pooled)`` per arm,
        absolute lift by Welch on the adjusted values, relative lift by the delta
        method on the adjusted means.
    theta : float
        The one slope used for both arms: within-arm pooled
        ``cov(x, y) / var(x)`` (0 when the covariate has no variance).
    raw : Lift
        :func:`welch_lift` of the unadjusted metric.
    variance_reduction : float
        ``1 - var(adjusted) / var(raw)`` of the metric pooled within arms (a
        fraction; equals the squared within-arm correlation of ``x`` and ``y``).
    ci_width_ratio : float
        Adjusted absolute CI width / raw absolute CI width (< 1 when CUPED
        narrows the interval; NaN when the raw width is 0).
    """

    lift: Lift
    theta: float
    raw: Lift
    variance_reduction: float
    ci_width_ratio: float


def cuped_lift(control: Moments, treatment: Moments, alpha: float = 0.05) -> CupedLift:
    """Lift with CUPED variance reduction by a pre-assignment covariate.

    ``theta = (S_xy,c + S_xy,t) / (S_xx,c + S_xx,t)`` with ``S`` the centred sums
    within each arm (the slope of ``y`` on ``x`` within arms, the coefficient an
    OLS of ``y`` on ``[1, treatment, x]`` gives; one theta for both arms). Each
    customer's adjusted value is ``y - theta (x - xbar)`` with ``xbar`` the mean of
    ``x`` over both arms; its arm mean and variance follow from the sums alone:
    ``m_a' = m_a - theta (xbar_a - xbar)`` and
    ``v_a' = v_y,a - 2 theta c_xy,a + theta^2 v_x,a``. The absolute lift
    ``m_t' - m_c'`` (equal to the OLS treatment coefficient) gets Welch's interval
    on these adjusted moments.

    Relative lift ``r' = m_t' / m_c' - 1`` by the delta method on the four arm
    means ``(ybar_c, xbar_c, ybar_t, xbar_t)``, theta held fixed, counting that
    ``xbar`` mixes both arms (weights ``w_c = n_c / N``, ``w_t = n_t / N``)::

        g_t = theta (w_c / m_c' + m_t' w_t / m_c'^2)
        se^2 = (v_y,t - 2 g_t m_c' c_xy,t + g_t^2 m_c'^2 v_x,t) / (n_t m_c'^2)
             + (m_t'^2 v_y,c / m_c'^4 - 2 g_t m_t' c_xy,c / m_c'^2 + g_t^2 v_x,c) / n_c

    (with ``theta = 0`` this is :func:`welch_lift`'s delta method; with equal
    means and arms it is the delta method on the adjusted variances).

    Parameters
    ----------
    control, treatment : Moments
        Sums of each arm including ``sum_x``, ``sum_x2``, ``sum_xy`` (``n >= 2``).
    alpha : float, default 0.05
        Two-sided level of the intervals.

    Returns
    -------
    CupedLift
        Equal to the raw result (``theta = 0``, ratio 1) when ``x`` has no
        variance within the arms.
    """
    _check_arms(control, treatment)
    _check_alpha(alpha)
    raw = welch_lift(control, treatment, alpha)
    sxx = (control.n - 1) * control.var_x + (treatment.n - 1) * treatment.var_x
    sxy = (control.n - 1) * control.cov_xy + (treatment.n - 1) * treatment.cov_xy
    syy = (control.n - 1) * control.var_y + (treatment.n - 1) * treatment.var_y
    theta = sxy / sxx if sxx > 0.0 else 0.0
    if theta == 0.0:
        width = raw.abs_ci_high - raw.abs_ci_low
        return CupedLift(raw, 0.0, raw, 0.0, 1.0 if width > 0 else math.nan)
    n = control.n + treatment.n
    xbar = (control.sum_x + treatment.sum_x) / n

    def adjusted(arm: Moments) -> tuple[float, float]:
        mean = arm.mean_y - theta * (arm.mean_x - xbar)
        var = arm.var_y - 2.0 * theta * arm.cov_xy + theta**2 * arm.var_x
        return mean, max(var, 0.0)

    mc, vc = adjusted(control)
    mt, vt = adjusted(treatment)
    var_rel = math.nan
    if mc != 0.0:
        wc, wt = control.n / n, treatment.n / n
        g = theta * (wc / mc + mt * wt / mc**2)
        var_rel = (
            treatment.var_y - 2.0 * g * mc * treatment.cov_xy + g**2 * mc**2 * treatment.var_x
        ) / (treatment.n * mc**2) + (
            mt**2 * control.var_y / mc**4
            - 2.0 * g * mt * control.cov_xy / mc**2
            + g**2 * control.var_x
        ) / control.n
    lift = _lift(mc, mt, vc / control.n, vt / treatment.n, control.n, treatment.n, var_rel, alpha)
    raw_width = raw.abs_ci_high - raw.abs_ci_low
    ratio = (lift.abs_ci_high - lift.abs_ci_low) / raw_width if raw_width > 0 else math.nan
    reduction = 1.0 - (syy - 2.0 * theta * sxy + theta**2 * sxx) / syy if syy > 0 else 0.0
    return CupedLift(lift, theta, raw, reduction, ratio)


@dataclass(frozen=True)
class SrmCheck:
    """Sample-ratio-mismatch check of the assignment counts against the plan.

    ``observed`` and ``expected`` are customers per variant (plan order, then any
    other observed variant); ``chi2`` the Pearson statistic with ``df = k - 1``;
    ``mismatch`` is ``p_value < alpha``.
    """

    observed: dict[str, int]
    expected: dict[str, float]
    chi2: float
    df: int
    p_value: float
    mismatch: bool
    alpha: float


def srm_check(
    observed: Mapping[str, int],
    planned_shares: Mapping[str, float] | None = None,
    alpha: float = 0.001,
) -> SrmCheck:
    """Chi-square goodness of fit of the customers per variant to the planned split.

    ``chi2 = sum_k (o_k - e_k)^2 / e_k`` with ``e_k = N s_k / sum(s)`` and
    ``p = P(chi2_{k-1} >= chi2)`` (scipy's ``chisquare``).

    Parameters
    ----------
    observed : Mapping[str, int]
        Customers assigned per variant name.
    planned_shares : Mapping[str, float], optional
        Planned share (or weight; normalised to sum 1) per variant, each > 0.
        ``None``: equal shares over the observed variants. A planned variant
        absent from ``observed`` counts as 0 customers (a broken arm is a
        mismatch).
    alpha : float, default 0.001
        Flag a mismatch when ``p_value < alpha``.

    Raises
    ------
    ValueError
        An observed variant missing from the plan, a share <= 0, a negative
        count, fewer than two variants, or no customers at all.
    """
    _check_alpha(alpha)
    plan = dict(planned_shares) if planned_shares is not None else dict.fromkeys(observed, 1.0)
    extra = [name for name in observed if name not in plan]
    if extra:
        raise ValueError(f"variants not in the planned split: {extra}")
    if len(plan) < 2:
        raise ValueError("a sample-ratio check needs at least two variants")
    if any(not share > 0 for share in plan.values()):
        raise ValueError(f"planned shares must be positive: {plan}")
    counts = {name: int(observed.get(name, 0)) for name in plan}
    if any(c < 0 for c in counts.values()):
        raise ValueError(f"negative counts: {counts}")
    total = sum(counts.values())
    if total == 0:
        raise ValueError("no customers assigned")
    weight = math.fsum(plan.values())
    expected = {name: total * share / weight for name, share in plan.items()}
    chi2 = math.fsum((counts[k] - expected[k]) ** 2 / expected[k] for k in plan)
    df = len(plan) - 1
    p = float(sps.chi2.sf(chi2, df))
    return SrmCheck(counts, expected, chi2, df, p, p < alpha, alpha)


@dataclass(frozen=True)
class Power:
    """What the experiment can detect, and what it would need.

    Attributes
    ----------
    mde_abs : float
        Minimum detectable absolute difference (metric units) at ``power`` with
        the customers in hand (two-sided test at ``alpha``).
    mde_rel : float
        ``mde_abs / |control mean|`` (a fraction; NaN when the control mean is 0).
    n_needed_per_arm : int or None
        Customers needed in the control arm to detect ``target_rel`` at
        ``power``, the treatment arm taking ``allocation_ratio`` times as many
        (the allocation of the experiment in hand; with an even split both arms
        need this many). None when undefined (``target_rel == 0`` or a control
        mean of 0).
    target_rel : float
        The stated relative effect (fraction).
    power, alpha : float
        The power and two-sided level used.
    allocation_ratio : float
        ``n_t / n_c`` observed.
    """

    mde_abs: float
    mde_rel: float
    n_needed_per_arm: int | None
    target_rel: float
    power: float
    alpha: float
    allocation_ratio: float = 1.0


def power_analysis(
    control: Moments,
    treatment: Moments,
    target_rel: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> Power:
    """Minimum detectable effect now, and the sample needed for a stated effect.

    Normal approximation, two-sided test:
    ``mde = (z_{1-alpha/2} + z_{power}) sqrt(v_c/n_c + v_t/n_t)``. With the
    observed variances and allocation ratio ``k = n_t / n_c``, the control arm
    needs ``n_c = (z_{1-alpha/2} + z_{power})^2 (v_c + v_t / k) / delta^2``
    customers (rounded up, at least 2) for ``delta = target_rel |m_c|``; at that
    sample the mde equals the target.

    Parameters
    ----------
    control, treatment : Moments
        Sums of each arm (``n >= 2``).
    target_rel : float
        The effect to plan for, relative to the control mean (0.05 = +5 %).
    alpha : float, default 0.05
        Two-sided level of the test.
    power : float, default 0.8
        Probability of detecting an effect of the mde.

    Returns
    -------
    Power
    """
    _check_arms(control, treatment)
    _check_alpha(alpha)
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must lie in (0, 1), got {power}")
    z = _z(alpha) + float(sps.norm.ppf(power))
    vc, vt = control.var_y, treatment.var_y
    mde = z * math.sqrt(vc / control.n + vt / treatment.n)
    mc = abs(control.mean_y)
    ratio = treatment.n / control.n
    delta = abs(target_rel) * mc
    needed: int | None = None
    if delta > 0.0 and math.isfinite(delta):
        needed = max(2, math.ceil(z**2 * (vc + vt / ratio) / delta**2 - 1e-9))
    return Power(
        mde_abs=mde,
        mde_rel=mde / mc if mc > 0 else math.nan,
        n_needed_per_arm=needed,
        target_rel=target_rel,
        power=power,
        alpha=alpha,
        allocation_ratio=ratio,
    )


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given.

    Sorted ascending ``p_(1) <= ... <= p_(m)``, the adjusted value of ``p_(i)`` is
    ``min(1, max_{j <= i} (m - j + 1) p_(j))`` (step-down, monotone, capped at
    1). Rejecting where the adjusted value is below ``alpha`` controls the
    family-wise error rate at ``alpha``.

    Parameters
    ----------
    p_values : Sequence[float]
        Raw p-values in [0, 1] (any order; may be empty).

    Raises
    ------
    ValueError
        A p-value outside [0, 1] or NaN.
    """
    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return []
    if not np.all((p >= 0.0) & (p <= 1.0)):
        raise ValueError(f"p-values must lie in [0, 1]: {list(p_values)}")
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return [float(v) for v in adjusted]


@dataclass(frozen=True)
class BucketSums:
    """Per-bucket sums of one arm: customers hashed into buckets on the engine.

    Parameters
    ----------
    n : numpy.ndarray of int, shape (B,)
        Customers per bucket.
    sum_y : numpy.ndarray of float, shape (B,)
        Sum of the metric per bucket (metric units).
    """

    n: np.ndarray
    sum_y: np.ndarray


@dataclass(frozen=True)
class BootstrapInterval:
    """Percentile bootstrap interval of the relative lift (fractions)."""

    rel_ci_low: float
    rel_ci_high: float
    resamples: int
    seed: int
    alpha: float


# Resample in blocks of at most this many drawn buckets, to bound memory.
_BLOCK = 4_000_000


def _resampled_sums(
    arm: BucketSums, resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = np.asarray(arm.n, dtype=float).ravel()
    y = np.asarray(arm.sum_y, dtype=float).ravel()
    if n.shape != y.shape or n.size == 0:
        raise ValueError("BucketSums needs n and sum_y of the same non-zero length")
    buckets = n.size
    out_n, out_y = np.empty(resamples), np.empty(resamples)
    rows = max(1, _BLOCK // buckets)
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        idx = rng.integers(0, buckets, size=(stop - start, buckets))
        out_n[start:stop] = n[idx].sum(axis=1)
        out_y[start:stop] = y[idx].sum(axis=1)
    return out_n, out_y


def bootstrap_relative_lift(
    control: BucketSums,
    treatment: BucketSums,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> BootstrapInterval:
    """Percentile bootstrap interval of ``m_t / m_c - 1`` from per-bucket sums.

    Each resample draws, within each arm, as many buckets as the arm has, with
    replacement, and takes ``sum(sum_y*) / sum(n*)`` as the arm's mean; the
    interval is the ``alpha/2`` and ``1 - alpha/2`` quantiles of the resampled
    relative lifts. With one customer per bucket this is the ordinary bootstrap
    of customers; with ``B`` buckets of i.i.d. customers (customers hashed into
    buckets on the engine) it is the bucket ("grouped") bootstrap used at scale,
    which needs only ``2 B`` numbers per arm. Seeded (numpy ``default_rng(seed)``)
    and vectorised: the same inputs and seed give the same interval.

    Parameters
    ----------
    control, treatment : BucketSums
        Per-bucket customer counts and metric sums of each arm.
    resamples : int, default 1000
        Bootstrap resamples (>= 1).
    seed : int, default 0
        Seed of the random generator (the run's ``params.seed``).
    alpha : float, default 0.05
        Two-sided level of the interval.

    Returns
    -------
    BootstrapInterval
        NaN bounds when more than ``alpha / 2`` of the resamples have a control
        mean of 0 (relative lift undefined); rarer such resamples are dropped.
    """
    _check_alpha(alpha)
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    rng = np.random.default_rng(seed)
    nc, yc = _resampled_sums(control, resamples, rng)
    nt, yt = _resampled_sums(treatment, resamples, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (yt / nt) / (yc / nc) - 1.0
    rel = np.where(np.isfinite(rel), rel, np.nan)
    if np.isnan(rel).mean() > alpha / 2:
        low, high = math.nan, math.nan
    else:
        # Resamples with a control mean of 0 (undefined lift) are dropped when rare.
        finite = rel[~np.isnan(rel)]
        low, high = (float(v) for v in np.quantile(finite, [alpha / 2, 1 - alpha / 2]))
    return BootstrapInterval(low, high, resamples, seed, alpha)
