"""One ingest run: read every file with its adapter, validate, then merge and write once.

Nothing is written until every file of the run has been read and checked: a
strict run that finds one bad row raises before the warehouse is opened for
writing, so the warehouse stays byte-identical. The run's parts live beside it:
:mod:`~analysis.ingest.context` (what adapters use), :mod:`~analysis.ingest.store_params`
(option checks, a new store's params file), :mod:`~analysis.ingest.sweeps`
(leftovers, the lock) and :mod:`~analysis.ingest.reporting` (log, rejected rows).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from analysis.config import Params, load_params, project_root
from analysis.errors import ConfigError
from analysis.ingest.context import Adapter, Context, FileResult, Progress
from analysis.ingest.reporting import log_entries, write_rejected, writes_of
from analysis.ingest.sources import check_regular_file, count_rows, quote_literal
from analysis.ingest.store_params import (
    check_currency_code,
    check_store_file,
    check_store_id,
    check_writable,
    check_zone,
    stage_store_file,
    store_file_says,
    stores_to_create,
)
from analysis.ingest.sweeps import (
    LOCK_NAME,
    SCRATCH_PREFIX,
    sweep_scratch,
    sweep_temp_files,
    warehouse_lock,
    write_errors,
)
from analysis.ingest.writer import StoreWrite, append_log, commit, discard, merge
from analysis.schema import TABLES

__all__ = ["FORMATS", "LOCK_NAME", "IngestReport", "QueryWatcher", "ingest"]

Bar = Callable[[float | None], None]
"""Receives the running query's percentage done, or None when no long query runs."""

FORMATS = ("mapped", "shopify", "online-retail", "cdnow")
"""Source formats ``analysis ingest --format`` accepts."""

INGEST_MEMORY_LIMIT = os.environ.get("ANALYSIS_INGEST_MEMORY", "2GB")
"""DuckDB's memory limit for an ingest run (``$ANALYSIS_INGEST_MEMORY``); the rest spills."""


@dataclass
class IngestReport:
    """The outcome of :func:`ingest`."""

    writes: list[StoreWrite]
    files: list[dict[str, Any]]
    rejected_files: list[Path]
    seconds: float
    skipped: bool = False
    created: list[Path] = field(default_factory=list)
    """Store params files this run wrote (new stores)."""


class QueryWatcher:
    """Report the progress of long DuckDB queries (reading, checking, sorting) to ``bar``.

    DuckDB's own bar prints to stdout; it is switched off and a thread polls
    ``query_progress()`` instead, so the caller draws the bar (on stderr).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, bar: Bar, interval: float = 0.25) -> None:
        self.con, self.bar, self.interval = con, bar, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="ingest-progress", daemon=True)

    def __enter__(self) -> QueryWatcher:
        self.con.execute("SET enable_progress_bar = true")
        self.con.execute("SET enable_progress_bar_print = false")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.bar(None)

    def _poll(self) -> None:
        shown = False
        while not self._stop.wait(self.interval):
            try:
                done = self.con.query_progress()
            except duckdb.Error:  # connection busy closing
                done = -1.0
            if done >= 0:
                self.bar(min(float(done), 100.0))
                shown = True
            elif shown:
                self.bar(None)
                shown = False


def _adapter(fmt: str) -> Adapter:
    if fmt == "mapped":
        from analysis.ingest.mapped import read_mapped

        return read_mapped
    if fmt == "shopify":
        from analysis.ingest.shopify import read_shopify

        return read_shopify
    if fmt == "online-retail":
        from analysis.ingest.online_retail import read_online_retail

        return read_online_retail
    if fmt == "cdnow":
        from analysis.ingest.cdnow import read_cdnow

        return read_cdnow
    raise ConfigError(f"unknown ingest format {fmt!r}", hint=f"formats: {', '.join(FORMATS)}")


def ingest(
    files: list[Path],
    *,
    fmt: str,
    store: str | None = None,
    table: str = "orders",
    quarantine: bool = False,
    store_from_column: str | None = None,
    overrides: dict[str, Any] | None = None,
    root: Path | None = None,
    data_dir: Path | None = None,
    if_missing: bool = False,
    progress: Progress | None = None,
    bar: Bar | None = None,
    currency: str | None = None,
    timezone: str | None = None,
    sheet: str | None = None,
) -> IngestReport:
    """Ingest export files of one format into the warehouse.

    Parameters
    ----------
    files
        Export files; ``cdnow`` without files reads the master file shipped in
        the ``lifetimes`` package.
    fmt
        One of :data:`FORMATS`.
    store
        Store id (``cdnow`` defaults to ``cdnow``); with ``store_from_column``
        a prefix of the derived ids.
    table
        Canonical table a ``mapped`` file feeds.
    quarantine
        Load the valid rows and write the rejected ones with a reason to
        ``data/rejected/<store>/``; default: any bad row rejects the run.
    store_from_column
        Split rows into stores by a slug of this column (``Country``).
    overrides
        Params overrides (``{"ingest.encoding": "cp874"}``).
    root
        Project folder (params); default :func:`analysis.config.project_root`.
    data_dir
        Warehouse folder; default the params' ``data_dir``.
    if_missing
        Do nothing when the store already has orders.
    progress
        Called with one-line status messages.
    bar
        Called about four times a second with the percentage done of the
        running DuckDB query (None between queries): progress for large files.
    currency, timezone
        The store's currency (ISO 4217) and IANA zone. A store this run creates
        (no ``params/stores/<store>.yaml`` yet) gets that file, with these and
        every override; an existing store file that says otherwise is an error.
    sheet
        Read only this sheet of a workbook (default: every visible sheet with
        the first one's header).

    Raises
    ------
    DataError
        A file breaks the contract; nothing was written.
    ConfigError
        Bad options or params.
    """
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    store = _check_options(fmt, table, store, store_from_column)
    root = Path(root).resolve() if root is not None else project_root()
    layered = _layered(overrides, currency, timezone, data_dir)
    params = _checked_params(store, store_from_column, layered, root)
    warehouse = params.warehouse_path(root)
    if isinstance(warehouse, str):
        raise ConfigError(
            f"ingest writes a local warehouse folder; data_dir is {warehouse}",
            hint="ingest into a local folder (--data-dir), then copy it to the lakehouse",
        )
    check_writable(warehouse)
    if if_missing and store is not None and (warehouse / "orders" / f"{store}.parquet").is_file():
        say(f"store {store} already has orders in {warehouse}")
        return IngestReport([], [], [], time.perf_counter() - started, skipped=True)
    paths = _input_paths(fmt, files)
    adapter = _adapter(fmt)
    timezone_of = _zone_lookup(layered, root)

    sweep_scratch(say)
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as tmp:
        con = _connect(Path(tmp))
        ctx = Context(con, params, store, table, store_from_column, quarantine, Path(tmp), say)
        ctx.sheet = sheet
        with QueryWatcher(con, bar) if bar else contextlib.nullcontext():
            results = _read_files(ctx, adapter, paths)
            done = _write_run(
                ctx, results, warehouse, fmt, layered, root, timezone_of,
                new_store=None if store_from_column else store,
            )  # fmt: skip
    return IngestReport(
        writes_of(done.planned),
        done.entries,
        done.rejected_files,
        time.perf_counter() - started,
        created=[t for t, _ in done.staged],
    )


def _check_options(
    fmt: str, table: str, store: str | None, store_from_column: str | None
) -> str | None:
    """Refuse bad ``--format``/``--table``/``--store`` combinations; the store to ingest into.

    ``cdnow`` without ``--store`` ingests into store ``cdnow``.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown ingest format {fmt!r}", hint=f"formats: {', '.join(FORMATS)}")
    if table not in TABLES:
        raise ConfigError(f"unknown table {table!r}", hint=f"tables: {', '.join(TABLES)}")
    if fmt != "mapped" and table != "orders":
        raise ConfigError(f"--table applies to --format mapped only (got {fmt})")
    if fmt == "cdnow" and store is None:
        store = "cdnow"
    if store is not None:
        check_store_id(store, "--store" if store_from_column is None else "--store (prefix)")
    elif store_from_column is None and fmt != "mapped":
        raise ConfigError("ingest needs --store (or --store-from-column)")
    return store


def _layered(
    overrides: dict[str, Any] | None,
    currency: str | None,
    timezone: str | None,
    data_dir: Path | None,
) -> dict[str, Any]:
    """The run's params overrides: ``--set`` plus ``--currency``/``--timezone`` and ``data_dir``."""
    layered = dict(overrides or {})
    for key, value in (("currency", currency), ("timezone", timezone)):
        if value is not None:
            if key in layered and layered[key] != value:
                raise ConfigError(f"--{key} {value} and --set {key}={layered[key]} disagree")
            layered[key] = value
    if data_dir is not None:
        layered["data_dir"] = str(Path(data_dir).resolve())
    return layered


def _checked_params(
    store: str | None, store_from_column: str | None, layered: dict[str, Any], root: Path
) -> Params:
    """The store's params with the overrides, once its file, currency and zones are checked."""
    params = load_params(store or "default", layered, root=root)
    if store is not None and store_from_column is None:
        check_store_file(store, layered, root)
    if params.ingest.currency is not None and params.ingest.currency != params.currency:
        raise ConfigError(
            f"ingest.currency is {params.ingest.currency} but the store's currency is "
            f"{params.currency}; ingest does not convert currencies",
            hint="convert the file first, or set currency in params/stores/<store>.yaml",
        )
    check_currency_code(params.currency)
    for key, zone in (("timezone", params.timezone), ("ingest.timezone", params.ingest.timezone)):
        if zone is not None:
            check_zone(zone, key)
    return params


def _input_paths(fmt: str, files: list[Path]) -> list[Path]:
    """The files to read (cdnow's shipped master file when none), each a regular file."""
    paths = [Path(f) for f in files]
    if not paths:
        if fmt != "cdnow":
            raise ConfigError(f"--format {fmt} needs at least one file")
        from analysis.compat import lifetimes_dataset_path

        paths = [lifetimes_dataset_path("CDNOW_master.txt")]
    for path in paths:
        check_regular_file(path)
    return paths


def _zone_lookup(layered: dict[str, Any], root: Path) -> Callable[[str], str]:
    """A store's time zone by name (its params with the run's overrides), looked up once."""
    zones: dict[str, str] = {}

    def timezone_of(name: str) -> str:
        if name not in zones:
            zones[name] = load_params(name, layered, root=root).timezone
        return zones[name]

    return timezone_of


def _connect(tmp: Path) -> duckdb.DuckDBPyConnection:
    """The run's DuckDB connection: UTC, no printed bar, spilling into the run's scratch."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar_print = false")  # DuckDB's own bar goes to stdout
    # spill into the run's scratch folder, not ./.tmp
    con.execute(f"SET temp_directory = {quote_literal(str(tmp / 'spill'))}")
    # Staged rows beyond this go to the scratch folder: a file of any size is read,
    # checked and written in bounded memory.
    con.execute(f"SET memory_limit = {quote_literal(INGEST_MEMORY_LIMIT)}")
    return con


def _read_files(ctx: Context, adapter: Adapter, paths: list[Path]) -> list[FileResult]:
    """Every file through its adapter, with the notes the context took for it."""
    results = [adapter(ctx, path) for path in paths]
    for r in results:
        r.notes = {**ctx.notes.get(r.path, {}), **r.notes}
    return results


@dataclass
class _Written:
    """What the write step did: the planned writes, log entries, rejected files, store files."""

    planned: list[tuple[StoreWrite, Path]]
    entries: list[dict[str, Any]]
    rejected_files: list[Path]
    staged: list[tuple[Path, Path]]


def _write_run(
    ctx: Context,
    results: list[FileResult],
    warehouse: Path,
    fmt: str,
    layered: dict[str, Any],
    root: Path,
    timezone_of: Callable[[str], str],
    *,
    new_store: str | None,
) -> _Written:
    """Merge every batch, write rejected rows and new store files, commit, log: all or nothing.

    ``new_store`` is the run's own store (None when split by a column), created
    with a params file if it has none.
    """
    con, say = ctx.con, ctx.progress
    batches = [b for r in results for b in r.batches]
    new_stores = stores_to_create(con, batches, layered, root, new_store)
    written = [
        {b.table: count_rows(con, b.relation) for b in r.batches} for r in results
    ]  # before merge, which drops the batches
    with write_errors(), warehouse_lock(warehouse, say):
        sweep_temp_files(warehouse, root, say)
        planned = merge(con, warehouse, batches, timezone_of, say)
        staged: list[tuple[Path, Path]] = []
        try:
            rejected_files = write_rejected(con, warehouse, ctx.store, results)
            entries = log_entries(fmt, results, written, writes_of(planned))
            for name in new_stores:
                staged.append(stage_store_file(name, layered, root))
            commit(planned)
        except BaseException:
            discard(planned)
            for _target, temp in staged:
                temp.unlink(missing_ok=True)
            raise
        for target, temp in staged:
            os.replace(temp, target)
            say(f"created {target} for the new store: {store_file_says(target, layered)}")
        append_log(warehouse, entries)
    return _Written(planned, entries, rejected_files, staged)
