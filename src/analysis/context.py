"""What every section notebook sets up first: params, warehouse, month, theme.

A notebook calls :func:`section_context` with its four parameters and gets one
object that holds everything the rest of its cells need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.config import Params, load_params
from analysis.plots import month_label, set_theme
from analysis.warehouse import StoreWarehouse, month_bounds, parse_month

__all__ = ["THIN_MONTH_SHARE", "SectionContext", "section_context"]

THIN_MONTH_SHARE = 0.1
"""A report month with fewer orders than this share of a typical month gets a warning."""


@dataclass
class SectionContext:
    """Params, the store's warehouse and the report month of one notebook run.

    Attributes
    ----------
    start, end
        The report month as timezone-aware UTC instants, start inclusive, end exclusive.
    """

    params: Params
    warehouse: StoreWarehouse
    month: str
    start: dt.datetime
    end: dt.datetime

    @property
    def timezone(self) -> str:
        return self.params.timezone

    @property
    def currency(self) -> str:
        return self.params.currency

    @property
    def month_start(self) -> dt.date:
        """First local day of the report month."""
        return parse_month(self.month)

    @property
    def month_last_day(self) -> dt.date:
        """Last local day of the report month."""
        nxt = (self.month_start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return nxt - dt.timedelta(days=1)

    @property
    def month_title(self) -> str:
        """The report month as people read it (Thai and B.E. when the store asks)."""
        return month_label(self.month, self.params.language, self.params.buddhist_era)

    def data_warnings(self) -> list[str]:
        """Sentences a reader must see before trusting this month's numbers.

        A report month whose orders (any status) are fewer than
        :data:`THIN_MONTH_SHARE` of the median month among the (up to) 12
        months before it with orders: an export that ends early, a shop that
        paused. Needs at least 3 such earlier months to judge. The month is
        still reported (the analyst chose it, or it is the last complete one).
        """
        counts = self.warehouse.orders_by_month(self.end)
        now = int(counts.get(self.month, 0))
        earlier = counts[counts.index < self.month].tail(12)
        if len(earlier) < 3:
            return []
        typical = float(earlier.median())
        if now >= THIN_MONTH_SHARE * typical:
            return []
        return [
            f"{self.month_title} holds only {now:,} order{'s' if now != 1 else ''}, "
            f"{now / typical:.1%} of a typical month (median {typical:,.0f} over the previous "
            f"{len(earlier)} months with orders): the data may end early in the month or the "
            "store paused, so this month's figures and their changes are not comparable with "
            "earlier months. Choose an earlier month (MONTH=YYYY-MM) for a full picture."
        ]

    def months_back(self, n: int) -> str:
        """The month ``n`` months before the report month, as ``YYYY-MM``."""
        first = self.month_start
        index = first.year * 12 + first.month - 1 - n
        return f"{index // 12:04d}-{index % 12 + 1:02d}"


def section_context(
    store: str,
    month: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
) -> SectionContext:
    """Load params, open the store's warehouse, resolve the month and set the chart theme.

    Parameters
    ----------
    store, month, overrides, data_dir
        The notebook's parameters (``month`` None = last complete month in
        the data; ``data_dir`` None = ``data_dir`` from params).
    """
    extra = dict(overrides or {})
    if data_dir is not None:
        extra["data_dir"] = str(data_dir)
    params = load_params(store, extra)
    warehouse = StoreWarehouse(params.warehouse_path(), params.store, params.timezone)
    month = month or warehouse.last_complete_month()
    start, end = month_bounds(month, params.timezone)
    set_theme()
    return SectionContext(params, warehouse, month, start, end)
