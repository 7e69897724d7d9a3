"""``--format online-retail``: invoice lines in the UCI Online Retail (I and II) layout.

Columns (either spelling): ``InvoiceNo``/``Invoice``, ``StockCode``,
``Description``, ``Quantity``, ``InvoiceDate``, ``UnitPrice``/``Price``,
``CustomerID``/``Customer ID``, ``Country``. CSV or the original .xlsx (both
sheets of Online Retail II; invoices the sheets share are taken once).

Lines are checked first (quantity a whole number, price a number, date
parseable, not in the future), then summed into one row per invoice:

- ``ordered_at`` = the invoice's earliest line time, naive times read in
  ``ingest.timezone`` (else the store's ``timezone``); day/month order decided
  from all the column's values (the UCI CSV's ``12/13/2010`` proves month-first);
- ``revenue`` = Σ quantity × price over every line, service lines
  (:data:`SERVICE_CODES`: postage, carriage, fees, discounts) included;
  ``items`` = Σ quantity of the other (product) lines;
- an invoice number starting with ``C`` is a cancellation, an invoice whose
  quantities sum below zero a return (``refunded``); both are stored with the
  positive value and item count they reverse;
- not sales and not refunds, so not orders (counted apart and reported,
  :data:`SET_APART`): ``A`` invoices and stock code ``B`` ("Adjust bad debt"),
  invoices with no customer and zero value (stock adjustments: damaged, lost,
  found), and other zero-value invoices;
- ``CustomerID`` ``17850.0`` is ``17850``; an empty one is a guest order;
- ``--store-from-column Country`` splits the file into one store per country.
"""

from __future__ import annotations

from pathlib import Path

from analysis.errors import DataError
from analysis.ingest.checks import Check, Field, Outcome, ident, parse_formats
from analysis.ingest.context import (
    Context,
    FileResult,
    reject_whole,
    rejected_from,
    structural_rejects,
)
from analysis.ingest.sources import SHEET_STRIDE, Source, count_rows, one_row, quote_literal
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
SERVICE_CODES = ("POST", "DOT", "C2", "M", "BANK CHARGES", "AMAZONFEE", "CRUK", "D", "PADS", "S")
"""Stock codes that are not products (compared trimmed, upper-cased): ``POST`` postage,
``DOT`` dotcom postage, ``C2`` carriage, ``M`` manual line, ``BANK CHARGES``, ``AMAZONFEE``
Amazon fee, ``CRUK`` CRUK commission, ``D`` discount, ``PADS`` cushion pads (0.001 each),
``S`` samples. They count in their invoice's value, not in its items."""
BAD_DEBT_CODE = "B"
"""Stock code of the "Adjust bad debt" lines (on ``A`` invoices)."""
ZERO = 0.005
"""An invoice whose |Σ quantity × price| is below half a penny has zero value."""
SET_APART = {
    "bad_debt_adjustments": "an A invoice or stock code B (Adjust bad debt)",
    "stock_adjustments": "no customer and zero value",
    "zero_value_invoices": "zero value, with a customer",
}
"""Invoices that are neither sales nor refunds: not loaded, counted in the ingest log."""


def _find(source: Source, role: str) -> str | None:
    for alias in ALIASES[role]:
        col = source.find(alias)
        if col is not None:
            return col
    return None


def read_online_retail(ctx: Context, path: Path) -> FileResult:
    """Read one invoice-line file and aggregate it into orders."""
    source = ctx.read(path)
    found = {role: col for role in ALIASES if (col := _find(source, role)) is not None}
    missing = [ALIASES[r][0] for r in REQUIRED if r not in found]
    if missing:
        raise DataError(
            f"{path}: not an Online Retail file: missing column(s) {', '.join(missing)}",
            hint=f"the file's columns: {', '.join(source.columns)}",
        )
    fields, lines = _check_lines(ctx, source, found)
    if len(source.sheets) > 1:
        _once_per_invoice(ctx, source, lines.valid)
    orders = _invoices(ctx, path, lines.valid)
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
        rejected_from(lines, fields, "orders", source.where, "lines", source),
        rejected_from(outcome, order_fields, "orders", source.where, "orders", source),
    ):
        if rej is not None:
            result.rejected.append(rej)
    result.rejected_rows = lines.rejected + outcome.rejected + len(source.structural)
    return result


def _check_lines(
    ctx: Context, source: Source, found: dict[str, str]
) -> tuple[list[Field], Outcome]:
    """Validate the invoice lines; a rejected line rejects its invoice.

    ``found`` maps each role (``invoice``, ``quantity``, …) to the file's column.
    """
    formats = parse_formats(ctx.params.ingest.date_format)
    store_field, checks = ctx.store_field(source)
    customer, stock_code = found.get("customer"), found.get("stock_code")
    fields = [
        store_field,
        Field("order_id", "id", source.column(found["invoice"]), found["invoice"]),
        Field("quantity", "integer", source.column(found["quantity"]), found["quantity"]),
        Field("price", "number", source.column(found["price"]), found["price"]),
        Field("ordered_at", "timestamp", source.column(found["invoice_date"]),
              found["invoice_date"], formats),
        Field("customer_id", "id", source.column(customer) if customer else "NULL",
              customer or "CustomerID"),
        Field("stock_code", "string",
              source.column(stock_code) if stock_code else "NULL", stock_code or "StockCode"),
    ]  # fmt: skip
    if ctx.file_store_field is not None:  # the split column's text, for its checks
        fields.append(ctx.file_store_field)
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
    return fields, lines


def _invoices(ctx: Context, path: Path, valid: str) -> str:
    """One row per invoice from the valid lines, minus those set apart; the temp table's name.

    Bad-debt and stock adjustments and zero-value invoices are not sales: they
    are counted in the log (``set_apart``) and dropped.
    """
    orders = ctx.name("retail_orders")
    service = ", ".join(quote_literal(c) for c in SERVICE_CODES)
    code = "upper(trim(stock_code))"
    value = "sum(quantity * price)"
    ctx.con.execute(
        f"CREATE TEMP TABLE {orders} AS SELECT store_id, order_id, min(customer_id) AS customer_id, "
        f"min(ordered_at) AS ordered_at, {value} AS value, "
        f"coalesce(sum(quantity) FILTER (WHERE {code} IS NULL OR {code} NOT IN ({service})), 0) "
        f"AS qty, count(*) AS lines, "
        f"CASE WHEN upper(order_id) LIKE 'C%' THEN 'cancelled' "
        f"WHEN sum(quantity) < 0 THEN 'refunded' ELSE 'completed' END AS status, "
        f"CASE WHEN upper(order_id) LIKE 'A%' OR bool_or({code} = '{BAD_DEBT_CODE}') "
        f"THEN 'bad_debt_adjustments' "
        f"WHEN abs({value}) < {ZERO} AND min(customer_id) IS NULL THEN 'stock_adjustments' "
        f"WHEN abs({value}) < {ZERO} THEN 'zero_value_invoices' END AS apart, "
        f"min(__line) AS __line FROM {valid} GROUP BY store_id, order_id"
    )
    apart = ctx.con.execute(
        f"SELECT apart, count(*), sum(lines), sum(value) FROM {orders} "
        f"WHERE apart IS NOT NULL GROUP BY apart ORDER BY apart"
    ).fetchall()
    if apart:
        ctx.note(path, "set_apart", {
            kind: {"invoices": int(n), "lines": int(k), "value": round(float(v), 2)}
            for kind, n, k, v in apart
        })  # fmt: skip
        ctx.progress(
            "set apart (not sales, not refunds): "
            + ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n, _k, _v in apart)
        )
        ctx.con.execute(f"DELETE FROM {orders} WHERE apart IS NOT NULL")
    return orders


def _once_per_invoice(ctx: Context, source: Source, valid: str) -> None:
    """Keep an invoice's lines from the first sheet it appears on (workbook sheets overlap).

    Online Retail II's two sheets share the invoices of 1–9 December 2010.
    Where a later sheet repeats an invoice with the same lines (count,
    Σ quantity, Σ quantity × price), its copy is dropped and counted; where the
    copies differ, the file is refused (which one is right cannot be told).

    Raises
    ------
    DataError
        An invoice has different lines on two sheets.
    """
    con = ctx.con
    per = ctx.name("retail_sheets")
    con.execute(
        f"CREATE TEMP TABLE {per} AS SELECT store_id, order_id, __line // {SHEET_STRIDE} AS sheet, "
        f"count(*) AS n, sum(quantity) AS q, round(sum(quantity * price), 6) AS v, "
        f"min(__line) AS first FROM {valid} GROUP BY ALL"
    )
    differ = con.execute(
        f"SELECT order_id, list(first ORDER BY sheet) FROM {per} GROUP BY store_id, order_id "
        f"HAVING count(DISTINCT (n, q, v)) > 1 ORDER BY min(first) LIMIT 5"
    ).fetchall()
    if differ:
        shown = "; ".join(
            f"{inv!r} at " + " and ".join(source.locate(x) for x in firsts)
            for inv, firsts in differ
        )
        raise DataError(
            f"{source.path}: invoice(s) on two sheets with different lines, nothing written — "
            f"{shown}",
            hint="read one sheet with --sheet, or correct the workbook",
        )
    dropped = one_row(
        con,
        f"DELETE FROM {valid} v USING (SELECT store_id, order_id, min(sheet) AS keep FROM {per} "
        f"GROUP BY ALL HAVING count(*) > 1) d WHERE v.store_id = d.store_id "
        f"AND v.order_id = d.order_id AND v.__line // {SHEET_STRIDE} <> d.keep",
    )[0]
    if dropped:
        invoices = count_rows(
            con, f"(SELECT 1 FROM {per} GROUP BY store_id, order_id HAVING count(*) > 1)"
        )
        ctx.note(source.path, "sheet_overlap", {"invoices": int(invoices), "lines": int(dropped)})
        ctx.progress(
            f"{invoices:,} invoice(s) appear on more than one sheet with the same lines: "
            f"taken once ({dropped:,} repeated lines dropped)"
        )
