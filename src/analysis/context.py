"""One way in: the store, month and warehouse of a run, and what every notebook sets up first.

:func:`resolve_run` turns a store id, an optional month, params overrides and an
optional warehouse folder into validated params, the store's warehouse and the
report month. The report run (:func:`analysis.report.build_report`) and every
section notebook (through :func:`section_context`) call it, so both resolve
them the same way. A notebook calls :func:`section_context` with its four
parameters and gets one object that holds everything the rest of its cells need.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis import calendar
from analysis.config import MONTH_PATTERN, Params, default_params, load_params, project_root
from analysis.errors import ConfigError
from analysis.formats import month_label
from analysis.i18n import set_language
from analysis.narrative.report import thin_month_warning
from analysis.spark import is_uri
from analysis.warehouse import StoreWarehouse, list_stores, store_file

__all__ = [
    "THIN_MONTH_SHARE",
    "ResolvedRun",
    "SectionContext",
    "resolve_run",
    "section_context",
    "listing_session",
    "stores_with_orders",
]

THIN_MONTH_SHARE = 0.1
"""A report month with fewer orders than this share of a typical month gets a warning."""


@dataclass(frozen=True)
class ResolvedRun:
    """What :func:`resolve_run` found: validated params, the store's warehouse, the month."""

    params: Params
    warehouse: StoreWarehouse
    month: str
    """Report month, ``YYYY-MM``, within the store's orders (local time)."""


def stores_with_orders(warehouse: Path | str, spark: Any = None) -> list[str]:
    """Store ids that have at least one order under the warehouse folder.

    A warehouse at a URI is listed through ``spark`` (default: the session
    :func:`analysis.spark.spark_session` builds with its default settings).
    """
    if is_uri(warehouse) and spark is None:
        from analysis.spark import spark_session

        spark = spark_session()
    summary = list_stores(warehouse if is_uri(warehouse) else Path(warehouse), spark)
    if summary.empty:
        return []
    return sorted(
        str(s) for s, n in zip(summary["store_id"], summary["orders"], strict=True) if n > 0
    )


def listing_session(
    location: Path | str, overrides: Mapping[str, Any] | None = None, *, root: Path | None = None
) -> Any:
    """A Spark session to list a warehouse at a URI (the params' ``spark`` settings), else None."""
    if not is_uri(location):
        return None
    from analysis.spark import spark_session

    params = default_params(overrides, root=root)
    return spark_session(params.spark.master, params.spark.conf)


def _known_stores_text(warehouse: Path | str, spark: Any = None) -> str:
    try:
        stores = stores_with_orders(warehouse, spark)
    except Exception:  # a broken warehouse must not hide the real error
        stores = []
    return ", ".join(stores) if stores else "none"


def resolve_run(
    store: str,
    month: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
    *,
    root: Path | None = None,
) -> ResolvedRun:
    """Load params, open the store's warehouse and resolve the report month.

    Parameters
    ----------
    store
        Store id; validated before any file is read.
    month
        ``YYYY-MM``; None = the last complete month of the store's orders.
    overrides
        Params overrides (nested or dotted keys), highest precedence.
    data_dir
        Warehouse folder; overrides ``data_dir`` of the params.
    root
        Project folder holding ``params/``; default :func:`analysis.config.project_root`.

    Raises
    ------
    ConfigError
        Invalid store name or params, a store without orders in the warehouse
        (the message names the stores that have some), a month that is not
        ``YYYY-MM`` or lies outside the store's orders.
    """
    root = Path(root).resolve() if root is not None else project_root()
    layered = dict(overrides or {})
    if data_dir is not None:
        layered["data_dir"] = data_dir if is_uri(data_dir) else str(Path(data_dir).resolve())
    params = load_params(store, layered, root=root)
    warehouse = open_warehouse(params, root)
    span = warehouse.order_span() if warehouse.has("orders") else None
    if span is None:
        where = warehouse.root
        raise ConfigError(
            f"unknown store {store!r}: no orders for it under {where} "
            f"(stores with orders: {_known_stores_text(where, warehouse.spark)})",
            hint=f"check the spelling, or add {store_file(where, 'orders', store)}",
        )
    if month is None:
        month = warehouse.last_complete_month()
    if not isinstance(month, str) or not MONTH_PATTERN.fullmatch(month):
        raise ConfigError(f"invalid month {month!r}", hint="use YYYY-MM, e.g. 2026-10")
    first, last = (calendar.format_month(t.date()) for t in span)
    if not first <= month <= last:
        raise ConfigError(
            f"month {month} is outside the orders of store {store!r} "
            f"({span[0]:%Y-%m-%d} to {span[1]:%Y-%m-%d}, local time)",
            hint=f"choose a month from {first} to {last}, or leave it out for the last "
            "complete one",
        )
    return ResolvedRun(params, warehouse, month)


def open_warehouse(params: Params, root: Path | None = None) -> StoreWarehouse:
    """The store's warehouse on the engine its params name (``engine``, ``spark.*``)."""
    spark = None
    if params.engine == "spark":
        from analysis.spark import spark_session

        spark = spark_session(params.spark.master, params.spark.conf)
    return StoreWarehouse(
        params.warehouse_path(root),
        params.store,
        params.timezone,
        engine=params.engine,
        spark=spark,
    )


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
        return calendar.parse_month(self.month)

    @property
    def month_last_day(self) -> dt.date:
        """Last local day of the report month."""
        return calendar.month_last_day(self.month)

    @property
    def month_title(self) -> str:
        """The report month as people read it (``Oct 2026``; ``ต.ค. 2569`` in Thai with B.E.)."""
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
        return [thin_month_warning(self.month_title, now, typical, len(earlier))]


def section_context(
    store: str,
    month: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
) -> SectionContext:
    """Resolve the run (:func:`resolve_run`), speak its language and set the chart theme.

    Every message of the catalogue (``_()`` in the kernel) is in the store's
    ``language`` from here on (:func:`analysis.i18n.set_language`).

    Parameters
    ----------
    store, month, overrides, data_dir
        The notebook's parameters (``month`` None = last complete month in
        the data; ``data_dir`` None = ``data_dir`` from params).

    Raises
    ------
    ConfigError
        As :func:`resolve_run`.
    """
    from analysis.plots import set_theme

    run = resolve_run(store, month, overrides, data_dir)
    set_language(run.params.language)
    start, end = calendar.month_bounds(run.month, run.params.timezone)
    set_theme()
    return SectionContext(run.params, run.warehouse, run.month, start, end)
