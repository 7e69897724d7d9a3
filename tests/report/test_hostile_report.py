"""A whole report of a store whose name, channels, regions, campaigns, experiment id and
variant names carry script: every page renders, reads the names as they were typed,
carries the Content-Security-Policy and contains nothing a browser would run.

Runs the real notebooks through ``analysis report`` in a subprocess, like
``test_thin_data.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.demo import write_demo
from analysis.formats import format_money
from analysis.report.html import CSP_META, executable_markup

from .privacy_scan import personal_data_in
from .test_thin_data import SECTION_PAGES, page_text, published, report

# one worker builds the report once for the three tests (make test runs --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile_report")]

STORE = "demo-chiangmai"
DISPLAY_NAME = '<script>alert(1)</script>"><img src=x onerror=alert(1)> ร้าน $5 **ทดสอบ** & co'
EXPERIMENT = "<img src=x onerror=alert(document.domain)>"
VARIANTS = {
    "holdout": 'กลุ่มควบคุม <script>alert("v")</script>',
    "invitation": 'Variant A"><svg onload=alert(2)>',
}


def hostile(value: str) -> str:
    """A data value with script around it (same value → same text, so joins still hold)."""
    return f'{value}"><img src=x onerror=alert(1)><script>alert("{value}")</script>'


def rewrite(path: Path, column: str, mapping) -> None:
    table = pq.read_table(path)
    values = table.column(column).to_pylist()
    new = pa.array([None if v is None else mapping(v) for v in values], pa.string())
    index = table.schema.get_field_index(column)
    pq.write_table(table.set_column(index, table.schema.field(index), new), path)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> tuple[Path, dict, Path]:
    root = tmp_path_factory.mktemp("hostile")
    data = root / "warehouse"
    write_demo(data, stores=[STORE], customers=300, seed=11)
    for table, column in (
        ("orders", "channel"),
        ("customers", "acquisition_channel"),
        ("customers", "region"),
        ("marketing_spend", "channel"),
        ("campaigns", "campaign_id"),
    ):
        path = data / table / f"{STORE}.parquet"
        if path.is_file() and column in pq.read_schema(path).names:
            rewrite(path, column, hostile)
    experiments = data / "experiments" / f"{STORE}.parquet"
    rewrite(experiments, "experiment_id", lambda _v: EXPERIMENT)
    rewrite(experiments, "variant", VARIANTS.__getitem__)
    out = report(STORE, data, root / "reports", f"display_name={DISPLAY_NAME}", "language=en")
    assert out.returncode == 0, out.stderr
    folder, manifest = published(root / "reports", STORE)
    return folder, manifest, data


def test_no_page_carries_anything_a_browser_would_run(hostile_report):
    folder, _, _ = hostile_report
    pages = sorted(folder.glob("*.html")) + [folder.parent.parent / "index.html"]
    assert len(pages) == len(SECTION_PAGES) + 2
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert executable_markup(html) == [], page.name
        assert html.count(CSP_META) == 1, page.name
        head = html[: html.index("</head>")]
        assert head.index(CSP_META) < head.index("<style"), page.name  # before what it governs


def test_the_names_still_read_as_typed(hostile_report):
    folder, _, data = hostile_report
    text = {name: page_text(folder / f"{name}.html") for name in SECTION_PAGES}
    for name in ("kpis", "cohorts", "clv"):
        assert DISPLAY_NAME in text[name], name
    assert DISPLAY_NAME in page_text(folder / "index.html")
    assert f"Experiment {EXPERIMENT}" in text["loyalty_ab"]
    for variant in VARIANTS.values():
        assert variant in text["loyalty_ab"]
    channels = pd.read_parquet(data / "customers" / f"{STORE}.parquet")["acquisition_channel"]
    for channel in channels.dropna().unique():
        assert channel in text["cohorts"]  # the acquisition-channel cut's table
    paid = pd.read_parquet(data / "marketing_spend" / f"{STORE}.parquet")["channel"]
    for channel in paid.dropna().unique():
        assert channel in text["kpis"]  # the acquisition table (spend and CAC by channel)


def test_variant_names_are_manifest_values_never_keys(hostile_report):
    folder, manifest, data = hostile_report
    values = manifest["headlines"]["experiment"]
    assert values["id"] == EXPERIMENT
    assert {values["control"], values["primary.variant"]} == set(VARIANTS.values())
    assert all(key.isascii() and "<" not in key for key in values)
    # independent computation in pandas: completed revenue from assignment to the end of
    # the report month ÷ customers assigned, per variant (intent to treat), as the page shows it
    year, month = (int(p) for p in manifest["month"].split("-"))
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=ZoneInfo("Asia/Bangkok"))
    ex = pd.read_parquet(data / "experiments" / f"{STORE}.parquet")
    ex = ex[ex["assigned_at"] < end]
    orders = pd.read_parquet(data / "orders" / f"{STORE}.parquet")
    done = orders[(orders["status"] == "completed") & (orders["ordered_at"] < end)]
    joined = done.merge(ex[["customer_id", "assigned_at"]], on="customer_id")
    revenue = joined[joined["ordered_at"] >= joined["assigned_at"]].groupby("customer_id")[
        "revenue"
    ]
    per_customer = ex.set_index("customer_id")["variant"].to_frame()
    per_customer["revenue"] = revenue.sum().reindex(per_customer.index, fill_value=0.0)
    expected = per_customer.groupby("variant")["revenue"].mean()
    assert set(expected.index) == set(VARIANTS.values())
    page = page_text(folder / "loyalty_ab.html")
    for variant, rpc in expected.items():
        assert (
            f"{variant} {len(ex[ex['variant'] == variant]):,} {format_money(rpc, 'THB', decimals=2)}"
            in page
        )


def test_no_page_shows_a_customer_id_email_phone_or_name(hostile_report):
    folder, _, data = hostile_report
    pages = sorted(folder.glob("*.html")) + [folder.parent.parent / "index.html"]
    assert personal_data_in(pages, data, STORE) == {}
