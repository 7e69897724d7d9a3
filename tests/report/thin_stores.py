"""Warehouses of stores with little or odd data, in the layout a real store's first export gives.

Each builder writes ``<root>/<table>/<store>.parquet`` files and returns the
root. The numbers they plant are stated in their docstrings so the tests can
check the report against them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.schema import TABLES

STORE = "thin-shop"
UTC = dt.UTC
BANGKOK = dt.timezone(dt.timedelta(hours=7))


def _write(root: Path, table: str, columns: dict[str, pa.Array], store: str = STORE) -> None:
    n = len(next(iter(columns.values())))
    data = {"store_id": pa.array([store] * n, pa.string()), **columns}
    path = root / table / f"{store}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(data), path)


def _instants(values: list[dt.datetime]) -> pa.Array:
    return pa.array(values, pa.timestamp("us", tz="UTC"))


def one_guest_order(root: Path) -> Path:
    """One completed guest order of ฿100 at noon Bangkok time on 30 September 2026
    (no customer id, no status column): the report month is 2026-09."""
    _write(
        root,
        "orders",
        {
            "order_id": pa.array(["1001"], pa.string()),
            "customer_id": pa.array([None], pa.string()),
            "ordered_at": _instants([dt.datetime(2026, 9, 30, 12, tzinfo=BANGKOK)]),
            "revenue": pa.array([100.0]),
        },
    )
    return root


def three_months(root: Path, customers: int = 150, seed: int = 3) -> Path:
    """Orders from 1 July to 30 September 2026 (92 days, Bangkok), nothing before.

    ``customers`` registered customers each place a first order on a uniformly
    drawn day of the three months and then, every 10–40 days, another one until
    the end of September; plus a few guest orders. Status and discount columns
    are present. The report month is 2026-09: every cohort is younger than
    three months and the CLV section must say that 92 days are too few.
    """
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 7, 1, tzinfo=BANGKOK)
    days = 92
    rows: list[tuple[str | None, dt.datetime, float, str, float]] = []
    for c in range(customers):
        t = rng.uniform(0, days)
        while t < days:
            when = start + dt.timedelta(days=float(t))
            status = "cancelled" if rng.random() < 0.05 else "completed"
            discount = float(rng.choice([0.0, 0.0, 50.0]))
            rows.append((f"c{c:04d}", when, round(float(rng.gamma(3, 150)), 2), status, discount))
            t += rng.uniform(10, 40)
    for _ in range(20):
        when = start + dt.timedelta(days=float(rng.uniform(0, days)))
        rows.append((None, when, round(float(rng.gamma(3, 150)), 2), "completed", 0.0))
    rows.sort(key=lambda r: r[1])
    _write(
        root,
        "orders",
        {
            "order_id": pa.array([f"T{i:05d}" for i in range(len(rows))], pa.string()),
            "customer_id": pa.array([r[0] for r in rows], pa.string()),
            "ordered_at": _instants([r[1].astimezone(UTC) for r in rows]),
            "revenue": pa.array([r[2] for r in rows]),
            "status": pa.array([r[3] for r in rows], pa.string()),
            "discount": pa.array([r[4] for r in rows]),
        },
    )
    return root


def clockwork_buyers(root: Path, customers: int = 400, seed: int = 5) -> Path:
    """Customers who buy exactly every 30 days from their first order until the end
    of September 2026 and never stop; first orders spread over 2024-10 .. 2026-06.

    Purchases this regular are less variable than any Poisson process, so the
    BG/NBD fit runs to the boundary (r and alpha to infinity, a and b to 0) from
    every start and under every penalizer: with ``clv.model: bgnbd`` the CLV
    section has no model to show. Everything else in the report is ordinary.
    """
    rng = np.random.default_rng(seed)
    first = dt.datetime(2024, 10, 1, 12, tzinfo=BANGKOK)
    end = dt.datetime(2026, 10, 1, tzinfo=BANGKOK)
    ids, times, revenue = [], [], []
    for c in range(customers):
        t = first + dt.timedelta(days=int(rng.integers(0, 640)))
        while t < end:
            ids.append(f"k{c:04d}")
            times.append(t.astimezone(UTC))
            revenue.append(round(float(rng.gamma(4, 100)), 2))
            t += dt.timedelta(days=30)
    _write(
        root,
        "orders",
        {
            "order_id": pa.array([f"K{i:06d}" for i in range(len(ids))], pa.string()),
            "customer_id": pa.array(ids, pa.string()),
            "ordered_at": _instants(times),
            "revenue": pa.array(revenue),
            "status": pa.array(["completed"] * len(ids), pa.string()),
        },
    )
    return root


def optional_columns(table: str) -> list[str]:
    """Optional, non-PII columns of a contract table, in contract order (PII columns
    never reach a metric, so leaving them out changes nothing a report reads)."""
    return [c.name for c in TABLES[table].columns if not c.required and not c.pii]


def without_optional_column(source: Path, target: Path, turn: int, store: str) -> list[str]:
    """Copy ``store``'s warehouse without the ``turn``-th optional column of every table
    that has one (turn 0 drops orders.discount, customers.signed_up_at, …); turn
    :func:`turns` drops every optional column at once (only the contract's required
    columns are left, as in a minimal export).

    Returns the dropped columns as ``table.column``.
    """
    dropped = []
    for table in TABLES:
        path = source / table / f"{store}.parquet"
        if not path.is_file():
            continue
        out = target / table / f"{store}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        optional = optional_columns(table)
        data = pq.read_table(path)
        if turn == turns():
            columns = [c for c in optional + list(TABLES[table].pii) if c in data.column_names]
        elif turn < len(optional):
            columns = [optional[turn]]
        else:
            shutil.copy(path, out)
            continue
        pq.write_table(data.drop_columns(columns), out)
        dropped += [f"{table}.{c}" for c in columns]
    return dropped


def turns() -> int:
    """How many turns make every optional column missing once."""
    return max(len(optional_columns(t)) for t in TABLES)
