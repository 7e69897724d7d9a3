"""Per-customer predictions of a fitted purchase model: expected purchases and P(alive).

Every prediction is lifetimes' own method of the fitted model
(``conditional_expected_number_of_purchases_up_to_time``,
``conditional_probability_alive``), computed once per distinct (frequency,
recency, T) history and mapped back to customers, vectorised, in
:func:`analysis.compat.quiet_lifetimes`; every output is checked to be finite
(a non-finite prediction is a :class:`~analysis.clv.fitting.ModelFitError`).
Times are in the fit's time units (``ModelFit.time_unit_days`` days).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.clv.fitting import ModelFit, collapse_rows, require_finite
from analysis.compat import quiet_lifetimes

__all__ = [
    "PREDICTION_DAYS",
    "FrequencyRecencyMatrices",
    "conditional_expected_purchases",
    "frequency_recency_matrices",
    "per_history",
    "probability_alive",
]

#: Horizons (days) of the expected purchases shown per customer.
PREDICTION_DAYS: tuple[int, ...] = (30, 90, 365)


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


def per_history(
    fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    frequency: np.ndarray,
    recency: np.ndarray,
    T: np.ndarray,
    what: str,
) -> np.ndarray:
    """Evaluate ``fn`` once per distinct (frequency, recency, T) and map back to rows."""
    unique, inverse = collapse_rows({"frequency": frequency, "recency": recency, "T": T})
    f, r, t = (unique[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    with quiet_lifetimes():
        values = np.asarray(fn(f, r, t), dtype=float).reshape(-1)
    return require_finite(values, what)[inverse]


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
        return per_history(
            lambda f, r, a: model.conditional_expected_number_of_purchases_up_to_time(
                float(t), f, r, a
            ),
            frequency, recency, T, f"{fit.label} expected purchases",
        )  # fmt: skip
    horizon = np.broadcast_to(np.asarray(t, dtype=float), frequency.shape)
    unique, inverse = collapse_rows({"f": frequency, "r": recency, "T": T, "t": horizon})
    f, r, a, h = (unique[c].to_numpy(dtype=float) for c in ("f", "r", "T", "t"))
    with quiet_lifetimes():
        values = np.asarray(
            model.conditional_expected_number_of_purchases_up_to_time(h, f, r, a), dtype=float
        )
    values = np.where(h == 0, 0.0, values)
    return require_finite(values, f"{fit.label} expected purchases")[inverse]


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
    return per_history(
        fit.fitter.conditional_probability_alive, frequency, recency, T, f"{fit.label} P(alive)"
    )


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
