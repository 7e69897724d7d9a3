"""Fitting the purchase models: one fitter per model, attempts, penalizer retries, diagnostics.

Time units
    ``frequency`` counts repeat purchase periods (days for the daily summary);
    ``recency`` and ``T`` are in *time units* of ``time_unit_days`` days (1 for
    the daily summary of :func:`analysis.clv.rfm_summary`).

Fitting (:func:`fit_model`; spend: :func:`analysis.clv.spend.fit_spend`)
    lifetimes' BetaGeoFitter (``bgnbd``), ModifiedBetaGeoFitter (``mbgnbd``) and
    ParetoNBDFitter (``pareto``), plus GammaGammaFitter for spend. Identical
    (frequency, recency, T) rows (for spend: (frequency, monetary_value)) are
    collapsed to one row with ``weights`` = number of customers
    (:func:`collapse_rows`); all four lifetimes 0.11.3 fitters accept ``weights``
    and their objective is the same sum over customers, so nothing is fitted on
    more rows than there are distinct histories. Pareto/NBD keeps lifetimes'
    likelihood and predictions but is optimised here
    (:mod:`analysis.clv.pareto`): lifetimes' Nelder-Mead from a random start is
    not reproducible and needs minutes at a million customers.

Penalizer retry (:func:`attempts`)
    An attempt fails when the optimiser raises, when a parameter or the
    log-likelihood is not finite, or when a parameter is at the *boundary*: in
    the optimiser's own units (time scaled so the oldest customer has ``T = 1``;
    spend scaled so the mean spend is 1) outside ``BOUNDARY`` = [1e-4, 1e4]. The
    log-parameters then ran off towards 0 or infinity, where the likelihood is
    flat. A failed unpenalised fit is retried from a second start, then with
    ``PENALIZER_SCHEDULE`` = 0.001, 0.01, 0.1 (lifetimes' L2 penalty
    ``c * sum(params**2)`` on those scaled parameters, added to the *mean*
    negative log-likelihood per customer) until one attempt passes; every
    attempt is recorded in the fit's diagnostics. When none passes,
    :class:`ModelFitError`.

Diagnostics (:class:`FitDiagnostics`)
    What every fit reports, purchase model or spend: log-likelihood, standard
    errors, customers and distinct rows fitted, the penalizer kept, and
    whether (and why) it was a retry. The sentences the report shows about
    them are :mod:`analysis.narrative.clv`'s.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.pareto import pareto_fitter_class
from analysis.compat import import_lifetimes, quiet_lifetimes
from analysis.errors import AnalysisError, DataError

__all__ = [
    "BOUNDARY",
    "MODEL_LABELS",
    "MODEL_NAMES",
    "PENALIZER_SCHEDULE",
    "SECOND_START",
    "Attempt",
    "FitDiagnostics",
    "ModelFit",
    "ModelFitError",
    "attempts",
    "collapse_rows",
    "fit_model",
    "require_finite",
    "rfm_arrays",
    "rfm_log_likelihood",
    "standard_errors",
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

#: The second starting point of a fit (optimiser units: time scaled so the oldest
#: customer has T = 1, spend so its mean is 1), tried after a failed first attempt.
#: BG/NBD and MBG/NBD take log-parameters (r, alpha, a, b), our Pareto/NBD the
#: parameters (r, alpha, s, beta), Gamma-Gamma log-parameters (p, q, v). lifetimes
#: starts every log-parameter at 0.1 (all parameters about 1.1); these start from a slower
#: purchase rate with more heterogeneity and a later drop-out.
SECOND_START: dict[str, np.ndarray] = {
    "bgnbd": np.log([0.5, 0.05, 0.5, 5.0]),
    "mbgnbd": np.log([0.5, 0.05, 0.5, 5.0]),
    "pareto": np.asarray([0.5, 0.05, 0.5, 0.5]),
    "gamma_gamma": np.log([2.0, 3.0, 2.0]),
}


class ModelFitError(AnalysisError):
    """No attempt of a fit (unpenalised or penalised) gave finite parameters."""


@dataclass(frozen=True)
class FitDiagnostics:
    """How a fit went: shared by purchase-model fits and spend fits.

    Attributes
    ----------
    log_likelihood
        Total log-likelihood over all customers fitted at the kept parameters,
        unpenalised (purchase models: recency and T in the data's time units).
    standard_errors
        Asymptotic standard errors from the Hessian of the (penalised) mean
        log-likelihood (lifetimes' ``summary["se(coef)"]``), by parameter;
        ``None`` for Pareto/NBD (lifetimes computes no Hessian for it) or a
        singular Hessian.
    n_customers, n_rows_fitted
        Customers fitted and the distinct rows they collapse to.
    penalizer
        lifetimes ``penalizer_coef`` of the kept attempt (0 unless retried).
    retried
        True when the first attempt failed and a later one (second start or a
        penalizer) was kept.
    retry_details
        With ``retried``: what each failed attempt did and which one was kept
        (the optimiser's own terms, e.g. ``"unpenalised: did not converge;
        kept penalizer 0.001, which shrinks the parameters slightly"``); the
        report's sentence around it is :func:`analysis.narrative.clv.fit_note`.
        None otherwise.
    """

    log_likelihood: float
    standard_errors: dict[str, float] | None
    n_customers: int
    n_rows_fitted: int
    penalizer: float
    retried: bool
    retry_details: str | None = None

    @classmethod
    def from_attempts(
        cls, tried: tuple[Attempt, float, bool, str | None], weights: np.ndarray
    ) -> FitDiagnostics:
        """The diagnostics of the attempt :func:`attempts` kept.

        Parameters
        ----------
        tried
            What :func:`attempts` returned: the kept attempt, its penalizer,
            whether it was a retry, and what the failed attempts did.
        weights
            Customers per distinct row fitted (shape ``(n_rows_fitted,)``).
        """
        attempt, penalizer, retried, details = tried
        return cls(
            log_likelihood=attempt.log_likelihood,
            standard_errors=standard_errors(attempt.fitter),
            n_customers=int(weights.sum()),
            n_rows_fitted=len(weights),
            penalizer=penalizer,
            retried=retried,
            retry_details=details,
        )


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
    diagnostics
        Log-likelihood, standard errors, rows fitted, penalizer, retry note.
    time_unit_days
        Days per time unit of recency and T.
    fitter
        The fitted lifetimes object, for its other methods.
    """

    name: str
    params: dict[str, float]
    diagnostics: FitDiagnostics
    time_unit_days: float = 1.0
    fitter: Any = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """Display name, e.g. ``"BG/NBD"``."""
        return MODEL_LABELS[self.name]


# --------------------------------------------------------------------------- inputs


def rfm_arrays(frame: pd.DataFrame, suffix: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and T (plus ``suffix``) as float arrays, validated (clear error on bad rows)."""
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


def require_finite(values: np.ndarray, what: str) -> np.ndarray:
    """``values``, or :class:`ModelFitError` naming ``what`` when any is not finite."""
    bad = ~np.isfinite(values)
    if bad.any():
        raise ModelFitError(
            f"{what}: {int(bad.sum())} of {values.size} values are not finite",
            hint="the fitted parameters are degenerate; try another model or a penalizer",
        )
    return values


# --------------------------------------------------------------------------- fitters


def _new_fitter(name: str, penalizer: float) -> Any:
    lt = import_lifetimes()
    if name == "bgnbd":
        return lt.BetaGeoFitter(penalizer_coef=penalizer)
    if name == "mbgnbd":
        return lt.ModifiedBetaGeoFitter(penalizer_coef=penalizer)
    if name == "pareto":
        return pareto_fitter_class()(penalizer_coef=penalizer)
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


def standard_errors(fitter: Any) -> dict[str, float] | None:
    """A fitted lifetimes object's asymptotic standard errors, or None (none, or not finite)."""
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
    lt = import_lifetimes()
    x = np.asarray(frequency, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    scale = 1.0 / float(np.max(T)) if float(np.max(T)) > 0 else 1.0
    tx, age = np.asarray(recency, float) * scale, np.asarray(T, float) * scale
    correction = float(np.dot(w, x)) * math.log(scale)
    with quiet_lifetimes():
        if name == "pareto":
            values = [params["r"], params["alpha"] * scale, params["s"], params["beta"] * scale]
            ll = pareto_fitter_class()._conditional_log_likelihood(values, x, tx, age)
            return float(np.dot(w, ll)) + correction
        cls = lt.BetaGeoFitter if name == "bgnbd" else lt.ModifiedBetaGeoFitter
        log_params = np.log([params["r"], params["alpha"] * scale, params["a"], params["b"]])
        mean_nll = cls._negative_log_likelihood(log_params, x, tx, age, w, 0.0)
        return float(-mean_nll * w.sum()) + correction


@dataclass(frozen=True)
class Attempt:
    """One try of a fit (see :func:`attempts`)."""

    fitter: Any
    scaled: np.ndarray  # parameters in the optimiser's units
    names: list[str]
    log_likelihood: float


def _failure(exc: Exception) -> str:
    if type(exc).__name__ == "ConvergenceError":
        return "did not converge"
    return f"failed ({type(exc).__name__}: {str(exc).strip()[:100]})"


def attempts(
    run: Callable[[float, bool], Attempt], penalizers: Sequence[float], what: str
) -> tuple[Attempt, float, bool, str | None]:
    """Try a fit until one attempt passes; never keep a degenerate one.

    ``run(penalizer, other_start)`` fits once. The attempts, in order: no
    penalizer from the usual start, no penalizer from ``other_start`` (a second,
    fixed starting point: an optimiser that wandered off from the first may
    converge from another), then each of ``penalizers`` from the usual start.
    An attempt passes when it raised nothing, its parameters (optimiser units)
    and log-likelihood are finite and every parameter lies inside
    ``BOUNDARY``. Returns the first passing attempt, its penalizer, whether it
    was a retry, and (for a retry) what the failed attempts did and which was
    kept (:attr:`FitDiagnostics.retry_details`).

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
            return attempt, penalizer, False, None
        shrink = ", which shrinks the parameters slightly" if penalizer > 0 else ""
        return attempt, penalizer, True, f"{'; '.join(notes)}; kept {label}{shrink}"
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
        Parameters in the data's time units, and the fit's diagnostics.

    Raises
    ------
    ModelFitError
        No attempt gave finite parameters.
    """
    if name not in MODEL_NAMES:
        raise AnalysisError(f"unknown CLV model {name!r}", hint=f"one of {', '.join(MODEL_NAMES)}")
    x, tx, age = rfm_arrays(summary, suffix)
    unique, _ = collapse_rows({"frequency": x, "recency": tx, "T": age})
    f, r, t, w = (unique[c].to_numpy() for c in ("frequency", "recency", "T", "weights"))

    initial = None if start is None else _initial_params(name, start, t)

    def run(penalizer: float, other_start: bool) -> Attempt:
        fitter = _new_fitter(name, penalizer)
        with quiet_lifetimes():
            first = SECOND_START[name] if other_start else initial
            fitter.fit(f, r, t, weights=w, initial_params=first)
        params = {str(k): float(v) for k, v in fitter.params_.items()}
        ll = rfm_log_likelihood(name, params, f, r, t, w)
        return Attempt(fitter, _scaled_params(name, fitter), list(fitter.params_.index), ll)

    tried = attempts(run, penalizers, MODEL_LABELS[name])
    fitter = tried[0].fitter
    diagnostics = FitDiagnostics.from_attempts(tried, w)
    return ModelFit(
        name=name,
        params={str(k): float(v) for k, v in fitter.params_.items()},
        diagnostics=diagnostics,
        time_unit_days=time_unit_days,
        fitter=fitter,
    )
