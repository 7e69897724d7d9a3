"""A Thai store's report speaks Thai: every word a reader sees, on every page.

Runs the real notebooks (``analysis report``) for ``demo-chiangmai``
(``language: th``, ``buddhist_era: true``) and for a thin store switched to
Thai (so the "not available" reasons and warnings are read too), then lists
the Latin-script words on each page's visible text. Allowed: the acronyms of
:data:`tests.visible_words.ALLOWED_WORDS` and names that come from the data
(channel codes, regions, variant names; collected from the warehouse).
Chart text is checked where the charts are drawn (each section's chart tests).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from visible_words import english_words, visible_text

from analysis.demo import write_demo

from . import thin_stores
from .privacy_scan import personal_data_in
from .test_thin_data import published, report

pytestmark = pytest.mark.slow

STORE = "demo-chiangmai"


def data_names(warehouse: Path, store: str) -> set[str]:
    """Every Latin word in the text columns of the store's tables (few distinct values only)."""
    names: set[str] = set()
    con = duckdb.connect()
    for path in sorted(warehouse.glob(f"*/{store}.parquet")):
        schema = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        for column, kind, *_ in schema:
            if kind != "VARCHAR":
                continue
            values = con.execute(
                f"SELECT DISTINCT \"{column}\" FROM read_parquet('{path}') LIMIT 60"
            ).fetchall()
            if len(values) < 60:
                for (value,) in values:
                    names.update(re.findall(r"[A-Za-z][A-Za-z0-9]*", str(value)))
    return names


def english_on_pages(folder: Path, allowed: set[str]) -> dict[str, list[str]]:
    found = {}
    for page in sorted(folder.glob("*.html")):
        words = english_words(visible_text(page.read_text(encoding="utf-8")), allowed)
        if words:
            found[page.name] = sorted(set(words))
    return found


def test_demo_chiangmai_report_is_thai_throughout(tmp_path):
    data = tmp_path / "warehouse"
    write_demo(data, stores=[STORE])
    out = report(STORE, data, tmp_path / "reports")
    assert out.returncode == 0, out.stderr
    folder, manifest = published(tmp_path / "reports", STORE)
    assert manifest["params"]["language"] == "th"
    assert english_on_pages(folder, data_names(data, STORE)) == {}
    pages = sorted(folder.glob("*.html")) + [folder.parent.parent / "index.html"]
    assert personal_data_in(pages, data, STORE) == {}
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "ต.ค. 2569" in index or "ตุลาคม 2569" in index  # the month in Thai, B.E.


def test_thin_store_in_thai_explains_itself_in_thai(tmp_path):
    data = thin_stores.one_guest_order(tmp_path / "warehouse")
    out = report(thin_stores.STORE, data, tmp_path / "reports", "language=th")
    assert out.returncode == 0, out.stderr
    folder, manifest = published(tmp_path / "reports", thin_stores.STORE)
    assert set(manifest["warnings"]) == {"cohorts", "clv", "segments", "loyalty_ab"}
    assert english_on_pages(folder, data_names(data, thin_stores.STORE)) == {}
