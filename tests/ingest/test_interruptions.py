"""Interrupted and killed ingests: exit codes 130/143, one line, the warehouse byte-identical,
and nothing left over once the next run has started.

A store already holds a small ingest; a second, bigger file (generated here, about
40 MB) is ingested in a subprocess and signalled when its status line says it is
reading or writing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from .helpers import Project, write

pytestmark = pytest.mark.slow

ROWS = 1_000_000


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "orders.csv"
    duckdb.sql(
        "COPY (SELECT 'b' || i AS order_id, 'c' || (i % 50000) AS customer_id, "
        "TIMESTAMP '2024-01-01' + INTERVAL (i * 37 % 60000000) SECOND AS ordered_at, "
        f"(i % 1000) / 10.0 AS revenue FROM range({ROWS}) t(i)) TO '{path}' (HEADER)"
    )
    return path


def ingest_and_signal(project: Project, csv: Path, when: str, sig: int) -> tuple[int, str]:
    """Run ``analysis ingest`` on ``csv``; send ``sig`` once a status line starts with ``when``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "analysis.cli", "ingest", "--store", "shop", str(csv)],
        cwd=project.root,
        env={**os.environ, "ANALYSIS_ROOT": str(project.root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen, deadline = [], time.monotonic() + 120
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(when) or time.monotonic() > deadline:
            break
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, "".join(seen) + err + out


@pytest.mark.parametrize("phase", ["reading", "writing"])
@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [
        (signal.SIGINT, 130, "interrupted (Ctrl-C)"),
        (signal.SIGTERM, 143, "terminated (SIGTERM)"),
        (signal.SIGKILL, -signal.SIGKILL, None),
    ],
)
def test_stopped_ingest_changes_nothing(project, big_csv, tmp_path, phase, sig, code, line):
    small = write(tmp_path / "small.csv", "order_id,customer_id,ordered_at,revenue\n"
                  "1,c1,2024-01-05 10:00,100\n2,c2,2024-01-06 11:00,50\n")  # fmt: skip
    assert project.ingest("--store", "shop", "--currency", "THB", small) == 0
    before = project.snapshot()
    returncode, output = ingest_and_signal(project, big_csv, phase, sig)
    if returncode == 0:  # the run finished before the signal arrived: nothing to test
        pytest.skip(f"the ingest finished before the signal ({phase})")
    assert returncode == code, output
    if line is not None:
        assert line in output and "Traceback" not in output
        after = project.snapshot()
        assert after == before  # a run that stops itself leaves nothing behind
    else:
        # SIGKILL: the data is untouched; a temporary file may be left ...
        kept = {k: v for k, v in project.snapshot().items() if ".tmp" not in k}
        assert kept == before
    # ... and the next run removes it (its process is dead) and ingests normally
    assert project.ingest("--store", "shop", small) == 0
    leftovers = [p for p in project.warehouse.rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    data = {k: v for k, v in before.items() if k != "_ingest_log.jsonl"}
    now = {k: v for k, v in project.snapshot().items() if k != "_ingest_log.jsonl"}
    assert now == data  # re-ingesting the same file changes no data (the log gains a line)
