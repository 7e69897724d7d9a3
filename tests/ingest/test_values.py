"""Values never read wrong in silence: date order, two-digit years, missing words, numeric ids,
merged cells, nested columns.

Instants are worked out by hand: Asia/Bangkok is UTC+7 all year, so a naive
``10:00`` there is ``03:00`` UTC.
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from .helpers import Project, write

HEADER = "order_id,customer_id,ordered_at,revenue\n"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def last_log(project: Project) -> dict:
    text = (project.warehouse / "_ingest_log.jsonl").read_text(encoding="utf-8")
    return json.loads(text.splitlines()[-1])


def test_day_first_export_is_read_day_first_and_says_so(project: Project, tmp_path, capsys):
    # a Thai shop's Excel-made CSV: 13/12/2010 proves day-first, so 1/12/2010 is 1 December
    path = write(
        tmp_path / "orders.csv", HEADER + "1,a,1/12/2010 8:26,10\n2,b,13/12/2010 9:00,20\n"
    )
    assert project.ingest("--store", "shop", path) == 0
    assert [r[3] for r in project.rows("orders", "shop", "order_id")] == [
        utc(2010, 12, 1, 1, 26),
        utc(2010, 12, 13, 2, 0),
    ]
    out, err = capsys.readouterr()
    assert "column 'ordered_at': dates read day-first ('13/12/2010 9:00' proves" in " ".join(
        err.split()
    )
    assert "column 'ordered_at' read day-first" in out
    assert last_log(project)["date_order"] == {"ordered_at": "day-first"}


def test_month_first_export_with_seconds_and_am_pm(project: Project, tmp_path):
    path = write(
        tmp_path / "orders.csv",
        HEADER
        + "1,a,12/1/2010 08:26:05 AM,10\n2,b,12/31/2010 9:00:00 PM,20\n3,c,2011-01-02 10:00,5\n",
    )
    assert project.ingest("--store", "shop", path) == 0
    assert [r[3] for r in project.rows("orders", "shop", "order_id")] == [
        utc(2010, 12, 1, 1, 26, 5),  # 08:26:05 Bangkok
        utc(2010, 12, 31, 14, 0),  # 21:00 Bangkok
        utc(2011, 1, 2, 3, 0),  # ISO values in the same column parse as ISO
    ]
    assert last_log(project)["date_order"] == {"ordered_at": "month-first"}


def test_two_digit_years_with_an_explicit_format(project: Project, tmp_path):
    # %y pivots like DuckDB's strptime: 00–68 → 2000–2068, 69–99 → 1969–1999
    project.store_params("shop", 'ingest:\n  date_format: "%d/%m/%y %H:%M"\n')
    path = write(tmp_path / "orders.csv", HEADER + "1,a,1/12/10 8:26,10\n2,b,31/12/99 23:00,20\n")
    assert project.ingest("--store", "shop", path) == 0
    assert [r[3] for r in project.rows("orders", "shop", "order_id")] == [
        utc(2010, 12, 1, 1, 26),
        utc(1999, 12, 31, 16, 0),
    ]


def test_a_list_of_formats(project: Project, tmp_path):
    project.store_params(
        "shop", 'ingest:\n  date_format: ["%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S"]\n'
    )
    path = write(
        tmp_path / "o.csv", HEADER + "1,a,05.01.2024 10:00,10\n2,b,2024-01-06 11:00:00,20\n"
    )
    assert project.ingest("--store", "shop", path) == 0
    assert [r[3] for r in project.rows("orders", "shop", "order_id")] == [
        utc(2024, 1, 5, 3, 0),
        utc(2024, 1, 6, 4, 0),
    ]


def test_r_export_na_is_missing_not_a_customer(project: Project, tmp_path):
    # R: write.csv(orders, "orders.csv") quotes text, writes NA bare and a row-number column
    path = write(
        tmp_path / "orders.csv",
        '"","order_id","customer_id","ordered_at","revenue","channel"\n'
        '"1","1001",NA,"2024-01-05 10:00",120,"web"\n'
        '"2","1002","c7","2024-01-05 11:00",80,NA\n'
        '"3","1003",NA,"2024-01-06 12:00",50.5,"line"\n',
    )
    assert project.ingest("--store", "shop", path) == 0
    assert [(r[0], r[2], r[4], r[6]) for r in project.rows("orders", "shop", "order_id")] == [
        ("1001", None, 120.0, "web"),  # a guest order, not customer "NA"
        ("1002", "c7", 80.0, None),
        ("1003", None, 50.5, "line"),
    ]


def test_null_words_are_configurable(project: Project, tmp_path):
    path = write(tmp_path / "o.csv", HEADER + "1,-,2024-01-05 10:00,10\n2,NA,2024-01-05 11:00,20\n")
    code = project.ingest("--store", "shop", "--set", "ingest.null_values=['-']", path)
    assert code == 0
    # '-' is missing now; NA is no longer in the list, so it is an id (as the store asked)
    assert [r[2] for r in project.rows("orders", "shop", "order_id")] == [None, "NA"]


def test_numeric_ids_read_the_same_from_every_format(project: Project, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["order_id", "customer_id", "ordered_at", "revenue"])
    sheet.append([1, 7, dt.datetime(2024, 1, 5, 10, 0), 10])  # an int cell
    sheet.append([2, 7.0, dt.datetime(2024, 1, 6, 10, 0), 20])  # a float cell
    book.save(tmp_path / "a.xlsx")
    pq.write_table(
        pa.table({"order_id": [3.0], "customer_id": [7.0],  # pandas writes ids with NaN as doubles
                  "ordered_at": ["2024-01-07 10:00"], "revenue": [30.0]}),
        tmp_path / "b.parquet",
    )  # fmt: skip
    csv = write(
        tmp_path / "c.csv", HEADER + "4,7.0,2024-01-08 10:00,40\n5,007,2024-01-09 10:00,5\n"
    )
    for path in (tmp_path / "a.xlsx", tmp_path / "b.parquet", csv):
        assert project.ingest("--store", "shop", path) == 0
    rows = project.rows("orders", "shop", "order_id")
    assert [(r[0], r[2]) for r in rows] == [
        ("1", "7"), ("2", "7"), ("3", "7"), ("4", "7"),
        ("5", "007"),  # leading zeros are kept: only a trailing .0 is dropped
    ]  # fmt: skip


def test_merged_cells_in_a_workbook_are_refused(project: Project, tmp_path, capsys):
    book = Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["order_id", "customer_id", "ordered_at", "revenue"])
    sheet.append([1001, "c7", dt.datetime(2024, 1, 5, 10, 0), 10])
    sheet.append([1002, None, dt.datetime(2024, 1, 5, 11, 0), 20])
    sheet.append([1003, None, dt.datetime(2024, 1, 5, 12, 0), 30])
    sheet.merge_cells("B2:B4")  # one customer, three orders: B3 and B4 read as empty
    book.save(tmp_path / "orders.xlsx")
    before = project.snapshot()
    assert project.ingest("--store", "shop", tmp_path / "orders.xlsx") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "orders.xlsx: sheet 'Orders': 1 merged cell range(s) in the data" in err
    assert "B2:B4 (column 'customer_id')" in err and "unmerge" in err
    assert project.snapshot() == before


def test_visible_sheets_with_another_header_are_skipped_and_named(
    project: Project, tmp_path, capsys
):
    book = Workbook()
    book.active.title = "Jan"
    book.active.append(["order_id", "customer_id", "ordered_at", "revenue"])
    book.active.append([1, "a", "2024-01-05 10:00", 10])
    feb = book.create_sheet("Feb")
    feb.append(["Order_ID", "customer_id", "ordered_at", "revenue"])  # same names, other case
    feb.append([2, "b", "2024-02-05 10:00", 20])
    notes = book.create_sheet("Notes")
    notes.append(["written by", "on"])
    notes.append(["Somchai", "2024-03-01"])
    book.save(tmp_path / "orders.xlsx")
    assert project.ingest("--store", "shop", tmp_path / "orders.xlsx") == 0
    assert [r[0] for r in project.rows("orders", "shop", "order_id")] == ["1", "2"]
    out, err = capsys.readouterr()
    assert "skipped sheet 'Notes': its header differs from 'Jan''s" in " ".join(err.split())
    assert "read sheet(s) 'Jan' (1 rows), 'Feb' (1 rows)" in " ".join(out.split())


def test_nested_parquet_columns_are_refused(project: Project, tmp_path, capsys):
    pq.write_table(
        pa.table({"order_id": ["1"], "customer_id": ["a"], "ordered_at": ["2024-01-05 10:00"],
                  "revenue": [10.0], "items": pa.array([[{"sku": "TS-1", "qty": 2}]])}),
        tmp_path / "orders.parquet",
    )  # fmt: skip
    before = project.snapshot()
    assert project.ingest("--store", "shop", tmp_path / "orders.parquet") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "orders.parquet: nested column(s) 'items' (STRUCT(sku VARCHAR, qty BIGINT)[])" in err
    assert project.snapshot() == before


@pytest.mark.parametrize(
    ("params", "text", "fragments"),
    [
        pytest.param(
            None, "1,a,1/12/10 8:26,10\n",
            ["column 'ordered_at': 1 date(s) with a two-digit year ('1/12/10 8:26')",
             "%d/%m/%y %H:%M", "00–68 → 2000–2068"],
            id="two-digit year without a format",
        ),
        pytest.param(
            'ingest:\n  date_format: "%d/%m/%Y %H:%M"\n', "1,a,1/12/10 8:26,10\n",
            ["column 'ordered_at': a two-digit year read with %Y (use %y in ingest.date_format)",
             "line 2: '1/12/10 8:26'"],
            id="two-digit year read with %Y",
        ),
    ],
)  # fmt: skip
def test_two_digit_year_mistakes_are_named(project: Project, tmp_path, capsys, params, text,
                                           fragments):  # fmt: skip
    if params:
        project.store_params("shop", params)
    path = write(tmp_path / "orders.csv", HEADER + text)
    assert project.ingest("--store", "shop", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    for fragment in fragments:
        assert fragment in err, err
    assert not (project.warehouse / "orders").exists()


def test_date_columns_follow_the_same_rule(project: Project, tmp_path):
    # sessions.date is a DATE: 31.12.2023 proves day-first with '.' separators
    path = write(tmp_path / "s.csv", "date,sessions,visitors\n31.12.2023,120,80\n1.2.2024,90,60\n")
    assert project.ingest("--store", "shop", "--table", "sessions", path) == 0
    assert project.rows("sessions", "shop") == [
        ("shop", dt.date(2023, 12, 31), 120, 80),
        ("shop", dt.date(2024, 2, 1), 90, 60),  # 1 February, not 2 January
    ]
    assert last_log(project)["date_order"] == {"date": "day-first"}


def test_sheet_applies_to_workbooks_only(project: Project, tmp_path, capsys):
    path = write(tmp_path / "o.csv", HEADER + "1,a,2024-01-05 10:00,10\n")
    assert project.ingest("--store", "shop", "--sheet", "Orders", path) == 2
    assert "o.csv: --sheet applies to .xlsx workbooks only" in capsys.readouterr().err
