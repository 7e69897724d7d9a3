"""One local Spark session for the run, and one small demo warehouse read by both engines.

Every Spark test is in the ``spark`` xdist group, so a single worker starts the
one JVM. Where PySpark or Java is missing, the tests skip and say which.
"""

from pathlib import Path

import pytest

from analysis import DEFAULT_SEED
from analysis.spark import java_missing

STORE, MONTH = "demo-bangkok", "2026-09"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/spark/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark():
    missing = java_missing()
    if missing is not None:
        pytest.skip(f"Spark engine not testable here: {missing}")
    from analysis.spark import spark_session

    return spark_session("local[2]", {"spark.driver.memory": "1g"})


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    from analysis.demo import write_demo

    root = tmp_path_factory.mktemp("spark-parity")
    write_demo(root, stores=[STORE], customers=1500, seed=DEFAULT_SEED)
    return root
