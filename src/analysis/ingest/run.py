"""One ingest run: read every file with its adapter, validate, then merge and write once.

Nothing is written until every file of the run has been read and checked: a
strict run that finds one bad row raises before the warehouse is opened for
writing, so the warehouse stays byte-identical.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from analysis.config import Params, load_params, project_root, validate_store_name
from analysis.errors import ConfigError, DataError
from analysis.ingest.checks import (
    FORMULA_PATTERN,
    Check,
    Field,
    Outcome,
    Stage,
    build_stage,
    contract_checks,
    ident,
    slug_sql,
    split,
    value_checks,
)
from analysis.ingest.sources import Source, quote_literal, read_source
from analysis.ingest.writer import Batch, StoreWrite, append_log, commit, discard, merge
from analysis.schema import TABLES
from analysis.warehouse import file_sha256

Progress = Callable[[str], None]
Bar = Callable[[float | None], None]
"""Receives the running query's percentage done, or None when no long query runs."""

LOCK_NAME = ".ingest.lock"
"""Lock file in the warehouse folder, held while an ingest merges and writes."""

FORMATS = ("mapped", "shopify", "online-retail", "cdnow")
"""Source formats ``analysis ingest --format`` accepts."""


@dataclass
class Rejected:
    """Rows of one file set aside by ``--quarantine`` (a temp table with ``__reason``)."""

    table: str
    relation: str
    columns: list[tuple[str, str]]
    where: str
    stage: str


@dataclass
class FileResult:
    """What an adapter made of one file."""

    path: Path
    rows_in: int
    batches: list[Batch] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    rejected_rows: int = 0


@dataclass
class Context:
    """Everything an adapter needs: the connection, params and the run's options."""

    con: duckdb.DuckDBPyConnection
    params: Params
    store: str | None
    table: str
    store_from_column: str | None
    quarantine: bool
    scratch: Path
    progress: Progress
    _n: int = 0
    file_store_field: Field | None = None

    def name(self, prefix: str) -> str:
        """A fresh temp-table name."""
        self._n += 1
        return f"{prefix}_{self._n}"

    @property
    def source_timezone(self) -> str:
        """Zone of timestamps without an offset: ``ingest.timezone``, else the store's."""
        return self.params.ingest.timezone or self.params.timezone

    def read(self, path: Path) -> Source:
        """Read ``path`` with the store's encoding and delimiter; handle structural rejects."""
        size = path.stat().st_size if path.is_file() else 0
        self.progress(f"reading {path.name} ({size / 2**20:,.1f} MiB)")
        started = time.perf_counter()
        source = read_source(
            self.con,
            path,
            self.name("src"),
            encoding=self.params.ingest.encoding,
            delimiter=self.params.ingest.delimiter,
            scratch=self.scratch,
            progress=self.progress,
        )
        self.progress(f"read {source.rows:,} rows in {time.perf_counter() - started:.1f} s")
        if source.structural and not self.quarantine:
            shown = ", ".join(
                f"line {r.line}: {r.why} ({r.text.strip()[:40]!r})" for r in source.structural[:5]
            )
            raise DataError(
                f"{path}: {len(source.structural):,} line(s) cannot be read as "
                f"{len(source.columns)} '{self.params.ingest.delimiter}'-separated fields, "
                f"nothing written — {shown}",
                hint="check the delimiter and encoding (ingest.delimiter, ingest.encoding), "
                "or load the readable rows with --quarantine",
            )
        return source

    def store_field(self, source: Source) -> tuple[Field, list[Check]]:
        """The ``store_id`` field: ``--store``, a slug of ``--store-from-column``, or the file's.

        When the file has its own ``store_id`` column and ``--store`` is given,
        :attr:`file_store_field` is set to a field carrying the file's value
        (checked against ``--store``).
        """
        checks: list[Check] = []
        self.file_store_field = None
        if self.store_from_column:
            col = source.find(self.store_from_column)
            if col is None:
                raise DataError(
                    f"{source.path}: no column {self.store_from_column!r} to split stores by",
                    hint=f"columns: {', '.join(source.columns)}",
                )
            slug = slug_sql(source.column(col))
            expr = f"{quote_literal(self.store + '-')} || {slug}" if self.store else slug
            checks.append(
                Check(col, "gives no store id (needs letters a-z or digits)",
                      f"store_id IS NULL AND {ident('store_id__raw')} IS NULL", "NULL")
            )  # fmt: skip
            return Field("store_id", "string", f"nullif({expr}, '')", col), checks
        own = source.find("store_id")
        if own is not None and self.store is None:
            return Field("store_id", "string", source.column(own), own), checks
        if self.store is None:
            raise ConfigError("ingest needs --store (or --store-from-column)")
        if own is not None:
            self.file_store_field = Field("__file_store", "string", source.column(own), own)
            checks.append(
                Check(
                    own,
                    f"differs from --store {self.store}",
                    f"__file_store <> {quote_literal(self.store)}",
                    ident("__file_store__raw"),
                )
            )
        return Field("store_id", "string", quote_literal(self.store), "--store"), checks

    def validate(
        self,
        source: Source,
        relation: str,
        fields: list[Field],
        *,
        table: str | None,
        extra_checks: list[Check] = (),  # type: ignore[assignment]
        stage_name: str = "rows",
        what: str = "rows",
    ) -> Outcome:
        """Build a stage over ``relation``, run value (+ contract) checks, split or raise."""
        started = time.perf_counter()
        names = {f.name for f in fields}
        # the key's columns the file has (surveys.customer_id, marketing_spend.channel are optional)
        key = tuple(k for k in TABLES[table].key if k in names) if table else ()
        stage: Stage = build_stage(
            self.con,
            relation,
            fields,
            self.name(f"stage_{stage_name}"),
            timezone=self.source_timezone,
            key=key,
        )
        stage.checks += value_checks(stage, now_zone=self.params.timezone)
        if table is not None:
            stage.checks += contract_checks(stage, table)
        stage.checks += list(extra_checks)
        outcome = split(
            self.con,
            stage,
            source=str(source.path),
            where=source.where,
            quarantine=self.quarantine,
            what=what,
        )
        self.progress(
            f"checked {outcome.rows_in:,} {what} in {time.perf_counter() - started:.1f} s"
            + (f", {outcome.rejected:,} rejected" if outcome.rejected else "")
        )
        return outcome


Adapter = Callable[[Context, Path], FileResult]


def structural_rejects(ctx: Context, source: Source) -> Rejected | None:
    """Lines the CSV reader rejected, as a rejected-rows table (quarantine only)."""
    if not source.structural:
        return None
    name = ctx.name("structural")
    ctx.con.execute(f"CREATE TEMP TABLE {name} (__line BIGINT, __reason VARCHAR, text VARCHAR)")
    ctx.con.executemany(
        f"INSERT INTO {name} VALUES (?, ?, ?)",
        [(r.line, f"unreadable line: {r.why}", r.text) for r in source.structural],
    )
    return Rejected("lines", name, [("text", "text")], source.where, "unreadable")


def reject_whole(ctx: Context, outcome: Outcome, column: str, why: str) -> int:
    """Quarantine: move the valid rows sharing ``column`` with a rejected row to the rejected.

    An order made of lines (Shopify, Online Retail) is loaded whole or not at
    all; its good lines go to the rejected file with ``why`` as their reason.
    Returns how many rows moved (added to ``outcome.rejected``).
    """
    if outcome.rejected_table is None:
        return 0
    col = ident(column)
    hit = f"{col} IN (SELECT {col} FROM {outcome.rejected_table} WHERE {col} IS NOT NULL)"
    moved = ctx.con.execute(
        f"INSERT INTO {outcome.rejected_table} SELECT *, {quote_literal(why)} "
        f"FROM {outcome.valid} WHERE {hit}"
    ).fetchone()[0]
    ctx.con.execute(f"DELETE FROM {outcome.valid} WHERE {hit}")
    outcome.rejected += int(moved)
    return int(moved)


def rejected_from(outcome: Outcome, fields: list[Field], table: str, where: str, stage: str):
    """A :class:`Rejected` for the rows ``split`` set aside, or None."""
    if outcome.rejected_table is None:
        return None
    cols = [(f.label, f"{f.name}__raw") for f in fields]
    return Rejected(table, outcome.rejected_table, cols, where, stage)


@dataclass
class IngestReport:
    """The outcome of :func:`ingest`."""

    writes: list[StoreWrite]
    files: list[dict[str, Any]]
    rejected_files: list[Path]
    seconds: float
    skipped: bool = False


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

    Raises
    ------
    DataError
        A file breaks the contract; nothing was written.
    ConfigError
        Bad options or params.
    """
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise ConfigError(f"unknown ingest format {fmt!r}", hint=f"formats: {', '.join(FORMATS)}")
    if table not in TABLES:
        raise ConfigError(f"unknown table {table!r}", hint=f"tables: {', '.join(TABLES)}")
    if fmt != "mapped" and table != "orders":
        raise ConfigError(f"--table applies to --format mapped only (got {fmt})")
    if fmt == "cdnow" and store is None:
        store = "cdnow"
    if store is not None:
        validate_store_name(store)
    elif store_from_column is None and fmt != "mapped":
        raise ConfigError("ingest needs --store (or --store-from-column)")
    root = Path(root).resolve() if root is not None else project_root()
    layered = dict(overrides or {})
    if data_dir is not None:
        layered["data_dir"] = str(Path(data_dir).resolve())
    params = load_params(store or "default", layered, root=root)
    if params.ingest.currency is not None and params.ingest.currency != params.currency:
        raise ConfigError(
            f"ingest.currency is {params.ingest.currency} but the store's currency is "
            f"{params.currency}; ingest does not convert currencies",
            hint="convert the file first, or set currency in params/stores/<store>.yaml",
        )
    warehouse = params.warehouse_path(root)
    if if_missing and store is not None and (warehouse / "orders" / f"{store}.parquet").is_file():
        say(f"store {store} already has orders in {warehouse}")
        return IngestReport([], [], [], time.perf_counter() - started, skipped=True)
    paths = [Path(f) for f in files]
    if not paths:
        if fmt != "cdnow":
            raise ConfigError(f"--format {fmt} needs at least one file")
        from analysis.compat import lifetimes_dataset_path

        paths = [lifetimes_dataset_path("CDNOW_master.txt")]
    for path in paths:
        if not path.is_file():
            raise DataError(f"{path}: no such file")

    adapter = _adapter(fmt)
    zones: dict[str, str] = {}

    def timezone_of(name: str) -> str:
        if name not in zones:
            zones[name] = load_params(name, layered, root=root).timezone
        return zones[name]

    with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar_print = false")  # DuckDB's own bar goes to stdout
        # spill into the run's scratch folder, not ./.tmp
        con.execute(f"SET temp_directory = {quote_literal(str(Path(tmp) / 'spill'))}")
        ctx = Context(con, params, store, table, store_from_column, quarantine, Path(tmp), say)
        with QueryWatcher(con, bar) if bar else contextlib.nullcontext():
            results = [adapter(ctx, path) for path in paths]
            batches = [b for r in results for b in r.batches]
            written = [
                {b.table: _count(con, b.relation) for b in r.batches} for r in results
            ]  # before merge, which drops the batches
            with warehouse_lock(warehouse, say):
                planned = merge(con, warehouse, batches, timezone_of, say)
                try:
                    rejected_files = _write_rejected(con, warehouse, store, results)
                    entries = _log_entries(fmt, results, written, _writes(planned))
                    commit(planned)
                except BaseException:
                    discard(planned)
                    raise
                append_log(warehouse, entries)
    return IngestReport(_writes(planned), entries, rejected_files, time.perf_counter() - started)


def _log_entries(
    fmt: str, results: list[FileResult], written: list[dict[str, int]], writes: list[StoreWrite]
) -> list[dict[str, Any]]:
    """One ``_ingest_log.jsonl`` entry per input file."""
    tables = {
        f"{w.table}/{w.store}": {
            "rows_written": w.rows_written,
            "rows_replaced": w.rows_replaced,
            "rows_total": w.rows_total,
        }
        for w in writes
    }
    return [
        {
            "format": fmt,
            "file": str(r.path.resolve()),
            "sha256": file_sha256(r.path),
            "bytes": r.path.stat().st_size,
            "rows_in": r.rows_in,
            "rows_written": rows_written,
            "rejected": r.rejected_rows,
            "stores": sorted({w.store for w in writes}),
            "tables": tables,
        }
        for r, rows_written in zip(results, written, strict=True)
    ]


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, say: Progress) -> Iterator[None]:
    """Hold ``<warehouse>/.ingest.lock`` while merging and writing: one ingest at a time.

    A second ingest into the same warehouse waits (and says so) instead of
    reading files the first is about to replace. POSIX only (``fcntl``);
    elsewhere no lock is taken.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    warehouse.mkdir(parents=True, exist_ok=True)
    with (warehouse / LOCK_NAME).open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another ingest into {warehouse} to finish")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0])


def _writes(planned: list[tuple[StoreWrite, Path]]) -> list[StoreWrite]:
    return [w for w, _ in planned]


def _write_rejected(
    con: duckdb.DuckDBPyConnection, warehouse: Path, store: str | None, results: list[FileResult]
) -> list[Path]:
    """Write each file's rejected rows as CSV under ``data/rejected/<store>/``."""
    out: list[Path] = []
    folder = warehouse.parent / "rejected" / (store or "split")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for r in results:
        for rej in r.rejected:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{stamp}-{r.path.stem}-{rej.stage}.csv"
            cols = ", ".join(
                f"CASE WHEN regexp_matches({ident(src)}, {quote_literal(FORMULA_PATTERN)}) "
                f"THEN '''' || {ident(src)} ELSE {ident(src)} END AS {ident(label)}"
                for label, src in rej.columns
            )
            con.execute(
                f"COPY (SELECT __line AS {ident(rej.where)}, __reason AS reason, {cols} "
                f"FROM {rej.relation} ORDER BY __line) TO {quote_literal(str(path))} "
                f"(HEADER, DELIMITER ',')"
            )
            out.append(path)
    return out
