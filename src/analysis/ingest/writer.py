"""Merge validated rows into ``data/warehouse/<table>/<store>.parquet``: atomically, idempotently.

For each (table, store) the new rows replace

- existing rows with the same key (``schema.TABLES[table].key``): re-ingesting
  a file changes nothing;
- for tables with a time column, existing rows whose local calendar day (the
  store's ``timezone``) falls within the first to last day of the new rows: a
  newer export of overlapping dates replaces those dates, including orders it
  no longer lists.

Rows of other days and other stores are kept as they are; other stores' files
are not opened for writing. Files are written in the layout the demo data has
(:func:`write_sorted`: ``schema.Table.row_order``, ZSTD, ``schema.ROW_GROUP_ROWS``). Every file is first written next to its target
as ``.<store>.parquet.<pid>.tmp`` (a name the warehouse ignores) and renamed
over the target only when all files of the run are written. Each run then
appends one line per file and table to ``_ingest_log.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.errors import DataError
from analysis.ingest.checks import SQL_TYPE, ident
from analysis.ingest.sources import count_rows, one_row, quote_literal
from analysis.schema import ROW_GROUP_ROWS, TABLES

LOG_NAME = "_ingest_log.jsonl"


@dataclass(frozen=True)
class Batch:
    """Valid rows of one file for one table (typed canonical columns plus ``store_id``)."""

    table: str
    relation: str
    columns: tuple[str, ...]


@dataclass
class StoreWrite:
    """What one run did to one (table, store) file."""

    table: str
    store: str
    path: Path
    rows_written: int = 0
    rows_replaced: int = 0
    rows_total: int = 0


def canonical_select(table: str, columns: tuple[str, ...] | list[str], present: set[str]) -> str:
    """SELECT list of ``columns`` in canonical types; columns not in ``present`` are NULL."""
    spec = TABLES[table]
    parts = []
    for name in columns:
        kind = spec.column(name).kind
        expr = ident(name) if name in present else "NULL"
        parts.append(f"CAST({expr} AS {SQL_TYPE[kind]}) AS {ident(name)}")
    return ", ".join(parts)


def stores_in(con: duckdb.DuckDBPyConnection, batch: Batch) -> list[str]:
    """Distinct store ids of a batch, sorted."""
    rows = con.execute(f"SELECT DISTINCT store_id FROM {batch.relation} ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def merge(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    batches: list[Batch],
    timezone_of: Callable[[str], str],
    progress: Callable[[str], None] | None = None,
) -> list[tuple[StoreWrite, Path]]:
    """Build the new content of every touched (table, store) file as a temp file beside it.

    Returns the writes and their temp files; :func:`commit` renames them into place.
    Each batch's table is dropped once merged into every store it holds.

    Raises
    ------
    DataError
        The store's rows also sit in a shared ``<table>.parquet`` (ingest
        writes per-store files only and would double them).
    """
    say = progress or (lambda _m: None)
    planned: list[tuple[StoreWrite, Path]] = []
    targets: dict[tuple[str, str], list[Batch]] = {}
    for batch in batches:
        for store in stores_in(con, batch):
            targets.setdefault((batch.table, store), []).append(batch)
    order = sorted(targets.items())
    last_use = {b.relation: n for n, (_target, group) in enumerate(order) for b in group}
    try:
        for n, ((table, store), group) in enumerate(order):
            planned.append(_merge_one(con, root, n, table, store, group, timezone_of, say))
            for batch in group:  # free memory as soon as a batch is merged everywhere
                if last_use[batch.relation] == n:
                    con.execute(f"DROP TABLE IF EXISTS {batch.relation}")
    except BaseException:
        discard(planned)
        raise
    return planned


def _merge_one(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    n: int,
    table: str,
    store: str,
    group: list[Batch],
    timezone_of: Callable[[str], str],
    say: Callable[[str], None],
) -> tuple[StoreWrite, Path]:
    spec = TABLES[table]
    shared = root / f"{table}.parquet"
    if shared.is_file():
        hit = one_row(
            con,
            f"SELECT count(*) FROM read_parquet({quote_literal(str(shared))}) "
            f"WHERE store_id = {quote_literal(store)}",
        )[0]
        if hit:
            raise DataError(
                f"{shared}: already holds {hit:,} {table} rows of store {store}",
                hint=f"ingest writes {table}/{store}.parquet; move those rows there first",
            )
    target = root / table / f"{store}.parquet"
    existing_cols: set[str] = set()
    if target.is_file():
        existing_cols = set(con.read_parquet(str(target)).columns)
    # key and sort columns always exist (NULL when no file has them: surveys.customer_id)
    present = existing_cols | {c for b in group for c in b.columns} | set(spec.row_order)
    columns = [c.name for c in spec.columns if c.name in present]
    state = f"__state_{n}"
    write = StoreWrite(table, store, target)
    temp = target.parent / f".{store}.parquet.{os.getpid()}.tmp"
    if not target.is_file() and len(group) == 1:
        # a new file from one batch (a store's first ingest): sort and write it straight
        # from the batch, without two more copies of every row in memory
        rows = (
            f"(SELECT {canonical_select(table, columns, set(group[0].columns))} "
            f"FROM {group[0].relation} WHERE store_id = {quote_literal(store)})"
        )
        write.rows_written = write.rows_total = count_rows(con, rows)
        target.parent.mkdir(parents=True, exist_ok=True)
        say(f"writing {table}/{store}.parquet ({write.rows_total:,} rows)")
        _write_or_remove(con, rows, spec.row_order, temp)
        return write, temp
    if target.is_file():
        con.execute(
            f"CREATE TEMP TABLE {state} AS SELECT "
            f"{canonical_select(table, columns, existing_cols)} "
            f"FROM read_parquet({quote_literal(str(target))})"
        )
    else:
        con.execute(
            f"CREATE TEMP TABLE {state} AS SELECT {canonical_select(table, columns, set())} LIMIT 0"
        )
    zone = quote_literal(timezone_of(store))
    key = ", ".join(ident(k) for k in spec.key)
    for batch in group:
        rows = (
            f"(SELECT {canonical_select(table, columns, set(batch.columns))} "
            f"FROM {batch.relation} WHERE store_id = {quote_literal(store)})"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE __incoming AS SELECT * FROM {rows}")
        replace = [f"({key}) IN (SELECT ({key}) FROM __incoming)"]
        tc = spec.time_column
        if tc is not None:
            day = (
                ident(tc)
                if spec.column(tc).kind == "date"
                else f"CAST(timezone({zone}, {ident(tc)}) AS DATE)"
            )
            replace.append(
                f"{day} BETWEEN (SELECT min({day}) FROM __incoming) "
                f"AND (SELECT max({day}) FROM __incoming)"
            )
        removed = one_row(con, f"DELETE FROM {state} WHERE {' OR '.join(replace)}")[0]
        added = one_row(con, f"INSERT INTO {state} SELECT * FROM __incoming")[0]
        write.rows_replaced += int(removed)
        write.rows_written += int(added)
        con.execute("DROP TABLE __incoming")
    write.rows_total = count_rows(con, state)
    target.parent.mkdir(parents=True, exist_ok=True)
    say(f"writing {table}/{store}.parquet ({write.rows_total:,} rows)")
    _write_or_remove(con, state, spec.row_order, temp)
    con.execute(f"DROP TABLE {state}")
    return write, temp


def _write_or_remove(
    con: duckdb.DuckDBPyConnection, relation: str, order: tuple[str, ...], temp: Path
) -> None:
    """:func:`write_sorted` to ``temp``; a failure or Ctrl-C while writing removes ``temp``."""
    try:
        write_sorted(con, relation, order, temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_sorted(
    con: duckdb.DuckDBPyConnection, relation: str, order: tuple[str, ...], path: Path
) -> None:
    """Write ``relation`` to ``path`` in the warehouse layout the demo data also has.

    Rows sorted by ``order`` (``schema.Table.row_order``: ascending, nulls
    last), declared as the file's ``sorting_columns``; ZSTD; row groups of
    exactly ``schema.ROW_GROUP_ROWS`` rows. DuckDB sorts and streams Arrow
    batches; pyarrow writes them (DuckDB's writer declares no sort order).
    """
    keys = ", ".join(f"{ident(c)} ASC NULLS LAST" for c in order)
    con.complete()  # a relation may not start while an execute() result is open (DuckDB 2)
    reader = con.sql(f"SELECT * FROM {relation} ORDER BY {keys}").to_arrow_reader(ROW_GROUP_ROWS)
    sorting = pq.SortingColumn.from_ordering(
        reader.schema, [(c, "ascending") for c in order], null_placement="at_end"
    )
    pending: list[pa.RecordBatch] = []
    held = 0
    with pq.ParquetWriter(path, reader.schema, compression="zstd", sorting_columns=sorting) as out:
        for batch in reader:
            pending.append(batch)
            held += batch.num_rows
            while held >= ROW_GROUP_ROWS:
                chunk = pa.Table.from_batches(pending, reader.schema)
                out.write_table(chunk.slice(0, ROW_GROUP_ROWS), row_group_size=ROW_GROUP_ROWS)
                rest = chunk.slice(ROW_GROUP_ROWS)
                pending, held = rest.to_batches(), rest.num_rows
        if held:
            out.write_table(
                pa.Table.from_batches(pending, reader.schema), row_group_size=ROW_GROUP_ROWS
            )


def commit(planned: list[tuple[StoreWrite, Path]]) -> None:
    """Move every temp file over its target (``os.replace`` is atomic on one file system)."""
    for _write, temp in planned:
        with temp.open("rb") as fh:
            os.fsync(fh.fileno())
    for write, temp in planned:
        os.replace(temp, write.path)


def discard(planned: list[tuple[StoreWrite, Path]]) -> None:
    """Remove temp files of a run that did not commit."""
    for _write, temp in planned:
        temp.unlink(missing_ok=True)


def append_log(root: Path, entries: list[dict]) -> Path:
    """Append one JSON line per entry to ``<root>/_ingest_log.jsonl``."""
    path = root / LOG_NAME
    root.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with path.open("a", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps({"at": stamp, **entry}, ensure_ascii=False, sort_keys=True) + "\n")
    return path
