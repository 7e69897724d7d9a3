"""Nothing lost, nothing doubled: idempotent re-ingest, overlap replacement, store isolation."""

from __future__ import annotations

import hashlib
import json

from .helpers import Project, write

HEADER = "order_id,customer_id,ordered_at,revenue\n"


def test_reingesting_the_same_file_changes_nothing(project: Project, tmp_path):
    path = write(
        tmp_path / "jan.csv", HEADER + "A1,c1,2024-01-05 10:00,10\nA2,c2,2024-01-20 10:00,20\n"
    )
    assert project.ingest("--store", "shop", path) == 0
    first = (project.warehouse / "orders" / "shop.parquet").read_bytes()
    assert project.ingest("--store", "shop", path) == 0
    assert (project.warehouse / "orders" / "shop.parquet").read_bytes() == first
    log = [
        json.loads(line)
        for line in (project.warehouse / "_ingest_log.jsonl").read_text().splitlines()
    ]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [e["sha256"] for e in log] == [digest, digest]
    assert [e["tables"]["orders/shop"] for e in log] == [
        {"rows_written": 2, "rows_replaced": 0, "rows_total": 2},
        {"rows_written": 2, "rows_replaced": 2, "rows_total": 2},
    ]


def test_newer_export_replaces_its_dates_only(project: Project, tmp_path):
    jan = write(
        tmp_path / "jan.csv",
        HEADER
        + "A1,c1,2024-01-05 10:00,10\nA2,c2,2024-01-20 10:00,20\nA3,c3,2024-01-28 10:00,30\n",
    )
    # Covers 20 Jan - 3 Feb (local days): A2 was deleted at the source, A3 changed,
    # A4 and A5 are new. A1 (5 Jan) lies outside the span and stays.
    newer = write(
        tmp_path / "late-jan.csv",
        HEADER
        + "A3,c3,2024-01-28 10:00,999\nA4,c4,2024-02-03 23:59,40\nA5,c5,2024-01-20 00:00,5\n",
    )
    assert project.ingest("--store", "shop", jan) == 0
    assert project.ingest("--store", "shop", newer) == 0
    rows = [(r[0], r[4]) for r in project.rows("orders", "shop", "order_id")]
    assert rows == [("A1", 10.0), ("A3", 999.0), ("A4", 40.0), ("A5", 5.0)]
    log = json.loads((project.warehouse / "_ingest_log.jsonl").read_text().splitlines()[-1])
    assert log["tables"]["orders/shop"] == {"rows_written": 3, "rows_replaced": 2, "rows_total": 4}


def test_span_uses_the_store_calendar_day(project: Project, tmp_path):
    # 2024-01-31 23:30 Bangkok is 16:30 UTC on the 31st; 2024-02-01 00:30 Bangkok is the 1st
    # locally but still 31 Jan in UTC: a February export must not delete the January order.
    jan = write(tmp_path / "jan.csv", HEADER + "J,c1,2024-01-31 23:30,10\n")
    feb = write(tmp_path / "feb.csv", HEADER + "F,c1,2024-02-01 00:30,20\n")
    assert project.ingest("--store", "shop", jan) == 0
    assert project.ingest("--store", "shop", feb) == 0
    assert [r[0] for r in project.rows("orders", "shop", "order_id")] == ["F", "J"]


def test_same_key_outside_the_span_is_replaced_not_doubled(project: Project, tmp_path):
    old = write(tmp_path / "old.csv", HEADER + "A1,c1,2024-01-05 10:00,10\n")
    moved = write(tmp_path / "new.csv", HEADER + "A1,c1,2024-03-05 10:00,12\n")
    assert project.ingest("--store", "shop", old) == 0
    assert project.ingest("--store", "shop", moved) == 0
    assert [(r[0], r[4]) for r in project.rows("orders", "shop")] == [("A1", 12.0)]


def test_other_stores_are_never_touched(project: Project, tmp_path):
    path = write(tmp_path / "o.csv", HEADER + "A1,c1,2024-01-05 10:00,10\n")
    assert project.ingest("--store", "other", path) == 0
    before = (project.warehouse / "orders" / "other.parquet").read_bytes()
    again = write(tmp_path / "p.csv", HEADER + "A1,c9,2024-01-05 10:00,77\n")
    assert project.ingest("--store", "shop", again) == 0
    assert (project.warehouse / "orders" / "other.parquet").read_bytes() == before
    assert [r[1] for r in project.rows("orders", "shop")] == ["shop"]
    assert [r[4] for r in project.rows("orders", "other")] == [10.0]


def test_customers_upsert_on_key(project: Project, tmp_path):
    first = write(tmp_path / "c1.csv", "customer_id,region\nc1,north\nc2,south\n")
    second = write(tmp_path / "c2.csv", "customer_id,region\nc2,east\nc3,west\n")
    assert project.ingest("--store", "shop", "--table", "customers", first) == 0
    assert project.ingest("--store", "shop", "--table", "customers", second) == 0
    assert [(r[0], r[2]) for r in project.rows("customers", "shop")] == [
        ("c1", "north"), ("c2", "east"), ("c3", "west")
    ]  # fmt: skip


def test_failed_run_of_several_files_writes_none(project: Project, tmp_path):
    good = write(tmp_path / "good.csv", HEADER + "A1,c1,2024-01-05 10:00,10\n")
    bad = write(tmp_path / "bad.csv", HEADER + "B1,c1,2024-01-05 10:00,x\n")
    assert project.ingest("--store", "shop", good, bad) == 2
    assert not (project.warehouse / "orders").exists()
    assert not (project.warehouse / "_ingest_log.jsonl").exists()


def test_files_have_the_warehouse_layout(project: Project, tmp_path, monkeypatch):
    """Sorted by ``schema.Table.row_order`` (nulls last), declared so, ZSTD, fixed row groups."""
    import pyarrow.parquet as pq

    from analysis.ingest import writer
    from analysis.schema import TABLES

    monkeypatch.setattr(writer, "ROW_GROUP_ROWS", 3)
    path = write(
        tmp_path / "o.csv",
        HEADER + "A1,c2,2024-01-05 10:00,10\nA2,,2024-01-04 10:00,20\nA3,c1,2024-01-07 10:00,30\n"
        "A4,c2,2024-01-03 10:00,40\nA5,c1,2024-01-07 10:00,50\nA6,,2024-01-01 10:00,60\n"
        "A0,c1,2024-01-07 10:00,70\nA7,c3,2024-01-02 10:00,80\n",
    )
    assert project.ingest("--store", "shop", path) == 0
    file = pq.ParquetFile(project.warehouse / "orders" / "shop.parquet")
    meta = file.metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [3, 3, 2]
    assert {meta.row_group(0).column(i).compression for i in range(meta.num_columns)} == {"ZSTD"}
    order, nulls = pq.SortingColumn.to_ordering(
        file.schema_arrow, meta.row_group(0).sorting_columns
    )
    assert order == tuple((c, "ascending") for c in TABLES["orders"].row_order)
    assert nulls == "at_end"
    # customer, then time, then key; guests (null customer) last
    ids = file.read(columns=["order_id"]).column(0).to_pylist()
    assert ids == ["A0", "A3", "A5", "A4", "A1", "A7", "A6", "A2"]


def test_optional_key_columns_may_be_absent(project: Project, tmp_path):
    # marketing_spend's key has channel, surveys' has customer_id: both optional columns
    spend = write(tmp_path / "spend.csv", "date,spend\n2024-01-05,100\n2024-01-06,50\n")
    assert project.ingest("--store", "shop", "--table", "marketing_spend", spend) == 0
    assert project.ingest("--store", "shop", "--table", "marketing_spend", spend) == 0
    assert [r[2] for r in project.rows("marketing_spend", "shop")] == [100.0, 50.0]
    surveys = write(tmp_path / "nps.csv", "responded_at,nps\n2024-01-05 10:00,9\n")
    assert project.ingest("--store", "shop", "--table", "surveys", surveys) == 0
    assert project.columns("surveys", "shop")[:3] == ["store_id", "responded_at", "customer_id"]


def test_a_second_ingest_waits_for_the_first(project: Project, tmp_path):
    import fcntl
    import threading

    from analysis.ingest import ingest
    from analysis.ingest.run import LOCK_NAME

    path = write(tmp_path / "o.csv", HEADER + "A1,c1,2024-01-05 10:00,10\n")
    said: list[str] = []
    waiting = threading.Event()

    def progress(message: str) -> None:
        said.append(message)
        if message.startswith("waiting for another ingest"):
            waiting.set()

    with (project.warehouse / LOCK_NAME).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        run = threading.Thread(
            target=ingest,
            args=([path],),
            kwargs={"fmt": "mapped", "store": "shop", "progress": progress},
        )
        run.start()
        assert waiting.wait(10)
        assert not (project.warehouse / "orders").exists()  # nothing merged while locked
        fcntl.flock(held, fcntl.LOCK_UN)
        run.join(10)
    assert not run.is_alive()
    assert [r[0] for r in project.rows("orders", "shop")] == ["A1"]
