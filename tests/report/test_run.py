"""build_report / build_reports end to end on a tiny project (runs real kernels)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from analysis.errors import ConfigError, ReportError
from analysis.report import build_report, build_reports, stores_with_orders
from analysis.report.batch import memory_share
from analysis.report.headlines import HEADLINES_MIME
from analysis.report.html import external_resources
from analysis.report.manifest import comparable
from analysis.warehouse import ENV_MEMORY_LIMIT, ENV_SPILL_DIR

from .helpers import KERNEL, MONTH, THAI, snapshot

pytestmark = pytest.mark.slow

SECTIONS = ("kpis", "cohorts")


@pytest.fixture(scope="module")
def built(project):
    messages: list[str] = []
    path = build_report(
        "shop-a",
        root=project,
        sections=SECTIONS,
        kernel_name=KERNEL,
        overrides={"kpis.trend_months": 6},
        progress=messages.append,
    )
    return path, messages


def test_report_layout(project, built):
    path, messages = built
    assert path == project / "reports" / "shop-a" / MONTH
    names = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    assert names == {
        "index.html",
        "kpis.html",
        "cohorts.html",
        "manifest.json",
        "executed/kpis.ipynb",
        "executed/cohorts.ipynb",
    }
    assert sorted(p.name for p in (project / "reports" / "shop-a").iterdir()) == [
        ".publish.lock",
        MONTH,
    ]
    assert any("kpis done" in m for m in messages)
    top = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert "ร้านทดสอบ เอ" in top and f'href="shop-a/{MONTH}/index.html"' in top


@pytest.mark.parametrize("section", SECTIONS)
def test_section_html_is_clean_and_offline(built, section):
    html = (built[0] / f"{section}.html").read_text(encoding="utf-8")
    assert '<meta charset="utf-8"' in html
    assert THAI in html
    assert "data:image/png;base64," in html
    for absent in (
        "SOURCE_CODE_MARKER",
        "record_headlines",
        "Traceback",
        "STDERR_MARKER",
        "WARNING_MARKER",
        "UserWarning",
        "In&nbsp;[",
    ):
        assert absent not in html, absent
    assert not re.search(r"Out\[\d", html)
    assert not re.search(r"<(script|link)\b[^>]*(src|href)=[\"']?(https?:)?//", html)
    assert external_resources(html) == []


def test_executed_notebooks_are_kept_for_audit(built):
    nb = nbformat.read(built[0] / "executed" / "kpis.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    src = injected[0].source
    assert 'store = "shop-a"' in src and f'month = "{MONTH}"' in src
    assert 'overrides = {"kpis": {"trend_months": 6}}' in src and "data_dir = None" in src
    mimes = [
        o for c in nb.cells for o in c.get("outputs", []) if HEADLINES_MIME in o.get("data", {})
    ]
    assert len(mimes) == 1
    assert not [
        o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "execute_result"
    ]


def test_index_page(built):
    html = (built[0] / "index.html").read_text(encoding="utf-8")
    assert "ร้านทดสอบ เอ" in html and "มีนาคม 2569" in html  # language th, Buddhist Era
    assert 'href="kpis.html"' in html and 'href="cohorts.html"' in html
    # Raw headline values are for the manifest, not for the store manager's page.
    assert "1,234.50" not in html and "1234.5" not in html
    assert "<script" not in html


def test_manifest(project, built):
    manifest = json.loads((built[0] / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest) >= {
        "store", "month", "title", "sections", "params", "git", "python", "packages",
        "data_fingerprint", "headlines", "timings", "generated_at",
    }  # fmt: skip
    assert manifest["store"] == "shop-a" and manifest["month"] == MONTH
    assert manifest["sections"] == list(SECTIONS)
    assert manifest["params"]["display_name"] == "ร้านทดสอบ เอ"
    assert manifest["params"]["kpis"]["trend_months"] == 6
    assert manifest["git"] is None  # tmp project is not a git repository
    assert set(manifest["packages"]) >= {"analysis", "duckdb", "pandas", "papermill", "nbconvert"}
    assert list(manifest["data_fingerprint"]) == ["orders/shop-a.parquet"]
    assert len(manifest["data_fingerprint"]["orders/shop-a.parquet"]["sha256"]) == 64
    expected = {
        "orders": 30, "revenue": 1234.5, "store": "shop-a", "month": MONTH,
        "data_dir_given": False, "override": 6,
    }  # fmt: skip
    assert manifest["headlines"] == {"kpis": expected, "cohorts": expected}
    assert set(manifest["timings"]) == {"kpis", "cohorts", "total"}
    assert all(v > 0 for v in manifest["timings"].values())
    text = (built[0] / "manifest.json").read_text(encoding="utf-8")
    assert text == json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_failed_notebook_leaves_previous_report_untouched(project, built):
    before = snapshot(built[0])
    store_dir = project / "reports" / "shop-a"
    with pytest.raises(ReportError) as info:
        build_report("shop-a", root=project, sections=("kpis", "boom"), kernel_name=KERNEL)
    message = info.value.message
    assert "\n" not in message
    # cells: markdown, parameters, prints, raise -> 4th cell; In [4] counts the injected cell
    assert message == "boom.ipynb: cell 4 (In [4]) raised ValueError: planted failure"
    assert info.value.exit_code == 2
    assert info.value.notebook == "boom" and "planted failure" in info.value.traceback
    assert snapshot(built[0]) == before
    assert sorted(p.name for p in store_dir.iterdir()) == [
        ".publish.lock",
        MONTH,
    ]  # temp folder removed


def test_unavailable_section_publishes_with_its_reason(project, tmp_path):
    """A section that raises SectionUnavailable becomes a page with the reason (escaped),
    a warning in the index and the manifest, and the report is published."""
    messages: list[str] = []
    path = build_report(
        "shop-b",
        root=project,
        sections=("kpis", "gone"),
        kernel_name=KERNEL,
        reports_dir=tmp_path,
        progress=messages.append,
    )
    reason = "needs 3 months <b>of</b> history; this store has 1"
    page = (path / "gone.html").read_text(encoding="utf-8")
    assert "SHOWN_BEFORE_STOP" in page  # what the cell displayed before it stopped
    assert "<strong>Not available.</strong> Needs 3 months &lt;b&gt;of&lt;/b&gt; history" in page
    assert "Traceback" not in page and "SectionUnavailable" not in page
    assert "papermill" not in page.lower()
    # the cells after the stop never ran and are not on the page (the chart, the headlines)
    assert "<img" not in page
    index = (path / "index.html").read_text(encoding="utf-8")
    assert 'class="warnings"' in index
    assert '<a href="gone.html">Gone</a>: needs 3 months &lt;b&gt;of&lt;/b&gt; history' in index
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["warnings"] == {"gone": [reason]}
    assert "gone" not in manifest["headlines"] and manifest["headlines"]["kpis"]["orders"] == 30
    assert f"shop-b {MONTH}: gone: warning: {reason}" in messages
    audit = nbformat.read(path / "executed" / "gone.ipynb", as_version=4)
    assert not any(
        o.get("output_type") == "error" for c in audit.cells for o in c.get("outputs", [])
    )


def test_a_specific_hint_survives_a_notebook_error(project, tmp_path):
    with pytest.raises(ReportError) as info:
        build_report(
            "shop-b", root=project, sections=("hinted",), kernel_name=KERNEL, reports_dir=tmp_path
        )
    assert str(info.value).startswith("hinted.ipynb: cell 4 (In [4]) raised DataError: history")
    assert info.value.message.endswith("DataError: history too short")
    assert info.value.hint.startswith("lower clv.holdout_days; then open ")
    assert "in JupyterLab" in info.value.hint
    assert not (tmp_path / "shop-b").exists() or not any((tmp_path / "shop-b").iterdir())


def test_rebuild_replaces_report_with_identical_metrics(project, built):
    first = json.loads((built[0] / "manifest.json").read_text(encoding="utf-8"))
    path = build_report(
        "shop-a",
        MONTH,
        {"kpis": {"trend_months": 6}},
        root=project,
        sections=SECTIONS,
        kernel_name=KERNEL,
    )
    second = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    assert comparable(second) == comparable(first)
    assert sorted(p.name for p in (project / "reports" / "shop-a").iterdir()) == [
        ".publish.lock",
        MONTH,
    ]


@pytest.mark.parametrize("store", ["../etc", "Shop", "a/b", ".hidden", ""])
def test_bad_store_name_fails_before_any_file(tmp_path, store):
    with pytest.raises(ConfigError, match="invalid store name"):
        build_report(store, root=tmp_path / "nowhere", reports_dir=tmp_path / "reports")
    assert list(tmp_path.iterdir()) == []


def test_unknown_store_lists_known_ones(project, tmp_path):
    reports = tmp_path / "reports"
    with pytest.raises(ConfigError) as info:
        build_report("shop-z", root=project, reports_dir=reports, kernel_name=KERNEL)
    assert "shop-z" in str(info.value)
    assert "shop-a, shop-b" in str(info.value)
    assert info.value.exit_code == 2
    assert not reports.exists()


def test_bad_month_and_missing_parameters(project, tmp_path):
    reports = tmp_path / "reports"
    with pytest.raises(ConfigError, match="invalid month"):
        build_report("shop-a", "2026-13", root=project, reports_dir=reports, sections=SECTIONS)
    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("store = 'x'")]), nbdir / "kpis.ipynb")
    with pytest.raises(ConfigError, match="parameters"):
        build_report(
            "shop-a", root=project, reports_dir=reports, notebooks_dir=nbdir, sections=["kpis"]
        )
    with pytest.raises(ConfigError, match="not found"):
        build_report(
            "shop-a", root=project, reports_dir=reports, notebooks_dir=nbdir, sections=["clv"]
        )
    assert not reports.exists()


def test_stores_with_orders(project):
    assert stores_with_orders(project / "data" / "warehouse") == ["shop-a", "shop-b"]


def test_build_reports_in_parallel_isolates_failures(project, tmp_path):
    reports = tmp_path / "reports"
    messages: list[str] = []
    results = build_reports(
        ["shop-b", "nope", "../x", "shop-a"],
        "2026-02",
        jobs=2,
        root=project,
        data_dir=project / "data" / "warehouse",
        reports_dir=reports,
        sections=("cohorts",),
        kernel_name=KERNEL,
        progress=messages.append,
    )
    assert [r.store for r in results] == ["shop-b", "nope", "../x", "shop-a"]
    ok = {r.store: r for r in results if r.ok}
    assert set(ok) == {"shop-a", "shop-b"}
    for r in ok.values():
        assert r.path == reports / r.store / "2026-02" and r.month == "2026-02"
        assert (r.path / "cohorts.html").is_file() and r.seconds > 0
        headlines = json.loads((r.path / "manifest.json").read_text(encoding="utf-8"))["headlines"]
        assert headlines["cohorts"]["data_dir_given"] is True
        assert headlines["cohorts"]["store"] == r.store
    failed = {r.store: r for r in results if not r.ok}
    assert "shop-a, shop-b" in failed["nope"].error and failed["nope"].exit_code == 2
    assert "invalid store name" in failed["../x"].error
    assert any("shop-b 2026-02: cohorts done" in m for m in messages)  # from a worker process
    top = (reports / "index.html").read_text(encoding="utf-8")
    assert "shop-a/2026-02/index.html" in top and "shop-b/2026-02/index.html" in top


def test_missing_kernel_is_a_config_error(project, tmp_path):
    reports = tmp_path / "reports"
    with pytest.raises(ConfigError, match="no Jupyter kernel named 'no-such-kernel'"):
        build_report(
            "shop-a",
            root=project,
            reports_dir=reports,
            sections=SECTIONS,
            kernel_name="no-such-kernel",
        )
    assert not reports.exists()


def _duckdb_settings(report: Path) -> tuple[str, str]:
    """memory_limit and temp_directory the memory section's warehouse connection had."""
    nb = nbformat.read(report / "executed" / "memory.ipynb", as_version=4)
    text = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    line = next(x for x in text.splitlines() if x.startswith("DUCKDB_SETTINGS|"))
    _, limit, spill = line.split("|")
    return limit, spill


def _as_duckdb_shows(limit: str) -> str:
    return (
        duckdb.connect()
        .execute(f"SET memory_limit = '{limit}'; SELECT current_setting('memory_limit')")
        .fetchone()[0]
    )


def test_parallel_reports_split_the_memory_and_spill_into_their_own_run(
    project, tmp_path, monkeypatch
):
    # Two reports at once would each let DuckDB take 80% of the memory, and both
    # kernels (working directory notebooks/) would spill into notebooks/.tmp.
    monkeypatch.delenv(ENV_MEMORY_LIMIT, raising=False)
    monkeypatch.delenv(ENV_SPILL_DIR, raising=False)
    reports = tmp_path / "reports"
    results = build_reports(
        ["shop-a", "shop-b"],
        "2026-02",
        jobs=2,
        root=project,
        reports_dir=reports,
        sections=("memory",),
        kernel_name=KERNEL,
    )
    assert all(r.ok for r in results), [r.error for r in results]
    share = memory_share(2)
    assert share is not None
    for r in results:
        limit, spill = _duckdb_settings(r.path)
        assert limit == _as_duckdb_shows(share)
        # <reports>/<store>/.<month>.tmp-<pid>-<random>/.runtime/spill/duckdb-<kernel pid>-0
        relative = Path(spill).relative_to(reports / r.store)
        assert re.fullmatch(r"\.2026-02\.tmp-\d+-\w+/\.runtime/spill/duckdb-\d+-0", str(relative))
        assert not Path(spill).parent.exists()  # gone with the run's folder
        assert not (reports / r.store / relative.parts[0]).exists()
    assert not (project / "notebooks" / ".tmp").exists()


def test_one_report_takes_the_limit_the_environment_names(project, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_MEMORY_LIMIT, "256MiB")
    path = build_report(
        "shop-b",
        "2026-02",
        root=project,
        reports_dir=tmp_path,
        sections=("memory",),
        kernel_name=KERNEL,
    )
    assert _duckdb_settings(path)[0] == "256.0 MiB"


@pytest.mark.parametrize("limit", ["lots", "50%", "1MB"])
def test_a_limit_that_is_not_a_memory_size_stops_every_report_before_it_starts(
    project, tmp_path, monkeypatch, limit
):
    monkeypatch.setenv(ENV_MEMORY_LIMIT, limit)
    for build in (
        lambda: build_reports(["shop-a", "shop-b"], jobs=2, root=project, reports_dir=tmp_path),
        lambda: build_report("shop-a", root=project, reports_dir=tmp_path),
    ):
        with pytest.raises(ConfigError, match=ENV_MEMORY_LIMIT) as caught:
            build()
        assert caught.value.exit_code == 2
    assert not any(tmp_path.iterdir())
