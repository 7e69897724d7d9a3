"""What an adapter works with: the run's :class:`Context` and what it hands back.

Every adapter (:mod:`~analysis.ingest.mapped`, :mod:`~analysis.ingest.shopify`,
:mod:`~analysis.ingest.online_retail`, :mod:`~analysis.ingest.cdnow`) reads its
files through :meth:`Context.read`, validates through :meth:`Context.validate`
and returns a :class:`FileResult`; rows set apart by ``--quarantine`` travel as
:class:`Rejected` tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import duckdb

from analysis.config import Params
from analysis.errors import ConfigError, DataError
from analysis.ingest.checks import (
    Check,
    Field,
    Outcome,
    Stage,
    build_stage,
    contract_checks,
    ident,
    slug_refused_sql,
    slug_sql,
    split,
    value_checks,
)
from analysis.ingest.dates import infer_formats
from analysis.ingest.sources import (
    Source,
    WorkbookLimits,
    one_row,
    quote_literal,
    read_source,
)
from analysis.ingest.writer import Batch
from analysis.schema import TABLES

Progress = Callable[[str], None]


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
