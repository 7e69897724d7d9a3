"""Interrupted and killed report runs: exit codes, one line, nothing half-written, no leftovers.

The project here has the five section notebooks of a real report, small and
fast, except that ``cohorts`` sleeps: the test signals the ``analysis report``
process while that notebook runs, then checks the previously published report
byte for byte.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from analysis.report import SECTIONS, build_report
from analysis.report.publish import exchange, publish, remove_leftovers

from .helpers import KERNEL, MONTH, section_notebook, snapshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sleepy(project, tmp_path_factory) -> Path:
    """A copy of the tiny project whose five notebooks are the report's; cohorts sleeps."""
    root = tmp_path_factory.mktemp("sleepy")
    shutil.copytree(project / "params", root / "params")
    shutil.copytree(project / "data", root / "data")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for name in SECTIONS:
        code = "import time\ntime.sleep(120)\n" if name == "cohorts" else None
        nbformat.write(section_notebook(name, raise_code=code), notebooks / f"{name}.ipynb")
    build_report("shop-a", root=root, sections=("kpis",), kernel_name=KERNEL)
    return root


def run_and_signal(root: Path, sig: int) -> tuple[int, str, int]:
    """Start ``analysis report --store shop-a``, send ``sig`` once cohorts runs.

    Returns the exit code, the output and the run's process id. A run still going
    150 s after the signal (longer than the notebook's sleep) is killed and fails
    the test with its output, so that it cannot leave a folder behind for the next.
    """
    env = {**os.environ, "ANALYSIS_ROOT": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "analysis.cli", "report", "--store", "shop-a"],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = []
    deadline = time.monotonic() + 120
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if "cohorts running" in line or time.monotonic() > deadline:
            break
    # the kernel is inside time.sleep (it sleeps 120 s): a kernel slow to start on a busy
    # machine must have reached it before the signal, or nbclient reports a dead kernel
    time.sleep(8)
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the run did not stop after signal {sig}:\n{''.join(lines)}{err}{out}")
    return proc.returncode, "".join(lines) + err + out, proc.pid


@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [(signal.SIGINT, 130, "interrupted (Ctrl-C)"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
)
def test_signal_exits_with_its_code_and_changes_nothing(sleepy, sig, code, line):
    store_dir = sleepy / "reports" / "shop-a"
    before = snapshot(store_dir / MONTH)
    returncode, output, _pid = run_and_signal(sleepy, sig)
    assert returncode == code, output
    assert line in output and "Traceback" not in output
    assert snapshot(store_dir / MONTH) == before
    leftovers = [p.name for p in store_dir.iterdir() if p.name.startswith(f".{MONTH}.")]
    assert leftovers == []  # the run removed its own temporary folder


def test_killed_run_leaves_the_report_and_the_next_run_removes_its_folder(sleepy):
    store_dir = sleepy / "reports" / "shop-a"
    before = snapshot(store_dir / MONTH)
    returncode, _, pid = run_and_signal(sleepy, signal.SIGKILL)
    assert returncode == -signal.SIGKILL
    assert snapshot(store_dir / MONTH) == before
    (leftover,) = [p for p in store_dir.iterdir() if p.name.startswith(f".{MONTH}.tmp-{pid}-")]
    # nothing of the killed run in the system temp folder: its kernel connection file
    # was inside the run's own folder
    assert list(leftover.glob(".runtime/kernel-*.json"))
    messages: list[str] = []
    build_report(
        "shop-a", root=sleepy, sections=("kpis",), kernel_name=KERNEL, progress=messages.append
    )
    assert not leftover.exists()
    assert f"shop-a: removed {leftover.name}, left by a run that did not finish" in messages
    assert sorted(p.name for p in store_dir.iterdir()) == [".publish.lock", MONTH]


def test_leftovers_of_live_runs_are_kept(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(done.stdout)
    dead = tmp_path / f".2026-03.tmp-{dead_pid}-abc"
    old = tmp_path / f".2026-03.old-{dead_pid}-def"
    live = tmp_path / f".2026-03.tmp-{os.getpid()}-ghi"
    other = tmp_path / ".2026-03.tmp-notapid"
    for folder in (dead, old, live, other):
        folder.mkdir()
    assert sorted(remove_leftovers(tmp_path)) == sorted([dead, old])
    assert live.exists() and other.exists()


def test_publish_swaps_the_folders_in_one_step(tmp_path):
    final, new = tmp_path / MONTH, tmp_path / f".{MONTH}.tmp-1-x"
    final.mkdir()
    (final / "index.html").write_text("old")
    new.mkdir()
    (new / "index.html").write_text("new")
    publish(new, final)
    assert (final / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".publish.lock", MONTH]
    if sys.platform.startswith("linux"):  # renameat2(RENAME_EXCHANGE), no missing moment
        a, b = tmp_path / "a", tmp_path / "b"
        a.mkdir()
        b.mkdir()
        (a / "x").touch()
        assert exchange(a, b) and (b / "x").exists() and not (a / "x").exists()


def test_two_runs_of_one_month_leave_one_whole_report(sleepy):
    """Both runs publish (in turn, under the store's lock); the folder left is one
    run's complete report, never a mixture of two."""
    env = {**os.environ, "ANALYSIS_ROOT": str(sleepy)}
    code = (
        "import sys; from analysis.report import build_report; "
        f"build_report('shop-a', {MONTH!r}, {{'kpis.trend_months': int(sys.argv[1])}}, "
        f"sections=('kpis', 'segments'), kernel_name={KERNEL!r})"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(n)], cwd=sleepy, env=env) for n in (6, 7)
    ]
    assert [r.wait(timeout=300) for r in runs] == [0, 0]
    store_dir = sleepy / "reports" / "shop-a"
    assert sorted(p.name for p in store_dir.iterdir()) == [".publish.lock", MONTH]
    folder = store_dir / MONTH
    assert sorted(p.name for p in folder.glob("*.html")) == [
        "index.html", "kpis.html", "segments.html"
    ]  # fmt: skip
    import json

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    override = manifest["params"]["kpis"]["trend_months"]
    assert override in (6, 7)
    # every executed notebook in the folder is from the same run as the manifest
    for name in ("kpis", "segments"):
        nb = nbformat.read(folder / "executed" / f"{name}.ipynb", as_version=4)
        injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
        assert f'"trend_months": {override}' in injected.source, name
