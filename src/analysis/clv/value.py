"""Customer lifetime value: discounted expected spend over a horizon, per customer and in total.

CLV (:func:`customer_lifetime_value`) is lifetimes' discounted sum: month
``i`` = 1..horizon contributes expected spend per order times the expected
purchases in that month, divided by ``(1 + monthly rate) ** i``; a CLV month
is ``periods_per_month`` time units, 30 days by default (lifetimes'
``freq="D"``). Customers without repeat purchases get Gamma-Gamma's
population mean spend. :func:`customer_predictions` gathers every
per-customer number of the CLV section; :func:`clv_totals` the totals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.clv.fitting import ModelFit, require_finite, rfm_arrays
from analysis.clv.predict import (
    PREDICTION_DAYS,
    conditional_expected_purchases,
    per_history,
    probability_alive,
)
from analysis.clv.spend import SpendFit, expected_spend
from analysis.errors import AnalysisError

__all__ = [
    "ClvTotals",
    "clv_totals",
    "customer_lifetime_value",
    "customer_predictions",
    "expected_activity",
]


@dataclass(frozen=True)
class ClvTotals:
    """Totals of CLV over customers.

    ``top_decile_share`` is the share of total CLV held by the
    ``ceil(n / 10)`` customers with the highest CLV.
    """

    n_customers: int
    total: float
    mean: float
    top_decile_customers: int
    top_decile_share: float


def _discounted_purchases(
    fit: ModelFit,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    horizon_months: int,
    monthly_discount_rate: float,
    periods_per_month: float,
) -> np.ndarray:
    """Sum over months i = 1..horizon of expected purchases in month i / (1 + d) ** i."""
    model = fit.fitter

    def fn(f: np.ndarray, r: np.ndarray, a: np.ndarray) -> np.ndarray:
        total = np.zeros(len(f))
        previous = np.zeros(len(f))
        for month in range(1, horizon_months + 1):
            cumulative = np.asarray(
                model.conditional_expected_number_of_purchases_up_to_time(
                    month * periods_per_month, f, r, a
                ),
                dtype=float,
            )
            total += (cumulative - previous) / (1 + monthly_discount_rate) ** month
            previous = cumulative
        return total

    return per_history(fn, frequency, recency, T, f"{fit.label} discounted purchases")


def customer_lifetime_value(
    fit: ModelFit,
    spend: SpendFit,
    summary: pd.DataFrame,
    *,
    horizon_months: int,
    monthly_discount_rate: float,
    periods_per_month: float | None = None,
) -> pd.Series:
    """Discounted CLV per customer over ``horizon_months`` (lifetimes' definition).

    ``CLV = E[spend per order] * sum_{i=1..H} (E[X(i m)] - E[X((i-1) m)]) / (1 + d) ** i``
    with ``m = periods_per_month`` time units, ``d`` the monthly discount rate
    and ``E[X(t)]`` the conditional expected repeat purchases. Equals lifetimes'
    ``GammaGammaFitter.customer_lifetime_value(..., time=H, discount_rate=d)``
    with ``freq="D"`` for ``m = 30`` (``"W"`` is ``m = 4.345``).

    Parameters
    ----------
    summary
        ``frequency``, ``recency``, ``T``, ``monetary_value`` per customer.
    periods_per_month
        Time units per month; default ``30 / fit.time_unit_days`` (30-day months).

    Returns
    -------
    pandas.Series
        Named ``clv``, currency units, indexed like ``summary``.
    """
    x, tx, age = rfm_arrays(summary)
    m = summary["monetary_value"].to_numpy(dtype=float)
    per_month = 30.0 / fit.time_unit_days if periods_per_month is None else periods_per_month
    discounted = _discounted_purchases(
        fit, x, tx, age, horizon_months, monthly_discount_rate, per_month
    )
    return pd.Series(discounted * expected_spend(spend, x, m), index=summary.index, name="clv")


def customer_predictions(
    fit: ModelFit,
    spend: SpendFit | None,
    summary: pd.DataFrame,
    *,
    horizon_months: int,
    monthly_discount_rate: float,
    days: Sequence[int] = PREDICTION_DAYS,
) -> pd.DataFrame:
    """Per-customer P(alive), expected purchases in the next ``days``, spend and CLV.

    Parameters
    ----------
    summary
        The RFM summary at the observation end (``frequency``, ``recency``,
        ``T``, ``monetary_value``), one row per customer.
    spend
        Gamma-Gamma fit; ``None`` leaves out ``expected_spend`` and ``clv``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``summary``: ``p_alive``, ``expected_purchases_{d}d`` for
        each ``d`` in ``days``, ``expected_spend`` (per order) and ``clv``
        (currency, discounted over ``horizon_months``). All finite.
    """
    x, tx, age = rfm_arrays(summary)
    out = pd.DataFrame(index=summary.index)
    out["p_alive"] = probability_alive(fit, x, tx, age)
    for d in days:
        out[f"expected_purchases_{d}d"] = conditional_expected_purchases(
            fit, x, tx, age, d / fit.time_unit_days
        )
    if spend is not None:
        m = summary["monetary_value"].to_numpy(dtype=float)
        out["expected_spend"] = expected_spend(spend, x, m)
        out["clv"] = customer_lifetime_value(
            fit,
            spend,
            summary,
            horizon_months=horizon_months,
            monthly_discount_rate=monthly_discount_rate,
        ).to_numpy()
    return out


def clv_totals(clv: pd.Series | np.ndarray) -> ClvTotals:
    """Total and mean CLV, and the share of the total held by the top decile.

    The top decile is the ``ceil(n / 10)`` customers with the highest CLV
    (which tied customer is taken does not change the share).
    """
    values = np.asarray(clv, dtype=float)
    if values.size == 0:
        raise AnalysisError("no customers to total CLV over")
    require_finite(values, "CLV")
    total = float(values.sum())
    k = math.ceil(values.size / 10)
    top = float(np.sort(values)[::-1][:k].sum())
    return ClvTotals(
        n_customers=int(values.size),
        total=total,
        mean=total / values.size,
        top_decile_customers=k,
        top_decile_share=top / total if total > 0 else 0.0,
    )


def expected_activity(predictions: pd.DataFrame) -> dict[str, float]:
    """What all customers together are expected to do, from :func:`customer_predictions`.

    Returns
    -------
    dict
        ``purchases_30d``, ``purchases_90d``, ``purchases_365d``: expected
        purchase days of all customers in the next 30, 90 and 365 days;
        ``share_likely_alive``: share of customers with P(alive) of at least
        0.5; ``expected_alive``: expected number of customers still active
        (the sum of P(alive)).
    """
    alive = predictions["p_alive"]
    out = {
        f"purchases_{d}d": float(predictions[f"expected_purchases_{d}d"].sum())
        for d in (30, 90, 365)
    }
    out["share_likely_alive"] = float((alive >= 0.5).mean())
    out["expected_alive"] = float(alive.sum())
    return out
