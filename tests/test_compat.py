import subprocess
import sys
import warnings

import pandas as pd
import pytest

from analysis.compat import (
    import_lifetimes,
    lifetimes_dataset_path,
    quiet_lifetimes,
)
from analysis.errors import AnalysisError


def _future_warning_still_raised() -> bool:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        warnings.warn("probe", FutureWarning, stacklevel=1)
    return any(issubclass(w.category, FutureWarning) for w in seen)


def test_lifetimes_import_and_fit_keep_warning_filters():
    # Run in a fresh interpreter: lifetimes may already be imported in this one.
    code = """
import warnings
before = list(warnings.filters)
from analysis.compat import import_lifetimes, quiet_lifetimes
lt = import_lifetimes()
import pandas as pd
from analysis.compat import lifetimes_dataset_path
summary = pd.read_csv(lifetimes_dataset_path("cdnow_customers_summary.csv"), index_col=0)
with quiet_lifetimes():
    bgf = lt.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
assert warnings.filters == before, "lifetimes changed the warning filters"
print(round(bgf.params_["r"], 3), round(bgf.params_["alpha"], 2), round(bgf.params_["a"], 3), round(bgf.params_["b"], 3))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Published CDNOW estimates (Fader, Hardie & Lee 2005): r=0.243, alpha=4.414, a=0.793, b=2.426.
    assert out.stdout.split() == ["0.243", "4.41", "0.793", "2.426"]


def test_plain_lifetimes_import_would_silence_future_warnings():
    # The trap the shim exists for: importing lifetimes' fitters unguarded breaks FutureWarning.
    code = (
        "import warnings\n"
        "import lifetimes\n"
        "print(any(f[0] == 'ignore' and f[2] is FutureWarning for f in warnings.filters))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_warnings_survive_in_process():
    import_lifetimes()
    with quiet_lifetimes():
        warnings.simplefilter("ignore", FutureWarning)  # what lifetimes' fit does
    assert _future_warning_still_raised()


def test_quiet_lifetimes_silences_numerics_inside_only():
    """Inside: RuntimeWarnings ignored, numpy's floating-point errors silent. After: as before."""
    import numpy as np

    before, errors = list(warnings.filters), np.geterr()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_lifetimes():
            assert np.geterr() == {"divide": "ignore", "over": "ignore", "under": "ignore",
                                   "invalid": "ignore"}  # fmt: skip
            assert np.log(np.zeros(1))[0] == -np.inf  # no "divide by zero" warning
            warnings.warn("probe", RuntimeWarning, stacklevel=1)
            warnings.simplefilter("ignore", FutureWarning)  # what lifetimes' fit does
        warnings.warn("after", RuntimeWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["after"]
    assert warnings.filters == before and np.geterr() == errors


def test_datasets_without_pkg_resources(monkeypatch):
    monkeypatch.setitem(sys.modules, "pkg_resources", None)  # as with setuptools >= 82
    path = lifetimes_dataset_path("CDNOW_master.txt")
    first = pd.read_csv(path, sep=r"\s+", nrows=1)
    assert first.iloc[0].tolist() == [1, 19970101, 1, 11.77]
    with pytest.raises(AnalysisError, match="no dataset"):
        lifetimes_dataset_path("nope.csv")


def test_duckdb_timestamptz_reaches_python():
    import duckdb

    value = duckdb.sql("select TIMESTAMPTZ '2026-01-31 17:30:00+00' as t").fetchall()[0][0]
    assert value.utcoffset() is not None


def test_pareto_log_a0_equals_lifetimes_where_finite_and_is_not_nan_where_it_fails():
    """lifetimes' ``ParetoNBDFitter._log_A_0`` vs ``compat.pareto_log_a0``.

    Parameters of a 1M-customer daily demo fit; the last customer bought on
    150 days, the last one at age T. lifetimes' logsumexp of [A, A] with signs
    [1, -1] is NaN with scipy >= 1.15 once A is large (here A ~ 1,000); the
    exact value is log(0) = -inf (A_0 = 0), and the likelihood stays finite.
    """
    import numpy as np

    from analysis.compat import import_lifetimes, pareto_log_a0, quiet_lifetimes

    fitter = import_lifetimes().ParetoNBDFitter
    params = [1.22, 33.3, 0.88, 238.6]
    x = np.array([0.0, 5.0, 150.0, 150.0])
    recency = np.array([0.0, 400.0, 900.0, 913.0])
    age = np.full(4, 913.0)
    with quiet_lifetimes():
        theirs = fitter._log_A_0(params, x, recency, age)
        ours = pareto_log_a0(params, x, recency, age)
        total = fitter._conditional_log_likelihood(params, x, recency, age)
    np.testing.assert_allclose(ours[:3], theirs[:3], rtol=1e-12)
    assert theirs[2] < -1000  # a large, finite term: the stable form keeps it
    assert np.isnan(theirs[3]) and np.isnan(total[3])  # the trap
    assert ours[3] == -np.inf
    from analysis.clv.pareto import pareto_fitter_class

    with quiet_lifetimes():
        fixed = pareto_fitter_class()._conditional_log_likelihood(params, x, recency, age)
    assert np.isfinite(fixed).all()
    np.testing.assert_allclose(fixed[:3], total[:3], rtol=1e-12)
