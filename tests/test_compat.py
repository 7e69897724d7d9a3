import subprocess
import sys
import warnings

import pandas as pd
import pytest

from analysis.compat import (
    check_duckdb_timestamps,
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


def test_datasets_without_pkg_resources(monkeypatch):
    monkeypatch.setitem(sys.modules, "pkg_resources", None)  # as with setuptools >= 82
    path = lifetimes_dataset_path("CDNOW_master.txt")
    first = pd.read_csv(path, sep=r"\s+", nrows=1)
    assert first.iloc[0].tolist() == [1, 19970101, 1, 11.77]
    with pytest.raises(AnalysisError, match="no dataset"):
        lifetimes_dataset_path("nope.csv")


def test_duckdb_timestamptz_reaches_python():
    import duckdb

    check_duckdb_timestamps()
    value = duckdb.sql("select TIMESTAMPTZ '2026-01-31 17:30:00+00' as t").fetchall()[0][0]
    assert value.utcoffset() is not None
