"""Spend per order: the frequency-spend correlation check and the Gamma-Gamma model.

Gamma-Gamma is fitted on repeat customers (frequency > 0 and monetary > 0)
after :func:`spend_correlation` checks its independence assumption: a warning
when |Pearson| or |Spearman| correlation between frequency and monetary value
is at least ``CORRELATION_WARNING`` = 0.3 (Cohen's "medium"; the model implies
0). Fitting follows :mod:`analysis.clv.fitting` (distinct rows with weights,
the same attempts and penalizer retries, the same :class:`FitDiagnostics`).
Money is in the currency of ``monetary_value``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.clv.fitting import (
    PENALIZER_SCHEDULE,
    SECOND_START,
    Attempt,
    FitDiagnostics,
    attempts,
    collapse_rows,
    require_finite,
)
from analysis.compat import import_lifetimes, quiet_lifetimes
from analysis.errors import DataError

__all__ = [
    "CORRELATION_WARNING",
    "SpendCorrelation",
    "SpendFit",
    "expected_spend",
    "fit_spend",
    "spend_correlation",
]

CORRELATION_WARNING = 0.3


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


@dataclass(frozen=True)
class SpendFit:
    """A fitted Gamma-Gamma spend model.

    Attributes
    ----------
    params
        ``p, q, v`` (``v`` in currency units).
    diagnostics
        As for purchase models (:class:`~analysis.clv.fitting.FitDiagnostics`):
        log-likelihood over the repeat customers fitted (unpenalised),
        standard errors (``None`` when the Hessian is singular), repeat
        customers with positive spend and distinct (frequency, monetary) rows,
        penalizer, retry and note.
    correlation
        The frequency-monetary check of the independence assumption.
    population_mean_spend
        ``p * v / (q - 1)``: expected spend per order of a customer with no
        repeat purchase yet (currency units).
    fitter
        The fitted lifetimes ``GammaGammaFitter``.
    """

    params: dict[str, float]
    diagnostics: FitDiagnostics
    correlation: SpendCorrelation
    population_mean_spend: float
    fitter: Any = field(default=None, repr=False, compare=False)


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
        # Ranked to a millionth of the currency unit: the same spend summed in another
        # order (another engine) differs in its last bits, which would split ties.
        ranks = pd.Series(np.round(m, 6)).rank().to_numpy()
        spearman = float(np.corrcoef(pd.Series(f).rank().to_numpy(), ranks)[0, 1])
    strong = max(abs(pearson), abs(spearman)) >= threshold
    return SpendCorrelation(pearson, spearman, n, threshold, bool(strong))


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
    lt = import_lifetimes()
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

    def run(penalizer: float, other_start: bool) -> Attempt:
        fitter = lt.GammaGammaFitter(penalizer_coef=penalizer)
        with quiet_lifetimes():
            first = SECOND_START["gamma_gamma"] if other_start else None
            fitter.fit(f, m / scale, weights=w, initial_params=first)
        scaled = fitter.params_.to_numpy(dtype=float, copy=True)
        if np.all(np.isfinite(scaled)) and scaled[1] <= 1:
            raise ValueError(f"q = {scaled[1]:.3g} <= 1: no finite mean spend")
        fitter.params_["v"] *= scale
        # lifetimes' variance matrix is relative (params**2 * inverse Hessian): rescale v's.
        for attr in ("variance_matrix_", "standard_errors_", "confidence_intervals_"):
            setattr(fitter, attr, getattr(fitter, f"_compute_{attr[:-1]}")())
        with quiet_lifetimes():
            nll = lt.GammaGammaFitter._negative_log_likelihood(
                np.log(fitter.params_.to_numpy(dtype=float)), f, m, w, 0.0
            )
        return Attempt(fitter, scaled, ["p", "q", "v"], float(-nll * w.sum()))

    tried = attempts(run, penalizers, "Gamma-Gamma")
    fitter = tried[0].fitter
    p, q, v = (float(fitter.params_[k]) for k in ("p", "q", "v"))
    diagnostics = FitDiagnostics.from_attempts(tried, w)
    return SpendFit(
        params={"p": p, "q": q, "v": v},
        diagnostics=diagnostics,
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
    return require_finite((1 - weight) * (p * v / (q - 1)) + weight * m, "expected spend")
