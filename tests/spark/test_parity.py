"""The same analyses on DuckDB and on a local Spark session give the same numbers.

Counts must be equal; money and rates agree to 1e-9 relative.
"""

import math

import pandas as pd
import pytest

from analysis import kpis
from analysis.config import load_params
from analysis.context import open_warehouse, section_context
from analysis.errors import DataError
from analysis.warehouse import StoreWarehouse

from .conftest import MONTH, STORE


def assert_same(a, b, where: str = "") -> None:
    """Equal frames/values: exact for ints and strings, 1e-9 relative for floats."""
    if isinstance(a, pd.DataFrame):
        assert list(a.columns) == list(b.columns), where
        assert len(a) == len(b), where
        for column in a.columns:
            assert_same(list(a[column]), list(b[column]), f"{where}.{column}")
        return
    if isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
        return
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
            assert (a is None or math.isnan(a)) and (b is None or math.isnan(b)), where
            return
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), where
        return
    assert a == b, where


def contexts(spark, root):
    duck = section_context(STORE, MONTH, {}, str(root))
    on_spark = section_context(STORE, MONTH, {"engine": "spark"}, str(root))
    assert on_spark.warehouse.engine == "spark" and on_spark.warehouse.spark is spark
    return duck, on_spark


def test_params_open_the_warehouse_on_spark(spark, demo_warehouse):
    params = load_params(STORE, {"engine": "spark", "data_dir": str(demo_warehouse)})
    wh = open_warehouse(params)
    assert wh.engine == "spark"
    assert spark.conf.get("spark.sql.session.timeZone") == "Asia/Bangkok"
    duck = StoreWarehouse(demo_warehouse, STORE, "Asia/Bangkok")
    assert wh.order_span() == duck.order_span()
    assert wh.columns("customers") == duck.columns("customers")  # PII removed on both
    assert "email" not in wh.columns("customers")


def test_an_unknown_engine_is_an_error(tmp_path):
    with pytest.raises(DataError, match="unknown engine 'polars'"):
        StoreWarehouse(tmp_path, STORE, "UTC", engine="polars")


def test_kpi_scorecard_is_the_same_on_both_engines(spark, demo_warehouse):
    duck, on_spark = contexts(spark, demo_warehouse)
    days = duck.params.kpis.retention_window_days
    a = kpis.scorecard(duck.warehouse, MONTH, days)
    b = kpis.scorecard(on_spark.warehouse, MONTH, days)
    assert_same(
        a.table.drop(columns=["label", "definition"]),
        b.table.drop(columns=["label", "definition"]),
        "table",
    )
    assert_same(a.ladder, b.ladder, "ladder")
    if a.acquisition is not None:
        assert_same(a.acquisition.reset_index(), b.acquisition.reset_index(), "acquisition")
    assert a.table["current"].notna().sum() > 10  # the store has the data: a real comparison
