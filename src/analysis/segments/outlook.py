"""Per-customer outlook from the CLV section's fitted purchase model: numbers only.

:func:`customer_outlook` turns the CLV section (:func:`analysis.clv.clv_section`,
fitted once for the report) into what a campaign list needs per customer, all
from lifetimes' own predictions of the already fitted model (nothing is
re-fitted):

- ``p_alive``: probability that the customer is still active at the
  observation end (the last day of the report month);
- ``expected_purchases_90d``: expected repeat purchase days in the next 90 days;
- ``next_order_date``: the first local day ``observation_end + d``,
  ``d = 1..365``, on which the expected purchases up to that day,
  ``E[X(d)]``, reach 1 (NaT when they stay below 1 for a year);
- ``clv``: predicted CLV over the section's ``horizon_months`` (store currency,
  NaN when the section has no spend model);
- ``churn_risk``: ``"high"`` when P(alive) is below the low band, ``"medium"``
  below the high band, ``"low"`` otherwise (``segments.churn_risk_bands``).

The next order date is found by bisection on whole days, vectorised over the
distinct (frequency, recency, T) histories (about 9 evaluations of the model
for all customers together, not one loop per customer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.clv.fitting import ModelFit, rfm_arrays
from analysis.clv.predict import conditional_expected_purchases
from analysis.clv.section import ClvSection

__all__ = [
    "CHURN_RISK_LEVELS",
    "NEXT_ORDER_MAX_DAYS",
    "OUTLOOK_COLUMNS",
    "churn_risk",
    "customer_outlook",
    "days_to_next_order",
]

NEXT_ORDER_MAX_DAYS = 365
"""The next order date is looked for up to this many days after the observation end."""

CHURN_RISK_LEVELS: tuple[str, ...] = ("high", "medium", "low")
"""Churn-risk band keys, highest risk first (stable English keys of the exports)."""

OUTLOOK_COLUMNS: tuple[str, ...] = (
    "p_alive",
    "expected_purchases_90d",
    "next_order_date",
    "clv",
    "churn_risk",
)
"""Columns of :func:`customer_outlook`, in order."""


def churn_risk(p_alive: np.ndarray | pd.Series, bands: tuple[float, float]) -> np.ndarray:
    """Churn-risk band of each P(alive).

    Parameters
    ----------
    p_alive
        Probabilities in [0, 1], shape (n,).
    bands
        ``(low, high)`` with ``0 < low < high < 1`` (``segments.churn_risk_bands``).

    Returns
    -------
    numpy.ndarray
        object array of shape (n,): ``"high"`` where ``p_alive < low``,
        ``"medium"`` where ``low <= p_alive < high``, ``"low"`` where
        ``p_alive >= high``; None where P(alive) is missing.
    """
    low, high = bands
    p = np.asarray(p_alive, dtype=float)
    out = np.where(p < low, "high", np.where(p < high, "medium", "low")).astype(object)
    out[np.isnan(p)] = None
    return out


def days_to_next_order(
    fit: ModelFit,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    *,
    max_days: int = NEXT_ORDER_MAX_DAYS,
) -> np.ndarray:
    """First whole day ``d`` in 1..``max_days`` with expected purchases up to ``d`` of at least 1.

    Bisection on integer days over all customers at once: ``E[X(hi)] >= 1`` and
    ``E[X(lo)] < 1`` hold at every step (``E[X(0)] = 0``), so the answer
    ``hi`` is a day where lifetimes' ``conditional_expected_number_of_purchases_up_to_time``
    is at least 1 and the day before it is below 1, each evaluated exactly.

    Parameters
    ----------
    fit
        The fitted purchase model (time units of ``fit.time_unit_days`` days).
    frequency, recency, T
        The customers' histories (:func:`analysis.clv.fitting.rfm_arrays`), shape (n,).
    max_days
        Longest look-ahead in days.

    Returns
    -------
    numpy.ndarray
        float64, shape (n,): days after the observation end (1..max_days),
        NaN where ``E[X(max_days)] < 1``.
    """
    f, r, t = (np.asarray(a, dtype=float) for a in (frequency, recency, T))
    n = len(f)
    unit = fit.time_unit_days
    at_end = conditional_expected_purchases(fit, f, r, t, max_days / unit)
    reached = at_end >= 1.0
    lo = np.zeros(n)
    hi = np.full(n, float(max_days))
    idx = np.flatnonzero(reached)
    while idx.size:
        mid = np.floor((lo[idx] + hi[idx]) / 2)
        expected = conditional_expected_purchases(fit, f[idx], r[idx], t[idx], mid / unit)
        up = expected >= 1.0
        hi[idx[up]] = mid[up]
        lo[idx[~up]] = mid[~up]
        idx = idx[hi[idx] - lo[idx] > 1]
    return np.where(reached, hi, np.nan)


def customer_outlook(section: ClvSection, churn_risk_bands: tuple[float, float]) -> pd.DataFrame:
    """Per-customer predictions of the CLV section's fitted model (see the module docstring).

    Parameters
    ----------
    section
        The CLV section at the report month's last day; its ``fit`` (the
        chosen model, fitted on the whole history), ``summary`` and
        ``predictions`` are used as they are.
    churn_risk_bands
        ``(low, high)`` P(alive) cut-offs (``segments.churn_risk_bands``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` like ``section.summary`` (every customer
        with a completed order up to the observation end), columns
        :data:`OUTLOOK_COLUMNS`: ``p_alive`` (0–1), ``expected_purchases_90d``
        (purchase days), ``next_order_date`` (datetime64 local day, NaT when
        not within :data:`NEXT_ORDER_MAX_DAYS` days), ``clv`` (store currency
        over ``section.horizon_months``; NaN without a spend model) and
        ``churn_risk`` (``"high"``, ``"medium"``, ``"low"``).
    """
    summary, predictions = section.summary, section.predictions
    x, tx, age = rfm_arrays(summary)
    days = days_to_next_order(section.fit, x, tx, age)
    start = np.datetime64(section.observation_end, "D")
    next_date = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(days)
    next_date[ok] = start + days[ok].astype("int64").astype("timedelta64[D]")
    p_alive = predictions["p_alive"].to_numpy(dtype=float)
    if "expected_purchases_90d" in predictions.columns:
        purchases_90d = predictions["expected_purchases_90d"].to_numpy(dtype=float)
    else:
        purchases_90d = conditional_expected_purchases(
            section.fit, x, tx, age, 90 / section.fit.time_unit_days
        )
    clv = (
        predictions["clv"].to_numpy(dtype=float)
        if section.spend is not None and "clv" in predictions.columns
        else np.full(len(summary), np.nan)
    )
    out = pd.DataFrame(
        {
            "p_alive": p_alive,
            "expected_purchases_90d": purchases_90d,
            "next_order_date": pd.to_datetime(next_date),
            "clv": clv,
            "churn_risk": churn_risk(p_alive, churn_risk_bands),
        },
        index=pd.Index(summary.index, name="customer_id"),
    )
    return out
