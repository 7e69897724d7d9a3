"""Whole reports of stores with thin or odd data: every section renders or says why,
the report publishes and the command exits 0 (only a code error fails a run).

Each case runs the real notebooks through ``analysis report`` in a subprocess,
on a warehouse built by :mod:`tests.report.thin_stores`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from analysis.demo import write_demo

from . import thin_stores
from .helpers import PROJECT

pytestmark = pytest.mark.slow

SECTION_PAGES = ("kpis", "cohorts", "clv", "segments", "loyalty_ab")


def report(store: str, data: Path, reports: Path, *sets: str) -> subprocess.CompletedProcess:
    args = ["report", "--store", store, "--data-dir", str(data), "--reports-dir", str(reports)]
    for s in sets:
        args += ["--set", s]
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=600,
    )


def page_text(path: Path) -> str:
    """What a reader sees on a page: tags, styles and scripts removed, entities decoded."""
    html = path.read_text(encoding="utf-8")
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def published(reports: Path, store: str) -> tuple[Path, dict]:
    (folder,) = [p for p in (reports / store).iterdir() if not p.name.startswith(".")]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in folder.glob("*.html")) == sorted(
        [f"{s}.html" for s in SECTION_PAGES] + ["index.html"]
    )
    for name in SECTION_PAGES:
        text = page_text(folder / f"{name}.html")
        assert "Traceback" not in text and "Error" not in text, name
    return folder, manifest


def test_store_with_a_single_guest_order(tmp_path):
    data = thin_stores.one_guest_order(tmp_path / "warehouse")
    out = report(thin_stores.STORE, data, tmp_path / "reports")
    assert out.returncode == 0, out.stderr
    folder, manifest = published(tmp_path / "reports", thin_stores.STORE)
    assert manifest["month"] == "2026-09"
    assert manifest["headlines"]["kpis"]["orders"] == 1
    assert manifest["headlines"]["kpis"]["revenue"] == 100.0
    assert set(manifest["warnings"]) == {"cohorts", "clv", "segments", "loyalty_ab"}
    assert manifest["warnings"]["cohorts"] == [
        "no registered customer has a completed order up to the end of the report month, so "
        "there is no cohort to follow (guest orders carry no customer id)."
    ]
    assert manifest["warnings"]["clv"][0].startswith(
        "not enough history yet: needs at least 300 customers with completed orders "
        "(this store has 0)"
    )
    for section, reasons in manifest["warnings"].items():
        assert f"{section}: warning: {reasons[0][:40]}" in out.stderr
        page = page_text(folder / f"{section}.html")
        if section in ("loyalty_ab", "segments"):  # pages of parts: each says why in its place
            assert all(reason[:60] in page for reason in reasons), (reasons, page)
            continue
        sentence = reasons[0][0].upper() + reasons[0][1:]
        assert f"Not available. {sentence}" in page
    index = page_text(folder / "index.html")
    assert "Warnings: read before trusting these numbers" in index
    assert "Customer lifetime value : not enough history yet" in index


def test_store_with_three_months_of_history(tmp_path):
    data = thin_stores.three_months(tmp_path / "warehouse")
    out = report(thin_stores.STORE, data, tmp_path / "reports")
    assert out.returncode == 0, out.stderr
    folder, manifest = published(tmp_path / "reports", thin_stores.STORE)
    assert manifest["month"] == "2026-09"
    # independent count, in pandas: registered customers with a completed order, and the
    # history from the first such order's local day to 30 September
    orders = pd.read_parquet(data / "orders" / f"{thin_stores.STORE}.parquet")
    done = orders[(orders["status"] == "completed") & orders["customer_id"].notna()]
    customers = done["customer_id"].nunique()
    first_day = done["ordered_at"].dt.tz_convert("Asia/Bangkok").min().date()
    history = (pd.Timestamp("2026-09-30").date() - first_day).days + 1
    assert customers < 300 and history <= 92
    assert manifest["warnings"]["clv"] == [
        f"not enough history yet: needs at least 300 customers with completed orders "
        f"(this store has {customers:,}) and 180 days of order history (this store has "
        f"{history})."
    ]
    assert set(manifest["warnings"]) == {"clv", "loyalty_ab"}  # cohorts and segments render
    cohorts = page_text(folder / "cohorts.html")
    assert "3 cohorts shown" in cohorts
    assert "Loyalty membership: left out, the warehouse has no loyalty_members table." in cohorts
    assert manifest["headlines"]["segments"]["customers_scored"] == customers


def test_store_whose_named_model_cannot_fit(tmp_path):
    data = thin_stores.clockwork_buyers(tmp_path / "warehouse")
    out = report(thin_stores.STORE, data, tmp_path / "reports", "clv.model=bgnbd")
    assert out.returncode == 0, out.stderr
    folder, manifest = published(tmp_path / "reports", thin_stores.STORE)
    (reason,) = manifest["warnings"]["clv"]
    assert reason.startswith(
        "no purchase model fits this store's history, so no CLV is shown: the model named in "
        "clv.model, BG/NBD, does not fit this history"
    )
    assert "set clv.model: auto" in reason
    clv = page_text(folder / "clv.html")
    assert f"Not available. No purchase model fits{reason[len('no purchase model fits') :]}" in clv
    assert "P(alive)" not in clv.split("Not available.")[1]  # no number after the reason
    assert "clv" not in manifest["headlines"]


@pytest.fixture(scope="module")
def full_store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("full")
    write_demo(root, stores=["demo-chiangmai"], customers=300, seed=11)
    return root


@pytest.mark.parametrize("turn", range(thin_stores.turns() + 1))
def test_every_optional_column_missing_in_turn(full_store, tmp_path, turn):
    """Turn i drops the i-th optional column of every table at once (orders.discount,
    customers.signed_up_at, loyalty_members.tier, … in turn 0): over the turns every
    optional column of every table is missing once, and every section still renders.
    The last turn drops them all (a minimal export, e.g. Shopify's customers without
    acquisition_channel)."""
    data = tmp_path / "warehouse"
    dropped = thin_stores.without_optional_column(full_store, data, turn, "demo-chiangmai")
    assert dropped
    out = report("demo-chiangmai", data, tmp_path / "reports", "language=en")
    assert out.returncode == 0, (dropped, out.stderr)
    folder, manifest = published(tmp_path / "reports", "demo-chiangmai")
    assert set(manifest["headlines"]) == {
        "kpis", "cohorts", "clv", "segments", "loyalty", "experiment",
    }  # fmt: skip
    cohorts = page_text(folder / "cohorts.html")
    if "customers.acquisition_channel" in dropped:
        assert (
            "Acquisition channel: left out, the customers table has no acquisition_channel "
            "column." in cohorts
        )
    if "orders.discount" in dropped:
        assert "First order discounted: left out, the orders table has no discount column." in (
            cohorts
        )
