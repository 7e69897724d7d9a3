"""Pure statistics of the member comparison: coarsened exact matching weights, weighted
contrasts, balance, normal intervals (small pandas inputs, no engine).

The engine side (:mod:`analysis.loyalty.comparison`) reduces the per-customer panel to
one row per stratum and arm with counts and sums; everything here works on that.

Coarsened exact matching (Iacus, King and Porro 2012), for the average effect on
the matched members (ATT): within a stratum ``s`` with ``m_s`` members and
``c_s > 0`` controls, each member weighs ``1 / M`` and each control ``m_s / (c_s M)``,
``M = sum of m_s`` over strata with controls; members of strata without controls
are left out (counted as unmatched).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "Contrast",
    "STRATUM",
    "cem_weights",
    "contrast",
    "normal_test",
    "standardised_differences",
]

STRATUM = ["join_month", "recency_bin", "frequency_bin", "monetary_bin"]
"""Columns that define a stratum: the join month and the coarsened R, F, M bins."""


@dataclass(frozen=True)
class Contrast:
    """A weighted difference of means, members minus matched controls.

    Attributes
    ----------
    members, controls
        Mean of the outcome among matched members, and the matching-weighted mean
        among their controls (outcome's unit, e.g. money per month).
    difference
        ``members - controls``.
    se, members_se, controls_se
        Standard errors (customer-clustered; see
        :func:`analysis.loyalty.comparison.member_comparison`).
    low, high, p_value
        Normal interval at the confidence level and two-sided p-value of ``difference``.
    """

    members: float
    controls: float
    difference: float
    se: float
    members_se: float
    controls_se: float
    low: float
    high: float
    p_value: float


def cem_weights(strata: pd.DataFrame) -> pd.DataFrame:
    """Matching weights per stratum.

    Parameters
    ----------
    strata
        One row per stratum and arm: the :data:`STRATUM` columns, ``treated`` (1 member,
        0 control) and ``n`` (customers, or customer-join-month rows for controls).

    Returns
    -------
    pandas.DataFrame
        One row per stratum: :data:`STRATUM`, ``members`` (m_s), ``controls`` (c_s),
        ``matched`` (both > 0), ``control_weight`` (``m_s / (c_s M)`` when matched,
        else 0) and ``member_weight`` (``1 / M`` when matched, else 0); ``M`` = matched
        members. Shape (strata, 8).
    """
    wide = (
        strata.pivot_table(index=STRATUM, columns="treated", values="n", aggfunc="sum")
        .reindex(columns=[0, 1])
        .fillna(0)
    )
    out = pd.DataFrame(
        {"members": wide[1].astype("int64"), "controls": wide[0].astype("int64")}
    ).reset_index()
    out["matched"] = (out["members"] > 0) & (out["controls"] > 0)
    m = float(out.loc[out["matched"], "members"].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        cw = np.where(out["matched"], out["members"] / out["controls"].clip(lower=1) / m, 0.0)
    out["control_weight"] = cw if m > 0 else 0.0
    out["member_weight"] = np.where(out["matched"], 1.0 / m, 0.0) if m > 0 else 0.0
    return out


def _weighted(strata: pd.DataFrame, weights: pd.DataFrame, column: str) -> tuple[float, float]:
    """(Weighted mean of members, of controls) of ``column`` (sums per stratum and arm)."""
    merged = strata.merge(weights, on=STRATUM, how="inner")
    treated = merged["treated"] == 1
    w = np.where(treated, merged["member_weight"], merged["control_weight"])
    total = w * merged[f"sum_{column}"]
    return float(total[treated].sum()), float(total[~treated].sum())


def normal_test(estimate: float, se: float, confidence: float = 0.95) -> tuple[float, float, float]:
    """Normal interval and two-sided p-value of ``estimate`` with standard error ``se``.

    Returns ``(low, high, p_value)``; NaNs when ``se`` is not positive and finite.
    """
    if not (se > 0 and math.isfinite(se)):
        return math.nan, math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = float(2 * stats.norm.sf(abs(estimate) / se))
    return estimate - z * se, estimate + z * se, p


def contrast(
    strata: pd.DataFrame,
    weights: pd.DataFrame,
    column: str,
    variances: tuple[float, float],
    confidence: float = 0.95,
) -> Contrast:
    """Members' mean minus the matching-weighted controls' mean of one outcome.

    Parameters
    ----------
    strata
        One row per stratum and arm: :data:`STRATUM`, ``treated`` and ``sum_<column>``.
    weights
        :func:`cem_weights` of the same strata.
    column
        Outcome name.
    variances
        Sampling variances of the members' mean and of the controls' weighted mean.
    confidence
        Confidence level of the interval.
    """
    members, controls = _weighted(strata, weights, column)
    v_m, v_c = variances
    se = math.sqrt(v_m + v_c)
    low, high, p = normal_test(members - controls, se, confidence)
    return Contrast(
        members=members,
        controls=controls,
        difference=members - controls,
        se=se,
        members_se=math.sqrt(v_m),
        controls_se=math.sqrt(v_c),
        low=low,
        high=high,
        p_value=p,
    )


def standardised_differences(
    strata: pd.DataFrame, weights: pd.DataFrame, columns: list[str]
) -> pd.DataFrame:
    """Balance of the matching covariates before and after matching.

    Before: every eligible member against every control row (unweighted). After:
    matched members against their weighted controls. Both standardised by the
    pooled standard deviation before matching, ``sqrt((s_m^2 + s_c^2) / 2)``, so
    the two columns are on one scale.

    Parameters
    ----------
    strata
        One row per stratum and arm with ``n``, ``sum_<c>`` and ``sumsq_<c>`` per column.
    weights
        :func:`cem_weights` of the same strata.
    columns
        Covariate names.

    Returns
    -------
    pandas.DataFrame
        Index ``columns``; ``members_before``, ``controls_before``, ``members_after``,
        ``controls_after`` (means), ``smd_before``, ``smd_after`` (unitless).
    """
    rows = {}
    treated = strata["treated"] == 1
    for c in columns:
        moments = []
        for arm in (treated, ~treated):
            n = float(strata.loc[arm, "n"].sum())
            s1 = float(strata.loc[arm, f"sum_{c}"].sum())
            s2 = float(strata.loc[arm, f"sumsq_{c}"].sum())
            mean = s1 / n if n else math.nan
            var = (s2 - n * mean * mean) / (n - 1) if n > 1 else math.nan
            moments.append((mean, var))
        (mb_m, vb_m), (mb_c, vb_c) = moments
        sd = math.sqrt((vb_m + vb_c) / 2) if (vb_m + vb_c) > 0 else math.nan
        ma_m, ma_c = _weighted(strata, weights, c)
        rows[c] = {
            "members_before": mb_m,
            "controls_before": mb_c,
            "members_after": ma_m,
            "controls_after": ma_c,
            "smd_before": (mb_m - mb_c) / sd if sd == sd else math.nan,
            "smd_after": (ma_m - ma_c) / sd if sd == sd else math.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
