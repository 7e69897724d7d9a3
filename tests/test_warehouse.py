import datetime as dt
import os
import re
from pathlib import Path

import duckdb
import narwhals as nw
import pandas as pd
import pytest
from conftest import orders_frame, write_table

from analysis.calendar import month_bounds
from analysis.errors import ConfigError, DataError
from analysis.warehouse import (
    ENV_MEMORY_LIMIT,
    ENV_SPILL_DIR,
    StoreWarehouse,
    check_memory_limit,
    duckdb_connection,
    list_stores,
    validate_warehouse,
)

# 2026-01-31 23:30 and 2026-02-01 00:30 in Bangkok (UTC+7) are both on 2026-01-31 in UTC.
BOUNDARY = orders_frame(
    [
        ("o1", "c1", "2026-01-31 16:30:00", 100.0, "completed"),  # 23:30 Bangkok, January
        ("o2", "c1", "2026-01-31 17:30:00", 50.0, "completed"),  # 00:30 Bangkok, February
    ]
)


def test_month_follows_store_timezone(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY)
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    months = (
        wh.table("orders")
        .select("order_id", wh.local_month("ordered_at").alias("m"))
        .sort("order_id")
        .collect()
        .to_pandas()
    )
    assert months["m"].dt.strftime("%Y-%m").tolist() == ["2026-01", "2026-02"]
    # In UTC both orders are January orders.
    utc = StoreWarehouse(warehouse_dir, "shop", "UTC")
    m = utc.table("orders").select(utc.local_month("ordered_at").alias("m")).collect().to_pandas()
    assert set(m["m"].dt.strftime("%Y-%m")) == {"2026-01"}


def test_month_window_uses_local_midnight(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY)
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    jan = wh.table("orders", start="2026-01", end="2026-02").collect()["order_id"].to_list()
    feb = wh.table("orders", start=dt.date(2026, 2, 1)).collect()["order_id"].to_list()
    assert jan == ["o1"] and feb == ["o2"]
    start, end = month_bounds("2026-02", "Asia/Bangkok")
    assert start == dt.datetime(2026, 1, 31, 17, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 2, 28, 17, tzinfo=dt.UTC)


def test_pii_never_leaves_and_other_stores_are_filtered(warehouse_dir):
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2"],
            "store_id": ["shop", "other"],
            "email": ["a@example.com", "b@example.com"],
            "phone": ["0812345678", "0899999999"],
            "name": ["สมชาย ใจดี", "สมหญิง รักดี"],
            "region": ["Bangkok", "North"],
        }
    )
    customers.to_parquet(warehouse_dir / "customers.parquet")  # one shared file
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    frame = wh.table("customers").collect()
    assert frame.columns == ["customer_id", "store_id", "region"]
    assert frame["customer_id"].to_list() == ["c1"]


def test_other_stores_files_are_not_read(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY)
    (warehouse_dir / "orders" / "other.parquet").write_bytes(b"not parquet at all")
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    assert wh.table("orders").select(nw.len()).collect().item() == 2


def test_optional_tables_are_known(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY)
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    assert wh.tables() == ["orders"]
    assert not wh.has("sessions")
    with pytest.raises(DataError, match="table sessions not found") as err:
        wh.table("sessions")
    assert err.value.hint.endswith("sessions/shop.parquet")


@pytest.mark.parametrize(
    ("last_order_utc", "expected"),
    [
        ("2026-10-31 16:59:00", "2026-10"),  # 23:59 on 31 Oct Bangkok: October is complete
        ("2026-10-30 16:59:00", "2026-09"),  # 23:59 on 30 Oct: October is not
        ("2026-10-31 17:30:00", "2026-10"),  # 00:30 on 1 Nov Bangkok
    ],
)
def test_last_complete_month(warehouse_dir, last_order_utc, expected):
    frame = orders_frame(
        [
            ("o1", "c1", "2026-08-01 10:00:00", 1.0, "completed"),
            ("o2", "c2", last_order_utc, 1.0, "completed"),
        ]
    )
    write_table(warehouse_dir, "orders", "shop", frame)
    assert StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok").last_complete_month() == expected


def test_persist_returns_same_rows(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY)
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    lf = wh.table("orders").filter(nw.col("revenue") > 60)
    kept = wh.persist(lf)
    assert kept.collect()["order_id"].to_list() == ["o1"]


def test_list_stores_and_validate(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY)
    guests = pd.array([None, None], dtype="string")
    write_table(warehouse_dir, "orders", "other", BOUNDARY.assign(customer_id=guests))
    summary = list_stores(warehouse_dir).set_index("store_id")
    assert summary.loc["shop", "orders"] == 2 and summary.loc["shop", "customers"] == 1
    assert summary.loc["other", "customers"] == 0  # guests only: null ids are not customers
    checks = validate_warehouse(warehouse_dir)
    assert [(c.store, c.table, c.rows) for c in checks] == [
        ("other", "orders", 2),
        ("shop", "orders", 2),
    ]


def test_validate_catches_rows_of_another_store(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY.assign(store_id="intruder"))
    with pytest.raises(DataError, match=r"shop.parquet: store_id: rows of another store.*intruder"):
        validate_warehouse(warehouse_dir)


def test_fingerprint_changes_with_data(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY)
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    before = wh.fingerprint()
    write_table(warehouse_dir, "orders", "shop", BOUNDARY.assign(revenue=[1.0, 2.0]))
    after = wh.fingerprint()
    assert list(before) == ["orders/shop.parquet"]
    assert before["orders/shop.parquet"]["sha256"] != after["orders/shop.parquet"]["sha256"]


def test_date_tables_filter_on_local_days(warehouse_dir):
    sessions = pd.DataFrame(
        {"date": pd.to_datetime(["2026-01-31", "2026-02-01"]).date, "sessions": [10, 20]}
    )
    write_table(warehouse_dir, "sessions", "shop", sessions)
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    start, end = month_bounds("2026-01", "Asia/Bangkok")  # 2025-12-31 17:00Z .. 2026-01-31 17:00Z
    days = wh.table("sessions", start=start, end=end).collect()["sessions"].to_list()
    assert days == [10]  # 31 January is in January; the UTC date of `end` would drop it


# -- the DuckDB connection's memory limit and spill folder ---------------------------


def _settings(con):
    return con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()


def test_a_connection_is_bounded_and_spills_where_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_MEMORY_LIMIT, "128MiB")
    monkeypatch.setenv(ENV_SPILL_DIR, str(tmp_path))
    con = duckdb_connection()
    other = duckdb_connection()
    limit, spill = _settings(con)
    assert limit == "128.0 MiB"
    assert Path(spill).parent == tmp_path
    assert re.fullmatch(rf"duckdb-{os.getpid()}-\d+", Path(spill).name)
    assert _settings(other)[1] != spill  # each connection spills apart
    assert not Path(spill).exists()  # nothing on disk until DuckDB spills
    # 16M rows of two 8-byte columns (256 MB) cannot stay within 128 MiB.
    con.execute("SET threads = 1")
    con.execute("CREATE TEMP TABLE big AS SELECT random() AS r, range AS i FROM range(16000000)")
    spilled = [p.name for p in Path(spill).iterdir()]
    assert any(name.startswith(f"duckdb_temp_{os.getpid()}_") for name in spilled), spilled
    # and read back whole: 0 + 1 + ... + 15,999,999
    assert con.execute("SELECT count(*), sum(i) FROM big").fetchone() == (
        16_000_000,
        127_999_992_000_000,
    )
    con.close()
    assert not Path(spill).exists()  # removed with the connection


def test_without_the_environment_duckdbs_defaults_hold(monkeypatch):
    monkeypatch.delenv(ENV_MEMORY_LIMIT, raising=False)
    monkeypatch.delenv(ENV_SPILL_DIR, raising=False)
    assert _settings(duckdb_connection()) == _settings(duckdb.connect())


def test_the_warehouse_connects_through_it(monkeypatch, warehouse_dir, tmp_path):
    write_table(warehouse_dir, "orders", "shop", BOUNDARY)
    monkeypatch.setenv(ENV_MEMORY_LIMIT, "1GiB")
    monkeypatch.setenv(ENV_SPILL_DIR, str(tmp_path))
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    limit, spill = _settings(wh.connection)
    assert limit == "1.0 GiB" and Path(spill).parent == tmp_path


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("lots", "is not a memory size"),
        ("50%", "is not a memory size"),  # DuckDB itself would read it as 100 bytes
        ("6G", "is not a memory size"),
        ("6GiB'; SELECT 1; --", "is not a memory size"),
        ("127MiB", "too small"),
        ("100MB", "too small"),  # 95.4 MiB
    ],
)
def test_a_memory_limit_that_duckdb_cannot_work_in_is_refused(monkeypatch, value, reason):
    monkeypatch.setenv(ENV_MEMORY_LIMIT, value)
    with pytest.raises(ConfigError, match=reason) as caught:
        duckdb_connection()
    assert ENV_MEMORY_LIMIT in caught.value.message and caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("value", "shown"),
    [("128MiB", "128.0 MiB"), ("6GiB", "6.0 GiB"), (" 800MB ", "762.9 MiB"), ("1.5gb", "1.3 GiB")],
)
def test_a_memory_size_reaches_duckdb_as_written(monkeypatch, value, shown):
    assert check_memory_limit(value) == value.strip()
    monkeypatch.setenv(ENV_MEMORY_LIMIT, value)
    assert _settings(duckdb_connection())[0] == shown
