"""Buy-till-you-die models on the RFM summary: fit, compare on a holdout, predict, value.

Definitions (each number the CLV section shows comes from one function here).

Time and money units
    ``frequency`` counts repeat purchase periods (days for the daily summary);
    ``recency`` and ``T`` are in *time units* of ``time_unit_days`` days (1 for
    the daily summary of :func:`analysis.clv.rfm_summary`). Horizons given in
    days (30/90/365) are converted with ``time_unit_days``; a CLV month is
    ``periods_per_month`` time units, 30 days by default (lifetimes' ``freq="D"``).

Fitting (:func:`fit_model`, :func:`fit_spend`)
    lifetimes' BetaGeoFitter (``bgnbd``), ModifiedBetaGeoFitter (``mbgnbd``) and
    ParetoNBDFitter (``pareto``), plus GammaGammaFitter for spend. Identical
    (frequency, recency, T) rows (for spend: (frequency, monetary_value)) are
    collapsed to one row with ``weights`` = number of customers; all four
    lifetimes 0.11.3 fitters accept ``weights`` and their objective is the same
    sum over customers, so nothing is fitted on more rows than there are distinct
    histories. Pareto/NBD keeps lifetimes' likelihood and predictions but is
    optimised here (see :class:`_ParetoNBDFitter`): lifetimes' Nelder-Mead from a
    random start is not reproducible and needs minutes at a million customers.

Penalizer retry
    An attempt fails when the optimiser raises, when a parameter or the
    log-likelihood is not finite, or when a parameter is at the *boundary*: in
    the optimiser's own units (time scaled so the oldest customer has ``T = 1``;
    spend scaled so the mean spend is 1) outside ``BOUNDARY`` = [1e-4, 1e4]. The
    log-parameters then ran off towards 0 or infinity, where the likelihood is
    flat. A failed unpenalised fit is retried with ``PENALIZER_SCHEDULE`` =
    0.001, 0.01, 0.1 (lifetimes' L2 penalty ``c * sum(params**2)`` on those
    scaled parameters, added to the *mean* negative log-likelihood per customer)
    until one attempt passes; every attempt is written into the fit's ``note``.
    When none passes, the least penalised finite attempt is kept and the note
    says it is at the boundary; when no attempt is finite, :class:`ModelFitError`.

Holdout comparison (:func:`compare_models`)
    Each model is fitted on the calibration period and predicts each customer's
    repeat purchases in the holdout (``duration_holdout`` time units). Scores per
    model: per-customer MAE and RMSE of predicted vs actual holdout purchases,
    the aggregate error (predicted total / actual total - 1) and the calibration
    log-likelihood. ``model: auto`` picks the lowest per-customer RMSE
    (``SELECTION_CRITERION``); ties go to the earlier of bgnbd, mbgnbd, pareto.
    The naive baseline (:func:`naive_holdout_purchases`) is scored alongside but
    never chosen.

Spend and value
    Gamma-Gamma is fitted on repeat customers (frequency > 0 and monetary > 0)
    after :func:`spend_correlation` checks its independence assumption: a warning
    when |Pearson| or |Spearman| correlation between frequency and monetary value
    is at least ``CORRELATION_WARNING`` = 0.3 (Cohen's "medium"; the model implies
    0). CLV (:func:`customer_lifetime_value`) is lifetimes' discounted sum:
    month ``i`` = 1..horizon contributes expected spend per order times the
    expected purchases in that month, divided by ``(1 + monthly rate) ** i``.
    Customers without repeat purchases get Gamma-Gamma's population mean spend.

All predictions are computed once per distinct (frequency, recency, T) history
and mapped back to customers, vectorised; every output is checked to be finite.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import gammaln

from analysis.compat import import_lifetimes, pareto_log_a0, quiet_lifetimes
from analysis.errors import AnalysisError, DataError

__all__ = [
    "BOUNDARY",
    "CORRELATION_WARNING",
    "MODEL_LABELS",
    "MODEL_NAMES",
    "PENALIZER_SCHEDULE",
    "SELECTION_CRITERION",
    "ClvTotals",
    "FrequencyRecencyMatrices",
    "HoldoutScore",
    "ModelComparison",
    "ModelFit",
    "ModelFitError",
    "SpendCorrelation",
    "SpendFit",
    "calibration_vs_holdout",
    "choose_model",
    "clv_totals",
    "collapse_rows",
    "compare_models",
    "conditional_expected_purchases",
    "customer_lifetime_value",
    "customer_predictions",
    "fit_model",
    "fit_spend",
    "frequency_recency_matrices",
    "naive_holdout_purchases",
    "probability_alive",
    "expected_spend",
    "rfm_log_likelihood",
    "score_holdout",
    "spend_correlation",
]

MODEL_NAMES: tuple[str, ...] = ("bgnbd", "mbgnbd", "pareto")
MODEL_LABELS: dict[str, str] = {
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "pareto": "Pareto/NBD",
    "gamma_gamma": "Gamma-Gamma",
    "naive": "naive (repeat calibration rate)",
}
PENALIZER_SCHEDULE: tuple[float, ...] = (0.001, 0.01, 0.1)
BOUNDARY: tuple[float, float] = (1e-4, 1e4)
SELECTION_CRITERION = "rmse"
CORRELATION_WARNING = 0.3
PREDICTION_DAYS: tuple[int, ...] = (30, 90, 365)

# The second starting point of a fit (optimiser units: time scaled so the oldest
# customer has T = 1, spend so its mean is 1), tried after a failed first attempt.
# BG/NBD and MBG/NBD take log-parameters (r, alpha, a, b), our Pareto/NBD the
# parameters (r, alpha, s, beta), Gamma-Gamma log-parameters (p, q, v). lifetimes
# starts every log-parameter at 0.1 (all parameters about 1.1); these start from a slower
# purchase rate with more heterogeneity and a later drop-out.
_SECOND_START: dict[str, np.ndarray] = {
    "bgnbd": np.log([0.5, 0.05, 0.5, 5.0]),
    "mbgnbd": np.log([0.5, 0.05, 0.5, 5.0]),
    "pareto": np.asarray([0.5, 0.05, 0.5, 0.5]),
    "gamma_gamma": np.log([2.0, 3.0, 2.0]),
}

# Pareto/NBD: rows above which a warm start is first fitted on a fixed subsample.
_PARETO_WARM_START_ROWS = 20_000
_PARETO_SEED = 20_261_124
_PARETO_GTOL = 1e-7


class ModelFitError(AnalysisError):
    """No attempt of a fit (unpenalised or penalised) gave finite parameters."""


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class ModelFit:
    """A fitted purchase model (BG/NBD, MBG/NBD or Pareto/NBD).

    Attributes
    ----------
    name
        ``"bgnbd"``, ``"mbgnbd"`` or ``"pareto"``.
    params
        Fitted parameters in the data's time units (``r, alpha, a, b`` or
        ``r, alpha, s, beta``; ``alpha`` and ``beta`` are in time units).
    standard_errors
        Asymptotic standard errors from the Hessian of the (penalised) mean
        log-likelihood (lifetimes' ``summary["se(coef)"]``); ``None`` for
        Pareto/NBD (lifetimes computes no Hessian for it) or a singular Hessian.
    log_likelihood
        Total log-likelihood over all customers at ``params``, unpenalised, with
        recency and T in the data's time units.
    n_customers, n_rows_fitted
        Customers in the summary and distinct (frequency, recency, T) rows fitted.
    penalizer
        lifetimes ``penalizer_coef`` of the kept attempt (0 unless retried).
    retried
        True when the first attempt failed and a later one (second start or a
        penalizer) was kept.
    note
        One or more sentences for the report (retries, boundary, failures).
    time_unit_days
        Days per time unit of recency and T.
    fitter
        The fitted lifetimes object, for its other methods.
    """

    name: str
    params: dict[str, float]
    standard_errors: dict[str, float] | None
    log_likelihood: float
    n_customers: int
    n_rows_fitted: int
    penalizer: float
    retried: bool
    note: str
    time_unit_days: float = 1.0
    fitter: Any = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """Display name, e.g. ``"BG/NBD"``."""
        return MODEL_LABELS[self.name]


@dataclass(frozen=True)
class SpendFit:
    """A fitted Gamma-Gamma spend model.

    Attributes
    ----------
    params
        ``p, q, v`` (``v`` in currency units).
    standard_errors
        From the Hessian (lifetimes' ``summary``), or ``None`` when singular.
    log_likelihood
        Total log-likelihood over the repeat customers fitted, unpenalised.
    n_customers, n_rows_fitted
        Repeat customers with positive spend, and distinct (frequency, monetary) rows.
    penalizer, retried, note
        As in :class:`ModelFit`.
    correlation
        The frequency-monetary check of the independence assumption.
    population_mean_spend
        ``p * v / (q - 1)``: expected spend per order of a customer with no
        repeat purchase yet (currency units).
    fitter
        The fitted lifetimes ``GammaGammaFitter``.
    """

    params: dict[str, float]
    standard_errors: dict[str, float] | None
    log_likelihood: float
    n_customers: int
    n_rows_fitted: int
    penalizer: float
    retried: bool
    note: str
    correlation: SpendCorrelation
    population_mean_spend: float
    fitter: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class SpendCorrelation:
    """Correlation of frequency and mean spend among repeat customers.

    Gamma-Gamma assumes a customer's spend per order is independent of how
    often they buy; ``strong`` is True when ``max(|pearson|, |spearman|)`` is
    at least ``threshold``.
    """

    pearson: float
    spearman: float
    n_customers: int
    threshold: float
    strong: bool
    text: str


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
    notes
        Sentences for the report: failures, retries, the choice.
    predictions
        Holdout predictions per customer: one column per model and ``naive``,
        plus ``actual``; indexed like the input (or the sample of it).
    sample_of
        Customers in the input when the comparison ran on a sample of them
        (``max_customers``), else None.
    """

    fits: dict[str, ModelFit]
    scores: tuple[HoldoutScore, ...]
    chosen: str
    requested: str
    criterion: str
    beats_naive: bool
    notes: tuple[str, ...]
    predictions: pd.DataFrame = field(repr=False, compare=False)
    sample_of: int | None = None

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


@dataclass(frozen=True)
class FrequencyRecencyMatrices:
    """Data behind lifetimes' frequency/recency charts, for a customer of age ``age``.

    ``expected_purchases`` (over the next ``horizon`` time units) and
    ``p_alive`` are indexed by recency (rows, 0..age step ``recency_step``)
    and frequency (columns, 0..max_frequency); ``possible`` marks the
    histories that can occur (recency is 0 exactly when frequency is 0; the
    impossible cells frequency 0, recency > 0 hold the recency-0 values, and
    with daily periods frequency > recency cannot occur either). Every cell is
    finite.
    """

    expected_purchases: pd.DataFrame
    p_alive: pd.DataFrame
    possible: pd.DataFrame
    age: float
    horizon: float


# --------------------------------------------------------------------------- inputs


def _rfm_arrays(frame: pd.DataFrame, suffix: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and T as float arrays, validated (clear error on bad rows)."""
    names = [f"frequency{suffix}", f"recency{suffix}", f"T{suffix}"]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise DataError(
            f"RFM summary lacks column(s) {', '.join(missing)}",
            hint=f"expected {', '.join(names)} (analysis.clv.rfm_summary)",
        )
    if len(frame) == 0:
        raise DataError("RFM summary has no customers", hint="check the observation window")
    # Note: frame.T would be the transpose; always index columns by name.
    x, tx, age = (frame[n].to_numpy(dtype=float) for n in names)
    problems = {
        "a value is missing or not finite": ~(np.isfinite(x) & np.isfinite(tx) & np.isfinite(age)),
        f"{names[0]} is negative or not a whole number": (x < 0) | (x != np.round(x)),
        f"{names[1]} is negative or above {names[2]}": (tx < 0) | (tx > age),
        f"{names[1]} is not 0 when {names[0]} is 0": (x == 0) & (tx != 0),
    }
    for what, bad in problems.items():
        if bad.any():
            sample = frame.loc[bad, names].head(3)
            raise DataError(
                f"RFM summary: {what} for {int(bad.sum())} customer(s), e.g.\n{sample}",
                hint="compute the summary with analysis.clv.rfm_summary",
            )
    return x, tx, age


def collapse_rows(columns: dict[str, np.ndarray]) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct rows of the given columns, with counts, and each input row's distinct row.

    Parameters
    ----------
    columns
        Equal-length 1-d arrays by name (values must not be NaN).

    Returns
    -------
    unique : pandas.DataFrame
        One row per distinct combination, sorted by the columns in order, plus
        ``weights`` (int64, number of input rows with that combination).
    inverse : numpy.ndarray
        int64, shape (n,): ``unique.iloc[inverse]`` reproduces the input rows.
    """
    frame = pd.DataFrame(columns)
    grouped = frame.groupby(list(columns), sort=True)
    inverse = grouped.ngroup().to_numpy(dtype=np.int64)
    unique = grouped.size().rename("weights").reset_index()
    return unique, inverse


# --------------------------------------------------------------------------- fitters


def _lifetimes() -> Any:
    return import_lifetimes()


@functools.cache
def _pareto_class() -> type:
    lt = _lifetimes()

    class _ParetoNBDFitter(lt.ParetoNBDFitter):
        # lifetimes' log A_0 is NaN for large equal terms with today's scipy (see analysis.compat)
        _log_A_0 = staticmethod(pareto_log_a0)

        @staticmethod
        def _conditional_log_likelihood(
            params: Sequence[float], freq: np.ndarray, rec: np.ndarray, T: np.ndarray
        ) -> np.ndarray:
            """Per-customer log-likelihood (lifetimes' eq. 18 of Fader & Hardie note 009)."""
            r, alpha, s, beta = params
            x = freq
            a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            log_a0 = pareto_log_a0(params, x, rec, T)
            a2 = np.logaddexp(
                -(r + x) * np.log(alpha + T) - s * np.log(beta + T),
                np.log(s) + log_a0 - np.log(r + s + x),
            )
            return a1 + a2

        """lifetimes' Pareto/NBD, optimised in log-parameters on the mean log-likelihood.

        Only ``_fit`` (the optimiser hook lifetimes' ``fit`` calls) differs: the
        objective is lifetimes' ``_conditional_log_likelihood`` averaged over
        customers (the same normalisation as BG/NBD, so ``penalizer_coef`` means
        the same in all models) and minimised by BFGS with central-difference
        gradients over log-parameters from ``initial_params`` (default all 1, the
        centre of lifetimes' random start). Above ``_PARETO_WARM_START_ROWS``
        distinct rows and without ``initial_params`` it first fits a fixed-seed
        subsample of rows (weights kept) and starts the full fit there; the
        optimum is that of all rows.
        """

        def _fit(  # type: ignore[override]
            self,
            minimizing_function_args: tuple,
            iterative_fitting: int,
            initial_params: Any,
            params_size: int,
            disp: bool,
            tol: float = 1e-6,
            fit_method: str = "BFGS",
            maxiter: int = 2000,
            **kwargs: Any,
        ) -> tuple[np.ndarray, float]:
            freq, rec, age, weights, penalizer = minimizing_function_args
            cll = self._conditional_log_likelihood

            def objective(rows: np.ndarray | slice) -> Callable[[np.ndarray], float]:
                f, r, t, w = freq[rows], rec[rows], age[rows], weights[rows]
                total = float(w.sum())

                def mean_nll(log_params: np.ndarray) -> float:
                    params = np.exp(log_params)
                    with np.errstate(all="ignore"):
                        ll = cll(params, f, r, t)
                    value = -float(np.dot(w, ll)) / total + penalizer * float(params @ params)
                    return value if math.isfinite(value) else 1e300

                return mean_nll

            start = np.zeros(params_size) if initial_params is None else np.log(initial_params)
            # lifetimes' own tol (1e-4, meant for Nelder-Mead) is too loose for a gradient test
            options: dict[str, Any] = {"gtol": _PARETO_GTOL, "maxiter": maxiter}
            if initial_params is None and len(freq) > _PARETO_WARM_START_ROWS:
                rng = np.random.default_rng(_PARETO_SEED)
                rows = np.sort(rng.choice(len(freq), _PARETO_WARM_START_ROWS, replace=False))
                warm = minimize(
                    objective(rows),
                    start,
                    method="BFGS",
                    options={"gtol": 1e-5, "maxiter": maxiter},
                )
                # start at the subsample's optimum with its curvature: a few Newton-like steps
                start = warm.x
                curvature = (warm.hess_inv + warm.hess_inv.T) / 2
                if np.all(np.isfinite(curvature)) and np.linalg.eigvalsh(curvature).min() > 0:
                    options["hess_inv0"] = curvature
            out = minimize(
                objective(slice(None)), start, method="BFGS", jac="3-point", options=options
            )
            if not np.all(np.isfinite(out.x)) or not math.isfinite(out.fun) or out.fun >= 1e299:
                raise lt.utils.ConvergenceError(
                    f"Pareto/NBD optimiser ended at {out.x}: {out.message}"
                )
            self._optimizer_result = out
            return np.exp(out.x), float(out.fun)

    return _ParetoNBDFitter


def _new_fitter(name: str, penalizer: float) -> Any:
    lt = _lifetimes()
    if name == "bgnbd":
        return lt.BetaGeoFitter(penalizer_coef=penalizer)
    if name == "mbgnbd":
        return lt.ModifiedBetaGeoFitter(penalizer_coef=penalizer)
    if name == "pareto":
        return _pareto_class()(penalizer_coef=penalizer)
    raise AnalysisError(f"unknown CLV model {name!r}", hint=f"one of {', '.join(MODEL_NAMES)}")


def _scaled_params(name: str, fitter: Any) -> np.ndarray:
    """Parameters in the optimiser's units (time scaled so the largest T is 1)."""
    params = fitter.params_.copy()
    params["alpha"] *= fitter._scale
    if name == "pareto":
        params["beta"] *= fitter._scale
    return params.to_numpy(dtype=float)


def _initial_params(name: str, start: dict[str, float], T: np.ndarray) -> np.ndarray:
    """``start`` (data time units) as the lifetimes fitter's ``initial_params``.

    lifetimes scales time so that the largest ``T`` is 1; BG/NBD and MBG/NBD
    start from log-parameters, our Pareto/NBD optimiser from the parameters.
    """
    scale = 1.0 / float(np.max(T))
    if name == "pareto":
        values = [start["r"], start["alpha"] * scale, start["s"], start["beta"] * scale]
        return np.asarray(values, dtype=float)
    values = [start["r"], start["alpha"] * scale, start["a"], start["b"]]
    return np.log(np.asarray(values, dtype=float))


def _outside_boundary(values: np.ndarray, names: Sequence[str]) -> list[str]:
    lo, hi = BOUNDARY
    return [f"{n}={v:.3g}" for n, v in zip(names, values, strict=True) if not lo <= v <= hi]


def _standard_errors(fitter: Any) -> dict[str, float] | None:
    se = getattr(fitter, "standard_errors_", None)
    if se is None:
        return None
    values = {str(k): float(v) for k, v in se.items()}
    return values if all(math.isfinite(v) and v >= 0 for v in values.values()) else None


def rfm_log_likelihood(
    name: str,
    params: dict[str, float],
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    weights: np.ndarray | None = None,
) -> float:
    """Total log-likelihood of a purchase model (unpenalised, data time units).

    Uses lifetimes' own likelihood functions, evaluated like lifetimes' fitters
    with time scaled so the largest ``T`` is 1 (where they are numerically
    safe) and converted back: scaling time by ``c`` multiplies each customer's
    likelihood by ``c ** -frequency``, so ``LL = LL_scaled + sum(w x) log c``.
    ``weights`` counts customers per row (all 1 when None).
    """
    lt = _lifetimes()
    x = np.asarray(frequency, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    scale = 1.0 / float(np.max(T)) if float(np.max(T)) > 0 else 1.0
    tx, age = np.asarray(recency, float) * scale, np.asarray(T, float) * scale
    correction = float(np.dot(w, x)) * math.log(scale)
    with np.errstate(all="ignore"), quiet_lifetimes():
        warnings.simplefilter("ignore", RuntimeWarning)
        if name == "pareto":
            values = [params["r"], params["alpha"] * scale, params["s"], params["beta"] * scale]
            ll = _pareto_class()._conditional_log_likelihood(values, x, tx, age)
            return float(np.dot(w, ll)) + correction
        cls = lt.BetaGeoFitter if name == "bgnbd" else lt.ModifiedBetaGeoFitter
        log_params = np.log([params["r"], params["alpha"] * scale, params["a"], params["b"]])
        mean_nll = cls._negative_log_likelihood(log_params, x, tx, age, w, 0.0)
        return float(-mean_nll * w.sum()) + correction


@dataclass(frozen=True)
class _Attempt:
    fitter: Any
    scaled: np.ndarray  # parameters in the optimiser's units
    names: list[str]
    log_likelihood: float


def _failure(exc: Exception) -> str:
    if type(exc).__name__ == "ConvergenceError":
        return "did not converge"
    return f"failed ({type(exc).__name__}: {str(exc).strip()[:100]})"


def _attempts(
    run: Callable[[float, bool], _Attempt], penalizers: Sequence[float], what: str
) -> tuple[_Attempt, float, bool, str]:
    """Try a fit until one attempt passes; never keep a degenerate one.

    ``run(penalizer, other_start)`` fits once. The attempts, in order: no
    penalizer from the usual start, no penalizer from ``other_start`` (a second,
    fixed starting point: an optimiser that wandered off from the first may
    converge from another), then each of ``penalizers`` from the usual start.
    An attempt passes when it raised nothing, its parameters (optimiser units)
    and log-likelihood are finite and every parameter lies inside
    ``BOUNDARY``. Returns the first passing attempt, its penalizer, whether it
    was a retry, and the note.

    Raises
    ------
    ModelFitError
        No attempt passed; the message lists what each attempt did (a fit whose
        parameters run to the boundary is never published: its predictions are
        degenerate, e.g. no customer ever drops out).
    """
    notes: list[str] = []
    schedule = [(0.0, False), (0.0, True), *((p, False) for p in penalizers)]
    for penalizer, other_start in schedule:
        label = "unpenalised" if penalizer == 0 else f"penalizer {penalizer:g}"
        if other_start:
            label += ", second start"
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # lifetimes prints failures
                attempt = run(penalizer, other_start)
        except Exception as exc:
            notes.append(f"{label}: {_failure(exc)}")
            continue
        if not (np.all(np.isfinite(attempt.scaled)) and math.isfinite(attempt.log_likelihood)):
            notes.append(f"{label}: non-finite parameters or log-likelihood")
            continue
        outside = _outside_boundary(attempt.scaled, attempt.names)
        if outside:
            notes.append(f"{label}: at the boundary ({', '.join(outside)})")
            continue
        if not notes:
            return attempt, penalizer, False, f"{what}: fitted without penalizer."
        shrink = ", which shrinks the parameters slightly" if penalizer > 0 else ""
        note = (
            f"{what}: the first fit was unusable, so it was refitted "
            f"({'; '.join(notes)}; kept {label}{shrink})."
        )
        return attempt, penalizer, True, note
    raise ModelFitError(
        f"{what} does not fit this history ({'; '.join(notes)})",
        hint="the data barely identify the model (e.g. no sign of customers dropping out); "
        "another model, more history or more repeat customers may fit",
    )


def fit_model(
    summary: pd.DataFrame,
    name: str,
    *,
    suffix: str = "",
    time_unit_days: float = 1.0,
    penalizers: Sequence[float] = PENALIZER_SCHEDULE,
    start: dict[str, float] | None = None,
) -> ModelFit:
    """Fit one purchase model on distinct (frequency, recency, T) rows with weights.

    Parameters
    ----------
    summary
        One row per customer with ``frequency``, ``recency``, ``T`` (plus
        ``suffix``, e.g. ``"_cal"`` for a calibration/holdout frame).
    name
        ``"bgnbd"``, ``"mbgnbd"`` or ``"pareto"``.
    time_unit_days
        Days per time unit of recency and T (1 for the daily summary).
    penalizers
        Penalizer coefficients tried in order after a failed unpenalised fit.
    start
        Optional starting parameters in the data's time units (e.g. the same
        model's calibration fit when refitting on the whole history): the
        optimiser then needs a few iterations instead of dozens. The optimum
        does not depend on the start (same tolerance as a cold start).

    Returns
    -------
    ModelFit
        Parameters in the data's time units, log-likelihood, retry notes.

    Raises
    ------
    ModelFitError
        No attempt gave finite parameters.
    """
    if name not in MODEL_NAMES:
        raise AnalysisError(f"unknown CLV model {name!r}", hint=f"one of {', '.join(MODEL_NAMES)}")
    x, tx, age = _rfm_arrays(summary, suffix)
    unique, _ = collapse_rows({"frequency": x, "recency": tx, "T": age})
    f, r, t, w = (unique[c].to_numpy() for c in ("frequency", "recency", "T", "weights"))

    initial = None if start is None else _initial_params(name, start, t)

    def run(penalizer: float, other_start: bool) -> _Attempt:
        fitter = _new_fitter(name, penalizer)
        with quiet_lifetimes(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            first = _SECOND_START[name] if other_start else initial
            fitter.fit(f, r, t, weights=w, initial_params=first)
        params = {str(k): float(v) for k, v in fitter.params_.items()}
        ll = rfm_log_likelihood(name, params, f, r, t, w)
        return _Attempt(fitter, _scaled_params(name, fitter), list(fitter.params_.index), ll)

    attempt, penalizer, retried, note = _attempts(run, penalizers, MODEL_LABELS[name])
    fitter = attempt.fitter
    se = _standard_errors(fitter)
    if se is None and name != "pareto":
        note += " Standard errors unavailable (singular Hessian)."
    return ModelFit(
        name=name,
        params={str(k): float(v) for k, v in fitter.params_.items()},
        standard_errors=se,
        log_likelihood=attempt.log_likelihood,
        n_customers=int(w.sum()),
        n_rows_fitted=len(unique),
        penalizer=penalizer,
        retried=retried,
        note=note,
        time_unit_days=time_unit_days,
        fitter=fitter,
    )


# --------------------------------------------------------------------------- predictions


def _require_finite(values: np.ndarray, what: str) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        raise ModelFitError(
            f"{what}: {int(bad.sum())} of {values.size} values are not finite",
            hint="the fitted parameters are degenerate; try another model or a penalizer",
        )
    return values


def _per_history(
    fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    what: str,
) -> np.ndarray:
    """Evaluate ``fn`` once per distinct (frequency, recency, T) and map back to rows."""
    unique, inverse = collapse_rows({"frequency": frequency, "recency": recency, "T": T})
    f, r, t = (unique[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    with quiet_lifetimes(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.asarray(fn(f, r, t), dtype=float).reshape(-1)
    return _require_finite(values, what)[inverse]


def conditional_expected_purchases(
    fit: ModelFit,
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    t: float | np.ndarray,
) -> np.ndarray:
    """Expected repeat purchases in the next ``t`` time units, per customer.

    lifetimes' ``conditional_expected_number_of_purchases_up_to_time``,
    evaluated once per distinct history (and ``t`` when ``t`` is an array).

    Returns
    -------
    numpy.ndarray
        float64, shape (n,), purchases (>= 0).
    """
    frequency, recency, T = (np.asarray(a, dtype=float) for a in (frequency, recency, T))
    model = fit.fitter
    if np.ndim(t) == 0:
        if float(t) == 0:
            return np.zeros(len(frequency))
        return _per_history(
            lambda f, r, a: model.conditional_expected_number_of_purchases_up_to_time(
                float(t), f, r, a
            ),
            frequency, recency, T, f"{fit.label} expected purchases",
        )  # fmt: skip
    horizon = np.broadcast_to(np.asarray(t, dtype=float), frequency.shape)
    unique, inverse = collapse_rows({"f": frequency, "r": recency, "T": T, "t": horizon})
    f, r, a, h = (unique[c].to_numpy(dtype=float) for c in ("f", "r", "T", "t"))
    with quiet_lifetimes(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        values = np.asarray(
            model.conditional_expected_number_of_purchases_up_to_time(h, f, r, a), dtype=float
        )
    values = np.where(h == 0, 0.0, values)
    return _require_finite(values, f"{fit.label} expected purchases")[inverse]


def probability_alive(
    fit: ModelFit, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(alive) per customer: lifetimes' ``conditional_probability_alive``.

    Under BG/NBD a customer without repeat purchases is alive with probability
    1 (drop-out happens only after a repeat purchase).

    Returns
    -------
    numpy.ndarray
        float64, shape (n,), probabilities in [0, 1].
    """
    frequency, recency, T = (np.asarray(a, dtype=float) for a in (frequency, recency, T))
    return _per_history(
        fit.fitter.conditional_probability_alive, frequency, recency, T, f"{fit.label} P(alive)"
    )


# --------------------------------------------------------------------------- holdout


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
    _require_finite(predicted, f"{MODEL_LABELS.get(model, model)} holdout predictions")
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
        A model whose fit fails is left out with a note; the naive baseline is
        always scored. ``predictions`` holds the customers compared.
    """
    notes: list[str] = []
    n_all = len(cal_holdout)
    if max_customers is not None and n_all > max_customers:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(n_all, size=max_customers, replace=False))
        cal_holdout = cal_holdout.iloc[rows]
        notes.append(
            f"Models compared on a random sample of {max_customers:,} of the {n_all:,} "
            f"customers (seed {seed}); the chosen model is then fitted on every customer."
        )
    x, tx, age = _rfm_arrays(cal_holdout, "_cal")
    for col in ("frequency_holdout", "duration_holdout"):
        if col not in cal_holdout.columns:
            raise DataError(f"calibration/holdout frame lacks {col}")
    actual = cal_holdout["frequency_holdout"].to_numpy(dtype=float)
    duration = cal_holdout["duration_holdout"].to_numpy(dtype=float)
    if not (np.isfinite(actual).all() and np.isfinite(duration).all() and (duration > 0).all()):
        raise DataError("frequency_holdout/duration_holdout must be finite, duration > 0")
    fits: dict[str, ModelFit] = {}
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
            notes.append(f"{MODEL_LABELS[name]} left out: {exc.message}")
            continue
        fits[name] = fit
        if fit.retried:
            notes.append(fit.note)
        predictions[name] = predicted
        scores.append(score_holdout(name, predicted, actual, fit.log_likelihood))
    naive = naive_holdout_purchases(x, age, duration)
    predictions["naive"] = naive
    predictions["actual"] = actual
    scores.append(score_holdout("naive", naive, actual))
    chosen = choose_model(scores, requested)
    by_name = {s.model: s for s in scores}
    crit = SELECTION_CRITERION
    beats = getattr(by_name[chosen], crit) < getattr(by_name["naive"], crit)
    how = (
        "lowest per-customer holdout RMSE"
        if requested == "auto"
        else "named in clv.model, so the other models were not fitted"
    )
    notes.append(
        f"Chosen model: {MODEL_LABELS[chosen]} ({how}; RMSE {by_name[chosen].rmse:.3f} vs "
        f"naive baseline {by_name['naive'].rmse:.3f} purchases per customer)."
    )
    if not beats:
        notes.append(
            f"Warning: {MODEL_LABELS[chosen]} does not beat the naive baseline on the holdout."
        )
    return ModelComparison(
        fits=fits,
        scores=tuple(scores),
        chosen=chosen,
        requested=requested,
        criterion=crit,
        beats_naive=bool(beats),
        notes=tuple(notes),
        predictions=predictions,
        sample_of=n_all if len(cal_holdout) < n_all else None,
    )


# --------------------------------------------------------------------------- spend


def spend_correlation(
    summary: pd.DataFrame, *, threshold: float = CORRELATION_WARNING
) -> SpendCorrelation:
    """Pearson and Spearman correlation of frequency and monetary value (repeat customers).

    Gamma-Gamma assumes them independent; ``strong`` when either |correlation|
    is at least ``threshold``.
    """
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    n = len(repeat)
    if n < 3:
        raise DataError(f"only {n} repeat customer(s) with positive spend: no spend model")
    f = repeat["frequency"].to_numpy(dtype=float)
    m = repeat["monetary_value"].to_numpy(dtype=float)
    if np.ptp(f) == 0 or np.ptp(m) == 0:
        pearson = spearman = 0.0  # a constant column: no linear or rank association
    else:
        pearson = float(np.corrcoef(f, m)[0, 1])
        spearman = float(
            np.corrcoef(pd.Series(f).rank().to_numpy(), pd.Series(m).rank().to_numpy())[0, 1]
        )
    strong = max(abs(pearson), abs(spearman)) >= threshold
    text = (
        f"Frequency and spend per order are correlated (Pearson {pearson:.2f}, Spearman "
        f"{spearman:.2f}, {n:,} repeat customers): Gamma-Gamma assumes them independent, "
        "so expected spend and CLV may be biased for frequent buyers."
        if strong
        else f"Frequency and spend per order are nearly uncorrelated (Pearson {pearson:.2f}, "
        f"Spearman {spearman:.2f}, {n:,} repeat customers), as Gamma-Gamma assumes."
    )
    return SpendCorrelation(pearson, spearman, n, threshold, bool(strong), text)


def fit_spend(
    summary: pd.DataFrame, *, penalizers: Sequence[float] = PENALIZER_SCHEDULE
) -> SpendFit:
    """Fit Gamma-Gamma on repeat customers with positive spend (distinct rows, weights).

    Spend is divided by its customer mean before fitting (so the boundary rule
    and the penalizer mean the same in every currency) and ``v`` is scaled
    back; this changes no fitted value other than through the optimiser's path.
    An attempt also fails when ``q <= 1`` (no finite population mean spend).

    Parameters
    ----------
    summary
        ``frequency`` and ``monetary_value`` (mean spend of repeat purchases).

    Raises
    ------
    ModelFitError
        No attempt gave finite parameters with ``q > 1``.
    """
    lt = _lifetimes()
    correlation = spend_correlation(summary)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    unique, _ = collapse_rows(
        {
            "frequency": repeat["frequency"].to_numpy(dtype=float),
            "monetary_value": repeat["monetary_value"].to_numpy(dtype=float),
        }
    )
    f, m, w = (unique[c].to_numpy() for c in ("frequency", "monetary_value", "weights"))
    scale = float(np.dot(w, m) / w.sum())

    def run(penalizer: float, other_start: bool) -> _Attempt:
        fitter = lt.GammaGammaFitter(penalizer_coef=penalizer)
        with quiet_lifetimes(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            first = _SECOND_START["gamma_gamma"] if other_start else None
            fitter.fit(f, m / scale, weights=w, initial_params=first)
        scaled = fitter.params_.to_numpy(dtype=float, copy=True)
        if np.all(np.isfinite(scaled)) and scaled[1] <= 1:
            raise ValueError(f"q = {scaled[1]:.3g} <= 1: no finite mean spend")
        fitter.params_["v"] *= scale
        # lifetimes' variance matrix is relative (params**2 * inverse Hessian): rescale v's.
        for attr in ("variance_matrix_", "standard_errors_", "confidence_intervals_"):
            setattr(fitter, attr, getattr(fitter, f"_compute_{attr[:-1]}")())
        with np.errstate(all="ignore"), quiet_lifetimes():
            nll = lt.GammaGammaFitter._negative_log_likelihood(
                np.log(fitter.params_.to_numpy(dtype=float)), f, m, w, 0.0
            )
        return _Attempt(fitter, scaled, ["p", "q", "v"], float(-nll * w.sum()))

    attempt, penalizer, retried, note = _attempts(run, penalizers, "Gamma-Gamma")
    fitter = attempt.fitter
    p, q, v = (float(fitter.params_[k]) for k in ("p", "q", "v"))
    ll = attempt.log_likelihood
    if correlation.strong:
        note += " " + correlation.text
    return SpendFit(
        params={"p": p, "q": q, "v": v},
        standard_errors=_standard_errors(fitter),
        log_likelihood=ll,
        n_customers=int(w.sum()),
        n_rows_fitted=len(unique),
        penalizer=penalizer,
        retried=retried,
        note=note,
        correlation=correlation,
        population_mean_spend=p * v / (q - 1),
        fitter=fitter,
    )


def expected_spend(
    spend: SpendFit, frequency: np.ndarray, monetary_value: np.ndarray
) -> np.ndarray:
    """Gamma-Gamma conditional expected spend per order (currency units), per customer.

    A weighted mean of the customer's own mean spend (weight ``p x / (p x + q - 1)``)
    and the population mean ``p v / (q - 1)``; customers with ``frequency`` 0
    get the population mean.
    """
    p, q, v = (spend.params[k] for k in ("p", "q", "v"))
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary_value, dtype=float)
    weight = p * x / (p * x + q - 1)
    return _require_finite((1 - weight) * (p * v / (q - 1)) + weight * m, "expected spend")


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

    return _per_history(fn, frequency, recency, T, f"{fit.label} discounted purchases")


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
    x, tx, age = _rfm_arrays(summary)
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
    x, tx, age = _rfm_arrays(summary)
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
    _require_finite(values, "CLV")
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


# --------------------------------------------------------------------------- chart data


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


def frequency_recency_matrices(
    fit: ModelFit,
    *,
    max_frequency: int,
    age: float,
    horizon: float | None = None,
    recency_step: float = 1.0,
) -> FrequencyRecencyMatrices:
    """Expected purchases and P(alive) over a (recency, frequency) grid at a fixed age.

    The data of lifetimes' ``plot_frequency_recency_matrix`` and
    ``plot_probability_alive_matrix`` (which use ``age`` = the largest
    recency). Computed vectorised on the grid.

    Parameters
    ----------
    max_frequency
        Largest frequency (columns 0..max_frequency).
    age
        Customer age ``T`` in time units (e.g. the 99th percentile of T).
    horizon
        Time units ahead for expected purchases; default 30 days.
    recency_step
        Grid step of recency (rows 0, step, ..., <= age).
    """
    horizon = 30.0 / fit.time_unit_days if horizon is None else horizon
    recency = np.arange(0.0, age + recency_step / 2, recency_step)
    recency = recency[recency <= age]
    frequency = np.arange(max_frequency + 1, dtype=float)
    rr, ff = np.meshgrid(recency, frequency, indexing="ij")
    f, r = ff.ravel(), rr.ravel()
    a = np.full_like(f, age)
    # impossible cells (f = 0, r > 0) are evaluated at r = 0 so every value is defined
    r_eval = np.where(f == 0, 0.0, r)
    shape = rr.shape
    expected = conditional_expected_purchases(fit, f, r_eval, a, horizon).reshape(shape)
    alive = probability_alive(fit, f, r_eval, a).reshape(shape)
    possible = (f == 0) == (r == 0)

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            values,
            index=pd.Index(recency, name="recency"),
            columns=pd.Index(frequency.astype(int), name="frequency"),
        )

    return FrequencyRecencyMatrices(
        expected_purchases=frame(expected),
        p_alive=frame(alive),
        possible=frame(possible.reshape(shape)),
        age=float(age),
        horizon=float(horizon),
    )
