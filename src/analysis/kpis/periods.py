"""The three months a scorecard compares, and where each table's data starts.

A :class:`Period` is the report month (and the month before, and the same
month a year earlier) as UTC instants in the store's time zone;
:func:`table_starts` finds each table's first row, so that a month before the
data reads :data:`NO_DATA` instead of 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import narwhals as nw
import pandas as pd

from analysis.warehouse import StoreWarehouse, month_bounds, parse_month

__all__ = [
    "NOT_ENOUGH_HISTORY",
    "NO_DATA",
    "Period",
    "local_date",
    "report_periods",
    "shift_month",
    "table_starts",
]


@dataclass(frozen=True)
class Period:
    """A calendar month of the store as UTC instants, start inclusive, end exclusive."""

    label: str  # "current", "previous", "year_ago"
    month: str  # YYYY-MM
    start: dt.datetime
    end: dt.datetime


def shift_month(month: str, months: int) -> str:
    """``YYYY-MM`` moved by ``months`` calendar months (negative: back): ``2026-01``, -1 → ``2025-12``."""
    first = parse_month(month)
    index = first.year * 12 + first.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def report_periods(month: str, timezone: str) -> tuple[Period, Period, Period]:
    """The report month, the month before and the same month a year earlier."""
    out = []
    for label, shift in (("current", 0), ("previous", -1), ("year_ago", -12)):
        m = shift_month(month, shift)
        start, end = month_bounds(m, timezone)
        out.append(Period(label, m, start, end))
    return tuple(out)  # type: ignore[return-value]


def local_date(instant: dt.datetime, timezone: str) -> dt.date:
    """The calendar date of a (time-zone aware) instant in ``timezone``."""
    return instant.astimezone(ZoneInfo(timezone)).date()


NO_DATA = "no data"
"""Status of a period that ends before the first row of the metric's table(s)."""


NOT_ENOUGH_HISTORY = "not enough history"
"""Status of a retention rate whose two windows do not both lie inside the store's history."""


def table_starts(wh: StoreWarehouse) -> dict[str, dt.datetime]:
    """The first row of each table present for the store, as a UTC instant.

    ``orders``: first ``ordered_at`` of any status (guests included);
    ``sessions`` and ``marketing_spend``: local midnight of the first ``date``;
    ``carts``, ``surveys``, ``loyalty_members``: the first ``created_at`` /
    ``responded_at`` / ``joined_at``. Tables without rows are left out. One
    min() per table, computed on the engine.
    """
    columns = {
        "orders": "ordered_at",
        "sessions": "date",
        "marketing_spend": "date",
        "carts": "created_at",
        "surveys": "responded_at",
        "loyalty_members": "joined_at",
    }
    out: dict[str, dt.datetime] = {}
    for table, column in columns.items():
        if not wh.has(table):
            continue
        first = wh.table(table).select(nw.col(column).min()).collect().item()
        if first is None or pd.isna(first):
            continue
        if isinstance(first, dt.datetime):
            out[table] = first.astimezone(dt.UTC)
        else:  # a local calendar date
            day = pd.Timestamp(first).date()
            out[table] = dt.datetime.combine(day, dt.time(), ZoneInfo(wh.timezone)).astimezone(
                dt.UTC
            )
    return out
