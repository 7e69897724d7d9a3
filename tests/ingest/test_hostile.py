"""Hostile input that is generated, not committed (issue #14): big, odd or system-made files.

Every case is asserted like the corpus in test_bad_inputs.py: exit code 2, message
fragments naming file / column / row, no traceback, a byte-identical warehouse and no
temporary file left behind.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import pytest

from .helpers import Project, write
from .test_bad_inputs import GOOD


@pytest.fixture
def populated(project: Project, tmp_path) -> Project:
    good = write(tmp_path / "good.csv", GOOD)
    assert project.ingest("--store", "shop", good) == 0
    assert project.ingest("--store", "other", good) == 0
    return project


def refused(project: Project, capsys, args: list[str | Path], fragments: list[str]) -> str:
    """Run ingest with ``args``: exit 2, every fragment in the message, nothing changed."""
    capsys.readouterr()
    before = project.snapshot()
    code = project.ingest(*args)
    err = capsys.readouterr().err
    flat = " ".join(err.split())
    assert code == 2, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert " ".join(fragment.split()) in flat, f"{fragment!r} not in {err}"
    assert project.snapshot() == before
    assert not list(project.warehouse.rglob("*.tmp"))
    return flat


def test_a_directory_is_not_a_regular_file(populated: Project, tmp_path, capsys):
    folder = tmp_path / "orders.csv"
    folder.mkdir()
    refused(populated, capsys, ["--store", "shop", folder],
            [f"{folder}: not a regular file (a directory)"])  # fmt: skip


def test_a_fifo_is_not_a_regular_file(populated: Project, tmp_path, capsys):
    fifo = tmp_path / "orders.csv"
    os.mkfifo(fifo)
    refused(populated, capsys, ["--store", "shop", fifo],
            [f"{fifo}: not a regular file (a FIFO (named pipe))"])  # fmt: skip


def test_a_2_mb_header_name(populated: Project, tmp_path, capsys):
    path = tmp_path / "wide.csv"
    name = "x" * (2 * 2**20)
    path.write_text(f"order_id,{name},ordered_at,revenue\n1,c1,2024-01-05 10:00,1\n")
    flat = refused(populated, capsys, ["--store", "shop", path],
                   [f"{path}: line 1 (header) is longer than 1 MiB"])  # fmt: skip
    assert len(flat) < 2000  # the name is not printed


def test_a_long_header_name(populated: Project, tmp_path, capsys):
    path = tmp_path / "long.csv"
    path.write_text(f"order_id,{'y' * 300},ordered_at,revenue\n1,c1,2024-01-05 10:00,1\n")
    refused(populated, capsys, ["--store", "shop", path],
            [f"{path}: header: column name(s) longer than 256 characters",
             "column 2 (300 characters, 'yyyyyyyyyyyyyyyyyyyy'…)"])  # fmt: skip


@pytest.mark.parametrize("length", [65, 245, 300])
def test_a_store_id_too_long(populated: Project, tmp_path, capsys, length):
    good = write(tmp_path / "good.csv", GOOD)
    refused(populated, capsys, ["--store", "s" * length, good],
            ["a store id is at most 64 characters", f"({length:,} characters)"])  # fmt: skip
    assert sorted(p.name for p in (populated.root / "params" / "stores").iterdir()) == [
        "other.yaml",
        "shop.yaml",
    ]


def test_a_store_id_of_64_characters_is_fine(project: Project, tmp_path):
    good = write(tmp_path / "good.csv", GOOD)
    assert project.ingest("--store", "s" * 64, good) == 0
    assert [r[0] for r in project.rows("orders", "s" * 64)] == ["1001", "1002"]


def test_store_from_column_reserved_name_without_prefix(populated: Project, tmp_path, capsys):
    path = write(
        tmp_path / "split.csv",
        "order_id,customer_id,ordered_at,revenue,Country\n"
        "1,c1,2024-01-05 10:00,1,Thailand\n"
        "2,c2,2024-01-05 11:00,1,CON\n"
        "3,c3,2024-01-05 12:00,1,../../etc\n",
    )
    refused(populated, capsys, ["--store-from-column", "Country", path],
            ["split.csv: 2 of 3 rows rejected",
             "column 'Country': a reserved device name (CON, NUL, COM1, …) as a store id",
             "line 3: 'con'", "column 'Country': a path or control characters",
             "line 4: '../../etc'"])  # fmt: skip
    assert not (populated.warehouse / "orders" / "etc.parquet").exists()


def test_store_from_column_path_is_quarantined_not_rewritten(project: Project, tmp_path):
    path = write(
        tmp_path / "split.csv",
        "order_id,customer_id,ordered_at,revenue,Country\n"
        "1,c1,2024-01-05 10:00,1,Thailand\n"
        "2,c2,2024-01-05 11:00,1,../../etc\n",
    )
    assert project.ingest("--store-from-column", "Country", "--quarantine", path) == 0
    assert sorted(p.name for p in (project.warehouse / "orders").iterdir()) == ["thailand.parquet"]


def test_reserved_store_name(populated: Project, tmp_path, capsys):
    good = write(tmp_path / "good.csv", GOOD)
    refused(populated, capsys, ["--store", "nul", good],
            ["--store 'nul': a reserved device name on Windows"])  # fmt: skip


def test_currency_xxx_is_not_money(populated: Project, tmp_path, capsys):
    good = write(tmp_path / "good.csv", GOOD)
    refused(populated, capsys, ["--store", "new", "--currency", "XXX", good],
            ["currency XXX is not a currency a shop sells in"])  # fmt: skip
    assert not (populated.root / "params" / "stores" / "new.yaml").exists()


def test_store_zone_duckdb_does_not_know(populated: Project, tmp_path, capsys):
    good = write(tmp_path / "good.csv", GOOD)
    refused(populated, capsys, ["--store", "new", "--timezone", "posixrules", good],
            ["timezone: Value error, 'posixrules' is not an IANA time zone name"])  # fmt: skip
    assert not (populated.root / "params" / "stores" / "new.yaml").exists()


def test_read_only_warehouse(populated: Project, tmp_path, capsys, monkeypatch):
    good = write(tmp_path / "good.csv", GOOD.replace("1001", "1003"))
    table = populated.warehouse / "orders"
    real = os.access
    # as root, chmod does not stop writes: the check itself is what is tested
    monkeypatch.setattr(os, "access", lambda p, m, **k: Path(p) != table and real(p, m, **k))
    refused(populated, capsys, ["--store", "shop", good],
            [f"{table}: the warehouse folder is not writable, nothing written"])  # fmt: skip


def test_write_phase_os_error_is_a_clear_error(populated: Project, tmp_path, capsys, monkeypatch):
    from analysis.ingest import writer

    def fail(con, relation, order, path):
        Path(path).write_bytes(b"partial")
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(writer, "write_sorted", fail)
    good = write(tmp_path / "good.csv", GOOD.replace("1001", "1003"))
    refused(populated, capsys, ["--store", "shop", good],
            ["cannot write", "Permission denied", "nothing written"])  # fmt: skip


def test_quarantine_csv_is_inert(project: Project, tmp_path):
    path = write(
        tmp_path / "mixed.csv",
        "order_id,customer_id,ordered_at,revenue\n"
        "1,a,2024-01-05 10:00,10\n"
        "2,-1+1+cmd|' /C calc'!A0,2024-01-05 11:00,20\n"
        '3,b,2024-01-05 12:00,-1+HYPERLINK("http://x")\n'
        "4,+66 81 234 5678,2024-01-05 13:00,5\n",
    )
    assert project.ingest("--store", "shop", "--quarantine", path) == 0
    [rejected_file] = (project.root / "data" / "rejected" / "shop").iterdir()
    with rejected_file.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["line"] for r in rows] == ["3", "4"]  # lines 3 and 4 hold rows 2 and 3
    assert rows[0]["customer_id"] == "'-1+1+cmd|' /C calc'!A0"
    assert rows[1]["revenue"] == '\'-1+HYPERLINK("http://x")'
    # every cell of the file is inert: nothing starts with = + - @ tab CR unless a plain number
    import re

    from analysis.ingest.checks import FORMULA_START, PLAIN_NUMBER

    for row in rows:
        for cell in row.values():
            assert not (re.match(FORMULA_START, cell) and not re.match(PLAIN_NUMBER, cell)), cell
    # a plain signed number or phone number is loaded as it was written
    columns = project.columns("orders", "shop")
    got = [dict(zip(columns, r, strict=True)) for r in project.rows("orders", "shop")]
    assert [(r["order_id"], r["customer_id"]) for r in got] == [
        ("1", "a"),
        ("4", "+66 81 234 5678"),
    ]


def test_formula_header_is_inert_in_the_quarantine_csv(project: Project, tmp_path):
    project.store_params("shop", "ingest:\n  tables:\n    orders:\n"
                         "      columns: {'=cmd|x': customer_id}\n")  # fmt: skip
    path = write(
        tmp_path / "h.csv",
        "order_id,=cmd|x,ordered_at,revenue\n1,a,2024-01-05 10:00,10\n2,b,2099-01-01 00:00,1\n",
    )
    assert project.ingest("--store", "shop", "--quarantine", path) == 0
    [rejected_file] = (project.root / "data" / "rejected" / "shop").iterdir()
    header = rejected_file.read_text(encoding="utf-8").splitlines()[0]
    # the file's own column name, and the label of the --store column, start with = and -
    assert header == "line,reason,'--store,order_id,'=cmd|x,ordered_at,revenue,status"


def _xlsx(path: Path, rows: list[list[object]], long_cell: int = 0) -> Path:
    """A workbook of ``rows``; the cell ``LONG`` becomes ``long_cell`` z's.

    openpyxl cuts text at 32,767 characters when it writes, so a longer cell is put
    into the sheet's XML afterwards, as a hostile file would have it.
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Orders"
    for row in rows:
        sheet.append(row)
    book.save(path)
    if long_cell:
        with zipfile.ZipFile(path) as archive:
            parts = {i.filename: archive.read(i) for i in archive.infolist()}
        sheet_xml = "xl/worksheets/sheet1.xml"
        assert parts[sheet_xml].count(b">LONG<") == 1
        parts[sheet_xml] = parts[sheet_xml].replace(b">LONG<", b">" + b"z" * long_cell + b"<")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
    return path


ROWS = [
    ["order_id", "customer_id", "ordered_at", "revenue"],
    ["1", "c1", "2024-01-05 10:00", 10],
    ["2", "c2", "2024-01-05 11:00", 20],
    ["3", "c3", "2024-01-05 12:00", 30],
]


def test_workbook_unpacking_beyond_the_cap(populated: Project, tmp_path, capsys):
    path = _xlsx(tmp_path / "bomb.xlsx", ROWS)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/pad.bin", b"\0" * (3 * 2**20))  # 3 MiB of zeros, ~3 KB packed
    assert path.stat().st_size < 100_000
    populated.store_params("shop", "ingest:\n  max_workbook_mib: 2\n")
    refused(populated, capsys, ["--store", "shop", path],
            ["bomb.xlsx: unpacks to 3 MiB", "above ingest.max_workbook_mib (2 MiB)",
             "nothing written"])  # fmt: skip


def test_workbook_cell_longer_than_the_xml_scan_allows(populated: Project, tmp_path, capsys):
    # 32,767 × 6 bytes is the longest a cell's text can be in the XML: found before openpyxl
    rows = [*ROWS[:2], ["2", "LONG", "2024-01-05 11:00", 20]]
    path = _xlsx(tmp_path / "long.xlsx", rows, long_cell=200_000)
    refused(populated, capsys, ["--store", "shop", path],
            ["long.xlsx: cell B3 of xl/worksheets/sheet1.xml is longer than 32,767 characters",
             "ingest.max_cell_chars"])  # fmt: skip


def test_workbook_cell_longer_than_max_cell_chars(populated: Project, tmp_path, capsys):
    rows = [*ROWS[:2], ["2", "LONG", "2024-01-05 11:00", 20]]
    path = _xlsx(tmp_path / "long.xlsx", rows, long_cell=40_000)
    refused(populated, capsys, ["--store", "shop", path],
            ["long.xlsx: sheet 'Orders' row 3 column 'customer_id' (B): a cell of 40,000 "
             "characters, above ingest.max_cell_chars (32,767)"])  # fmt: skip


def test_workbook_rows_beyond_max_rows(populated: Project, tmp_path, capsys):
    path = _xlsx(tmp_path / "many.xlsx", ROWS)
    populated.store_params("shop", "ingest:\n  max_rows: 2\n")
    refused(populated, capsys, ["--store", "shop", path],
            ["many.xlsx: more than 2 data rows (at sheet 'Orders' row 4)",
             "above ingest.max_rows"])  # fmt: skip


def test_workbook_within_the_limits_is_read(project: Project, tmp_path):
    # the longest cell is '2024-01-05 10:00' (16 characters)
    project.store_params("shop", "ingest:\n  max_rows: 3\n  max_cell_chars: 16\n")
    path = _xlsx(tmp_path / "ok.xlsx", ROWS)
    assert project.ingest("--store", "shop", path) == 0
    assert [r[0] for r in project.rows("orders", "shop")] == ["1", "2", "3"]


def test_workbook_limits_are_params_with_unknown_keys_still_refused(project: Project, tmp_path):
    from analysis.config import load_params
    from analysis.errors import ConfigError

    project.store_params("shop", "ingest:\n  max_rowz: 3\n")
    with pytest.raises(ConfigError, match="max_rowz"):
        load_params("shop")
    project.store_params("shop", "ingest:\n  max_rows: 0\n")
    with pytest.raises(ConfigError, match="max_rows"):
        load_params("shop")


def _dead_pid() -> int:
    """A pid no process has now (the highest ones are free on a test machine)."""
    for pid in range(4_194_000, 4_000_000, -1):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue
    raise AssertionError("no free pid found")


def test_temp_files_of_dead_ingests_are_removed(populated: Project, tmp_path, capsys):
    dead, live = _dead_pid(), os.getppid()
    orders = populated.warehouse / "orders"
    stale = orders / f".shop.parquet.{dead}.tmp"
    running = orders / f".other.parquet.{live}.tmp"
    stale_yaml = populated.root / "params" / "stores" / f".shop.yaml.{dead}.tmp"
    for path in (stale, running, stale_yaml):
        path.write_bytes(b"PAR1 partial")
    # readers never take a temp file for data
    from analysis.warehouse import StoreWarehouse

    store = StoreWarehouse(populated.warehouse, "shop", "Asia/Bangkok")
    assert store.table("orders").select("order_id").collect().shape[0] == 2
    good = write(
        tmp_path / "more.csv", GOOD.replace("1001", "1003").replace("2024-01-05", "2024-02-05")
    )
    capsys.readouterr()
    assert populated.ingest("--store", "shop", good) == 0
    assert (
        "removed 2 temporary file(s) left by an ingest that did not finish"
        in capsys.readouterr().err
    )
    assert not stale.exists() and not stale_yaml.exists()
    assert running.exists()  # its ingest may still be writing


def test_scratch_folders_of_dead_ingests_are_removed(project: Project, tmp_path, monkeypatch):
    import tempfile

    system_tmp = tmp_path / "systmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    dead = system_tmp / f"analysis-ingest-{_dead_pid()}-abc"
    (dead / "spill").mkdir(parents=True)
    (dead / "orders.utf8.csv").write_text("x")
    live = system_tmp / f"analysis-ingest-{os.getppid()}-def"
    live.mkdir()
    other = system_tmp / "ingest-123-xyz"  # not ours by name
    other.mkdir()
    assert project.ingest("--store", "shop", write(tmp_path / "g.csv", GOOD)) == 0
    assert sorted(p.name for p in system_tmp.iterdir()) == sorted([live.name, other.name])
