"""``--format cdnow``: the CDNOW transaction files shipped inside the ``lifetimes`` package.

``CDNOW_master.txt`` holds 69,659 purchases of 23,570 customers of the online
CD shop CDNOW, January 1997 to June 1998, one per line, whitespace-separated::

     customer_id  date number_of_cds  dollar_value      (header, master file only)
     00001 19970101  1   11.77

``CDNOW_sample.txt`` has a second id column (``00004 0001 19970101 2 29.33``).
The files give dates only, in US dollars. Each line becomes one order:

- ``order_id`` = ``<customer>-<YYYYMMDD>-<n>``, ``n`` counting a customer's
  purchases on that day in file order (deterministic, so re-ingesting is idempotent);
- ``ordered_at`` = local midnight of the date in the store's ``timezone``;
- ``revenue`` = ``dollar_value``, ``items`` = ``number_of_cds``, ``status`` = completed.
"""

from __future__ import annotations

from pathlib import Path

from analysis.errors import DataError
from analysis.ingest.checks import Check, Field
from analysis.ingest.context import Context, FileResult, rejected_from
from analysis.ingest.sources import count_rows, quote_literal
from analysis.ingest.writer import Batch

_ID = r"^\d+$"


def read_cdnow(ctx: Context, path: Path) -> FileResult:
    """Read one CDNOW file into the orders table of the store (default ``cdnow``)."""
    con = ctx.con
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file (0 bytes)")
    ctx.progress(f"reading {path.name} ({path.stat().st_size / 2**20:,.1f} MiB)")
    lines = ctx.name("cdnow_lines")
    # One column per line (no delimiter in the data), split on runs of blanks in SQL.
    con.execute(
        f"CREATE TEMP TABLE {lines}__text AS SELECT line FROM read_csv("
        f"{quote_literal(str(path))}, header = false, auto_detect = false, delim = '\\x1f', "
        f"quote = '', escape = '', columns = {{'line': 'VARCHAR'}})"
    )
    con.execute(
        f"CREATE TEMP TABLE {lines} AS SELECT string_split_regex(trim(line), '\\s+') AS parts, "
        f"rowid + 1 AS __line FROM {lines}__text"
    )
    found = con.execute(
        f"SELECT DISTINCT len(parts) FROM {lines} WHERE regexp_matches(parts[1], {quote_literal(_ID)})"
    ).fetchall()
    widths = sorted(w for (w,) in found)
    if widths not in ([4], [5]):
        raise DataError(
            f"{path}: not a CDNOW file: lines have {widths or 'no'} fields, expected 4 "
            f"(customer, date, cds, dollars) or 5 (sample file)",
        )
    offset = widths[0] - 4
    rows = ctx.name("cdnow_rows")
    con.execute(
        f"CREATE TEMP TABLE {rows} AS SELECT __line, parts[1] AS customer, "
        f"parts[{2 + offset}] AS day, parts[{3 + offset}] AS cds, parts[{4 + offset}] AS dollars, "
        f"parts[1] || '-' || parts[{2 + offset}] || '-' || "
        f"row_number() OVER (PARTITION BY parts[1], parts[{2 + offset}] ORDER BY __line) "
        f"AS order_id FROM {lines} WHERE NOT (__line = 1 AND NOT regexp_matches(parts[1], "
        f"{quote_literal(_ID)}))"
    )
    n = count_rows(con, rows)
    if n == 0:
        raise DataError(f"{path}: header only, no data rows")
    store_field, _ = (
        Field("store_id", "string", quote_literal(ctx.store or "cdnow"), "--store"),
        [],
    )
    fields = [
        store_field,
        Field("order_id", "id", "order_id", "customer_id+date"),
        Field("customer_id", "id", "customer", "customer_id"),
        Field("ordered_at", "timestamp", "day", "date", ("%Y%m%d",)),
        Field("revenue", "number", "dollars", "dollar_value"),
        Field("items", "integer", "cds", "number_of_cds"),
        Field("status", "string", "'completed'", "status"),
    ]
    extra = [
        Check(
            "customer_id",
            "not a numeric customer id",
            "NOT regexp_matches(customer_id, '^[0-9]+$')",
            "customer_id__raw",
        )
    ]
    source = _Where(path, n)
    outcome = ctx.validate(source, rows, fields, table="orders", extra_checks=extra)
    result = FileResult(path, n)
    result.batches.append(Batch("orders", outcome.valid, tuple(f.name for f in fields)))
    rej = rejected_from(outcome, fields, "orders", "line", "orders")
    if rej is not None:
        result.rejected.append(rej)
    result.rejected_rows = outcome.rejected
    return result


class _Where:
    """The bits of :class:`~analysis.ingest.sources.Source` that validation quotes."""

    where = "line"

    def __init__(self, path: Path, rows: int) -> None:
        self.path = path
        self.rows = rows
