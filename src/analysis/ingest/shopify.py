"""``--format shopify``: Shopify's orders CSV export (Admin → Orders → Export).

The export has one row per line item; order-level fields (``Email``,
``Financial Status``, ``Total``, ``Discount Amount``, ``Created at``,
``Cancelled at``, ``Source``, billing details) are filled on an order's first
row only. Each order (``Name``, e.g. ``#1001``) becomes one row of ``orders``:

- ``customer_id`` = pseudonym of the e-mail: ``c_`` + the first 16 hex digits
  of HMAC-SHA256(key, lower-cased trimmed e-mail); no e-mail = guest order.
  The key is ``$ANALYSIS_PSEUDONYM_KEY`` if set, else the file
  ``data/pseudonym.key`` (32 random bytes, created on first use, outside the
  warehouse; keep it: a new key gives every customer a new id);
- ``ordered_at`` = ``Created at`` (``2024-01-05 10:15:30 +0700``, offset kept);
- ``revenue`` = ``Total`` minus ``Refunded Amount`` for a completed order
  (a ``partially_refunded`` one counts at what the customer kept paying);
  ``Total`` for a refunded or cancelled one (the value reversed);
  ``discount`` = ``Discount Amount``,
  ``items`` = Σ ``Lineitem quantity``, ``channel`` = ``Source``;
- ``status``: ``Cancelled at`` set → cancelled; else ``Financial Status``
  through ``ingest.status`` of the store's params, then Shopify's meaning:
  refunded → refunded, voided → cancelled, paid / partially_paid /
  partially_refunded / pending / authorized → completed.

The raw e-mail, billing name, phone and province go only to ``customers``
(one row per customer, from their latest order), whose PII columns the
warehouse layer never hands out.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from analysis.errors import DataError
from analysis.ingest.checks import Check, Field, Outcome, ident
from analysis.ingest.context import (
    Context,
    FileResult,
    reject_whole,
    rejected_from,
    structural_rejects,
)
from analysis.ingest.sources import Source, one_row, quote_literal
from analysis.ingest.writer import Batch
from analysis.privacy import email_pseudonym, pseudonym_key

REQUIRED = ("Name", "Email", "Financial Status", "Total", "Created at", "Lineitem quantity")
ORDER_LEVEL = (
    "Email", "Financial Status", "Total", "Discount Amount", "Created at", "Cancelled at",
    "Source", "Billing Name", "Phone", "Billing Phone", "Billing Province", "Refunded Amount",
)  # fmt: skip
_HELPERS = ("refunded_amount", "financial_status")
"""Order-stage columns used by checks and the revenue rule, not stored."""
SHOPIFY_STATUS = {
    "refunded": "refunded",
    "voided": "cancelled",
    "paid": "completed",
    "partially_paid": "completed",
    "partially_refunded": "completed",
    "pending": "completed",
    "authorized": "completed",
}


def read_shopify(ctx: Context, path: Path) -> FileResult:
    """Read one Shopify orders export into ``orders`` and ``customers``."""
    source = ctx.read(path)
    col, req = _columns(path, source)
    store_field, checks = ctx.store_field(source)
    sql = {n: (source.column(c) if c else "CAST(NULL AS VARCHAR)") for n, c in col.items()}
    # 1. line items: every row needs an order name and a whole quantity
    line_fields, lines = _check_lines(ctx, source, store_field, checks, sql, req)
    # 2. order level: the first non-empty value of each order-level column, in file order
    level = _order_level(ctx, source, sql, lines)
    # 3. pseudonyms, computed in Python over the distinct e-mails only
    joined = _pseudonymise(ctx, level)
    order_fields = _order_fields(ctx, store_field.label, col, req)
    orders = ctx.validate(
        source, joined, order_fields, table="orders", stage_name="orders", what="orders",
        extra_checks=_refund_checks(col),
    )  # fmt: skip
    kept = one_row(
        ctx.con,
        f"UPDATE {orders.valid} SET revenue = revenue - refunded_amount "
        f"WHERE status = 'completed' AND refunded_amount > 0",
    )[0]
    if kept:
        ctx.progress(f"{kept:,} completed order(s) counted at Total − Refunded Amount")
        ctx.note(path, "partially_refunded", int(kept))
    # 4. customers: the latest order's details per pseudonymous id
    customer_fields, customers = _customers(
        ctx, source, joined, orders, store_field.label, col, req
    )
    result = FileResult(path, source.rows + len(source.structural))
    canonical = tuple(f.name for f in order_fields if f.name not in _HELPERS)
    result.batches.append(Batch("orders", orders.valid, canonical))
    result.batches.append(
        Batch("customers", customers.valid, tuple(f.name for f in customer_fields))
    )
    for rej in (
        structural_rejects(ctx, source),
        rejected_from(lines, line_fields, "orders", source.where, "lines", source),
        rejected_from(orders, order_fields, "orders", source.where, "orders", source),
        rejected_from(customers, customer_fields, "customers", source.where, "customers", source),
    ):
        if rej is not None:
            result.rejected.append(rej)
    result.rejected_rows = (
        lines.rejected + orders.rejected + customers.rejected + len(source.structural)
    )
    return result


def _columns(path: Path, source: Source) -> tuple[dict[str, str | None], dict[str, str]]:
    """The file's name for each Shopify column (None when absent), and the required ones.

    Raises
    ------
    DataError
        A required column is missing: not a Shopify orders export.
    """
    col = {name: source.find(name) for name in (*REQUIRED, *ORDER_LEVEL)}
    req = {n: c for n in REQUIRED if (c := col[n]) is not None}
    missing = [n for n in REQUIRED if n not in req]
    if missing:
        raise DataError(
            f"{path}: not a Shopify orders export: missing column(s) {', '.join(missing)}",
            hint=f"the file's columns: {', '.join(source.columns)}",
        )
    return col, req


def _check_lines(
    ctx: Context,
    source: Source,
    store_field: Field,
    checks: list[Check],
    sql: dict[str, str],
    req: dict[str, str],
) -> tuple[list[Field], Outcome]:
    """Validate the line items (order name, whole quantity); a rejected line rejects its order."""
    line_fields = [
        store_field,
        Field("order_id", "id", sql["Name"], req["Name"]),
        Field("quantity", "integer", sql["Lineitem quantity"], req["Lineitem quantity"]),
    ]
    if ctx.file_store_field is not None:  # the split (or own store_id) column's text
        line_fields.append(ctx.file_store_field)
    checks.append(
        Check(req["Name"], "missing (required)", f"{ident('order_id__raw')} IS NULL", "NULL")
    )
    lines = ctx.validate(
        source, source.table, line_fields, table=None, extra_checks=checks,
        stage_name="lines", what="lines",
    )  # fmt: skip
    reject_whole(ctx, lines, "order_id", "another line of this order was rejected")
    return line_fields, lines


def _order_level(ctx: Context, source: Source, sql: dict[str, str], lines: Outcome) -> str:
    """Temp table ``<level>`` of one row per order (first order-level values), and its items.

    ``<level>_items`` holds each valid order's store and Σ quantity. Returns
    ``<level>``'s name.
    """
    con = ctx.con
    firsts = ", ".join(
        f"arg_min({sql[n]}, __line) FILTER (WHERE nullif(trim({sql[n]}), '') IS NOT NULL) "
        f"AS {ident(n)}"
        for n in ORDER_LEVEL
    )
    level = ctx.name("shopify_orders")
    name = sql["Name"]
    dropped = (
        f"AND trim({name}) NOT IN (SELECT order_id FROM {lines.rejected_table})"
        if lines.rejected_table
        else ""
    )
    con.execute(
        f"CREATE TEMP TABLE {level} AS SELECT trim({name}) AS order_name, min(__line) AS __line, "
        f"{firsts} FROM {source.table} WHERE nullif(trim({name}), '') IS NOT NULL {dropped} "
        f"GROUP BY trim({name})"
    )
    con.execute(
        f"CREATE TEMP TABLE {level}_items AS SELECT order_id, any_value(store_id) AS store_id, "
        f"sum(quantity) AS items FROM {lines.valid} GROUP BY order_id"
    )
    return level


def _pseudonymise(ctx: Context, level: str) -> str:
    """Join each order with its items and its e-mail's pseudonym ``pid``; the table's name."""
    con = ctx.con
    key = pseudonym_key(ctx.params.data_folder())
    emails = [
        e
        for (e,) in con.execute(
            f'SELECT DISTINCT trim("Email") FROM {level} WHERE "Email" IS NOT NULL'
        ).fetchall()
    ]
    ids = pa.table(
        {"email": pa.array(emails, pa.string()), "pid": [email_pseudonym(e, key) for e in emails]}
    )
    con.register(f"{level}_ids_src", ids)
    con.execute(f"CREATE TEMP TABLE {level}_ids AS SELECT * FROM {level}_ids_src")
    con.unregister(f"{level}_ids_src")
    joined = ctx.name("shopify_joined")
    con.execute(
        f"CREATE TEMP TABLE {joined} AS SELECT o.*, i.items, i.store_id, p.pid "
        f"FROM {level} o JOIN {level}_items i ON i.order_id = o.order_name "
        f'LEFT JOIN {level}_ids p ON p.email = trim(o."Email")'
    )
    return joined


def _status_sql(ctx: Context) -> str:
    """SQL of an order's status: cancelled if ``Cancelled at``, else ``ingest.status``, then Shopify's."""
    status = ctx.params.ingest.status
    fin = 'lower(trim("Financial Status"))'
    arms = [
        f"WHEN {fin} IN ({', '.join(map(quote_literal, sorted({v.strip().lower() for v in values})))}) "
        f"THEN '{canonical}'"
        for canonical, values in (
            ("completed", status.completed),
            ("cancelled", status.cancelled),
            ("refunded", status.refunded),
        )
        if values
    ]
    arms += [f"WHEN {fin} = '{k}' THEN '{v}'" for k, v in SHOPIFY_STATUS.items()]
    return (
        f"CASE WHEN nullif(trim(\"Cancelled at\"), '') IS NOT NULL THEN 'cancelled' "
        f'{" ".join(arms)} ELSE "Financial Status" END'
    )


def _order_fields(
    ctx: Context, store_label: str, col: dict[str, str | None], req: dict[str, str]
) -> list[Field]:
    """The order stage's fields: the ``orders`` columns plus the helpers in :data:`_HELPERS`."""
    status_sql = _status_sql(ctx)
    return [
        Field("store_id", "string", "store_id", store_label, typed=True),
        Field("order_id", "id", "order_name", req["Name"]),
        Field("customer_id", "id", "pid", "Email (pseudonymised)", typed=True),
        Field("ordered_at", "timestamp", '"Created at"', req["Created at"]),
        Field("revenue", "number", '"Total"', req["Total"]),
        Field(
            "discount", "number", '"Discount Amount"', col["Discount Amount"] or "Discount Amount"
        ),
        Field("items", "integer", "items", "Lineitem quantity (Σ)", typed=True),
        Field("status", "string", status_sql, req["Financial Status"]),
        Field("channel", "string", '"Source"', col["Source"] or "Source"),
        Field(
            "refunded_amount",
            "number",
            '"Refunded Amount"',
            col["Refunded Amount"] or "Refunded Amount",
        ),
        Field("financial_status", "string", f"lower(trim({ident('Financial Status')}))",
              req["Financial Status"]),
    ]  # fmt: skip


def _refund_checks(col: dict[str, str | None]) -> list[Check]:
    """``Refunded Amount`` rules: given on a partial refund, within Total, not negative."""
    return [
        Check(
            col["Refunded Amount"] or "Refunded Amount",
            "missing on a partially_refunded order (its revenue is Total − Refunded Amount)",
            "financial_status = 'partially_refunded' AND status = 'completed' "
            "AND refunded_amount IS NULL",
            ident("refunded_amount__raw"),
        ),
        Check(
            col["Refunded Amount"] or "Refunded Amount",
            "above the order's Total on a completed order",
            "status = 'completed' AND refunded_amount > revenue",
            ident("refunded_amount__raw"),
        ),
        Check(
            col["Refunded Amount"] or "Refunded Amount",
            "below 0",
            "refunded_amount < 0",
            ident("refunded_amount__raw"),
        ),
    ]


def _customers(
    ctx: Context,
    source: Source,
    joined: str,
    orders: Outcome,
    store_label: str,
    col: dict[str, str | None],
    req: dict[str, str],
) -> tuple[list[Field], Outcome]:
    """Validate one ``customers`` row per pseudonymous id: its latest valid order's details."""
    people = ctx.name("shopify_customers")
    phone = 'coalesce("Phone", "Billing Phone")'
    ctx.con.execute(
        f"CREATE TEMP TABLE {people} AS SELECT any_value(store_id) AS store_id, pid, "
        f'arg_max(trim("Email"), __line) AS email, arg_max("Billing Name", __line) AS name, '
        f'arg_max({phone}, __line) AS phone, arg_max("Billing Province", __line) AS region, '
        f"min(__line) AS __line FROM {joined} WHERE pid IS NOT NULL "
        f"AND order_name IN (SELECT order_id FROM {orders.valid}) GROUP BY pid"
    )
    customer_fields = [
        Field("store_id", "string", "store_id", store_label, typed=True),
        Field("customer_id", "id", "pid", "Email (pseudonymised)", typed=True),
        Field("email", "string", "email", req["Email"]),
        Field("name", "string", "name", col["Billing Name"] or "Billing Name"),
        Field("phone", "string", "phone", col["Phone"] or "Phone"),
        Field("region", "string", "region", col["Billing Province"] or "Billing Province"),
    ]
    customers = ctx.validate(
        source, people, customer_fields, table="customers", stage_name="customers",
        what="customers",
    )  # fmt: skip
    return customer_fields, customers
