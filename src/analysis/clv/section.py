"""Everything the CLV section of a report computes, in one call.

:func:`clv_section` runs the whole CLV analysis of one store at the end of a
report month, on the engine where the orders are (only per-customer and
per-day results are collected):

1. the daily RFM summary at the observation end and the calibration/holdout
   summary with a ``clv.holdout_days`` holdout (:func:`analysis.clv.rfm_summary`);
2. BG/NBD, MBG/NBD and Pareto/NBD fitted on the calibration period and scored
   on the holdout against the naive baseline; the chosen model
   (``clv.model``, ``auto`` = lowest holdout RMSE) refitted on the whole history
   (:mod:`analysis.clv.models`);
3. the frequency-monetary correlation, then Gamma-Gamma on the repeat customers;
4. per customer: P(alive), expected purchases in the next 30/90/365 days,
   expected spend per order and CLV over ``clv.horizon_months`` discounted at
   ``clv.monthly_discount_rate``; totals and the top decile's share;
5. chart data: holdout purchases by calibration frequency, the weekly tracking
   curve (calibration fit, calibration + holdout), frequency/recency matrices,
   and the top customers under pseudonyms (:mod:`analysis.privacy`).

The notebook shows the result (:mod:`analysis.clv.plotting` draws it);
``benchmarks/clv.py`` times the same call on a 1M-customer store.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv import models as M
from analysis.clv.summary import rfm_summary
from analysis.clv.tracking import daily_purchases, tracking_curve
from analysis.compat import quiet_lifetimes
from analysis.errors import AnalysisError, DataError
from analysis.privacy import pseudonymous_ids

__all__ = [
    "MATRIX_AGE_DAYS",
    "MATRIX_MAX_FREQUENCY",
    "ClvSection",
    "clv_findings",
    "clv_headlines",
    "clv_section",
    "top_customers",
]

#: Age (days since the first purchase) of the customer in the frequency/recency matrices.
MATRIX_AGE_DAYS = 365
#: Largest frequency shown in the matrices (fewer when the store's 99th percentile is lower).
MATRIX_MAX_FREQUENCY = 30
#: Recency step of the matrices, in days.
MATRIX_RECENCY_STEP_DAYS = 7


@dataclass
class ClvSection:
    """The CLV analysis of one store at one observation end.

    Attributes
    ----------
    observation_end, calibration_end
        Last local day observed; last local day of the calibration period
        (the holdout is the days after it, up to ``observation_end``).
    summary
        Daily RFM summary at ``observation_end`` (one row per customer, days).
    cal_holdout
        Calibration/holdout summary (lifetimes' columns, days).
    comparison
        Calibration fits, holdout scores (MAE, RMSE, aggregate error,
        log-likelihood per model and the naive baseline) and the chosen model.
    fit
        The chosen model refitted on ``summary`` (used for every prediction).
    correlation
        Frequency-monetary correlation of the repeat customers (None when
        fewer than 3 repeat customers have spend).
    spend
        Gamma-Gamma fit, or None when it could not be fitted (see ``notes``).
    predictions
        Per customer (indexed like ``summary``): ``p_alive``,
        ``expected_purchases_{30,90,365}d`` and, with ``spend``,
        ``expected_spend`` and ``clv`` (store currency).
    totals
        CLV totals (None without ``spend``).
    holdout_by_frequency
        Mean actual and predicted holdout purchases by calibration frequency.
    tracking
        Weekly repeat purchases, actual vs expected by the chosen model's
        calibration fit, cumulative and per week, over calibration + holdout.
    matrices
        Expected purchases in the next 30 days and P(alive) over
        (recency, frequency) for a customer first seen ``MATRIX_AGE_DAYS`` ago.
    top
        The top customers by CLV under pseudonyms (:func:`top_customers`).
    notes
        Sentences for the report: retries, boundary fits, failures, the choice.
    timings
        Seconds per step.
    """

    observation_end: dt.date
    calibration_end: dt.date
    horizon_months: int
    monthly_discount_rate: float
    summary: pd.DataFrame = field(repr=False)
    cal_holdout: pd.DataFrame = field(repr=False)
    comparison: M.ModelComparison
    fit: M.ModelFit
    correlation: M.SpendCorrelation | None
    spend: M.SpendFit | None
    predictions: pd.DataFrame = field(repr=False)
    totals: M.ClvTotals | None
    holdout_by_frequency: pd.DataFrame = field(repr=False)
    tracking: pd.DataFrame = field(repr=False)
    matrices: M.FrequencyRecencyMatrices = field(repr=False)
    top: pd.DataFrame | None = field(repr=False)
    notes: list[str]
    timings: dict[str, float]


def clv_section(
    orders: Any,
    *,
    observation_end: dt.date,
    timezone: str,
    holdout_days: int,
    horizon_months: int,
    monthly_discount_rate: float,
    model: str = "auto",
    comparison_customers: int | None = None,
    seed: int = 0,
    top_n: int = 20,
    pseudonym_key: bytes | None = None,
) -> ClvSection:
    """Run the whole CLV analysis (see the module docstring).

    Parameters
    ----------
    orders
        The store's orders as the warehouse returns them (narwhals lazy frame
        on an engine whose session zone is ``timezone``), up to the end of
        ``observation_end``. Never collected whole.
    observation_end
        Last local day observed (the last day of the report month).
    timezone
        The store's IANA zone (purchase days are its local days).
    holdout_days
        Length of the holdout in days (``clv.holdout_days``).
    horizon_months, monthly_discount_rate
        CLV horizon (30-day months) and monthly discount rate.
    model
        ``"auto"`` or ``"bgnbd"``, ``"mbgnbd"``, ``"pareto"`` (``clv.model``).
    comparison_customers, seed
        The model comparison runs on a random sample of this many customers
        (drawn with ``seed``) when there are more (``clv.comparison_customers``;
        None = all); the chosen model is refitted on every customer, starting
        from its calibration fit.
    top_n
        Customers in the top-customers table.
    pseudonym_key
        Key for the pseudonyms of the top customers
        (:func:`analysis.privacy.pseudonym_key`); None leaves ``top`` out.

    Raises
    ------
    DataError
        The history is too short for the holdout, or the holdout has no order.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    calibration_end = observation_end - dt.timedelta(days=holdout_days)
    summary = rfm_summary(orders, observation_end, timezone=timezone)
    if len(summary) == 0:
        raise DataError(
            f"no completed order of a registered customer up to {observation_end}",
            hint="CLV needs customers with completed orders",
        )
    first_day = observation_end - dt.timedelta(days=int(summary["T"].max()))
    if first_day > calibration_end - dt.timedelta(days=holdout_days):
        raise DataError(
            f"the order history ({first_day} to {observation_end}) is too short for a "
            f"{holdout_days}-day holdout: the calibration period would be shorter than it",
            hint="lower clv.holdout_days (e.g. a third of the history)",
        )
    cal_holdout = rfm_summary(
        orders, observation_end, timezone=timezone, calibration_end=calibration_end
    )
    lap("summaries")

    comparison = M.compare_models(
        cal_holdout, requested=model, max_customers=comparison_customers, seed=seed
    )
    lap("model_comparison")
    fit = M.fit_model(summary, comparison.chosen, start=comparison.fits[comparison.chosen].params)
    notes = list(comparison.notes)
    if fit.retried or fit.at_boundary:
        notes.append(f"Refit on the whole history: {fit.note}")
    lap("final_fit")

    correlation: M.SpendCorrelation | None = None
    spend: M.SpendFit | None = None
    try:
        correlation = M.spend_correlation(summary)
        spend = M.fit_spend(summary)
        if spend.retried or spend.at_boundary:
            notes.append(spend.note)
    except (DataError, M.ModelFitError) as exc:
        notes.append(f"No spend model, so no CLV in money: {exc.message}")
    lap("spend")

    predictions = M.customer_predictions(
        fit,
        spend,
        summary,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
    )
    totals = M.clv_totals(predictions["clv"]) if spend is not None else None
    lap("predictions")

    holdout_by_frequency = M.calibration_vs_holdout(comparison, cal_holdout)
    calibration_fit = comparison.fits[comparison.chosen]
    daily = daily_purchases(orders, timezone, calibration_end, observation_end)

    def expected_up_to(t: np.ndarray) -> np.ndarray:
        with quiet_lifetimes(), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return calibration_fit.fitter.expected_number_of_purchases_up_to_time(t)

    tracking = tracking_curve(
        daily, expected_up_to, step_days=7, time_unit=fit.time_unit_days,
        calibration_end=calibration_end,
    )  # fmt: skip
    if len(tracking) and not np.isfinite(tracking["expected_cumulative"]).all():
        raise M.ModelFitError(f"{calibration_fit.label}: the tracking curve is not finite")
    age = float(min(MATRIX_AGE_DAYS, summary["T"].max()))
    top_frequency = int(np.ceil(np.quantile(summary["frequency"], 0.99)))
    matrices = M.frequency_recency_matrices(
        fit,
        max_frequency=max(1, min(MATRIX_MAX_FREQUENCY, top_frequency)),
        age=age,
        recency_step=float(MATRIX_RECENCY_STEP_DAYS),
    )
    top = (
        top_customers(summary, predictions, pseudonym_key, n=top_n)
        if pseudonym_key is not None and spend is not None
        else None
    )
    lap("charts")
    return ClvSection(
        observation_end=observation_end,
        calibration_end=calibration_end,
        horizon_months=horizon_months,
        monthly_discount_rate=monthly_discount_rate,
        summary=summary,
        cal_holdout=cal_holdout,
        comparison=comparison,
        fit=fit,
        correlation=correlation,
        spend=spend,
        predictions=predictions,
        totals=totals,
        holdout_by_frequency=holdout_by_frequency,
        tracking=tracking,
        matrices=matrices,
        top=top,
        notes=notes,
        timings=timings,
    )


def top_customers(
    summary: pd.DataFrame, predictions: pd.DataFrame, key: bytes, *, n: int = 20
) -> pd.DataFrame:
    """The ``n`` customers with the highest CLV, under pseudonyms only.

    Ties are broken by the pseudonym, so the table does not depend on row order.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer`` (pseudonym, never the raw id), columns
        ``purchase_days`` (frequency + 1), ``days_since_last`` (T - recency),
        ``p_alive``, ``expected_purchases_365d``, ``expected_spend`` and ``clv``
        (store currency), highest CLV first.
    """
    if "clv" not in predictions.columns:
        raise AnalysisError("top customers need CLV predictions (a spend model)")
    clv = predictions["clv"].to_numpy()
    if len(clv) > n:  # only the candidates (the n highest and their ties) get a pseudonym
        keep = clv >= np.partition(clv, len(clv) - n)[len(clv) - n]
        summary, predictions = summary[keep], predictions[keep]
    table = pd.DataFrame(
        {
            "customer": pseudonymous_ids(summary.index, key),
            "purchase_days": (summary["frequency"] + 1).to_numpy(dtype=int),
            "days_since_last": (summary["T"] - summary["recency"]).to_numpy(dtype=int),
            "p_alive": predictions["p_alive"].to_numpy(),
            "expected_purchases_365d": predictions["expected_purchases_365d"].to_numpy(),
            "expected_spend": predictions["expected_spend"].to_numpy(),
            "clv": predictions["clv"].to_numpy(),
        }
    )
    table = table.sort_values(["clv", "customer"], ascending=[False, True], kind="stable")
    return table.head(n).set_index("customer")


def _round(value: float, digits: int = 6) -> float:
    """Round to ``digits`` significant digits (stable manifest values)."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def clv_headlines(section: ClvSection) -> dict[str, Any]:
    """Manifest values under ``clv.*``.

    ``model`` and its parameters (``param_<name>``, data time units = days),
    the holdout MAE, RMSE and aggregate error of every scored model and the
    naive baseline (``holdout_<measure>_<model>``), ``clv_total`` and
    ``clv_mean`` over ``clv_horizon_months`` months, ``top_decile_share``,
    ``customers`` and whether any fit needed a penalizer (``penalized``).
    Floats are rounded to 6 significant digits.
    """
    s = section
    out: dict[str, Any] = {
        "customers": len(s.summary),
        "model": s.fit.name,
        "model_requested": s.comparison.requested,
        **{f"param_{k}": _round(v) for k, v in s.fit.params.items()},
        "beats_naive": s.comparison.beats_naive,
        "penalized": bool(
            s.fit.retried
            or any(f.retried for f in s.comparison.fits.values())
            or (s.spend is not None and s.spend.retried)
        ),
    }
    for score in s.comparison.scores:
        out[f"holdout_mae_{score.model}"] = _round(score.mae)
        out[f"holdout_rmse_{score.model}"] = _round(score.rmse)
        out[f"holdout_aggregate_error_{score.model}"] = (
            None if score.aggregate_error is None else _round(score.aggregate_error)
        )
    out["clv_horizon_months"] = s.horizon_months
    if s.totals is not None:
        out["clv_total"] = _round(s.totals.total)
        out["clv_mean"] = _round(s.totals.mean)
        out["top_decile_share"] = _round(s.totals.top_decile_share)
    else:
        out["clv_total"] = out["clv_mean"] = out["top_decile_share"] = None
    return out


def clv_findings(section: ClvSection, currency: str) -> list[str]:
    """One-line findings for the executive summary (CLV totals and the model)."""
    from analysis.plots import format_money

    s = section
    out = []
    if s.totals is not None:
        out.append(
            f"Expected value of today's {s.totals.n_customers:,} customers over the next "
            f"{s.horizon_months} months: {format_money(s.totals.total, currency)} "
            f"(mean {format_money(s.totals.mean, currency)}); the top 10% hold "
            f"{s.totals.top_decile_share:.0%} of it."
        )
    scores = {x.model: x for x in s.comparison.scores}
    chosen, naive = scores[s.fit.name], scores["naive"]
    out.append(
        f"{s.fit.label} predicted each customer's purchases in the last "
        f"{(s.observation_end - s.calibration_end).days} days with a mean error of "
        f"{chosen.mae:.2f} (naive repeat-rate guess: {naive.mae:.2f})."
    )
    return out
