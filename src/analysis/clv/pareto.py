"""Pareto/NBD: lifetimes' model and predictions, with an optimiser of this project's own.

lifetimes' ``ParetoNBDFitter`` minimises its likelihood by Nelder-Mead from a
random start: not reproducible, and minutes at a million customers.
:func:`pareto_fitter_class` keeps lifetimes' likelihood and predictions and
replaces only the optimiser hook ``_fit``: BFGS on log-parameters over the
*mean* log-likelihood per customer (the same normalisation as lifetimes'
BG/NBD, so a ``penalizer_coef`` means the same in every model), with a warm
start on a fixed-seed subsample of rows above :data:`WARM_START_ROWS`
distinct histories. It also uses :func:`analysis.compat.pareto_log_a0`, which
stays finite where lifetimes' ``_log_A_0`` is NaN with today's scipy.

:func:`analysis.clv.fitting.fit_model` fits it like the other models
(``name="pareto"``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from analysis import DEFAULT_SEED
from analysis.compat import import_lifetimes, pareto_log_a0

__all__ = ["GTOL", "WARM_START_ROWS", "WARM_START_SEED", "pareto_fitter_class"]

#: Rows (distinct histories) above which a warm start is first fitted on a fixed subsample.
WARM_START_ROWS = 20_000
#: Seed of that subsample (the project's one seed).
WARM_START_SEED = DEFAULT_SEED
#: Gradient tolerance of the full fit (lifetimes' own 1e-4 is meant for Nelder-Mead).
GTOL = 1e-7


@functools.cache
def pareto_fitter_class() -> type[Any]:
    """lifetimes' ``ParetoNBDFitter`` with this project's optimiser and a stable ``log A_0``.

    Built on first use (importing lifetimes is deferred, see
    :func:`analysis.compat.import_lifetimes`) and cached: every call returns
    the same class.
    """
    lt = import_lifetimes()
    base: Any = lt.ParetoNBDFitter  # lifetimes is untyped and imported on first use

    class _ParetoNBDFitter(base):
        """lifetimes' Pareto/NBD, optimised in log-parameters on the mean log-likelihood.

        Only ``_fit`` (the optimiser hook lifetimes' ``fit`` calls) differs: the
        objective is lifetimes' ``_conditional_log_likelihood`` averaged over
        customers (the same normalisation as BG/NBD, so ``penalizer_coef`` means
        the same in all models) and minimised by BFGS with central-difference
        gradients over log-parameters from ``initial_params`` (default all 1, the
        centre of lifetimes' random start). Above ``WARM_START_ROWS``
        distinct rows and without ``initial_params`` it first fits a fixed-seed
        subsample of rows (weights kept) and starts the full fit there; the
        optimum is that of all rows.
        """

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

        def _fit(
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
            options: dict[str, Any] = {"gtol": GTOL, "maxiter": maxiter}
            if initial_params is None and len(freq) > WARM_START_ROWS:
                rng = np.random.default_rng(WARM_START_SEED)
                rows = np.sort(rng.choice(len(freq), WARM_START_ROWS, replace=False))
                warm = minimize(
                    objective(rows),
                    start,
                    method="BFGS",
                    options={"gtol": 1e-5, "maxiter": maxiter},
                )
                # start at the subsample's optimum with its curvature: a few Newton-like steps
                start = warm.x
                hess_inv = np.asarray(warm.hess_inv, dtype=float)  # BFGS: a matrix already
                curvature = (hess_inv + hess_inv.T) / 2
                if np.all(np.isfinite(curvature)) and np.linalg.eigvalsh(curvature).min() > 0:
                    options["hess_inv0"] = curvature
            # scipy-stubs' overloads reject jac="3-point" (a finite-difference scheme BFGS accepts)
            out = minimize(  # type: ignore[call-overload]
                objective(slice(None)), start, method="BFGS", jac="3-point", options=options
            )
            if not np.all(np.isfinite(out.x)) or not math.isfinite(out.fun) or out.fun >= 1e299:
                raise lt.utils.ConvergenceError(
                    f"Pareto/NBD optimiser ended at {out.x}: {out.message}"
                )
            self._optimizer_result = out
            return np.exp(out.x), float(out.fun)

    return _ParetoNBDFitter
