"""analysis.experiments.stats against closed forms, worked examples and reference libraries."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats import proportion as smp
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from analysis.experiments.stats import (
    BucketSums,
    Moments,
    bootstrap_relative_lift,
    cuped_lift,
    holm_adjust,
    power_analysis,
    srm_check,
    welch_lift,
)

Z975 = 1.959963984540054  # standard normal 97.5 % quantile


def moments_with(n: int, mean: float, var: float) -> Moments:
    """An arm of ``n`` customers with exactly this mean and (ddof=1) variance."""
    return Moments(n, n * mean, (n - 1) * var + n * mean**2)


# --- Moments ---------------------------------------------------------------------------


def test_moments_match_numpy_and_pool_by_addition():
    rng = np.random.default_rng(1)
    y, x = rng.gamma(2.0, 50.0, 300), rng.normal(10.0, 3.0, 300)
    m = Moments.from_arrays(y, x)
    assert m.n == 300
    assert m.mean_y == pytest.approx(y.mean(), rel=1e-12)
    assert m.mean_x == pytest.approx(x.mean(), rel=1e-12)
    assert m.var_y == pytest.approx(y.var(ddof=1), rel=1e-9)
    assert m.var_x == pytest.approx(x.var(ddof=1), rel=1e-9)
    assert m.cov_xy == pytest.approx(np.cov(x, y)[0, 1], rel=1e-9)
    pooled = Moments.from_arrays(y[:100], x[:100]) + Moments.from_arrays(y[100:], x[100:])
    assert pooled.n == 300
    for field in ("sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy"):
        assert getattr(pooled, field) == pytest.approx(getattr(m, field), rel=1e-12)


def test_moments_by_hand():
    m = Moments.from_arrays([1.0, 2.0, 6.0], [0.0, 1.0, 2.0])
    assert (m.n, m.sum_y, m.sum_y2, m.sum_x, m.sum_x2, m.sum_xy) == (3, 9.0, 41.0, 3.0, 5.0, 14.0)
    assert m.var_y == pytest.approx(7.0)  # deviations -2, -1, 3 -> 14 / 2
    assert m.cov_xy == pytest.approx(2.5)  # (-1)(-2) + 0 + (1)(3) = 5 -> 5 / 2
    with pytest.raises(ValueError, match="x has 2 values"):
        Moments.from_arrays([1.0, 2.0, 3.0], [1.0, 2.0])


# --- Welch -------------------------------------------------------------------------------


@pytest.mark.parametrize(("nc", "nt", "seed"), [(40, 25, 0), (500, 800, 1), (7, 3, 2)])
def test_welch_matches_scipy_ttest_ind(nc, nt, seed):
    rng = np.random.default_rng(seed)
    yc = rng.lognormal(3.0, 1.0, nc)
    yt = rng.lognormal(3.2, 0.6, nt)
    lift = welch_lift(Moments.from_arrays(yc), Moments.from_arrays(yt), alpha=0.05)
    ref = sps.ttest_ind(yt, yc, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert lift.abs_lift / lift.abs_se == pytest.approx(ref.statistic, rel=1e-9)
    assert lift.p_value == pytest.approx(ref.pvalue, rel=1e-8)
    assert lift.df == pytest.approx(ref.df, rel=1e-9)
    assert lift.abs_ci_low == pytest.approx(ci.low, rel=1e-9)
    assert lift.abs_ci_high == pytest.approx(ci.high, rel=1e-9)
    assert lift.abs_lift == pytest.approx(yt.mean() - yc.mean(), rel=1e-12)
    assert (lift.control_mean, lift.treatment_mean) == pytest.approx((yc.mean(), yt.mean()))


def test_welch_alpha_sets_the_interval_level():
    rng = np.random.default_rng(3)
    yc, yt = rng.normal(10, 2, 60), rng.normal(11, 3, 50)
    lift = welch_lift(Moments.from_arrays(yc), Moments.from_arrays(yt), alpha=0.10)
    ci = sps.ttest_ind(yt, yc, equal_var=False).confidence_interval(0.90)
    assert (lift.abs_ci_low, lift.abs_ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert lift.alpha == 0.10


def test_proportions_match_statsmodels_wald():
    """0/1 metric: Welch on the indicator vs statsmodels' unpooled Wald (z) test.

    Two differences, both O(1/n): our variance has ddof=1 (p(1-p) n/(n-1)) where
    Wald uses p(1-p), and we use a t quantile with ~10,000 df where Wald uses z.
    At n = 5,000 / 6,000 the standard errors agree to 1e-4 relative, so the
    statistic, p-value and interval bounds agree to 2e-4 relative (bounds to 1e-5 abs).
    """
    nc, cc, nt, ct = 5000, 600, 6000, 810  # 12.0 % vs 13.5 %
    yc = np.r_[np.ones(cc), np.zeros(nc - cc)]
    yt = np.r_[np.ones(ct), np.zeros(nt - ct)]
    lift = welch_lift(Moments.from_arrays(yc), Moments.from_arrays(yt))
    ref = smp.test_proportions_2indep(ct, nt, cc, nc, method="wald", compare="diff")
    low, high = smp.confint_proportions_2indep(ct, nt, cc, nc, method="wald", compare="diff")
    assert lift.abs_lift == pytest.approx(0.015, abs=1e-12)
    assert lift.abs_lift / lift.abs_se == pytest.approx(ref.statistic, rel=2e-4)
    assert lift.p_value == pytest.approx(ref.pvalue, rel=2e-3)
    assert lift.abs_ci_low == pytest.approx(low, abs=1e-5)
    assert lift.abs_ci_high == pytest.approx(high, abs=1e-5)
    # by hand: se^2 = .135*.865/6000 + .12*.88/5000 = 1.94625e-5 + 2.112e-5
    assert lift.abs_se == pytest.approx(math.sqrt(1.94625e-5 + 2.112e-5), rel=2e-4)


def test_welch_degenerate_cases():
    with pytest.raises(ValueError, match="at least 2"):
        welch_lift(Moments(1, 5.0, 25.0), Moments(10, 50.0, 300.0))
    with pytest.raises(ValueError, match="alpha"):
        welch_lift(Moments(2, 1.0, 1.0), Moments(2, 1.0, 1.0), alpha=1.5)
    # control mean 0: relative lift undefined, absolute still there
    lift = welch_lift(Moments.from_arrays([0.0, 0.0, 0.0]), Moments.from_arrays([1.0, 2.0, 3.0]))
    assert lift.abs_lift == 2.0
    assert math.isnan(lift.rel_lift) and math.isnan(lift.rel_ci_low)
    # no variance anywhere: the interval collapses, the test is undefined
    flat = welch_lift(Moments.from_arrays([2.0, 2.0]), Moments.from_arrays([3.0, 3.0]))
    assert (flat.abs_ci_low, flat.abs_ci_high) == (1.0, 1.0)
    assert math.isnan(flat.p_value) and math.isnan(flat.df)


# --- delta method ------------------------------------------------------------------------


def test_delta_method_worked_example():
    """Control 100 customers, mean 10, variance 4; treatment 100, mean 11, variance 9.

    r = 11/10 - 1 = 0.1
    se^2 = v_t/(n_t m_c^2) + m_t^2 v_c/(n_c m_c^4) = 9/(100*100) + 121*4/(100*10^4)
         = 0.0009 + 0.000484 = 0.001384,   se = 0.0372021505
    CI = 0.1 -+ 1.959964 * 0.0372021505 = 0.1 -+ 0.0729149 -> [0.0270851, 0.1729149]
    """
    lift = welch_lift(moments_with(100, 10.0, 4.0), moments_with(100, 11.0, 9.0))
    assert lift.rel_lift == pytest.approx(0.1, rel=1e-12)
    assert lift.rel_se == pytest.approx(math.sqrt(0.001384), rel=1e-10)
    assert lift.rel_se == pytest.approx(0.0372021505, rel=1e-9)
    assert lift.rel_ci_low == pytest.approx(0.0270851, abs=1e-7)
    assert lift.rel_ci_high == pytest.approx(0.1729149, abs=1e-7)
    # the absolute side of the same example: se^2 = 4/100 + 9/100
    assert lift.abs_se == pytest.approx(math.sqrt(0.13), rel=1e-12)


def test_delta_method_se_matches_bootstrap_sd_on_a_large_sample():
    """20,000 customers per arm of skewed (gamma) spend; 1,000 bootstrap resamples.

    The bootstrap SD of r estimates the sampling SD with relative error about
    1/sqrt(2 * 1000) = 2.2 %; the delta method is exact to O(1/n). Tolerance 7 %.
    """
    rng = np.random.default_rng(7)
    yc, yt = rng.gamma(0.8, 500.0, 20_000), rng.gamma(0.8, 530.0, 20_000)
    lift = welch_lift(Moments.from_arrays(yc), Moments.from_arrays(yt))
    boot = np.random.default_rng(8)
    rel = np.empty(1000)
    for i in range(1000):
        rel[i] = (
            yt[boot.integers(0, 20_000, 20_000)].mean()
            / yc[boot.integers(0, 20_000, 20_000)].mean()
        )
    assert lift.rel_se == pytest.approx((rel - 1).std(ddof=1), rel=0.07)
    assert lift.rel_lift == pytest.approx(yt.mean() / yc.mean() - 1, rel=1e-12)


# --- CUPED -------------------------------------------------------------------------------

# Hand example: control x = 1, 2, 3 with y = 2, 3, 7; treatment x = 2, 3, 4 with y = 4, 6, 8.
#   control:   xbar 2, ybar 4, dx = -1, 0, 1, dy = -2, -1, 3: Sxx 2, Sxy 5, Syy 14
#   treatment: xbar 3, ybar 6, dx = -1, 0, 1, dy = -2, 0, 2:  Sxx 2, Sxy 4, Syy 8
#   theta = (5 + 4) / (2 + 2) = 2.25; pooled xbar = 15 / 6 = 2.5
#   adjusted y - 2.25 (x - 2.5): control 5.375, 4.125, 5.875 (mean 5.125, var 0.8125)
#                                treatment 5.125, 4.875, 4.625 (mean 4.875, var 0.0625)
#   adjusted lift = 4.875 - 5.125 = -0.25 (= 2 - 2.25 * (3 - 2)); raw lift = 2
#   variance reduction = 1 - (1.625 + 0.125) / (14 + 8) = 81 / 88
HAND_C = Moments.from_arrays([2.0, 3.0, 7.0], [1.0, 2.0, 3.0])
HAND_T = Moments.from_arrays([4.0, 6.0, 8.0], [2.0, 3.0, 4.0])


def test_cuped_hand_example():
    res = cuped_lift(HAND_C, HAND_T)
    assert res.theta == pytest.approx(2.25, rel=1e-12)
    assert res.lift.control_mean == pytest.approx(5.125, rel=1e-12)
    assert res.lift.treatment_mean == pytest.approx(4.875, rel=1e-12)
    assert res.lift.abs_lift == pytest.approx(-0.25, rel=1e-12)
    assert res.lift.abs_se == pytest.approx(math.sqrt((0.8125 + 0.0625) / 3), rel=1e-10)
    assert res.variance_reduction == pytest.approx(81 / 88, rel=1e-10)
    assert res.raw.abs_lift == pytest.approx(2.0)
    assert res.raw.abs_se == pytest.approx(math.sqrt(14 / 2 / 3 + 8 / 2 / 3))
    # the adjusted result is Welch's test on the hand-adjusted values
    ref = sps.ttest_ind([5.125, 4.875, 4.625], [5.375, 4.125, 5.875], equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert res.lift.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.lift.df == pytest.approx(ref.df, rel=1e-9)
    assert (res.lift.abs_ci_low, res.lift.abs_ci_high) == pytest.approx((ci.low, ci.high))
    raw_ci = sps.ttest_ind([4, 6, 8], [2, 3, 7], equal_var=False).confidence_interval(0.95)
    assert res.ci_width_ratio == pytest.approx(
        (ci.high - ci.low) / (raw_ci.high - raw_ci.low), rel=1e-9
    )
    assert res.lift.rel_lift == pytest.approx(4.875 / 5.125 - 1, rel=1e-12)


def test_cuped_lift_equals_ols_treatment_coefficient():
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    n = 400
    x = rng.gamma(2.0, 100.0, n)
    treat = (rng.random(n) < 0.4).astype(float)
    y = 0.8 * x + 30.0 * treat + rng.normal(0, 50.0, n)
    c, t = treat == 0, treat == 1
    res = cuped_lift(Moments.from_arrays(y[c], x[c]), Moments.from_arrays(y[t], x[t]))
    design = np.column_stack([np.ones(n), treat, x - x.mean()])
    ols = sm.OLS(y, design).fit()
    assert res.lift.abs_lift == pytest.approx(ols.params[1], rel=1e-9)
    assert res.theta == pytest.approx(ols.params[2], rel=1e-9)
    # CUPED's standard error is the regression's up to O(1/n) (Welch on adjusted values)
    assert res.lift.abs_se == pytest.approx(ols.bse[1], rel=0.02)
    # the hand example by OLS too
    xs = np.array([1, 2, 3, 2, 3, 4], float)
    d = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1], xs - xs.mean()])
    coef = np.linalg.lstsq(d, np.array([2, 3, 7, 4, 6, 8], float), rcond=None)[0]
    assert coef[1] == pytest.approx(-0.25) and coef[2] == pytest.approx(2.25)


def _numerical_delta_var(control: Moments, treatment: Moments, theta: float) -> float:
    """Delta method by a numerical gradient of r(ybar_c, xbar_c, ybar_t, xbar_t)."""
    nc, nt = control.n, treatment.n

    def r(v: np.ndarray) -> float:
        yc, xc, yt, xt = v
        xbar = (nc * xc + nt * xt) / (nc + nt)
        return float((yt - theta * (xt - xbar)) / (yc - theta * (xc - xbar)) - 1)

    v0 = np.array([control.mean_y, control.mean_x, treatment.mean_y, treatment.mean_x])
    grad = np.empty(4)
    for i in range(4):
        h = 1e-6 * max(1.0, abs(v0[i]))
        up, down = v0.copy(), v0.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (r(up) - r(down)) / (2 * h)
    cov = np.zeros((4, 4))
    for k, arm in ((0, control), (2, treatment)):
        cov[k : k + 2, k : k + 2] = (
            np.array([[arm.var_y, arm.cov_xy], [arm.cov_xy, arm.var_x]]) / arm.n
        )
    return float(grad @ cov @ grad)


@pytest.mark.parametrize("seed", [0, 1])
def test_cuped_relative_se_is_the_delta_method_on_adjusted_means(seed):
    rng = np.random.default_rng(seed)
    xc, xt = rng.gamma(2.0, 50.0, 300), rng.gamma(2.0, 50.0, 500)
    yc = 0.7 * xc + rng.gamma(2.0, 20.0, 300)
    yt = 1.2 * (0.7 * xt + rng.gamma(2.0, 20.0, 500))
    c, t = Moments.from_arrays(yc, xc), Moments.from_arrays(yt, xt)
    res = cuped_lift(c, t)
    assert res.lift.rel_se**2 == pytest.approx(_numerical_delta_var(c, t, res.theta), rel=1e-6)
    half = Z975 * res.lift.rel_se
    assert res.lift.rel_ci_low == pytest.approx(res.lift.rel_lift - half, rel=1e-9)
    assert res.ci_width_ratio < 1.0 and res.lift.rel_se < res.raw.rel_se


def test_cuped_without_covariate_information_equals_raw():
    c = Moments.from_arrays([1.0, 4.0, 2.0, 8.0])
    t = Moments.from_arrays([3.0, 5.0, 9.0])
    res = cuped_lift(c, t)
    assert res.theta == 0.0 and res.lift == res.raw == welch_lift(c, t)
    assert res.ci_width_ratio == 1.0 and res.variance_reduction == 0.0
    # a constant covariate within each arm carries no information either
    c2 = Moments.from_arrays([1.0, 4.0, 2.0, 8.0], [5.0] * 4)
    t2 = Moments.from_arrays([3.0, 5.0, 9.0], [7.0] * 3)
    assert cuped_lift(c2, t2).lift == welch_lift(c2, t2)


# --- SRM ---------------------------------------------------------------------------------


def test_srm_by_hand():
    """5,100 vs 4,900 at 50/50: expected 5,000 each, chi2 = (100^2 + 100^2)/5000 = 4.0, p = 0.0455."""
    res = srm_check({"control": 5100, "treatment": 4900}, {"control": 0.5, "treatment": 0.5})
    assert res.chi2 == pytest.approx(4.0, rel=1e-12)
    assert res.df == 1
    assert res.p_value == pytest.approx(0.0455003, abs=1e-7)
    assert res.expected == {"control": 5000.0, "treatment": 5000.0}
    assert not res.mismatch and res.alpha == 0.001
    assert srm_check({"control": 5100, "treatment": 4900}, alpha=0.05).mismatch


def test_srm_three_arms_against_scipy():
    obs = {"control": 10_250, "a": 4_800, "b": 4_950}
    res = srm_check(obs, {"control": 0.5, "a": 0.25, "b": 0.25})
    ref = sps.chisquare([10_250, 4_800, 4_950], [10_000, 5_000, 5_000])
    assert res.chi2 == pytest.approx(ref.statistic, rel=1e-12)  # 6.25 + 8 + 0.5 = 14.75
    assert res.chi2 == pytest.approx(14.75, rel=1e-12)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert res.df == 2 and res.mismatch  # p = 6.3e-4 < 0.001
    # shares are normalised: weights 2:1:1 are the same plan
    assert srm_check(obs, {"control": 2, "a": 1, "b": 1}).chi2 == pytest.approx(14.75)


def test_srm_missing_and_unplanned_variants():
    res = srm_check({"control": 1000}, {"control": 0.5, "treatment": 0.5})
    assert res.observed == {"control": 1000, "treatment": 0}
    assert res.chi2 == pytest.approx(1000.0) and res.mismatch
    with pytest.raises(ValueError, match="not in the planned split"):
        srm_check({"control": 10, "surprise": 3}, {"control": 0.5, "treatment": 0.5})
    with pytest.raises(ValueError, match="at least two"):
        srm_check({"control": 10})
    with pytest.raises(ValueError, match="no customers"):
        srm_check({"control": 0, "treatment": 0})
    with pytest.raises(ValueError, match="positive"):
        srm_check({"control": 3, "treatment": 4}, {"control": 1.0, "treatment": 0.0})


# --- power -------------------------------------------------------------------------------


def test_power_mde_matches_statsmodels():
    """Equal variances sigma^2 = 400 in both arms, 1,000 vs 1,500 customers.

    NormalIndPower solves for Cohen's d (mde = d sigma) with the same normal
    approximation (it also counts the far tail, ~1e-7 of power): rel 1e-5.
    TTestIndPower uses the noncentral t with 2,498 df: within 0.1 %.
    """
    c, t = moments_with(1000, 50.0, 400.0), moments_with(1500, 52.0, 400.0)
    res = power_analysis(c, t, target_rel=0.05)
    d_norm = NormalIndPower().solve_power(
        effect_size=None, nobs1=1000, alpha=0.05, power=0.8, ratio=1.5
    )
    d_t = TTestIndPower().solve_power(
        effect_size=None, nobs1=1000, alpha=0.05, power=0.8, ratio=1.5
    )
    assert res.mde_abs == pytest.approx(d_norm * 20.0, rel=1e-5)
    assert res.mde_abs == pytest.approx(d_t * 20.0, rel=1e-3)
    # by hand: (1.959964 + 0.841621) * sqrt(400/1000 + 400/1500) = 2.801585 * 0.8164966
    assert res.mde_abs == pytest.approx(2.801585 * math.sqrt(0.4 + 400 / 1500), rel=1e-6)
    assert res.mde_rel == pytest.approx(res.mde_abs / 50.0)
    assert res.allocation_ratio == 1.5


def test_power_n_needed_round_trip_and_statsmodels():
    c, t = moments_with(2000, 80.0, 900.0), moments_with(2000, 81.0, 900.0)
    res = power_analysis(c, t, target_rel=0.03)
    n = res.n_needed_per_arm
    assert n is not None
    # statsmodels: effect size d = 0.03 * 80 / 30 = 0.08 at ratio 1
    ref = NormalIndPower().solve_power(effect_size=0.08, nobs1=None, alpha=0.05, power=0.8)
    assert n == math.ceil(ref)  # 2452.7 -> 2453
    at_n = power_analysis(moments_with(n, 80.0, 900.0), moments_with(n, 81.0, 900.0), 0.03)
    before = power_analysis(
        moments_with(n - 1, 80.0, 900.0), moments_with(n - 1, 81.0, 900.0), 0.03
    )
    assert at_n.mde_rel <= 0.03 < before.mde_rel
    assert at_n.mde_rel == pytest.approx(0.03, rel=1e-3)


def test_power_unequal_allocation_and_variances():
    c, t = moments_with(1000, 100.0, 2500.0), moments_with(3000, 100.0, 3600.0)
    res = power_analysis(c, t, target_rel=0.1, alpha=0.01, power=0.9)
    z = sps.norm.ppf(0.995) + sps.norm.ppf(0.9)
    # n_c = z^2 (v_c + v_t / 3) / 10^2, treatment 3 n_c
    n = math.ceil(z**2 * (2500 + 3600 / 3) / 100)
    assert res.n_needed_per_arm == n
    at_n = power_analysis(moments_with(n, 100.0, 2500.0), moments_with(3 * n, 100.0, 3600.0),
                          0.1, alpha=0.01, power=0.9)  # fmt: skip
    assert at_n.mde_rel == pytest.approx(0.1, rel=1e-3) and at_n.mde_rel <= 0.1
    assert power_analysis(c, t, target_rel=0.0).n_needed_per_arm is None
    zero = power_analysis(moments_with(10, 0.0, 1.0), moments_with(10, 1.0, 1.0), 0.1)
    assert zero.n_needed_per_arm is None and math.isnan(zero.mde_rel)


# --- Holm --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p",
    [
        [0.01, 0.04, 0.03, 0.005],
        [0.02, 0.02, 0.5, 0.9, 0.001],  # ties
        [0.6, 0.7, 0.8],  # capped at 1
        [0.04],
    ],
)
def test_holm_matches_statsmodels(p):
    assert holm_adjust(p) == pytest.approx(list(multipletests(p, method="holm")[1]), rel=1e-12)


def test_holm_by_hand_and_random():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4*.005 = .02, 3*.01 = .03, 2*.03 = .06, max(.06, .04) = .06
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    rng = np.random.default_rng(5)
    for _ in range(5):  # multipletests takes ~0.1 s a call
        p = rng.random(rng.integers(2, 12)) ** 3
        assert holm_adjust(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert holm_adjust([]) == []
    with pytest.raises(ValueError):
        holm_adjust([0.1, math.nan])
    with pytest.raises(ValueError):
        holm_adjust([1.2])


# --- bootstrap ---------------------------------------------------------------------------


def _per_customer(y: np.ndarray) -> BucketSums:
    return BucketSums(np.ones(len(y), dtype=np.int64), y)


def test_bootstrap_is_seeded():
    rng = np.random.default_rng(2)
    c, t = _per_customer(rng.gamma(1, 100, 500)), _per_customer(rng.gamma(1, 110, 500))
    a = bootstrap_relative_lift(c, t, resamples=300, seed=42)
    b = bootstrap_relative_lift(c, t, resamples=300, seed=42)
    assert a == b
    assert (a.resamples, a.seed, a.alpha) == (300, 42, 0.05)
    assert bootstrap_relative_lift(c, t, resamples=300, seed=43) != a
    assert a.rel_ci_low < 0.1 < a.rel_ci_high


def test_bootstrap_matches_delta_method_on_a_large_normal_sample():
    """20,000 customers per arm, normal spend (mean 100 vs 105, sd 20), 1,000 resamples.

    The percentile bounds carry Monte Carlo error of about 0.085 sd (2.5 % quantile
    of 1,000 draws), i.e. 4 % of the half-width 1.96 sd; the tolerance is 15 % of
    the delta-method half-width. With 100 customers per bucket (200 buckets) the
    bucket bootstrap gives the same interval within the same tolerance plus its
    coarser resampling (25 %).
    """
    rng = np.random.default_rng(9)
    yc, yt = rng.normal(100, 20, 20_000), rng.normal(105, 20, 20_000)
    delta = welch_lift(Moments.from_arrays(yc), Moments.from_arrays(yt))
    half = Z975 * delta.rel_se
    boot = bootstrap_relative_lift(_per_customer(yc), _per_customer(yt), seed=1)
    assert boot.rel_ci_low == pytest.approx(delta.rel_ci_low, abs=0.15 * half)
    assert boot.rel_ci_high == pytest.approx(delta.rel_ci_high, abs=0.15 * half)

    def buckets(y: np.ndarray) -> BucketSums:
        return BucketSums(np.full(200, 100), y.reshape(200, 100).sum(axis=1))

    grouped = bootstrap_relative_lift(buckets(yc), buckets(yt), seed=1)
    assert grouped.rel_ci_low == pytest.approx(delta.rel_ci_low, abs=0.25 * half)
    assert grouped.rel_ci_high == pytest.approx(delta.rel_ci_high, abs=0.25 * half)


def test_bootstrap_is_fast_at_the_readout_size():
    """1,000 resamples of 2 x 10,000 buckets: well under 1 s alone (3 s allowed on a busy box)."""
    rng = np.random.default_rng(4)
    n = rng.integers(80, 120, 10_000)
    c = BucketSums(n, rng.gamma(1.0, 100.0, 10_000) * n)
    t = BucketSums(n, rng.gamma(1.0, 105.0, 10_000) * n)
    start = time.perf_counter()
    res = bootstrap_relative_lift(c, t, resamples=1000, seed=0)
    assert time.perf_counter() - start < 3.0
    assert res.rel_ci_low < res.rel_ci_high


def test_bootstrap_rejects_bad_input():
    ok = BucketSums(np.array([1, 1]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        bootstrap_relative_lift(BucketSums(np.array([1]), np.array([1.0, 2.0])), ok)
    with pytest.raises(ValueError):
        bootstrap_relative_lift(ok, ok, resamples=0)
    # control spend 0 in every resample: no relative lift to bound
    none = bootstrap_relative_lift(BucketSums(np.array([1, 1]), np.zeros(2)), ok, resamples=50)
    assert math.isnan(none.rel_ci_low) and math.isnan(none.rel_ci_high)
