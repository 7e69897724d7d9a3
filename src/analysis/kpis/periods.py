"""Where each table's data starts, so that a month before the data reads "no data", not 0.

The months a scorecard compares are :class:`analysis.calendar.ReportPeriod`
(:func:`analysis.calendar.report_periods`); :func:`table_starts` finds each
table's first row, and a period that ends before it gets :data:`NO_DATA`.
"""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import pandas as pd

from analysis.calendar import local_midnight
from analysis.warehouse import StoreWarehouse

__all__ = ["NOT_ENOUGH_HISTORY", "NO_DATA", "table_starts"]


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
            out[table] = local_midnight(pd.Timestamp(first).date(), wh.timezone)
    return out
