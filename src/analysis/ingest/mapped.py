"""``--format mapped``: any CSV, Excel or Parquet file, columns named by the store's params.

``params/stores/<store>.yaml`` may map source columns to canonical ones::

    ingest:
      date_format: "%d/%m/%Y %H:%M"
      status: {cancelled: [ยกเลิก, void], refunded: [คืนเงิน]}
      tables:
        orders:
          columns: {เลขที่คำสั่งซื้อ: order_id, ลูกค้า: customer_id, วันที่: ordered_at, ยอดรวม: revenue}

Canonical columns the mapping does not name are matched by name (trimmed,
case-insensitive), so a file whose header already uses the contract's names
needs no mapping at all. Other source columns are ignored (and listed).
"""

from __future__ import annotations

from pathlib import Path

from analysis.errors import DataError
from analysis.ingest.checks import Check, Field, ident, parse_formats, status_sql
from analysis.ingest.context import Context, FileResult, rejected_from, structural_rejects
from analysis.ingest.sources import Source
from analysis.ingest.writer import Batch
from analysis.schema import TABLES


def resolve_columns(ctx: Context, source: Source, table: str) -> dict[str, str]:
    """Canonical column → source column, from the params mapping and then by name.

    Raises
    ------
    DataError
        A mapped source column is not in the file, or a required column is
        found neither way.
    """
    spec = TABLES[table]
    mapping = ctx.params.ingest.tables.get(table)
    chosen: dict[str, str] = {}
    if mapping is not None:
        for src, canonical in mapping.columns.items():
            actual = source.find(src)
            if actual is None:
                raise DataError(
                    f"{source.path}: column {src!r} (params ingest.tables.{table}.columns, "
                    f"mapped to {canonical}) is not in the file",
                    hint=f"the file's columns: {', '.join(source.columns)}",
                )
            chosen[canonical] = actual
    taken = set(chosen.values())
    for col in spec.columns:
        if col.name in chosen:
            continue
        actual = source.find(col.name)
        if actual is not None and actual not in taken:
            chosen[col.name] = actual
            taken.add(actual)
    missing = [c for c in spec.required if c not in chosen and c != "store_id"]
    if missing:
        raise DataError(
            f"{source.path}: table {table} needs column(s) {', '.join(missing)}, "
            f"not found in the file",
            hint=f"the file's columns: {', '.join(source.columns)}; map them under "
            f"ingest.tables.{table}.columns in params/stores/<store>.yaml",
        )
    return chosen


def read_mapped(ctx: Context, path: Path) -> FileResult:
    """Read one file into ``ctx.table`` through the store's column mapping."""
    table = ctx.table
    spec = TABLES[table]
    source = ctx.read(path)
    chosen = resolve_columns(ctx, source, table)
    ignored = [c for c in source.columns if c not in chosen.values() and c != ctx.store_from_column]
    if ignored:
        ctx.progress(f"ignored columns: {', '.join(ignored)}")
    mapping = ctx.params.ingest.tables.get(table)
    formats = parse_formats(
        (mapping.date_format if mapping and mapping.date_format else None)
        or ctx.params.ingest.date_format
    )
    store_field, extra = ctx.store_field(source)
    fields: list[Field] = [store_field]
    status = ctx.params.ingest.status
    for col in spec.columns:
        if col.name == "store_id":
            continue
        if col.name not in chosen:
            if table == "orders" and col.name == "status":
                # No status column: the export lists completed orders (the contract's reading).
                fields.append(Field("status", "string", "'completed'", "status"))
            continue
        src = chosen[col.name]
        raw = source.column(src)
        if table == "orders" and col.name == "status":
            extra.append(
                Check(
                    src,
                    "missing (the file has a status column)",
                    f"{ident('status__raw')} IS NULL",
                    "NULL",
                )
            )
            raw = status_sql(raw, status.completed, status.cancelled, status.refunded)
        fields.append(
            Field(
                col.name,
                col.kind,
                raw,
                src,
                formats if col.kind in ("timestamp", "date") else (),
            )
        )
    if ctx.file_store_field is not None:
        fields.append(ctx.file_store_field)
    outcome = ctx.validate(source, source.table, fields, table=table, extra_checks=extra)
    ctx.con.execute(f"DROP TABLE {source.table}")  # the stage holds every value now
    result = FileResult(path, source.rows + len(source.structural))
    canonical = {c.name for c in spec.columns}
    result.batches.append(
        Batch(table, outcome.valid, tuple(f.name for f in fields if f.name in canonical))
    )
    for rej in (
        structural_rejects(ctx, source),
        rejected_from(outcome, fields, table, source.where, table),
    ):
        if rej is not None:
            result.rejected.append(rej)
    result.rejected_rows = outcome.rejected + len(source.structural)
    return result
