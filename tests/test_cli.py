"""The `analysis` command: exit codes, one-line errors, and a full report of a demo store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.demo import write_demo

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("warehouse")
    write_demo(out, stores=["demo-bangkok", "demo-chiangmai"], customers=400, seed=7)
    return out


@pytest.mark.parametrize("store", ["../etc", "Demo", "a/b"])
def test_invalid_store_exits_2_before_touching_files(store, tmp_path, capsys):
    reports = tmp_path / "reports"
    code = main(["report", "--store", store, "--reports-dir", str(reports)])
    err = capsys.readouterr().err
    assert code == 2
    assert "invalid store name" in err and "Traceback" not in err
    assert not reports.exists()


def test_unknown_store_exits_2(small_demo, tmp_path, capsys):
    code = main(["report", "--store", "no-such-store", "--data-dir", str(small_demo),
                 "--reports-dir", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "no-such-store" in err and "demo-bangkok" in err  # names the known stores
    assert not (tmp_path / "r").exists()


def test_unknown_params_key_exits_2(small_demo, capsys):
    code = main(
        ["report", "--store", "demo-bangkok", "--data-dir", str(small_demo), "--set", "kpis.nope=1"]
    )
    assert code == 2
    assert "unknown key 'kpis.nope'" in capsys.readouterr().err


@pytest.mark.parametrize("store", ["[a-z0-9]x", "[/bold]", ":x:"])
def test_user_text_is_printed_as_is(store, capsys):
    """No rich markup or emoji in what users and data wrote: '[/bold]' used to crash
    the error printer, '[a-z0-9]' vanished from the message, ':x:' became an emoji."""
    assert main(["report", "--store", store]) == 2
    err = capsys.readouterr().err
    assert f"error: invalid store name {store!r}: must match [a-z0-9][a-z0-9_-]*" in err
    assert "Traceback" not in err and "❌" not in err


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2031-01", "month 2031-01 is outside the orders of store 'demo-bangkok' ("),
        ("1990-05", "month 1990-05 is outside the orders of store 'demo-bangkok' ("),
        ("0000-01", "month 0000-01 is outside the orders of store 'demo-bangkok' ("),
    ],
)
def test_month_without_orders_is_one_line_before_any_kernel(small_demo, tmp_path, capsys,
                                                            month, message):  # fmt: skip
    code = main(["report", "--store", "demo-bangkok", "--month", month, "--data-dir",
                 str(small_demo), "--reports-dir", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and "local time)" in err
    assert "hint: choose a month from " in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_unwritable_reports_folder_is_one_line(small_demo, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = main(["report", "--store", "demo-bangkok", "--data-dir", str(small_demo),
                 "--reports-dir", str(blocker / "reports")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"error: {blocker / 'reports' / 'demo-bangkok'}: cannot write the report there" in err


def test_debug_shows_traceback():
    out = run_cli("--debug", "report", "--store", "../etc")
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_usage_error_exits_2():
    out = run_cli("report", "--no-such-option")
    assert out.returncode == 2 and "No such option" in out.stderr


def test_every_command_has_help():
    for command in ["demo-data", "stores", "validate", "report", "reports"]:
        out = run_cli(command, "--help")
        assert out.returncode == 0 and "Usage" in out.stdout, command


def test_stores_and_validate(small_demo, capsys):
    assert main(["stores", "--data-dir", str(small_demo)]) == 0
    assert main(["validate", "--data-dir", str(small_demo)]) == 0
    out = capsys.readouterr().out
    assert "demo-bangkok" in out and "demo-chiangmai" in out and "all tables match" in out


@pytest.mark.slow
def test_full_report_of_a_demo_store(small_demo, tmp_path):
    reports = tmp_path / "reports"
    out = run_cli("report", "--store", "demo-chiangmai", "--month", "2026-09",
                  "--data-dir", str(small_demo), "--reports-dir", str(reports))  # fmt: skip
    assert out.returncode == 0, out.stderr
    folder = reports / "demo-chiangmai" / "2026-09"
    sections = ["kpis", "cohorts", "clv", "segments", "loyalty_ab"]
    for name in sections:
        html = (folder / f"{name}.html").read_text(encoding="utf-8")
        body = re.sub(r"<style.*?</style>", "", html, flags=re.S)
        assert "Traceback" not in body and "Error" not in body and "Warning" not in body
        # code hidden: no highlighted source, no editor, none of the notebook's calls
        assert "hl-ipython3" not in body and "jp-CodeMirrorEditor" not in body
        assert "section_context(" not in html and "record_headlines(" not in html
        assert "data:image/png;base64" in html  # at least one chart, inline
        assert not re.search(r"<script[^>]+src=[\"']https?://", html)  # nothing from a CDN
        assert (folder / "executed" / f"{name}.ipynb").is_file()
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "ร้านเดโม่ เชียงใหม่" in index  # Thai display name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["params"]["store"] == "demo-chiangmai" and manifest["month"] == "2026-09"
    assert set(manifest["headlines"]) == {
        "kpis", "cohorts", "clv", "segments", "loyalty", "experiment",
    }  # fmt: skip
    assert manifest["headlines"]["kpis"]["orders"] > 0
    assert (reports / "index.html").is_file()


@pytest.mark.slow
def test_store_with_only_orders_renders_every_section(small_demo, tmp_path):
    import shutil

    only = tmp_path / "warehouse"
    (only / "orders").mkdir(parents=True)
    shutil.copy(
        small_demo / "orders" / "demo-bangkok.parquet", only / "orders" / "demo-bangkok.parquet"
    )
    reports = tmp_path / "reports"
    out = run_cli(
        "report", "--store", "demo-bangkok", "--data-dir", str(only), "--reports-dir", str(reports)
    )
    assert out.returncode == 0, out.stderr
    folder = next((reports / "demo-bangkok").iterdir())
    kpis = (folder / "kpis.html").read_text(encoding="utf-8")
    for table in ("sessions", "carts", "marketing_spend", "surveys", "loyalty_members"):
        assert re.search(rf"add (<code>)?{table}(</code>)? to the warehouse", kpis), table
    loyalty = re.sub(r"\s+", " ", (folder / "loyalty_ab.html").read_text(encoding="utf-8"))
    # a page of parts: each missing part says why in its place
    assert "<em>Not available:</em> no experiment data: add an experiments table" in loyalty
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["warnings"]) == {"loyalty_ab"}  # every other section renders
    assert "loyalty_ab: warning: no experiment data" in out.stderr
