"""Everything the CLV section of a report computes, in one call.

:func:`clv_section` runs the whole CLV analysis of one store at the end of a
report month, on the engine where the orders are (only per-customer and
per-day results are collected):

1. the daily RFM summary at the observation end and the calibration/holdout
   summary with a ``clv.holdout_days`` holdout (:func:`analysis.clv.rfm_summary`);
2. BG/NBD, MBG/NBD and Pareto/NBD fitted on the calibration period and scored
   on the holdout against the naive baseline; the chosen model
   (``clv.model``, ``auto`` = lowest holdout RMSE) refitted on the whole history
   (:mod:`analysis.clv.fitting`, :mod:`analysis.clv.holdout`);
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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.fitting import ModelFit, ModelFitError, fit_model
from analysis.clv.holdout import ModelComparison, calibration_vs_holdout, compare_models
from analysis.clv.predict import FrequencyRecencyMatrices, frequency_recency_matrices
from analysis.clv.spend import SpendCorrelation, SpendFit, fit_spend, spend_correlation
from analysis.clv.summary import rfm_summary
from analysis.clv.tracking import daily_purchases, tracking_curve
from analysis.clv.value import ClvTotals, clv_totals, customer_predictions
from analysis.compat import quiet_lifetimes
from analysis.errors import AnalysisError, DataError, SectionUnavailable
from analysis.privacy import pseudonymous_ids

__all__ = [
    "MATRIX_AGE_DAYS",
    "MATRIX_MAX_FREQUENCY",
    "ClvSection",
    "clv_headlines",
    "check_eligibility",
    "clv_section",
    "holdout_length",
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
        Gamma-Gamma fit, or None when it could not be fitted (see ``spend_error``).
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
    chosen_on_holdout
        The model the holdout comparison chose (``fit`` is another one when
        that model does not fit the whole history).
    whole_history_failures
        Models tried on the whole history before ``fit``, and why each failed.
    spend_error
        Why there is no spend model (None when ``spend`` was fitted).
    tracking_finite
        False when the tracking curve was not finite (``tracking`` is then empty).
    timings
        Seconds per step.
    """

    observation_end: dt.date
    calibration_end: dt.date
    horizon_months: int
    monthly_discount_rate: float
    summary: pd.DataFrame = field(repr=False)
    cal_holdout: pd.DataFrame = field(repr=False)
    comparison: ModelComparison
    fit: ModelFit
    correlation: SpendCorrelation | None
    spend: SpendFit | None
    predictions: pd.DataFrame = field(repr=False)
    totals: ClvTotals | None
    holdout_by_frequency: pd.DataFrame = field(repr=False)
    tracking: pd.DataFrame = field(repr=False)
    matrices: FrequencyRecencyMatrices = field(repr=False)
    top: pd.DataFrame | None = field(repr=False)
    chosen_on_holdout: str
    whole_history_failures: dict[str, str]
    spend_error: str | None
    tracking_finite: bool
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
    holdout_share: float = 1 / 3,
    min_customers: int = 1,
    min_repeat_customers: int = 1,
    min_history_days: int = 2,
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
    holdout_days, holdout_share
        The holdout is ``holdout_days`` long but at most ``holdout_share`` of
        the history (:func:`holdout_length`; ``clv.holdout_days``,
        ``clv.holdout_share``).
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

    min_customers, min_repeat_customers, min_history_days
        Eligibility (:func:`check_eligibility`; ``clv.min_customers``,
        ``clv.min_repeat_customers``, ``clv.min_history_days``).

    Raises
    ------
    SectionUnavailable
        Too few customers or too short a history, or no purchase model fits
        (neither on the calibration period nor on the whole history); the
        reason says which.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    summary = rfm_summary(orders, observation_end, timezone=timezone)
    history_days = int(summary["T"].max()) + 1 if len(summary) else 0
    check_eligibility(
        len(summary),
        int((summary["frequency"] > 0).sum()),
        history_days,
        min_customers=min_customers,
        min_repeat_customers=min_repeat_customers,
        min_history_days=min_history_days,
    )
    holdout_days = holdout_length(history_days, holdout_days, holdout_share)
    calibration_end = observation_end - dt.timedelta(days=holdout_days)
    cal_holdout = rfm_summary(
        orders, observation_end, timezone=timezone, calibration_end=calibration_end
    )
    lap("summaries")

    try:
        comparison = compare_models(
            cal_holdout, requested=model, max_customers=comparison_customers, seed=seed
        )
    except ModelFitError as exc:
        from analysis.narrative.clv import no_model_fits  # words (the layer above) on demand

        raise SectionUnavailable(no_model_fits(exc.message, exc.hint)) from None
    lap("model_comparison")
    chosen_on_holdout = comparison.chosen
    spend, correlation, spend_error = _spend(summary)
    lap("spend")
    fit, predictions, comparison, failures = _final_fit(
        summary, comparison, spend, horizon_months, monthly_discount_rate
    )
    totals = clv_totals(predictions["clv"]) if spend is not None else None
    lap("fit_and_predictions")

    holdout_by_frequency = calibration_vs_holdout(comparison, cal_holdout)
    tracking, tracking_finite = _tracking(
        orders, comparison.fits[comparison.chosen], timezone, calibration_end, observation_end
    )
    age = float(min(MATRIX_AGE_DAYS, summary["T"].max()))
    top_frequency = int(np.ceil(np.quantile(summary["frequency"], 0.99)))
    matrices = frequency_recency_matrices(
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
        chosen_on_holdout=chosen_on_holdout,
        whole_history_failures=failures,
        spend_error=spend_error,
        tracking_finite=tracking_finite,
        timings=timings,
    )


def _final_fit(
    summary: pd.DataFrame,
    comparison: ModelComparison,
    spend: SpendFit | None,
    horizon_months: int,
    monthly_discount_rate: float,
) -> tuple[ModelFit, pd.DataFrame, ModelComparison, dict[str, str]]:
    """The best model that fits the whole history, its predictions, and the models that failed.

    Models are tried in :meth:`ModelComparison.ranked` order, each starting
    from its calibration fit; when the chosen one fails, the comparison is
    updated to the model used.

    Raises
    ------
    SectionUnavailable
        No compared model fits the whole history.
    """
    failures: dict[str, str] = {}
    for name in comparison.ranked():
        try:
            fit = fit_model(summary, name, start=comparison.fits[name].params)
            predictions = customer_predictions(
                fit,
                spend,
                summary,
                horizon_months=horizon_months,
                monthly_discount_rate=monthly_discount_rate,
            )
            break
        except ModelFitError as exc:
            failures[name] = exc.message
    else:
        from analysis.narrative.clv import no_model_fits_whole_history

        raise SectionUnavailable(no_model_fits_whole_history(failures))
    if fit.name != comparison.chosen:
        scores = {x.model: getattr(x, comparison.criterion) for x in comparison.scores}
        comparison = replace(
            comparison, chosen=fit.name, beats_naive=bool(scores[fit.name] < scores["naive"])
        )
    return fit, predictions, comparison, failures


def _tracking(
    orders: Any,
    calibration_fit: ModelFit,
    timezone: str,
    calibration_end: dt.date,
    observation_end: dt.date,
) -> tuple[pd.DataFrame, bool]:
    """The weekly tracking curve of the calibration fit (empty, and False, when not finite)."""
    daily = daily_purchases(orders, timezone, calibration_end, observation_end)

    def expected_up_to(t: np.ndarray) -> np.ndarray:
        with quiet_lifetimes():
            return calibration_fit.fitter.expected_number_of_purchases_up_to_time(t)

    tracking = tracking_curve(
        daily, expected_up_to, step_days=7, time_unit=calibration_fit.time_unit_days,
        calibration_end=calibration_end,
    )  # fmt: skip
    if len(tracking) and not np.isfinite(tracking["expected_cumulative"]).all():
        return tracking.iloc[0:0], False
    return tracking, True


def _spend(
    summary: pd.DataFrame,
) -> tuple[SpendFit | None, SpendCorrelation | None, str | None]:
    """Gamma-Gamma after the correlation check, or why there is none (the error's message)."""
    correlation: SpendCorrelation | None = None
    try:
        correlation = spend_correlation(summary)
        spend = fit_spend(summary)
    except (DataError, ModelFitError) as exc:
        return None, correlation, exc.message
    return spend, correlation, None


def holdout_length(history_days: int, holdout_days: int, holdout_share: float) -> int:
    """Days held out to compare the models: ``holdout_days``, but at most
    ``holdout_share`` of the history (rounded down), so a young store gets a
    shorter holdout instead of none.

    Parameters
    ----------
    history_days
        Days from the first purchase day to the observation end, both included.
    holdout_days, holdout_share
        ``clv.holdout_days`` (the longest holdout) and ``clv.holdout_share``.
    """
    return max(1, min(int(holdout_days), math.floor(history_days * holdout_share)))


def check_eligibility(
    customers: int,
    repeat_customers: int,
    history_days: int,
    *,
    min_customers: int,
    min_repeat_customers: int,
    min_history_days: int,
) -> None:
    """Raise :class:`SectionUnavailable` when the store is too young or too small.

    Purchase models need enough customers and enough time to see them come
    back (store tools ask for a few hundred buyers and some months of orders).

    Parameters
    ----------
    customers
        Registered customers with a completed order up to the observation end.
    repeat_customers
        Those of them with a repeat purchase day (``frequency > 0``).
    history_days
        Days from the first purchase day to the observation end, both included.
    min_customers, min_repeat_customers, min_history_days
        ``clv.min_customers``, ``clv.min_repeat_customers``, ``clv.min_history_days``.
    """
    short = [
        (what, need, has)
        for what, need, has in (
            ("customers", min_customers, customers),
            ("repeat_customers", min_repeat_customers, repeat_customers),
            ("history_days", min_history_days, history_days),
        )
        if has < need
    ]
    if short:
        from analysis.narrative.clv import not_enough_history

        raise SectionUnavailable(not_enough_history(short))


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
            s.fit.diagnostics.retried
            or any(f.diagnostics.retried for f in s.comparison.fits.values())
            or (s.spend is not None and s.spend.diagnostics.retried)
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
