"""The `ingest` command: help, option errors, --if-missing."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from .helpers import ROOT, Project, write


def test_help_lists_the_formats():
    out = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "ingest", "--help"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0
    for word in ("mapped", "shopify", "online-retail", "cdnow", "--quarantine", "--table"):
        assert word in out.stdout


def test_option_errors_exit_2(project: Project, tmp_path, capsys):
    path = write(tmp_path / "o.csv", "order_id,customer_id,ordered_at,revenue\n1,a,2024-01-01,5\n")
    assert project.ingest(path) == 2
    assert "ingest needs --store" in capsys.readouterr().err
    assert project.ingest("--store", "Bad/Name", path) == 2
    assert "invalid store name" in capsys.readouterr().err
    assert project.ingest("--store", "shop", "--format", "csv", path) == 2
    assert "unknown ingest format 'csv'" in capsys.readouterr().err
    assert project.ingest("--store", "shop", "--table", "nope", path) == 2
    assert "unknown table 'nope'" in capsys.readouterr().err
    assert project.ingest("--store", "shop", tmp_path / "absent.csv") == 2
    assert "absent.csv: no such file" in capsys.readouterr().err
    project.store_params("shop", "ingest:\n  tables:\n    orders:\n      columns: {No: order_no}\n")
    assert project.ingest("--store", "shop", path) == 2
    assert "source column False is not text" in capsys.readouterr().err  # YAML read No as false
    project.store_params(
        "shop", "ingest:\n  tables:\n    orders:\n      columns: {'No': order_no}\n"
    )
    assert project.ingest("--store", "shop", path) == 2
    assert "'No' maps to 'order_no', which is not a column of orders" in capsys.readouterr().err
    assert not (project.warehouse / "orders").exists()


def test_if_missing_leaves_an_existing_store_alone(project: Project, tmp_path, capsys):
    first = write(tmp_path / "a.csv", "order_id,customer_id,ordered_at,revenue\n1,a,2024-01-01,5\n")
    second = write(
        tmp_path / "b.csv", "order_id,customer_id,ordered_at,revenue\n2,b,2024-01-01,7\n"
    )
    assert project.ingest("--store", "shop", first) == 0
    assert project.ingest("--store", "shop", "--if-missing", second) == 0
    assert "already has orders" in capsys.readouterr().out
    assert [r[0] for r in project.rows("orders", "shop")] == ["1"]


def test_query_watcher_reports_long_queries_then_clears():
    import threading

    from analysis.ingest.run import QueryWatcher

    class Con:
        """Stands in for a DuckDB connection: a query at 10 %, 60 %, then idle."""

        def __init__(self):
            self.values = iter([10.0, 60.0, -1.0])
            self.settings = []
            self.idle = threading.Event()

        def execute(self, sql):
            self.settings.append(sql)

        def query_progress(self):
            value = next(self.values, -1.0)
            if value < 0:
                self.idle.set()
            return value

    seen = []
    con = Con()
    with QueryWatcher(con, seen.append, interval=0.01):
        assert con.idle.wait(5)
    assert seen[:3] == [10.0, 60.0, None] and seen[-1] is None
    assert "SET enable_progress_bar_print = false" in con.settings


def test_progress_lines_go_to_stderr_and_stdout_stays_clean(project: Project, tmp_path, capsys):
    path = write(tmp_path / "o.csv", "order_id,customer_id,ordered_at,revenue\n1,a,2024-01-01,5\n")
    assert project.ingest("--store", "shop", path) == 0
    out, err = capsys.readouterr()
    assert "reading o.csv" in err and "writing orders/shop.parquet (1 rows)" in err
    assert "reading" not in out and "Ingested" in out


def test_help_lists_currency_timezone_and_sheet():
    out = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "ingest", "--help"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    for word in ("--currency", "--timezone", "--sheet"):
        assert word in out.stdout


def test_set_keys_give_a_new_store_its_params_file(project: Project, tmp_path, capsys):
    # what `make ingest STORE=uk SET="currency=GBP timezone=Europe/London …"` runs
    path = write(
        tmp_path / "o.csv", "order_id,customer_id,ordered_at,revenue\n1,a,5/1/2024 10:00,5\n"
    )
    code = project.ingest("--store", "uk", "--set", "currency=GBP", "--set",
                          "timezone=Europe/London", "--set", "ingest.date_format=%d/%m/%Y %H:%M",
                          path)  # fmt: skip
    assert code == 0
    text = (project.root / "params" / "stores" / "uk.yaml").read_text(encoding="utf-8")
    assert text.endswith(
        "currency: GBP\ntimezone: Europe/London\ningest:\n  date_format: '%d/%m/%Y %H:%M'\n"
    )
    # 5 January 10:00 London (GMT) = 10:00 UTC: the naive time was read in the store's zone
    assert project.rows("orders", "uk")[0][3] == dt.datetime(2024, 1, 5, 10, 0, tzinfo=dt.UTC)
    assert "created" in capsys.readouterr().out
    # the store now exists: another zone is refused, the same one is fine
    assert project.ingest("--store", "uk", "--timezone", "Asia/Bangkok", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "store uk has timezone Europe/London" in err and "says Asia/Bangkok" in err
    assert project.ingest("--store", "uk", "--timezone", "Europe/London", path) == 0
    assert project.ingest("--store", "uk", "--currency", "GBP", "--set", "currency=EUR", path) == 2
    assert "--currency GBP and --set currency=EUR disagree" in capsys.readouterr().err
