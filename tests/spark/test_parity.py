"""The same analyses on DuckDB and on a local Spark session give the same numbers.

Counts and labels must be equal; money and rates agree to 1e-9 relative. Each
section's whole result object is compared field by field (every table, index
and number it holds), so a difference anywhere in a section fails its test.
"""

import dataclasses
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis import clv, cohorts, kpis
from analysis.clv.page import store_clv
from analysis.config import load_params
from analysis.context import open_warehouse, section_context, stores_with_orders
from analysis.errors import DataError
from analysis.loyalty.page import loyalty_headlines, loyalty_page
from analysis.report import build_report
from analysis.segments.page import segments_headlines, segments_page
from analysis.segments.rfm import rfm_scores
from analysis.warehouse import StoreWarehouse, list_stores

from .conftest import MONTH, STORE

NOTEBOOK_SECTIONS = ("kpis", "cohorts", "clv", "segments", "loyalty_ab")
NOT_RESULTS = {"timings"}  # seconds each step took: differ by engine by design


def assert_same(a, b, where: str = "") -> int:
    """Equal results: exact for ints, strings and dates, 1e-9 relative for floats.

    Walks dataclasses, mappings, sequences, pandas frames and series (index
    included) and numpy arrays; returns how many leaf values it compared.
    """
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), where
        assert list(a.columns) == list(b.columns), where
        n = assert_same(list(a.index), list(b.index), f"{where}.index")
        return n + sum(assert_same(list(a[c]), list(b[c]), f"{where}.{c}") for c in a.columns)
    if isinstance(a, pd.Series):
        assert isinstance(b, pd.Series), where
        return assert_same(list(a.index), list(b.index), f"{where}.index") + assert_same(
            list(a), list(b), where
        )
    if isinstance(a, np.ndarray):
        return assert_same(a.tolist(), np.asarray(b).tolist(), where)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        return sum(
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
            for f in dataclasses.fields(a)
            if f.name not in NOT_RESULTS
        )
    if isinstance(a, dict):
        assert list(a) == list(b), where
        return sum(assert_same(a[k], b[k], f"{where}[{k!r}]") for k in a)
    if isinstance(a, list | tuple):
        assert len(a) == len(b), where
        return sum(
            assert_same(x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(a, b, strict=True))
        )
    if isinstance(a, float | np.floating) or isinstance(b, float | np.floating):
        if a is None or b is None or pd.isna(a) or pd.isna(b):
            assert (a is None or pd.isna(a)) and (b is None or pd.isna(b)), (where, a, b)
            return 1
        assert float(a) == pytest.approx(float(b), rel=1e-9, abs=1e-12), (where, a, b)
        return 1
    if a is pd.NaT or a is pd.NA:
        assert b is a, (where, a, b)
        return 1
    if isinstance(a, str | int | bool | np.integer | np.bool_ | pd.Timestamp | type(None)):
        assert a == b, (where, a, b)
        return 1
    import datetime as dt

    if isinstance(a, dt.date | dt.datetime | pd.Period | pd.Interval):
        assert a == b, (where, a, b)
        return 1
    # Fitted models and figures: compared through the numbers they produced.
    assert type(a) is type(b), where
    return 0


@pytest.fixture(scope="module")
def both(spark, demo_warehouse):
    duck = section_context(STORE, MONTH, {}, str(demo_warehouse))
    on_spark = section_context(STORE, MONTH, {"engine": "spark"}, str(demo_warehouse))
    assert on_spark.warehouse.engine == "spark" and on_spark.warehouse.spark is spark
    assert duck.warehouse.engine == "duckdb"
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


def test_kpi_scorecard_and_trends(both):
    duck, on_spark = both
    days = duck.params.kpis.retention_window_days
    a = kpis.scorecard(duck.warehouse, MONTH, days)
    b = kpis.scorecard(on_spark.warehouse, MONTH, days)
    assert assert_same(a, b, "scorecard") > 100
    assert a.table["current"].notna().sum() > 10  # the store has the data: a real comparison
    months = duck.params.kpis.trend_months
    a_trends = kpis.monthly_trends(duck.warehouse, MONTH, months)
    b_trends = kpis.monthly_trends(on_spark.warehouse, MONTH, months)
    assert assert_same(a_trends, b_trends, "trends") > 100
    assert a_trends["orders"].sum() > 1000


@pytest.mark.parametrize("grain", ["month", "week"])
def test_cohort_page(both, grain):
    pages = [
        cohorts.cohort_page(
            ctx.warehouse,
            ctx.end,
            ctx.month_start,
            grain=grain,
            horizon=ctx.params.cohorts.horizon_months,
            min_size=ctx.params.cohorts.min_cohort_size,
            n=ctx.params.cohorts.n_cohorts,
        )
        for ctx in both
    ]
    assert assert_same(*pages, "cohorts") > 100
    assert pages[0].matrices.size.sum() > 300


def test_rfm_summary_with_and_without_holdout(both):
    duck, on_spark = both
    end, cal = duck.end.date() - pd.Timedelta(days=1), duck.end.date() - pd.Timedelta(days=181)
    for kwargs in ({}, {"calibration_end": cal}, {"period": "W", "time_unit": 7.0}):
        a, b = (
            clv.rfm_summary(ctx.warehouse.table("orders"), end, timezone="Asia/Bangkok", **kwargs)
            for ctx in both
        )
        assert len(a) > 1000 and (a.iloc[:, 0] > 0).sum() > 300
        assert assert_same(a, b, f"rfm_summary{kwargs}") > 3000


def test_clv_section(both):
    a, b = (store_clv(ctx) for ctx in both)
    assert assert_same(a, b, "clv") > 5000
    assert a.totals is not None and a.comparison.chosen


def test_segments_page(both):
    a, b = (segments_page(ctx) for ctx in both)
    assert assert_same(a, b, "segments") > 5000
    assert segments_headlines(a) == segments_headlines(b)
    assert a.reasons == [] and a.outlook.reason is None


def test_rfm_scores_on_their_own(both):
    a, b = (rfm_scores(ctx.warehouse.table("orders"), ctx.end, 365) for ctx in both)
    assert len(a) > 1000 and a["segment"].nunique() > 5
    assert assert_same(a, b, "rfm_scores") > 8000


def test_loyalty_and_experiment(both):
    a, b = (loyalty_page(ctx) for ctx in both)
    assert assert_same(a, b, "loyalty") > 500
    assert loyalty_headlines(a) == loyalty_headlines(b)
    assert a.reasons == []


def test_a_report_on_spark_has_the_same_headlines(spark, demo_warehouse, tmp_path):
    manifests = {}
    for engine in ("duckdb", "spark"):
        out = build_report(
            STORE,
            MONTH,
            {"engine": engine},
            data_dir=demo_warehouse,
            reports_dir=tmp_path / engine,
        )
        manifests[engine] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    duck, on_spark = manifests["duckdb"], manifests["spark"]
    assert on_spark["params"]["engine"] == "spark" and duck["params"]["engine"] == "duckdb"
    assert set(duck["sections"]) >= set(NOTEBOOK_SECTIONS)
    assert len(duck["headlines"]) >= 5
    assert assert_same(duck["headlines"], on_spark["headlines"], "headlines") > 30
    assert duck["findings"] == on_spark["findings"]


def test_a_warehouse_at_a_uri_reads_as_the_folder(spark, demo_warehouse):
    uri = demo_warehouse.as_uri()  # file:///…: the code path of s3a://, abfss://, hdfs://
    remote = StoreWarehouse(uri, STORE, "Asia/Bangkok", engine="spark", spark=spark)
    local = StoreWarehouse(demo_warehouse, STORE, "Asia/Bangkok")
    assert remote.root == uri and remote.tables() == local.tables()
    assert len(remote.tables()) >= 8
    remote_prints, local_prints = remote.fingerprint(), local.fingerprint()
    assert list(remote_prints) == list(local_prints)
    assert [v["bytes"] for v in remote_prints.values()] == [
        v["bytes"] for v in local_prints.values()
    ]
    assert all(str(v["modified"]).endswith("+00:00") for v in remote_prints.values())
    days = 365
    assert_same(kpis.scorecard(local, MONTH, days), kpis.scorecard(remote, MONTH, days), "kpis")
    listed = list_stores(uri, spark)
    assert listed["store_id"].tolist() == [STORE]
    assert_same(
        listed[["orders", "customers"]], list_stores(demo_warehouse)[["orders", "customers"]]
    )
    assert stores_with_orders(uri, spark) == [STORE]
    run = section_context(STORE, None, {"engine": "spark", "data_dir": uri})
    assert run.warehouse.root == uri and run.month == local.last_complete_month()


def test_a_uri_needs_the_spark_engine(demo_warehouse):
    with pytest.raises(DataError, match="only the Spark engine reads it"):
        StoreWarehouse(demo_warehouse.as_uri(), STORE, "UTC")


def test_tables_written_by_spark_as_part_folders(spark, demo_warehouse, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(demo_warehouse, lake)
    for table in ("orders", "customers"):
        single = lake / table / f"{STORE}.parquet"
        frame = spark.read.parquet(str(demo_warehouse / table / f"{STORE}.parquet"))
        single.unlink()
        frame.repartition(3).write.parquet(single.as_uri())  # a folder of part files
        assert single.is_dir() and len(list(single.glob("part-*.parquet"))) == 3
    remote = StoreWarehouse(lake.as_uri(), STORE, "Asia/Bangkok", engine="spark", spark=spark)
    local = StoreWarehouse(demo_warehouse, STORE, "Asia/Bangkok")
    prints = remote.fingerprint()
    assert prints[f"orders/{STORE}.parquet"]["bytes"] > 100_000
    assert_same(kpis.scorecard(local, MONTH, 365), kpis.scorecard(remote, MONTH, 365), "kpis")
