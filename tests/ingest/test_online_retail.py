"""`--format online-retail`: UCI invoice lines summed into orders, by hand from the samples.

samples/online_retail.csv has 14 lines in 12 invoices in the UCI I layout
(month-first dates, proven by ``12/13/2010``). Europe/London is UTC+0 in
December and UTC+1 in July. The Online Retail II workbooks are built here with
openpyxl in the real layout: sheets "Year 2009-2010" and "Year 2010-2011",
which share the invoices of 1–9 December 2010.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import Workbook

from .helpers import SAMPLES, Project, write

LONDON = "timezone: Europe/London\ncurrency: GBP\n"
UCI_I = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
UCI_II = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
          "Customer ID", "Country"]  # fmt: skip


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def log(project: Project) -> list[dict]:
    text = (project.warehouse / "_ingest_log.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_lines_become_orders_split_by_country(project: Project, capsys):
    sample = SAMPLES / "online_retail.csv"
    code = project.ingest("--store", "uci", "--format", "online-retail", "--currency", "GBP",
                          "--timezone", "Europe/London", "--store-from-column", "Country",
                          sample)  # fmt: skip
    assert code == 0
    uk = project.rows("orders", "uci-united-kingdom", "order_id")
    assert uk == [
        # 6 × 2.55 + 6 × 3.39 = 35.64, 12 items
        ("536365", "uci-united-kingdom", "17850", utc(2010, 12, 1, 8, 26), pytest.approx(35.64),
         12, "completed"),
        ("536366", "uci-united-kingdom", None, utc(2010, 12, 1, 8, 28), pytest.approx(11.1),
         6, "completed"),
        # 7/1/2011 is 1 July (month-first, proven by 12/13/2010): 10:00 BST = 09:00 UTC
        ("536415", "uci-united-kingdom", "17850", utc(2011, 7, 1, 9, 0), pytest.approx(5.5),
         10, "completed"),
        # 10 × 1.95
        ("538008", "uci-united-kingdom", "13313", utc(2010, 12, 13, 10, 15), pytest.approx(19.5),
         10, "completed"),
        # stock code D (discount) is a service line: in the value, not in the items
        ("C536379", "uci-united-kingdom", "14527", utc(2010, 12, 1, 9, 41), 27.5, 0,
         "cancelled"),
    ]  # fmt: skip
    # 24 × 3.75 × 2 = 180 of clocks + 3 × 18 = 54 of postage (POST stays in the revenue);
    # items are the 48 clocks only
    assert project.rows("orders", "uci-france") == [
        ("536370", "uci-france", "12583", utc(2010, 12, 1, 8, 45), 234.0, 48, "completed")
    ]
    # 537197 (Germany) is a zero-value invoice: set apart, so no German store at all
    assert not (project.warehouse / "orders" / "uci-germany.parquet").exists()
    (entry,) = log(project)
    assert entry["date_order"] == {"InvoiceDate": "month-first"}
    assert entry["set_apart"] == {
        # A563185 +11,062.06, A563186 and A563187 −11,062.06 each: −11,062.06
        "bad_debt_adjustments": {"invoices": 3, "lines": 3, "value": -11062.06},
        "stock_adjustments": {"invoices": 1, "lines": 1, "value": 0.0},  # 536414: −56 × 0
        "zero_value_invoices": {"invoices": 1, "lines": 1, "value": 0.0},  # 537197: 1 × 0
    }
    out = " ".join(capsys.readouterr().out.split())
    assert "column 'InvoiceDate' read month-first" in out
    assert "3 bad debt adjustments (3 lines, value -11,062.06)" in out
    # every store the split created reports in pounds, London time
    for store in ("uci-united-kingdom", "uci-france"):
        text = (project.root / "params" / "stores" / f"{store}.yaml").read_text(encoding="utf-8")
        assert "currency: GBP\n" in text and "timezone: Europe/London\n" in text
    assert not (project.root / "params" / "stores" / "uci.yaml").exists()  # only a prefix


def test_uci_csv_with_unproven_order_is_refused(project: Project, tmp_path, capsys):
    path = write(
        tmp_path / "retail.csv",
        UCI_I + "536365,85123A,T-LIGHT HOLDER,6,1/12/2010 8:26,2.55,17850.0,United Kingdom\n"
        "536366,22633,HAND WARMER,6,12/1/2010 8:28,1.85,,United Kingdom\n",
    )
    assert project.ingest("--store", "uk", "--format", "online-retail", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "column 'InvoiceDate': the dates ('1/12/2010 8:26', '12/1/2010 8:28')" in err
    assert "'%d/%m/%Y %H:%M' (day/month) or '%m/%d/%Y %H:%M' (month/day)" in err
    assert not (project.warehouse / "orders").exists()


def test_day_first_export_with_explicit_format(project: Project, tmp_path):
    # a day-first export of the same invoice: 1/12/2010 is 1 December, not 12 January
    project.store_params("uk", LONDON + 'ingest:\n  date_format: "%d/%m/%Y %H:%M"\n')
    path = write(tmp_path / "retail.csv",
                 UCI_I + "536365,85123A,T-LIGHT HOLDER,6,1/12/2010 8:26,2.55,17850.0,UK\n")  # fmt: skip
    assert project.ingest("--store", "uk", "--format", "online-retail", path) == 0
    assert project.rows("orders", "uk")[0][3] == utc(2010, 12, 1, 8, 26)


def _book(path, sheets: dict[str, list[list]], hidden: tuple[str, ...] = ()):
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    book.save(path)
    return path


def _line(invoice, code, qty, when, price, customer, desc="ITEM"):
    return [invoice, code, desc, qty, when, price, customer, "United Kingdom"]


Y1 = [
    UCI_II,
    _line("489434", "85048", 12, dt.datetime(2009, 12, 1, 7, 45), 6.95, 13085.0),
    _line("489434", "79323P", 12, dt.datetime(2009, 12, 1, 7, 45), 6.75, 13085.0),
    _line("536365", "85123A", 6, dt.datetime(2010, 12, 1, 8, 26), 2.55, 17850.0),
]
Y2 = [
    UCI_II,
    _line("536365", "85123A", 6, dt.datetime(2010, 12, 1, 8, 26), 2.55, 17850.0),
    _line("581587", "22613", 12, dt.datetime(2011, 12, 9, 12, 50), 0.85, 12680.0),
]
LOOKUP = [UCI_II, _line("999999", "X", 1000, dt.datetime(2011, 1, 1), 1000.0, 1.0)]


def test_every_visible_sheet_of_online_retail_ii(project: Project, tmp_path, capsys):
    project.store_params("uk", LONDON)
    book = _book(tmp_path / "online_retail_II.xlsx",
                 {"Year 2009-2010": Y1, "Year 2010-2011": Y2, "Lookup": LOOKUP},
                 hidden=("Lookup",))  # fmt: skip
    assert project.ingest("--store", "uk", "--format", "online-retail", book) == 0
    assert project.rows("orders", "uk", "order_id") == [
        # 12 × 6.95 + 12 × 6.75 = 83.40 + 81.00
        ("489434", "uk", "13085", utc(2009, 12, 1, 7, 45), pytest.approx(164.4), 24, "completed"),
        # on both sheets with the same line: counted once (6 × 2.55), not twice
        ("536365", "uk", "17850", utc(2010, 12, 1, 8, 26), pytest.approx(15.3), 6, "completed"),
        # from the second sheet: 12 × 0.85
        ("581587", "uk", "12680", utc(2011, 12, 9, 12, 50), pytest.approx(10.2), 12, "completed"),
    ]  # fmt: skip (the hidden sheet's 999999 is not read)
    out, err = capsys.readouterr()
    flat = " ".join(out.split())
    assert "read sheet(s) 'Year 2009-2010' (3 rows), 'Year 2010-2011' (2 rows)" in flat
    assert "skipped hidden sheet(s): 'Lookup'" in " ".join(err.split())
    (entry,) = log(project)
    assert entry["sheets"] == {"Year 2009-2010": 3, "Year 2010-2011": 2}
    assert entry["sheet_overlap"] == {"invoices": 1, "lines": 1}


def test_one_sheet_picked_by_name(project: Project, tmp_path):
    project.store_params("uk", LONDON)
    book = _book(tmp_path / "online_retail_II.xlsx", {"Year 2009-2010": Y1, "Year 2010-2011": Y2})
    code = project.ingest("--store", "uk", "--format", "online-retail",
                          "--sheet", "Year 2010-2011", book)  # fmt: skip
    assert code == 0
    assert [r[0] for r in project.rows("orders", "uk", "order_id")] == ["536365", "581587"]
    (entry,) = log(project)
    assert entry["sheets"] == {"Year 2010-2011": 2}


def test_bad_sheet_name_and_differing_copies_are_refused(project: Project, tmp_path, capsys):
    project.store_params("uk", LONDON)
    y2 = [row[:] for row in Y2]
    y2[1][3] = 7  # the second sheet's copy of 536365 says 7, the first 6
    y2.append(_line("581588", "22614", "two", dt.datetime(2011, 12, 9, 13, 0), 1.0, 1.0))
    book = _book(tmp_path / "online_retail_II.xlsx", {"Year 2009-2010": Y1, "Year 2010-2011": y2})
    before = project.snapshot()
    assert project.ingest("--store", "uk", "--format", "online-retail",
                          "--sheet", "2011", book) == 2  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert "no sheet '2011'" in err and "'Year 2009-2010', 'Year 2010-2011'" in err
    assert project.ingest("--store", "uk", "--format", "online-retail", book) == 2
    err = " ".join(capsys.readouterr().err.split())
    # a bad cell is placed by sheet and row
    assert (
        "column 'Quantity': not a whole number in 1 lines (sheet 'Year 2010-2011' row 4: 'two')"
        in err
    )
    y2.pop()
    _book(book, {"Year 2009-2010": Y1, "Year 2010-2011": y2})
    assert project.ingest("--store", "uk", "--format", "online-retail", book) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert ("invoice(s) on two sheets with different lines, nothing written — '536365' at "
            "sheet 'Year 2009-2010' row 4 and sheet 'Year 2010-2011' row 2") in err  # fmt: skip
    assert project.snapshot() == before


def test_bad_line_is_named_and_nothing_written(project: Project, tmp_path, capsys):
    path = write(
        tmp_path / "retail.csv",
        UCI_I + "1,A,x,2,12/13/2010 8:26,1.5,1,UK\n2,B,y,two,12/13/2010 8:27,1.5,1,UK\n",
    )
    assert project.ingest("--store", "uk", "--format", "online-retail", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "1 of 2 lines rejected" in err and "column 'Quantity': not a whole number" in err
    assert "line 3: 'two'" in err
    assert not (project.warehouse / "orders").exists()


def test_adjustments_alone_load_no_order(project: Project, tmp_path, capsys):
    # UCI's "A563187 Adjust bad debt": a negative price on an A invoice. Not a sale, not a
    # refund: counted apart (it used to fail "negative revenue on a completed order").
    path = write(
        tmp_path / "retail.csv",
        UCI_I + "A563187,B,Adjust bad debt,1,8/12/2011 14:52,-11062.06,,United Kingdom\n"
        "C581569,20979,DAMAGED,-5,12/9/2011 11:58,0,,United Kingdom\n",
    )
    project.store_params("uk", LONDON + "ingest:\n  date_format: '%m/%d/%Y %H:%M'\n")
    assert project.ingest("--store", "uk", "--format", "online-retail", path) == 0
    assert not (project.warehouse / "orders" / "uk.parquet").exists()
    (entry,) = log(project)
    assert entry["set_apart"] == {
        "bad_debt_adjustments": {"invoices": 1, "lines": 1, "value": -11062.06},
        "stock_adjustments": {"invoices": 1, "lines": 1, "value": 0.0},
    }
    assert entry["rows_written"] == {"orders": 0}


def test_quarantine_leaves_an_invoice_with_a_bad_line_out_whole(project: Project, tmp_path):
    project.store_params("uk", LONDON)
    path = write(
        tmp_path / "retail.csv",
        UCI_I + "1,A,x,2,12/13/2010 8:26,1.5,1,UK\n"
        "1,B,y,two,12/13/2010 8:26,1.5,1,UK\n"
        "2,C,z,1,12/13/2010 9:00,4.0,2,UK\n",
    )
    assert project.ingest("--store", "uk", "--format", "online-retail", "--quarantine", path) == 0
    assert [(r[0], r[4]) for r in project.rows("orders", "uk")] == [("2", 4.0)]
    (rejected,) = (project.root / "data" / "rejected" / "uk").iterdir()
    text = rejected.read_text(encoding="utf-8")
    assert "Quantity: not a whole number" in text and ",two," in text


def test_quarantine_of_a_workbook_places_rows_by_sheet(project: Project, tmp_path):
    project.store_params("uk", LONDON)
    y2 = [row[:] for row in Y2]
    y2.append(_line("581588", "22614", "two", dt.datetime(2011, 12, 9, 13, 0), 1.0, 1.0))
    book = _book(tmp_path / "online_retail_II.xlsx", {"Year 2009-2010": Y1, "Year 2010-2011": y2})
    assert project.ingest("--store", "uk", "--format", "online-retail", "--quarantine", book) == 0
    assert [r[0] for r in project.rows("orders", "uk", "order_id")] == [
        "489434",
        "536365",
        "581587",
    ]
    (rejected,) = (project.root / "data" / "rejected" / "uk").iterdir()
    lines = rejected.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("sheet,row,reason,")
    assert lines[1].startswith("Year 2010-2011,4,Quantity: not a whole number,")
