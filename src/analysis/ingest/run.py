"""One ingest run: read every file with its adapter, validate, then merge and write once.

Nothing is written until every file of the run has been read and checked: a
strict run that finds one bad row raises before the warehouse is opened for
writing, so the warehouse stays byte-identical.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import duckdb

from analysis.config import (
    Params,
    load_params,
    project_root,
    store_params_path,
    validate_store_name,
)
from analysis.errors import ConfigError, DataError
from analysis.ingest.checks import (
    Check,
    Field,
    Outcome,
    Stage,
    build_stage,
    contract_checks,
    ident,
    inert_sql,
    inert_text,
    slug_refused_sql,
    slug_sql,
    split,
    value_checks,
)
from analysis.ingest.dates import infer_formats
from analysis.ingest.sources import (
    Source,
    WorkbookLimits,
    check_regular_file,
    count_rows,
    one_row,
    quote_literal,
    read_source,
)
from analysis.ingest.writer import Batch, StoreWrite, append_log, commit, discard, merge
from analysis.processes import process_alive
from analysis.schema import TABLES
from analysis.warehouse import file_sha256

Progress = Callable[[str], None]
Bar = Callable[[float | None], None]
"""Receives the running query's percentage done, or None when no long query runs."""

LOCK_NAME = ".ingest.lock"
"""Lock file in the warehouse folder, held while an ingest merges and writes."""

FORMATS = ("mapped", "shopify", "online-retail", "cdnow")
"""Source formats ``analysis ingest --format`` accepts."""


class SourceLike(Protocol):
    """What validation quotes of a source: its file and what its rows are called.

    A :class:`~analysis.ingest.sources.Source`, or a reader's own stand-in (cdnow's
    rows are built in SQL, not read by ``read_source``); a ``locate(line)`` method,
    when present, names a row's place (``sheet 'x', row 7``).
    """

    @property
    def path(self) -> Path: ...

    @property
    def where(self) -> str: ...


@dataclass
class Rejected:
    """Rows of one file set aside by ``--quarantine`` (a temp table with ``__reason``)."""

    table: str
    relation: str
    columns: list[tuple[str, str]]
    where: str
    stage: str
    place: list[tuple[str, str]] | None = None
    """Columns (name, SQL over ``__line``) placing a row in the file; default ``where``."""


@dataclass
class FileResult:
    """What an adapter made of one file."""

    path: Path
    rows_in: int
    batches: list[Batch] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    rejected_rows: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    """What the ingest log records besides counts: sheets read, date orders, rows set apart."""


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
    sheet: str | None = None
    notes: dict[Path, dict[str, Any]] = field(default_factory=dict)

    def note(self, path: Path, key: str, value: Any) -> None:
        """Record ``key`` for ``path``'s ingest log entry."""
        self.notes.setdefault(Path(path), {})[key] = value

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
            null_values=self.params.ingest.null_values,
            sheet=self.sheet,
            limits=WorkbookLimits(
                self.params.ingest.max_workbook_mib,
                self.params.ingest.max_rows,
                self.params.ingest.max_cell_chars,
            ),
        )
        self.progress(f"read {source.rows:,} rows in {time.perf_counter() - started:.1f} s")
        if source.sheets:
            self.note(path, "sheets", dict(source.sheets))
        self.check_currency(source)
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

    def check_currency(self, source: Source) -> None:
        """Refuse a file whose ``Currency`` column names another currency than the store's.

        Shopify's export has one (``THB``, ``USD``); any format's column named
        ``currency`` is checked the same way. Not a row rule: ``--quarantine``
        does not load the other rows, as a wrong currency is the wrong store.
        """
        col = source.find("currency")
        if col is None:
            return
        want = self.params.currency
        c = source.column(col)
        bad = f"{c} IS NOT NULL AND upper(trim({c})) <> {quote_literal(want)}"
        n, seen = one_row(
            self.con,
            f"SELECT count(*), list(DISTINCT upper(trim({c}))) FROM {source.table} WHERE {bad}",
        )
        if not n:
            return
        sample = self.con.execute(
            f"SELECT __line, {c} FROM {source.table} WHERE {bad} ORDER BY __line LIMIT 5"
        ).fetchall()
        shown = ", ".join(f"{source.locate(line)}: {v!r}" for line, v in sample)
        raise DataError(
            f"{source.path}: column {col!r}: {n:,} rows in {', '.join(sorted(seen))}, but the "
            f"store's currency is {want}; ingest does not convert currencies, nothing written "
            f"— {shown}",
            hint=f"for a new store give its currency: --currency {sorted(seen)[0]} "
            f"(and --timezone); for an existing one, this file belongs to another store",
        )

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
            raw = source.column(col)
            slug = slug_sql(raw)
            expr = f"{quote_literal(self.store + '-')} || {slug}" if self.store else slug
            self.file_store_field = Field("__file_store", "string", raw, col)
            given = ident("__file_store__raw")
            checks.append(
                Check(col, "gives no store id (needs letters a-z or digits)",
                      f"store_id IS NULL AND {ident('store_id__raw')} IS NULL "
                      f"AND NOT coalesce({slug_refused_sql(given)}, false)", given)
            )  # fmt: skip
            checks.append(
                Check(col, "a path or control characters, not a store name (not rewritten)",
                      slug_refused_sql(given), given)
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
        source: SourceLike,
        relation: str,
        fields: list[Field],
        *,
        table: str | None,
        extra_checks: Sequence[Check] = (),
        stage_name: str = "rows",
        what: str = "rows",
    ) -> Outcome:
        """Build a stage over ``relation``, run value (+ contract) checks, split or raise."""
        started = time.perf_counter()
        fields = [self._with_date_order(source, relation, f) for f in fields]
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
            locate=getattr(source, "locate", None),
        )
        self.progress(
            f"checked {outcome.rows_in:,} {what} in {time.perf_counter() - started:.1f} s"
            + (f", {outcome.rejected:,} rejected" if outcome.rejected else "")
        )
        return outcome

    def _with_date_order(self, source: SourceLike, relation: str, f: Field) -> Field:
        """``f`` with formats for its ``a/b/yyyy`` values when no ``date_format`` is set."""
        if f.kind not in ("timestamp", "date") or f.typed or f.formats:
            return f
        found = infer_formats(self.con, relation, f.raw, path=source.path, label=f.label)
        if found is None:
            return f
        self.progress(
            f"column {f.label!r}: dates read {found.order} ({found.proof!r} proves the order)"
        )
        orders = self.notes.setdefault(Path(source.path), {}).setdefault("date_order", {})
        orders[f.label] = found.order
        return replace(f, formats=found.formats)


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
    moved = one_row(
        ctx.con,
        f"INSERT INTO {outcome.rejected_table} SELECT *, {quote_literal(why)} "
        f"FROM {outcome.valid} WHERE {hit}",
    )[0]
    ctx.con.execute(f"DELETE FROM {outcome.valid} WHERE {hit}")
    outcome.rejected += int(moved)
    return int(moved)


def rejected_from(
    outcome: Outcome,
    fields: list[Field],
    table: str,
    where: str,
    stage: str,
    source: Source | None = None,
) -> Rejected | None:
    """A :class:`Rejected` for the rows ``split`` set aside, or None."""
    if outcome.rejected_table is None:
        return None
    cols = [(f.label, f"{f.name}__raw") for f in fields]
    place = source.locate_sql("__line") if source is not None else None
    return Rejected(table, outcome.rejected_table, cols, where, stage, place)


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
    root = Path(root).resolve() if root is not None else project_root()
    layered = dict(overrides or {})
    for key, value in (("currency", currency), ("timezone", timezone)):
        if value is not None:
            if key in layered and layered[key] != value:
                raise ConfigError(f"--{key} {value} and --set {key}={layered[key]} disagree")
            layered[key] = value
    if data_dir is not None:
        layered["data_dir"] = str(Path(data_dir).resolve())
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
    warehouse = params.warehouse_path(root)
    check_writable(warehouse)
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
        check_regular_file(path)

    adapter = _adapter(fmt)
    zones: dict[str, str] = {}

    def timezone_of(name: str) -> str:
        if name not in zones:
            zones[name] = load_params(name, layered, root=root).timezone
        return zones[name]

    sweep_scratch(say)
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-") as tmp:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar_print = false")  # DuckDB's own bar goes to stdout
        # spill into the run's scratch folder, not ./.tmp
        con.execute(f"SET temp_directory = {quote_literal(str(Path(tmp) / 'spill'))}")
        ctx = Context(con, params, store, table, store_from_column, quarantine, Path(tmp), say)
        ctx.sheet = sheet
        with QueryWatcher(con, bar) if bar else contextlib.nullcontext():
            results = [adapter(ctx, path) for path in paths]
            for r in results:
                r.notes = {**ctx.notes.get(r.path, {}), **r.notes}
            batches = [b for r in results for b in r.batches]
            new_stores = _stores_to_create(
                con, batches, layered, root, None if store_from_column else store
            )
            written = [
                {b.table: count_rows(con, b.relation) for b in r.batches} for r in results
            ]  # before merge, which drops the batches
            with write_errors(), warehouse_lock(warehouse, say):
                sweep_temp_files(warehouse, root, say)
                planned = merge(con, warehouse, batches, timezone_of, say)
                staged: list[tuple[Path, Path]] = []
                try:
                    rejected_files = _write_rejected(con, warehouse, store, results)
                    entries = _log_entries(fmt, results, written, _writes(planned))
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
                    say(f"created {target} for the new store: {_store_file_says(target, layered)}")
                append_log(warehouse, entries)
    return IngestReport(
        _writes(planned),
        entries,
        rejected_files,
        time.perf_counter() - started,
        created=[t for t, _ in staged],
    )


NOT_MONEY = frozenset(
    ("XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA")
)
"""ISO 4217 codes that are not a shop's money: "no currency" (XXX), the test code (XTS),
precious metals and accounting units. The regional X-currencies (XAF, XCD, XOF, XPF) are money."""


def check_store_id(store: str, what: str = "--store") -> str:
    """Return ``store`` if it can name a store's files, else raise :class:`ConfigError`.

    The store-name rule (``[a-z0-9][a-z0-9_-]*``), at most
    :data:`~analysis.ingest.checks.MAX_STORE_CHARS` characters, not a Windows
    device name (``con``, ``nul``, ``com1``, …).
    """
    import re

    from analysis.ingest.checks import MAX_STORE_CHARS, RESERVED_NAMES

    if len(store) > MAX_STORE_CHARS:
        shown = f"{store[:40]}…" if len(store) > 40 else store
        raise ConfigError(
            f"{what} {shown!r} ({len(store):,} characters): a store id is at most "
            f"{MAX_STORE_CHARS} characters",
            hint="use a short id (it names files: data/warehouse/orders/<store>.parquet); "
            "the shop's full name goes in display_name",
        )
    validate_store_name(store)
    if re.fullmatch(RESERVED_NAMES, store):
        raise ConfigError(
            f"{what} {store!r}: a reserved device name on Windows, cannot name a file",
            hint="add a word, e.g. con-shop",
        )
    return store


def check_currency_code(code: str) -> None:
    """Refuse ISO 4217 codes that are not money (:data:`NOT_MONEY`, e.g. ``XXX``)."""
    if code in NOT_MONEY:
        raise ConfigError(
            f"currency {code} is not a currency a shop sells in (ISO 4217 reserves it for "
            f"'no currency', tests, metals or accounting units)",
            hint="give the store's real currency, e.g. --currency THB",
        )


def check_zone(zone: str, key: str) -> None:
    """Refuse a zone Python knows but DuckDB (ICU) does not, e.g. ``posixrules``."""
    con = duckdb.connect()
    try:
        known = one_row(con, "SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [zone])[0]
    finally:
        con.close()
    if not known:
        raise ConfigError(
            f"{key} {zone!r} is not a time zone the query engine (DuckDB) knows",
            hint="use an IANA area/city name, e.g. Asia/Bangkok or Europe/London",
        )


def check_writable(warehouse: Path) -> None:
    """Refuse a warehouse folder (or a table folder in it) that cannot be written.

    Checked before reading any file, so a read-only warehouse fails fast with
    nothing changed instead of a traceback at the write.
    """
    folders = [warehouse]
    if warehouse.is_dir():
        folders += [p for p in warehouse.iterdir() if p.is_dir()]
    else:
        parent = next((p for p in warehouse.parents if p.exists()), None)
        folders = [parent] if parent is not None else []
    for folder in folders:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise DataError(
                f"{folder}: the warehouse folder is not writable, nothing written",
                hint="check the folder's permissions (or data_dir in params)",
            )


STORE_FILE_KEYS = ("currency", "timezone")
"""Keys every store file written by ingest states, whether given or the defaults."""


def check_store_file(store: str, layered: dict[str, Any], root: Path) -> None:
    """Refuse ``--currency``/``--timezone`` (or ``--set``) that contradict the store's file.

    Raises
    ------
    ConfigError
        ``params/stores/<store>.yaml`` exists and sets another currency or zone.
    """
    path = store_params_path(store, root)
    if not path.is_file():
        return
    base = load_params(store, root=root)
    for key in STORE_FILE_KEYS:
        wanted = layered.get(key)
        have = getattr(base, key)
        if wanted is not None and wanted != have:
            raise ConfigError(
                f"store {store} has {key} {have} ({path}), but this ingest says {wanted}"
                + ("; ingest does not convert currencies" if key == "currency" else ""),
                hint=f"drop --{key}, or change {key} in {path} if the store's files were "
                f"always in {wanted}",
            )


def _stores_to_create(
    con: duckdb.DuckDBPyConnection,
    batches: list[Batch],
    layered: dict[str, Any],
    root: Path,
    store: str | None,
) -> list[str]:
    """Stores of this run without a params file (checked against existing ones first)."""
    from analysis.ingest.writer import stores_in

    found = {s for b in batches for s in stores_in(con, b)} | ({store} if store else set())
    out = []
    for name in sorted(found):
        validate_store_name(name)
        if store_params_path(name, root).is_file():
            check_store_file(name, layered, root)
        else:
            out.append(name)
    return out


def stage_store_file(store: str, layered: dict[str, Any], root: Path) -> tuple[Path, Path]:
    """Write ``params/stores/<store>.yaml`` for a new store to a temp file beside it.

    The file states the store's ``currency`` and ``timezone`` (given, or the
    defaults at the time) and every other ``--set`` override; ``display_name``
    is left out. Returns (target, temp); the caller renames it into place.
    """
    import yaml

    params = load_params(store, layered, root=root)
    body: dict[str, Any] = {k: getattr(params, k) for k in STORE_FILE_KEYS}
    nested: dict[str, Any] = {}
    for key, value in layered.items():
        if key in ("data_dir", *STORE_FILE_KEYS):
            continue
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
            node[parts[-1]].update(value)
        else:
            node[parts[-1]] = value
    body.update(nested)
    target = store_params_path(store, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    text = (
        f"# Store {store}, created by `analysis ingest` (docs/ingest.md). Every report of the\n"
        f"# store uses this currency and time zone; edit display_name, language etc. here.\n"
        + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
    )
    temp.write_text(text, encoding="utf-8")
    return target, temp


def _store_file_says(path: Path, layered: dict[str, Any]) -> str:
    """``currency GBP, timezone Europe/London`` (+ which came from the defaults)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    text = ", ".join(f"{k} {data.get(k)}" for k in STORE_FILE_KEYS)
    defaults = [k for k in STORE_FILE_KEYS if k not in layered]
    if defaults:
        flags = " and ".join(f"--{k}" for k in defaults)
        text += f" ({' and '.join(defaults)} from params/default.yaml: {flags} choose)"
    return text


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
            **r.notes,
        }
        for r, rows_written in zip(results, written, strict=True)
    ]


SCRATCH_PREFIX = "analysis-ingest-"
"""System temp folders of a run: ``analysis-ingest-<pid>-<random>`` (transcoded copies, spill)."""
_TEMP_FILE = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.tmp")


def sweep_temp_files(warehouse: Path, root: Path, say: Progress) -> list[Path]:
    """Remove ``.<name>.<pid>.tmp`` files of ingests that died (killed, power cut).

    Called while holding the warehouse lock, so no running ingest writes its temp
    files meanwhile; a file whose pid still runs is kept. Looks in every table
    folder and in ``params/stores/``. Returns the files removed.
    """
    folders = [p for p in warehouse.iterdir() if p.is_dir()] if warehouse.is_dir() else []
    folders.append(root / "params" / "stores")
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.glob(".*.tmp"):
            found = _TEMP_FILE.fullmatch(path.name)
            if found and path.is_file() and not process_alive(int(found["pid"])):
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        say(f"removed {len(removed)} temporary file(s) left by an ingest that did not finish")
    return removed


def sweep_scratch(say: Progress) -> list[Path]:
    """Remove system temp folders ``analysis-ingest-<pid>-*`` of ingests that died."""
    import shutil

    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        pid = path.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
        if (
            pid.isdigit()
            and path.is_dir()
            and not path.is_symlink()
            and not process_alive(int(pid))
        ):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        say(f"removed {len(removed)} temporary folder(s) left by an ingest that did not finish")
    return removed


@contextlib.contextmanager
def write_errors() -> Iterator[None]:
    """Turn an OS error of the write phase (read-only folder, full disk) into a DataError.

    The run's temporary files are removed by the code that made them before the
    error gets here; nothing was renamed into place.
    """
    try:
        yield
    except OSError as exc:
        where = exc.filename or "the warehouse"
        raise DataError(
            f"{where}: cannot write ({exc.strerror or exc}), nothing written",
            hint="check the folder's permissions and free space",
        ) from None


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
            place = rej.place or [(rej.where, "__line")]
            where = ", ".join(f"{expr} AS {ident(col)}" for col, expr in place)
            # every cell and header name inert in a spreadsheet (OWASP CSV injection):
            # the values, the column names taken from the file and the reasons naming them
            cols = ", ".join(
                f"{inert_sql(ident(src))} AS {ident(inert_text(label))}"
                for label, src in rej.columns
            )
            con.execute(
                f"COPY (SELECT {where}, {inert_sql('__reason')} AS reason, {cols} "
                f"FROM {rej.relation} ORDER BY __line) TO {quote_literal(str(path))} "
                f"(HEADER, DELIMITER ',')"
            )
            out.append(path)
    return out
