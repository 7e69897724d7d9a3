"""Shims for known traps in today's stack, all in one place (each has a test).

=====================================================  =========================================
trap (measured with the versions in pyproject.toml)    what this project does
=====================================================  =========================================
importing or fitting ``lifetimes`` runs                :func:`import_lifetimes` and
``warnings.simplefilter("ignore", FutureWarning)``     :func:`quiet_lifetimes` restore the
for the whole process                                  caller's warning filters afterwards
                                                       (every call into lifetimes runs in
                                                       :func:`quiet_lifetimes`)
``lifetimes.utils`` sets the removed pandas option    the warning it raises is filtered during
``mode.chained_assignment`` (a Pandas4Warning)        :func:`import_lifetimes` only
``lifetimes.datasets`` imports ``pkg_resources``       :func:`lifetimes_dataset_path` finds the
(gone from setuptools >= 82)                           shipped files with ``importlib.resources``
``lifetimes.utils.calculate_alive_path`` uses          not called; P(alive) paths come from
``fillna(method=...)`` (removed in pandas 3) and       the fitter's own methods. Demo data is
``generate_data`` uses ``DataFrame.append``            :mod:`analysis.demo`, not lifetimes'
DuckDB 2.0 needs ``pytz`` to return TIMESTAMPTZ        ``pytz`` is a declared dependency
values to Python                                       (tests/test_compat.py checks a value)
matplotlib's font cache misses fonts installed         :func:`analysis.plots.register_thai_font`
after the cache was built                              adds the font file explicitly
``ParetoNBDFitter._log_A_0`` takes ``logsumexp`` of    :func:`pareto_log_a0` computes it as
``[A, A]`` with signs ``[1, -1]``; scipy >= 1.15       ``a1 + log1p(-exp(a2 - a1))`` (``-inf``
returns NaN (not ``-inf``) once ``A`` > ~709 (many     for equal terms); the CLV models' Pareto
repeat purchases on the last day): NaN likelihood,     fitter (:mod:`analysis.clv.pareto`) uses
P(alive) and expected purchases                        it for fitting and predictions
=====================================================  =========================================
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from analysis.errors import AnalysisError

if TYPE_CHECKING:  # numpy is imported lazily: importing it adds warning filters
    import numpy as np


@contextlib.contextmanager
def quiet_lifetimes() -> Iterator[None]:
    """Run lifetimes code quietly, without letting it change the process's warning filters.

    The one way this project calls lifetimes' fitters and predictions:

    - lifetimes' fitters call ``warnings.simplefilter("ignore", FutureWarning)``
      on import and inside ``fit``; the caller's warning filters are restored
      on exit (``warnings.catch_warnings``);
    - inside, ``RuntimeWarning`` is ignored and numpy's floating-point errors
      (``np.errstate(all="ignore")``) are silent: the optimisers probe
      parameters where the likelihood overflows, and every result this
      project keeps is checked to be finite instead (a non-finite fit or
      prediction is an error or a retry, never a warning in a report).
    """
    with warnings.catch_warnings():
        import numpy as np  # lazily, inside: importing numpy adds warning filters

        with np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            yield


def import_lifetimes() -> ModuleType:
    """Import ``lifetimes`` (and its fitters) with the caller's warning filters intact."""
    with quiet_lifetimes():
        # lifetimes.utils sets pandas' removed 'mode.chained_assignment' option on import.
        warnings.filterwarnings("ignore", message=".*'mode.chained_assignment' option")
        module = importlib.import_module("lifetimes")
        importlib.import_module("lifetimes.utils")
    return module


def lifetimes_dataset_path(filename: str) -> Path:
    """Path of a data file shipped inside ``lifetimes/datasets`` (e.g. ``CDNOW_master.txt``).

    Does not import ``lifetimes.datasets``, which needs ``pkg_resources``.
    """
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise AnalysisError("the lifetimes package is not installed", hint="run make setup")
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets"
    path = folder / filename
    if not path.is_file():
        shipped = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".py")
        raise AnalysisError(
            f"lifetimes ships no dataset {filename!r}", hint=f"available: {', '.join(shipped)}"
        )
    return path


def pareto_log_a0(
    params: Sequence[float], freq: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """``log A_0`` of the Pareto/NBD likelihood (Fader & Hardie note 009, eqs. 19-20), stably.

    Same value as lifetimes' ``ParetoNBDFitter._log_A_0`` wherever that is
    finite: ``log(p1 * q2**k - p2 * q1**k) - k * log(q1 * q2)`` with
    ``k = r + s + x``. Since ``recency <= age``, the first term is the larger,
    so ``log(e**a1 - e**a2) = a1 + log1p(-e**(a2 - a1))``, which is ``-inf``
    (not NaN, as scipy's ``logsumexp`` now returns for large equal terms) when
    the customer's last purchase is at ``age``.
    """
    import numpy as np
    from scipy.special import hyp2f1

    r, alpha, s, beta = (float(v) for v in params)
    freq, recency, age = (np.asarray(a, dtype=float) for a in (freq, recency, age))
    t: float | np.ndarray
    if alpha < beta:
        low, high, t = alpha, beta, r + freq
    else:
        low, high, t = beta, alpha, s + 1
    k = r + s + freq
    q1, q2 = high + recency, high + age
    with np.errstate(divide="ignore"):
        a1 = np.log(hyp2f1(k, t, k + 1.0, (high - low) / q1)) + k * np.log(q2)
        a2 = np.log(hyp2f1(k, t, k + 1.0, (high - low) / q2)) + k * np.log(q1)
        return a1 + np.log1p(-np.exp(np.minimum(a2 - a1, 0.0))) - k * np.log(q1 * q2)
