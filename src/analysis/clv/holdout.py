"""Comparing the purchase models on a holdout, against a naive baseline, and choosing one.

Each model is fitted on the calibration period and predicts each customer's
repeat purchases in the holdout (``duration_holdout`` time units). Scores per
model: per-customer MAE and RMSE of predicted vs actual holdout purchases,
the aggregate error (predicted total / actual total - 1) and the calibration
log-likelihood. ``model: auto`` picks the lowest per-customer RMSE
(``SELECTION_CRITERION``); ties go to the earlier of bgnbd, mbgnbd, pareto.
The naive baseline (:func:`naive_holdout_purchases`) is scored alongside but
never chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.clv.fitting import (
    MODEL_LABELS,
    MODEL_NAMES,
    PENALIZER_SCHEDULE,
    ModelFit,
    ModelFitError,
    fit_model,
    require_finite,
    rfm_arrays,
)
from analysis.clv.predict import conditional_expected_purchases, probability_alive
from analysis.errors import AnalysisError, DataError

__all__ = [
    "SELECTION_CRITERION",
    "HoldoutScore",
    "ModelComparison",
    "calibration_vs_holdout",
    "choose_model",
    "compare_models",
    "naive_holdout_purchases",
    "score_holdout",
]

SELECTION_CRITERION = "rmse"


@dataclass(frozen=True)
class HoldoutScore:
    """How well one model predicted each customer's holdout purchases.

    Attributes
    ----------
    model
        Model name, or ``"naive"`` for the baseline.
    n_customers
        Customers scored (all customers of the calibration period).
    mae, rmse
        Mean absolute and root-mean-square error per customer, in purchases.
    predicted_total, actual_total
        Sum over customers of predicted and actual holdout purchases.
    aggregate_error
        ``predicted_total / actual_total - 1`` (``None`` when nobody purchased).
    log_likelihood
        Calibration log-likelihood of the model (``None`` for the baseline).
    """

    model: str
    n_customers: int
    mae: float
    rmse: float
    predicted_total: float
    actual_total: float
    aggregate_error: float | None
    log_likelihood: float | None


@dataclass(frozen=True)
class ModelComparison:
    """Calibration fits, holdout scores and the chosen model.

    Attributes
    ----------
    fits
        Calibration fits by model name (models whose fit failed are absent).
    scores
        One :class:`HoldoutScore` per fitted model, then the naive baseline.
    chosen
        The model to use: lowest ``criterion`` when ``requested`` is ``"auto"``.
    requested
        ``"auto"`` or the model named in params.
    criterion
        The score that ``auto`` minimises (``"rmse"``).
    beats_naive
        True when the chosen model's ``criterion`` is below the baseline's.
    attempted
        The models fitted, in order (those whose fit failed too).
    left_out
        Why each model whose fit failed was left out (the fit error's message).
    predictions
        Holdout predictions per customer: one column per model and ``naive``,
        plus ``actual``; indexed like the input (or the sample of it).
    sample_of
        Customers in the input when the comparison ran on a sample of them
        (``max_customers``), else None.
    seed
        Seed of that sample (None without a sample).
    """

    fits: dict[str, ModelFit]
    scores: tuple[HoldoutScore, ...]
    chosen: str
    requested: str
    criterion: str
    beats_naive: bool
    attempted: tuple[str, ...]
    left_out: dict[str, str]
    predictions: pd.DataFrame = field(repr=False, compare=False)
    sample_of: int | None = None
    seed: int | None = None

    def ranked(self) -> list[str]:
        """Fitted models, best first: ``chosen``, then the others by ``criterion``
        (ties in ``MODEL_NAMES`` order). The fallbacks when a final fit fails."""
        others = sorted(
            (s for s in self.scores if s.model in self.fits and s.model != self.chosen),
            key=lambda s: (getattr(s, self.criterion), MODEL_NAMES.index(s.model)),
        )
        return [self.chosen, *(s.model for s in others)]

    def table(self) -> pd.DataFrame:
        """The scores as a frame indexed by model (for the report table)."""
        rows = [vars(s) | {"label": MODEL_LABELS[s.model]} for s in self.scores]
        frame = pd.DataFrame(rows).set_index("model")
        frame["chosen"] = frame.index == self.chosen
        return frame


def naive_holdout_purchases(
    frequency_cal: np.ndarray, T_cal: np.ndarray, duration_holdout: np.ndarray | float
) -> np.ndarray:
    """Naive baseline: each customer keeps their calibration repeat rate.

    ``frequency_cal / T_cal * duration_holdout`` (repeat purchases per time unit
    since the first purchase, times the holdout length); 0 when ``T_cal`` is 0
    (first purchase on the last calibration day: no time observed, no rate).
    The rate ignores drop-out and does not shrink young customers' noisy rates
    toward the population, which is what the models add.

    Returns
    -------
    numpy.ndarray
        float64, shape (n,), purchases.
    """
    x = np.asarray(frequency_cal, dtype=float)
    age = np.asarray(T_cal, dtype=float)
    rate = np.divide(x, age, out=np.zeros_like(x), where=age > 0)
    return rate * np.asarray(duration_holdout, dtype=float)


def score_holdout(
    model: str,
    predicted: np.ndarray,
    actual: np.ndarray,
    log_likelihood: float | None = None,
) -> HoldoutScore:
    """MAE, RMSE and aggregate error of predicted vs actual holdout purchases.

    Parameters
    ----------
    predicted, actual
        Shape (n,), purchases per customer in the holdout.
    """
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    if predicted.shape != actual.shape or predicted.size == 0:
        raise AnalysisError(f"holdout scores need equal, non-empty arrays for {model}")
    require_finite(predicted, f"{MODEL_LABELS.get(model, model)} holdout predictions")
    err = predicted - actual
    predicted_total, actual_total = float(predicted.sum()), float(actual.sum())
    return HoldoutScore(
        model=model,
        n_customers=int(predicted.size),
        mae=float(np.mean(np.abs(err))),
        rmse=float(np.sqrt(np.mean(err**2))),
        predicted_total=predicted_total,
        actual_total=actual_total,
        aggregate_error=predicted_total / actual_total - 1 if actual_total > 0 else None,
        log_likelihood=log_likelihood,
    )


def choose_model(scores: Sequence[HoldoutScore], requested: str = "auto") -> str:
    """The model to use: ``requested``, or under ``"auto"`` the lowest per-customer RMSE.

    The naive baseline is never chosen; ties go to the earlier of
    ``MODEL_NAMES`` (bgnbd, mbgnbd, pareto).
    """
    candidates = [s for s in scores if s.model in MODEL_NAMES]
    if requested != "auto":
        if requested not in MODEL_NAMES:
            raise AnalysisError(
                f"unknown CLV model {requested!r}", hint=f"auto or {', '.join(MODEL_NAMES)}"
            )
        if requested not in {s.model for s in candidates}:
            raise ModelFitError(
                f"the model named in clv.model, {MODEL_LABELS[requested]}, does not fit "
                "this history",
                hint="set clv.model: auto to let the report choose a model that fits",
            )
        return requested
    if not candidates:
        raise ModelFitError("no purchase model could be fitted")
    best = min(
        candidates, key=lambda s: (getattr(s, SELECTION_CRITERION), MODEL_NAMES.index(s.model))
    )
    return best.model


def compare_models(
    cal_holdout: pd.DataFrame,
    *,
    requested: str = "auto",
    models: Sequence[str] = MODEL_NAMES,
    time_unit_days: float = 1.0,
    penalizers: Sequence[float] = PENALIZER_SCHEDULE,
    max_customers: int | None = None,
    seed: int = 0,
) -> ModelComparison:
    """Fit each model on the calibration period and score it on the holdout.

    Parameters
    ----------
    cal_holdout
        lifetimes' ``calibration_and_holdout_data`` columns, one row per
        customer: ``frequency_cal``, ``recency_cal``, ``T_cal``,
        ``frequency_holdout``, ``duration_holdout`` (time units).
    requested
        ``"auto"`` (lowest per-customer holdout RMSE) or a model name.
    models
        Models to fit and score.
    max_customers
        With more customers than this, the comparison (fits and scores) runs on
        a simple random sample of ``max_customers`` customers drawn with
        ``seed`` (the same sample for every model), and a note says so. The
        standard error of a model's holdout MAE on ``n`` customers is
        sd(|error|) / sqrt(n), about 0.006 purchases at 200,000 demo customers,
        smaller than the differences it has to rank. None: every customer.
    seed
        Seed of that sample.

    Returns
    -------
    ModelComparison
        A model whose fit fails is left out (``left_out`` says why); the naive
        baseline is always scored. ``predictions`` holds the customers compared.
    """
    n_all = len(cal_holdout)
    if max_customers is not None and n_all > max_customers:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(n_all, size=max_customers, replace=False))
        cal_holdout = cal_holdout.iloc[rows]
    x, tx, age = rfm_arrays(cal_holdout, "_cal")
    for col in ("frequency_holdout", "duration_holdout"):
        if col not in cal_holdout.columns:
            raise DataError(f"calibration/holdout frame lacks {col}")
    actual = cal_holdout["frequency_holdout"].to_numpy(dtype=float)
    duration = cal_holdout["duration_holdout"].to_numpy(dtype=float)
    if not (np.isfinite(actual).all() and np.isfinite(duration).all() and (duration > 0).all()):
        raise DataError("frequency_holdout/duration_holdout must be finite, duration > 0")
    fits: dict[str, ModelFit] = {}
    left_out: dict[str, str] = {}
    predictions = pd.DataFrame(index=cal_holdout.index)
    scores: list[HoldoutScore] = []
    if requested != "auto":
        if requested not in MODEL_NAMES:
            raise AnalysisError(
                f"unknown CLV model {requested!r}", hint=f"auto or {', '.join(MODEL_NAMES)}"
            )
        models = (requested,)  # a named model is scored, not compared
    for name in models:
        try:
            fit = fit_model(
                cal_holdout,
                name,
                suffix="_cal",
                time_unit_days=time_unit_days,
                penalizers=penalizers,
            )
            predicted = conditional_expected_purchases(fit, x, tx, age, duration)
            probability_alive(fit, x, tx, age)  # finite, or the model is left out
        except ModelFitError as exc:
            left_out[name] = exc.message
            continue
        fits[name] = fit
        predictions[name] = predicted
        scores.append(score_holdout(name, predicted, actual, fit.diagnostics.log_likelihood))
    naive = naive_holdout_purchases(x, age, duration)
    predictions["naive"] = naive
    predictions["actual"] = actual
    scores.append(score_holdout("naive", naive, actual))
    chosen = choose_model(scores, requested)
    by_name = {s.model: s for s in scores}
    crit = SELECTION_CRITERION
    beats = getattr(by_name[chosen], crit) < getattr(by_name["naive"], crit)
    sampled = len(cal_holdout) < n_all
    return ModelComparison(
        fits=fits,
        scores=tuple(scores),
        chosen=chosen,
        requested=requested,
        criterion=crit,
        beats_naive=bool(beats),
        attempted=tuple(models),
        left_out=left_out,
        predictions=predictions,
        sample_of=n_all if sampled else None,
        seed=seed if sampled else None,
    )


def calibration_vs_holdout(
    comparison: ModelComparison, cal_holdout: pd.DataFrame, *, max_frequency: int = 7
) -> pd.DataFrame:
    """Mean actual and predicted holdout purchases by calibration frequency.

    The data of lifetimes' ``plot_calibration_purchases_vs_holdout_purchases``
    for every fitted model and the naive baseline; frequencies above
    ``max_frequency`` are pooled into the last row (label ``"7+"``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``frequency_cal`` (0..max_frequency): ``label``,
        ``customers``, ``actual`` and one column per model and ``naive``
        (mean holdout purchases per customer).
    """
    preds = comparison.predictions
    frequency = cal_holdout["frequency_cal"].loc[preds.index]  # the customers compared
    bucket = np.minimum(frequency.to_numpy(dtype=int), max_frequency)
    columns = [c for c in preds.columns if c != "actual"]
    grouped = preds.assign(frequency_cal=bucket).groupby("frequency_cal")
    out = grouped[["actual", *columns]].mean()
    out.insert(0, "customers", grouped.size())
    labels = [str(k) if k < max_frequency else f"{k}+" for k in out.index]
    out.insert(0, "label", labels)
    return out
