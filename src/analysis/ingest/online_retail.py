"""``--format online-retail``: invoice lines in the UCI Online Retail (I and II) layout.

Columns (either spelling): ``InvoiceNo``/``Invoice``, ``StockCode``,
``Description``, ``Quantity``, ``InvoiceDate``, ``UnitPrice``/``Price``,
``CustomerID``/``Customer ID``, ``Country``. CSV or the original .xlsx.

Lines are checked first (quantity a whole number, price a number, date
parseable, not in the future), then summed into one order per invoice:

- ``ordered_at`` = the invoice's earliest line time, naive times read in
  ``ingest.timezone`` (else the store's ``timezone``); dates as in the UCI
  files (``12/1/2010 8:26`` is month/day/year) or ISO;
- ``revenue`` = Σ quantity × price, ``items`` = Σ quantity;
- an invoice number starting with ``C`` is a cancellation, an invoice whose
  quantities sum below zero a return (``refunded``); both are stored with the
  positive value and item count they reverse, so "cancelled value" reads as an
  amount;
- ``CustomerID`` ``17850.0`` becomes ``17850``; an empty one is a guest order;
- ``--store-from-column Country`` splits the file into one store per country.
"""

from __future__ import annotations

from pathlib import Path

from analysis.errors import DataError
from analysis.ingest.checks import Check, Field, ident, parse_formats
from analysis.ingest.run import (
    Context,
    FileResult,
    reject_whole,
    rejected_from,
    structural_rejects,
)
from analysis.ingest.sources import Source
from analysis.ingest.writer import Batch

ALIASES = {
    "invoice": ("InvoiceNo", "Invoice"),
    "quantity": ("Quantity",),
    "invoice_date": ("InvoiceDate",),
    "price": ("UnitPrice", "Price"),
    "customer": ("CustomerID", "Customer ID"),
    "country": ("Country",),
    "stock_code": ("StockCode",),
    "description": ("Description",),
}
REQUIRED = ("invoice", "quantity", "invoice_date", "price")
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S")
"""ISO first, then the UCI CSV spelling (month/day/year); ``ingest.date_format`` overrides."""


def _find(source: Source, role: str) -> str | None:
    for alias in ALIASES[role]:
        col = source.find(alias)
        if col is not None:
            return col
    return None


def read_online_retail(ctx: Context, path: Path) -> FileResult:
    """Read one invoice-line file and aggregate it into orders."""
    source = ctx.read(path)
    found = {role: _find(source, role) for role in ALIASES}
    missing = [ALIASES[r][0] for r in REQUIRED if found[r] is None]
    if missing:
        raise DataError(
            f"{path}: not an Online Retail file: missing column(s) {', '.join(missing)}",
            hint=f"the file's columns: {', '.join(source.columns)}",
        )
    formats = parse_formats(ctx.params.ingest.date_format) or DATE_FORMATS
    store_field, checks = ctx.store_field(source)
    customer = found["customer"]
    fields = [
        store_field,
        Field("order_id", "id", source.column(found["invoice"]), found["invoice"]),  # type: ignore[arg-type]
        Field("quantity", "integer", source.column(found["quantity"]), found["quantity"]),  # type: ignore[arg-type]
        Field("price", "number", source.column(found["price"]), found["price"]),  # type: ignore[arg-type]
        Field(
            "ordered_at",
            "timestamp",
            source.column(found["invoice_date"]),  # type: ignore[arg-type]
            found["invoice_date"],  # type: ignore[arg-type]
            formats,
        ),
        Field(
            "customer_id",
            "id",
            f"regexp_replace(trim({source.column(customer)}), '\\.0+$', '')"
            if customer
            else "NULL",
            customer or "CustomerID",
        ),
    ]
    for f in fields[1:5]:
        checks.append(
            Check(f.label, "missing (required)", f"{ident(f.name + '__raw')} IS NULL", "NULL")
        )
    lines = ctx.validate(
        source,
        source.table,
        fields,
        table=None,
        extra_checks=checks,
        stage_name="lines",
        what="lines",
    )
    reject_whole(ctx, lines, "order_id", "another line of this invoice was rejected")
    orders = ctx.name("retail_orders")
    ctx.con.execute(
        f"CREATE TEMP TABLE {orders} AS SELECT store_id, order_id, min(customer_id) AS customer_id, "
        f"min(ordered_at) AS ordered_at, sum(quantity * price) AS value, sum(quantity) AS qty, "
        f"CASE WHEN upper(order_id) LIKE 'C%' THEN 'cancelled' "
        f"WHEN sum(quantity) < 0 THEN 'refunded' ELSE 'completed' END AS status, "
        f"min(__line) AS __line FROM {lines.valid} GROUP BY store_id, order_id"
    )
    order_fields = [
        Field("store_id", "string", "store_id", "store_id", typed=True),
        Field("order_id", "id", "order_id", fields[1].label, typed=True),
        Field("customer_id", "id", "customer_id", fields[5].label, typed=True),
        Field("ordered_at", "timestamp", "ordered_at", fields[4].label, typed=True),
        Field(
            "revenue",
            "number",
            "CASE WHEN status = 'completed' THEN value ELSE abs(value) END",
            "revenue (Σ quantity × price)",
            typed=True,
        ),
        Field("items", "integer", "CAST(abs(qty) AS BIGINT)", "items (Σ quantity)", typed=True),
        Field("status", "string", "status", "status", typed=True),
    ]
    outcome = ctx.validate(
        source, orders, order_fields, table="orders", stage_name="orders", what="orders"
    )
    result = FileResult(path, source.rows + len(source.structural))
    result.batches.append(Batch("orders", outcome.valid, tuple(f.name for f in order_fields)))
    for rej in (
        structural_rejects(ctx, source),
        rejected_from(lines, fields, "orders", source.where, "lines"),
        rejected_from(outcome, order_fields, "orders", source.where, "orders"),
    ):
        if rej is not None:
            result.rejected.append(rej)
    result.rejected_rows = lines.rejected + outcome.rejected + len(source.structural)
    return result
