"""`--format online-retail`: UCI invoice lines summed into orders, by hand from the sample.

The sample (samples/online_retail.csv) has 8 lines in 6 invoices. Europe/London
is UTC+0 in December and UTC+1 in July.
"""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from .helpers import SAMPLES, Project, write

LONDON = "timezone: Europe/London\ncurrency: GBP\n"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_lines_become_orders_split_by_country(project: Project):
    project.store_params("uci", LONDON)
    sample = SAMPLES / "online_retail.csv"
    code = project.ingest("--store", "uci", "--format", "online-retail",
                          "--store-from-column", "Country", sample)  # fmt: skip
    assert code == 0
    uk = project.rows("orders", "uci-united-kingdom", "order_id")
    assert uk == [
        # 6 × 2.55 + 6 × 3.39 = 35.64, 12 items
        ("536365", "uci-united-kingdom", "17850", utc(2010, 12, 1, 8, 26), pytest.approx(35.64),
         12, "completed"),
        ("536366", "uci-united-kingdom", None, utc(2010, 12, 1, 8, 28), pytest.approx(11.1),
         6, "completed"),
        ("536414", "uci-united-kingdom", None, utc(2010, 12, 1, 11, 52), 0.0, 56, "refunded"),
        ("536415", "uci-united-kingdom", "17850", utc(2011, 7, 1, 9, 0), pytest.approx(5.5),
         10, "completed"),
        ("C536379", "uci-united-kingdom", "14527", utc(2010, 12, 1, 9, 41), 27.5, 1,
         "cancelled"),
    ]  # fmt: skip
    assert project.rows("orders", "uci-france") == [
        ("536370", "uci-france", "12583", utc(2010, 12, 1, 8, 45), 180.0, 48, "completed")
    ]


def test_online_retail_ii_spelling_from_excel(project: Project, tmp_path):
    project.store_params("uk", LONDON)
    book = Workbook()
    sheet = book.active
    sheet.append(["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
                  "Customer ID", "Country"])  # fmt: skip
    sheet.append(["489434", "85048", "LED LIGHT", 12, dt.datetime(2009, 12, 1, 7, 45), 6.95,
                  13085.0, "United Kingdom"])  # fmt: skip
    sheet.append(["489434", "79323P", "PINK CHERRY LIGHTS", 12, dt.datetime(2009, 12, 1, 7, 45),
                  6.75, 13085.0, "United Kingdom"])  # fmt: skip
    book.save(tmp_path / "online_retail_II.xlsx")
    assert project.ingest("--store", "uk", "--format", "online-retail",
                          tmp_path / "online_retail_II.xlsx") == 0  # fmt: skip
    assert project.rows("orders", "uk") == [
        ("489434", "uk", "13085", utc(2009, 12, 1, 7, 45), pytest.approx(164.4), 24, "completed")
    ]


def test_bad_line_is_named_and_nothing_written(project: Project, tmp_path, capsys):
    path = write(
        tmp_path / "retail.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "1,A,x,2,12/1/2010 8:26,1.5,1,UK\n"
        "2,B,y,two,12/1/2010 8:27,1.5,1,UK\n",
    )
    assert project.ingest("--store", "uk", "--format", "online-retail", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "1 of 2 lines rejected" in err and "column 'Quantity': not a whole number" in err
    assert "line 3: 'two'" in err
    assert not (project.warehouse / "orders").exists()


def test_adjustment_invoice_with_negative_price_is_rejected(project: Project, tmp_path, capsys):
    # UCI's "A563185 Adjust bad debt" lines have a negative price on a non-C invoice.
    path = write(
        tmp_path / "retail.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "A563187,B,Adjust bad debt,1,8/12/2011 14:52,-11062.06,,United Kingdom\n",
    )
    assert project.ingest("--store", "uk", "--format", "online-retail", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "negative revenue on a completed order in 1 orders (line 2: '-11062.06')" in err


def test_quarantine_leaves_an_invoice_with_a_bad_line_out_whole(project: Project, tmp_path):
    project.store_params("uk", LONDON)
    path = write(
        tmp_path / "retail.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "1,A,x,2,12/1/2010 8:26,1.5,1,UK\n"
        "1,B,y,two,12/1/2010 8:26,1.5,1,UK\n"
        "2,C,z,1,12/1/2010 9:00,4.0,2,UK\n",
    )
    assert project.ingest("--store", "uk", "--format", "online-retail", "--quarantine", path) == 0
    assert [(r[0], r[4]) for r in project.rows("orders", "uk")] == [("2", 4.0)]
    (rejected,) = (project.root / "data" / "rejected" / "uk").iterdir()
    text = rejected.read_text(encoding="utf-8")
    assert "Quantity: not a whole number" in text and ",two," in text
