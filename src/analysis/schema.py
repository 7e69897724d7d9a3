"""The data contract: canonical tables, their columns and how to check them.

:data:`TABLES` declares every table of ``data/README.md``. :func:`validate_table`
checks a lazy frame against its declaration on the engine and raises a
:class:`~analysis.errors.DataError` naming the source, the column and a few
offending rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw

from analysis.errors import DataError

Kind = Literal["id", "string", "timestamp", "date", "number", "integer", "boolean"]

ORDER_STATUSES = ("completed", "cancelled", "refunded")
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    Attributes
    ----------
    name
        Canonical column name.
    kind
        ``id`` (string or integer), ``string``, ``timestamp`` (timezone-aware
        instant), ``date`` (calendar date), ``number`` (float, integer or
        decimal), ``integer``, ``boolean``.
    required
        Must be present and non-null (except where ``nullable`` says otherwise).
    nullable
        A required column whose nulls mean something (``orders.customer_id``:
        null = guest order).
    pii
        Personal data: never leaves :mod:`analysis.warehouse`.
    values
        Allowed values, for categorical columns.
    minimum
        Smallest allowed value, for numbers.
    """

    name: str
    kind: Kind
    required: bool = False
    nullable: bool = False
    pii: bool = False
    values: tuple[str, ...] | None = None
    minimum: float | None = None
    description: str = ""


# Rows per Parquet row group in warehouse files: small enough that two threads
# share a 10M-row file evenly (10% faster cohorts than 1,048,576, benchmarks/cohorts.py).
ROW_GROUP_ROWS = 131_072


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, key and the column that places a row in time.

    ``cluster`` is the physical row order of a warehouse file (see
    :attr:`row_order`): orders are stored by customer, then time, because
    cohorts, CLV and segments all aggregate per customer, and DuckDB groups
    clustered keys about twice as fast (measured in ``benchmarks/cohorts.py``).
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    time_column: str | None
    feeds: str
    cluster: tuple[str, ...] = ()

    @property
    def row_order(self) -> tuple[str, ...]:
        """Columns a warehouse file is sorted by (ascending, nulls last), then the key."""
        lead = self.cluster or ((self.time_column,) if self.time_column else ())
        return tuple(dict.fromkeys([*lead, *self.key]))

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def pii(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _c(name: str, kind: Kind, required: bool = False, **kw: Any) -> Column:
    return Column(name, kind, required, **kw)


STORE_ID = _c("store_id", "string", True, description="store id, [a-z0-9][a-z0-9_-]*")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "orders",
            (
                _c("order_id", "id", True),
                STORE_ID,
                _c("customer_id", "id", True, nullable=True, description="null = guest order"),
                _c("ordered_at", "timestamp", True),
                _c("revenue", "number", True, description="order value in store currency"),
                _c("discount", "number", minimum=0),
                _c("items", "integer", minimum=0),
                _c("status", "string", values=ORDER_STATUSES),
                _c("channel", "string"),
            ),
            key=("store_id", "order_id"),
            time_column="ordered_at",
            feeds="everything",
            cluster=("customer_id", "ordered_at"),
        ),
        Table(
            "customers",
            (
                _c("customer_id", "id", True),
                STORE_ID,
                _c("signed_up_at", "timestamp"),
                _c("acquisition_channel", "string"),
                _c("birth_year", "integer"),
                _c("gender", "string"),
                _c("region", "string"),
                _c("email", "string", pii=True),
                _c("phone", "string", pii=True),
                _c("name", "string", pii=True),
            ),
            key=("store_id", "customer_id"),
            time_column=None,
            feeds="onboarding, demographics",
        ),
        Table(
            "loyalty_members",
            (
                _c("customer_id", "id", True),
                STORE_ID,
                _c("joined_at", "timestamp", True),
                _c("tier", "string"),
            ),
            key=("store_id", "customer_id"),
            time_column="joined_at",
            feeds="participation, member vs non-member",
        ),
        Table(
            "loyalty_points",
            (
                _c("customer_id", "id", True),
                STORE_ID,
                _c("occurred_at", "timestamp", True),
                _c("points_earned", "number", minimum=0),
                _c("points_redeemed", "number", minimum=0),
            ),
            key=("store_id", "customer_id", "occurred_at"),
            time_column="occurred_at",
            feeds="redemption rate, liability",
        ),
        Table(
            "experiments",
            (
                _c("experiment_id", "string", True),
                _c("customer_id", "id", True),
                STORE_ID,
                _c("variant", "string", True),
                _c("assigned_at", "timestamp", True),
            ),
            key=("store_id", "experiment_id", "customer_id"),
            time_column="assigned_at",
            feeds="loyalty A/B",
        ),
        Table(
            "sessions",
            (
                STORE_ID,
                _c("date", "date", True),
                _c("sessions", "integer", True, minimum=0),
                _c("visitors", "integer", minimum=0),
            ),
            key=("store_id", "date"),
            time_column="date",
            feeds="conversion rate",
        ),
        Table(
            "carts",
            (
                _c("cart_id", "id", True),
                STORE_ID,
                _c("created_at", "timestamp", True),
                _c("customer_id", "id"),
                _c("order_id", "id", description="null = abandoned"),
            ),
            key=("store_id", "cart_id"),
            time_column="created_at",
            feeds="cart abandonment, abandoner segment",
        ),
        Table(
            "marketing_spend",
            (
                STORE_ID,
                _c("date", "date", True),
                _c("spend", "number", True, minimum=0),
                _c("channel", "string"),
            ),
            key=("store_id", "date", "channel"),
            time_column="date",
            feeds="CAC, LTV:CAC",
        ),
        Table(
            "surveys",
            (
                STORE_ID,
                _c("responded_at", "timestamp", True),
                _c("customer_id", "id"),
                _c("nps", "integer", minimum=0),
                _c("csat", "integer", minimum=1),
            ),
            key=("store_id", "responded_at", "customer_id"),
            time_column="responded_at",
            feeds="NPS, CSAT, negative-experience segment",
        ),
        Table(
            "campaigns",
            (
                _c("campaign_id", "string", True),
                STORE_ID,
                _c("customer_id", "id", True),
                _c("sent_at", "timestamp", True),
                _c("opened", "boolean"),
                _c("clicked", "boolean"),
                _c("converted", "boolean"),
            ),
            key=("store_id", "campaign_id", "customer_id"),
            time_column="sent_at",
            feeds="campaign-response segments",
        ),
    )
}

_MAXIMUM = {("surveys", "nps"): 10, ("surveys", "csat"): 5}


def _kind_ok(kind: Kind, dtype: nw.dtypes.DType) -> bool:
    if kind == "id":
        return dtype == nw.String or dtype.is_integer()
    if kind == "string":
        return dtype == nw.String or dtype == nw.Categorical or dtype == nw.Enum
    if kind == "timestamp":
        return isinstance(dtype, nw.Datetime)
    if kind == "date":
        return dtype == nw.Date
    if kind == "number":
        return dtype.is_numeric()
    if kind == "integer":
        return dtype.is_integer()
    if kind == "boolean":
        return dtype == nw.Boolean
    raise ValueError(kind)


def _sample(frame: nw.LazyFrame, condition: nw.Expr, columns: list[str]) -> list[dict]:
    rows = frame.filter(condition).select(columns).head(SAMPLE_ROWS).collect()
    return rows.to_pandas().astype(object).to_dict(orient="records")


def validate_table(name: str, frame: nw.LazyFrame | nw.DataFrame, *, source: str) -> int:
    """Check ``frame`` against the contract of table ``name``; return its row count.

    Parameters
    ----------
    name
        A key of :data:`TABLES`.
    frame
        The table as a narwhals frame (lazy or eager); checks run on its engine.
    source
        File or folder the rows came from, quoted in error messages.

    Raises
    ------
    DataError
        On the first broken rule, naming ``source``, the column and up to
        five offending rows.
    """
    if name not in TABLES:
        raise DataError(f"{source}: unknown table {name!r}", hint=f"tables: {', '.join(TABLES)}")
    table = TABLES[name]
    lf = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
    schema = lf.collect_schema()
    missing = [c for c in table.required if c not in schema]
    if missing:
        raise DataError(
            f"{source}: table {name} is missing required column(s) {', '.join(missing)}",
            hint=f"found columns: {', '.join(schema.names())}",
        )
    for col in table.columns:
        if col.name in schema and not _kind_ok(col.kind, schema[col.name]):
            raise DataError(
                f"{source}: column {name}.{col.name} has type {schema[col.name]}, "
                f"expected {col.kind}"
            )
        dtype = schema.get(col.name)
        if col.kind == "timestamp" and isinstance(dtype, nw.Datetime) and dtype.time_zone is None:
            raise DataError(
                f"{source}: column {name}.{col.name} is a naive timestamp",
                hint="store instants as timezone-aware UTC (the contract in data/README.md)",
            )
    present = [c for c in table.columns if c.name in schema]
    key_cols = [c for c in table.key if c in schema]
    show = list(dict.fromkeys([*key_cols, *[c.name for c in present if c.required]]))
    checks: list[tuple[str, nw.Expr, str]] = []
    for col in present:
        e = nw.col(col.name)
        if col.required and not col.nullable:
            checks.append((col.name, e.is_null(), "null in a required column"))
        if col.values is not None:
            checks.append(
                (
                    col.name,
                    ~e.is_in(list(col.values)) & ~e.is_null(),
                    f"value not in {list(col.values)}",
                )
            )
        if col.minimum is not None:
            checks.append((col.name, e < col.minimum, f"value below {col.minimum}"))
        maximum = _MAXIMUM.get((name, col.name))
        if maximum is not None:
            checks.append((col.name, e > maximum, f"value above {maximum}"))
    checks.append(
        (
            "store_id",
            ~nw.col("store_id").str.contains(r"^[a-z0-9][a-z0-9_-]*$"),
            "store id does not match [a-z0-9][a-z0-9_-]*",
        )
    )
    if name == "orders" and "status" in schema:
        checks.append(
            (
                "revenue",
                (nw.col("revenue") < 0) & (nw.col("status") == "completed"),
                "negative revenue on a completed order",
            )
        )
    elif name == "orders":
        checks.append(("revenue", nw.col("revenue") < 0, "negative revenue"))
    if not checks:
        return int(lf.select(nw.len()).collect().item())
    counts = (
        lf.select(
            nw.len().alias("__rows"),
            *[
                c.fill_null(False).cast(nw.Int64).sum().alias(f"__c{i}")
                for i, (_, c, _) in enumerate(checks)
            ],
        )
        .collect()
        .row(0)
    )
    for i, (column, cond, why) in enumerate(checks):
        bad = int(counts[i + 1] or 0)
        if bad:
            cols = list(dict.fromkeys([*show, column]))
            rows = _sample(lf, cond.fill_null(False), cols)
            raise DataError(f"{source}: {name}.{column}: {why} in {bad} row(s), e.g. {rows}")
    dupes = (
        lf.group_by(list(table.key)).agg(nw.len().alias("__n")).filter(nw.col("__n") > 1)
        if all(k in schema for k in table.key) and name in ("orders", "customers", "carts")
        else None
    )
    if dupes is not None:
        sample = dupes.head(SAMPLE_ROWS).collect()
        if len(sample):
            raise DataError(
                f"{source}: {name}: duplicate key {list(table.key)}, e.g. "
                f"{sample.to_pandas().astype(object).to_dict(orient='records')}"
            )
    return int(counts[0])
