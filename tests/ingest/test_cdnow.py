"""`--format cdnow`: the files shipped in lifetimes, checked against a plain-Python reading."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from analysis.compat import lifetimes_dataset_path

from .helpers import ROOT, Project, write


def parse_master(path: Path) -> list[tuple[str, str, int, float]]:
    """Independent reading: split each data line on whitespace."""
    out = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0].isdigit():
            out.append((parts[0], parts[-3], int(parts[-2]), float(parts[-1])))
    return out


@pytest.fixture
def cdnow_project(project: Project) -> Project:
    (project.root / "params" / "stores" / "cdnow.yaml").write_text(
        (ROOT / "params" / "stores" / "cdnow.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return project


def test_shipped_master_file(cdnow_project: Project):
    expected = parse_master(lifetimes_dataset_path("CDNOW_master.txt"))
    assert cdnow_project.ingest("--format", "cdnow") == 0
    rows = cdnow_project.rows("orders", "cdnow")
    assert len(rows) == len(expected) == 69_659
    assert len({r[2] for r in rows}) == len({e[0] for e in expected}) == 23_570
    assert sum(r[4] for r in rows) == pytest.approx(sum(e[3] for e in expected), abs=1e-6)
    assert sum(r[5] for r in rows) == sum(e[2] for e in expected)
    # same customer, same day: numbered in file order
    twice = [k for k, n in Counter((e[0], e[1]) for e in expected).items() if n > 1]
    assert twice
    customer, day = twice[0]
    ids = sorted(r[0] for r in rows if r[2] == customer and r[0].startswith(f"{customer}-{day}-"))
    assert ids == [f"{customer}-{day}-1", f"{customer}-{day}-2"][: len(ids)] and len(ids) >= 2
    assert len({r[0] for r in rows}) == len(rows)


def test_midnight_in_new_york(cdnow_project: Project, tmp_path):
    # The sample layout: a second id column. 1 Jan is EST (UTC-5), 1 Jul is EDT (UTC-4).
    path = write(
        tmp_path / "CDNOW_sample.txt",
        " 00004 0001 19970101  2   29.33\n 00004 0001 19970701  1   14.96\n"
        " 00004 0001 19970701  1    5.00\n",
    )
    assert cdnow_project.ingest("--format", "cdnow", path) == 0
    rows = cdnow_project.rows("orders", "cdnow", "order_id")
    assert rows == [
        ("00004-19970101-1", "cdnow", "00004", dt.datetime(1997, 1, 1, 5, tzinfo=dt.UTC),
         29.33, 2, "completed"),
        ("00004-19970701-1", "cdnow", "00004", dt.datetime(1997, 7, 1, 4, tzinfo=dt.UTC),
         14.96, 1, "completed"),
        ("00004-19970701-2", "cdnow", "00004", dt.datetime(1997, 7, 1, 4, tzinfo=dt.UTC),
         5.0, 1, "completed"),
    ]  # fmt: skip


def test_bad_cdnow_line_names_it(cdnow_project: Project, tmp_path, capsys):
    path = write(tmp_path / "c.txt", " 00001 19970101  1   11.77\n 00002 19971301  1   12.00\n")
    assert cdnow_project.ingest("--format", "cdnow", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "column 'date': not a date/time in format ['%Y%m%d']" in err and "line 2: '19971301'" in err
    )
