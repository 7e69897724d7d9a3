"""`--format mapped`: contract names as is, Thai mappings, encodings, Excel, Parquet, quarantine.

Expected instants are worked out by hand: Asia/Bangkok is UTC+7 all year, so a
naive ``2024-01-05 10:00`` is ``03:00`` UTC.
"""

from __future__ import annotations

import csv
import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from analysis.config import load_params
from analysis.warehouse import StoreWarehouse

from .helpers import Project, write


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_contract_names_ingest_as_is_with_bom_and_store_timezone(project: Project, tmp_path):
    path = write(
        tmp_path / "orders.csv",
        "\ufeffOrder_ID,customer_id,ordered_at,revenue,discount,items,status,channel,note\n"
        "A1,c1,2024-01-05 10:00,120.50,0,2,completed,web,first\n"
        "A2,,2024-01-31 23:30,90,5,1,Cancelled,line,\n",
    )
    assert project.ingest("--store", "new-shop", path) == 0  # no params file: defaults
    rows = project.rows("orders", "new-shop")
    assert project.columns("orders", "new-shop") == [
        "order_id", "store_id", "customer_id", "ordered_at", "revenue", "discount", "items",
        "status", "channel",
    ]  # fmt: skip
    assert rows == [
        ("A1", "new-shop", "c1", utc(2024, 1, 5, 3, 0), 120.5, 0.0, 2, "completed", "web"),
        ("A2", "new-shop", None, utc(2024, 1, 31, 16, 30), 90.0, 5.0, 1, "cancelled", "line"),
    ]


def test_file_without_status_lists_completed_orders(project: Project, tmp_path):
    path = write(tmp_path / "o.csv", "order_id,customer_id,ordered_at,revenue\n1,a,2024-01-01,5\n")
    assert project.ingest("--store", "shop", path) == 0
    assert project.rows("orders", "shop") == [
        ("1", "shop", "a", utc(2023, 12, 31, 17, 0), 5.0, "completed")
    ]


def test_utc_offsets_in_every_spelling(project: Project, tmp_path):
    path = write(
        tmp_path / "o.csv",
        "order_id,customer_id,ordered_at,revenue\n"
        "1,a,2024-01-05 10:15:30 +0700,1\n"
        "2,a,2024-01-05T10:15:30+07:00,1\n"
        "3,a,2024-01-05T03:15:30Z,1\n"
        "4,a,2024-03-10 01:00:00-0500,1\n"
        "5,a,2024-07-01 12:00:00 +01,1\n",
    )
    assert project.ingest("--store", "shop", path) == 0
    got = [r[3] for r in project.rows("orders", "shop", "order_id")]
    assert got == [
        utc(2024, 1, 5, 3, 15, 30),
        utc(2024, 1, 5, 3, 15, 30),
        utc(2024, 1, 5, 3, 15, 30),
        utc(2024, 3, 10, 6, 0),
        utc(2024, 7, 1, 11, 0),
    ]


THAI_PARAMS = """\
display_name: ร้านทดสอบ
ingest:
  encoding: cp874
  date_format: "%d/%m/%Y %H:%M"
  status: {completed: [สำเร็จ], cancelled: [ยกเลิก], refunded: [คืนเงิน]}
  tables:
    orders:
      columns: {เลขที่: order_id, ลูกค้า: customer_id, วันที่: ordered_at, ยอดรวม: revenue,
                สถานะ: status, ช่องทาง: channel}
"""


@pytest.mark.parametrize("encoding", ["cp874", "tis-620"])
def test_thai_mapping_cp874_date_format_and_status_words(project: Project, tmp_path, encoding):
    project.store_params("thai-shop", THAI_PARAMS.replace("cp874", encoding))
    path = write(
        tmp_path / "ยอดขาย.csv",
        "เลขที่,ลูกค้า,วันที่,ยอดรวม,สถานะ,ช่องทาง,หมายเหตุ\n"
        "T-001,สมชาย,05/01/2024 10:00,1500,สำเร็จ,ไลน์,-\n"
        "T-002,สมหญิง,06/01/2024 09:30,250.5,ยกเลิก,เฟซบุ๊ก,\n"
        "T-003,สมชาย,07/02/2024 20:00,80,คืนเงิน,ไลน์,ok\n",
        encoding=encoding,
    )
    assert project.ingest("--store", "thai-shop", path) == 0
    assert project.rows("orders", "thai-shop") == [
        ("T-001", "thai-shop", "สมชาย", utc(2024, 1, 5, 3, 0), 1500.0, "completed", "ไลน์"),
        ("T-002", "thai-shop", "สมหญิง", utc(2024, 1, 6, 2, 30), 250.5, "cancelled", "เฟซบุ๊ก"),
        ("T-003", "thai-shop", "สมชาย", utc(2024, 2, 7, 13, 0), 80.0, "refunded", "ไลน์"),
    ]


def test_excel_cells_keep_their_dates_and_numbers(project: Project, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["order_id", "customer_id", "ordered_at", "revenue"])
    sheet.append([1001, "c1", dt.datetime(2024, 1, 5, 10, 0), 120])
    sheet.append([1002, None, "2024-01-06 11:00", 99.5])
    sheet.append([None, None, None, None])  # trailing blank row is skipped
    book.save(tmp_path / "orders.xlsx")
    assert project.ingest("--store", "shop", tmp_path / "orders.xlsx") == 0
    assert project.rows("orders", "shop") == [
        ("1001", "shop", "c1", utc(2024, 1, 5, 3, 0), 120.0, "completed"),
        ("1002", "shop", None, utc(2024, 1, 6, 4, 0), 99.5, "completed"),
    ]


def test_parquet_with_integer_ids_and_aware_timestamps(project: Project, tmp_path):
    table = pa.table(
        {
            "order_id": pa.array([7, 8], pa.int64()),
            "customer_id": pa.array([42, None], pa.int64()),
            "ordered_at": pa.array(
                [utc(2024, 1, 5, 3, 0), utc(2024, 1, 6, 4, 0)], pa.timestamp("us", tz="UTC")
            ),
            "revenue": [10.0, 20.25],
        }
    )
    pq.write_table(table, tmp_path / "orders.parquet")
    assert project.ingest("--store", "shop", tmp_path / "orders.parquet") == 0
    assert project.rows("orders", "shop") == [
        ("7", "shop", "42", utc(2024, 1, 5, 3, 0), 10.0, "completed"),
        ("8", "shop", None, utc(2024, 1, 6, 4, 0), 20.25, "completed"),
    ]


def test_quarantine_loads_valid_rows_and_writes_rejected_with_reasons(
    project: Project, tmp_path, capsys
):
    path = write(
        tmp_path / "mixed.csv",
        "order_id,customer_id,ordered_at,revenue\n"
        "1,a,2024-01-05 10:00,10\n"
        '2,"=HYPERLINK(""http://x"",""y"")",2024-01-05 11:00,20\n'
        "3,b,2099-01-01 00:00,30\n"
        "4,c,2024-01-06 10:00,40,extra\n"
        "5,d,2024-01-07 10:00,50\n",
    )
    assert project.ingest("--store", "shop", "--quarantine", path) == 0
    out = capsys.readouterr().out
    assert "3 row(s) rejected" in out
    assert [r[0] for r in project.rows("orders", "shop")] == ["1", "5"]
    files = sorted((project.root / "data" / "rejected" / "shop").iterdir())
    assert [f.name.split("-", 1)[1] for f in files] == ["mixed-orders.csv", "mixed-unreadable.csv"]
    with files[0].open(encoding="utf-8") as fh:
        rejected = list(csv.DictReader(fh))
    assert [(r["line"], r["reason"]) for r in rejected] == [
        (
            "3",
            "customer_id: looks like a spreadsheet formula (starts with = + - @ tab CR, "
            "not a plain number)",
        ),
        ("4", "ordered_at: in the future"),
    ]
    # the rejected file stays inert when opened in a spreadsheet
    assert rejected[0]["customer_id"] == '\'=HYPERLINK("http://x","y")'
    with files[1].open(encoding="utf-8") as fh:
        unreadable = list(csv.DictReader(fh))
    assert unreadable[0]["line"] == "5" and "wrong number of fields" in unreadable[0]["reason"]
    log = (project.warehouse / "_ingest_log.jsonl").read_text(encoding="utf-8").splitlines()
    assert '"rejected": 3' in log[-1] and '"rows_in": 5' in log[-1]


def test_store_from_column_splits_one_file_into_stores(project: Project, tmp_path):
    path = write(
        tmp_path / "all.csv",
        "order_id,customer_id,ordered_at,revenue,Country\n"
        "1,a,2024-01-05 10:00,10,Thailand\n"
        "2,b,2024-01-05 11:00,20,United Kingdom\n"
        "3,c,2024-01-06 10:00,30,Thailand\n",
    )
    assert project.ingest("--store", "uci", "--store-from-column", "Country", path) == 0
    assert [r[0] for r in project.rows("orders", "uci-thailand")] == ["1", "3"]
    assert [(r[0], r[1]) for r in project.rows("orders", "uci-united-kingdom")] == [
        ("2", "uci-united-kingdom")
    ]


def test_customers_pii_is_stored_but_never_handed_out(project: Project, tmp_path):
    path = write(
        tmp_path / "c.csv",
        "customer_id,signed_up_at,region,email,phone\n"
        "c1,2023-05-01 09:00,กรุงเทพฯ,a@example.com,+66 81 234 5678\n",
    )
    assert project.ingest("--store", "shop", "--table", "customers", path) == 0
    assert project.rows("customers", "shop") == [
        ("c1", "shop", utc(2023, 5, 1, 2, 0), "กรุงเทพฯ", "a@example.com", "+66 81 234 5678")
    ]
    params = load_params("shop")
    store = StoreWarehouse(params.warehouse_path(), "shop", params.timezone)
    assert "email" not in store.table("customers").collect_schema().names()


def test_sessions_dates(project: Project, tmp_path):
    path = write(tmp_path / "s.csv", "date,sessions,visitors\n2024-01-05,120,80\n2024-01-06,0,0\n")
    assert project.ingest("--store", "shop", "--table", "sessions", path) == 0
    assert project.rows("sessions", "shop") == [
        ("shop", dt.date(2024, 1, 5), 120, 80),
        ("shop", dt.date(2024, 1, 6), 0, 0),
    ]
