"""No page under ``reports/`` shows a raw customer id, e-mail, phone or name of its store.

Scans every HTML page an analyst has built in the project's ``reports/``
folder against the store's tables in the project's warehouse. The report
tests that render real notebooks (``test_thai_report.py``,
``test_hostile_report.py``) run the same scan on the pages they build, so the
check also runs on a clean clone, where ``reports/`` holds no pages yet.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_table

from analysis.config import load_params

from .helpers import PROJECT
from .privacy_scan import personal_data_in, personal_values

REPORTS = PROJECT / "reports"


def _pages_by_store() -> dict[str, list]:
    pages: dict[str, list] = {}
    for page in sorted(REPORTS.glob("*/*/*.html")):
        store = page.relative_to(REPORTS).parts[0]
        pages.setdefault(store, []).append(page)
    return pages


def test_no_page_under_reports_shows_personal_data():
    pages = _pages_by_store()
    checked = 0
    for store, store_pages in pages.items():
        warehouse = load_params(store).warehouse_path()
        if not (warehouse / "orders" / f"{store}.parquet").is_file():
            continue
        if personal_values(warehouse, store) == (set(), set()):
            continue  # nothing searchable: e.g. CDNOW's ids are plain numbers, it has no contacts
        assert personal_data_in(store_pages, warehouse, store) == {}, store
        checked += 1
    if not checked:
        pytest.skip("no report of a store in this warehouse under reports/ yet (make report)")


def test_the_scan_finds_what_it_looks_for(tmp_path):
    warehouse = tmp_path / "warehouse"
    customers = pd.DataFrame(
        {
            "customer_id": ["AB-C001", "AB-C002", "12"],
            "email": ["somchai@example.com", None, None],
            "phone": ["0812345678", None, None],
            "name": ["สมชาย ใจดี", None, None],
        }
    )
    write_table(warehouse, "customers", "ab", customers)
    pages = {
        "id.html": "<td>AB-C001</td>",
        "data-uri.html": '<img src="data:image/png;base64,AB-C002">',  # an image, not text
        "longer-id.html": "<td>AB-C0012</td><td>12 orders</td>",  # 12: too short to search
        "contacts.html": "<p>โทร 0812345678 หรือ somchai@example.com (สมชาย ใจดี)</p>",
    }
    for name, html in pages.items():
        (tmp_path / name).write_text(html, encoding="utf-8")
    found = personal_data_in(sorted(tmp_path.glob("*.html")), warehouse, "ab")
    assert found == {
        str(tmp_path / "id.html"): ["AB-C001"],
        str(tmp_path / "contacts.html"): ["0812345678", "somchai@example.com", "สมชาย ใจดี"],
    }
