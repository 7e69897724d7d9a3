"""What a run leaves on record: the ingest log entries and the rejected-rows CSV files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from analysis.ingest.checks import ident, inert_sql, inert_text
from analysis.ingest.context import FileResult
from analysis.ingest.sources import quote_literal
from analysis.ingest.writer import StoreWrite
from analysis.warehouse import file_sha256


def log_entries(
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


def writes_of(planned: list[tuple[StoreWrite, Path]]) -> list[StoreWrite]:
    return [w for w, _ in planned]


def write_rejected(
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
