"""The scorecard: every metric of the catalogue for the report month, the month before and a year before.

:func:`scorecard` runs the metric modules on one per-customer base and puts
their values into one table, one row per :data:`~analysis.kpis.catalogue.METRICS`
entry; :func:`headline_values` rounds it for the report manifest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import narwhals as nw
import pandas as pd

from analysis.calendar import ReportPeriod, month_dates, report_periods
from analysis.kpis.acquisition import (
    cac_by_period,
    historical_ltv,
    onboarding_metrics,
)
from analysis.kpis.base import customer_base
from analysis.kpis.catalogue import METRICS
from analysis.kpis.expressions import clean_number, difference, relative_change
from analysis.kpis.orders import period_order_metrics
from analysis.kpis.periods import (
    NO_DATA,
    NOT_ENOUGH_HISTORY,
    table_starts,
)
from analysis.kpis.retention import hero_multipliers, repeat_ladder, retention_metrics
from analysis.kpis.touchpoints import (
    cart_metrics,
    conversion_metrics,
    loyalty_participation,
    survey_metrics,
)
from analysis.warehouse import StoreWarehouse

__all__ = ["Scorecard", "headline_values", "period_status", "scorecard", "scorecard_table"]


@dataclass
class Scorecard:
    """The KPI scorecard of one store-month.

    Attributes
    ----------
    table
        One row per metric of :data:`METRICS`: ``metric, label, unit,
        definition, higher_is_better, current, previous, year_ago, change_vs_previous,
        pct_vs_previous, change_vs_year_ago, pct_vs_year_ago, available``
        (False when the metric's table is missing), ``missing_table``,
        ``current_status, previous_status, year_ago_status`` (None, or
        :data:`NO_DATA` when the period ends before the data the metric needs
        starts, or :data:`NOT_ENOUGH_HISTORY` for the retention and churn
        rates; the value and the changes against it are then None).
    periods
        The three periods compared.
    acquisition
        New customers, spend and CAC by channel for the report month (None
        without ``marketing_spend``).
    ladder
        Repeat ladder P(k+1 | k), k = 1..5, at the report month's end.
    onboarding
        Onboarding values of the report month (see :func:`onboarding_metrics`).
    missing
        Optional tables absent for this store.
    """

    table: pd.DataFrame
    periods: tuple[ReportPeriod, ...]
    acquisition: pd.DataFrame | None
    ladder: pd.DataFrame | None
    onboarding: dict[str, float | None]
    ltv: float | None
    missing: list[str] = field(default_factory=list)

    def value(self, key: str, period: str = "current") -> float | None:
        """One cell of the scorecard (None when not available)."""
        return clean_number(self.table.loc[key, period])


ORDER_METRICS = (
    "revenue", "orders", "aov", "active_customers", "new_customers", "returning_customers",
    "purchase_frequency", "repeat_revenue_share", "discount_order_share",
    "cancelled_orders", "cancelled_value", "refunded_orders", "refunded_value",
)  # fmt: skip
"""Scorecard rows taken as they are from :func:`~analysis.kpis.orders.period_order_metrics`."""

OPTIONAL_TABLES = (
    "sessions", "carts", "marketing_spend", "surveys", "customers", "loyalty_members",
)  # fmt: skip
"""Tables a store may lack; the metrics that need one read "not available" without it."""


def scorecard(
    wh: StoreWarehouse, month: str, window_days: int = 365, *, lifecycle: bool = True
) -> Scorecard:
    """Every KPI of :data:`METRICS` for ``month``, the month before and a year before.

    Runs on the engine of ``wh``; the per-customer base is persisted once
    (DuckDB temp table) and shared by the metrics that need it.

    Parameters
    ----------
    wh
        The store's warehouse.
    month
        The report month, ``YYYY-MM`` (a calendar month in the store's time zone).
    window_days
        Length of each retention window and of the hero-multiplier spend
        window, days.
    lifecycle
        Also compute the lifecycle blocks (repeat ladder, onboarding); False
        gives the scorecard table and acquisition by channel only.
    """
    periods = report_periods(month, wh.timezone)
    current = periods[0]
    orders = wh.table("orders", end=current.end)
    base = wh.persist(customer_base(orders, periods, window_days))
    per = period_order_metrics(orders, base, periods)
    values: dict[str, pd.Series] = {k: per[k] for k in ORDER_METRICS}
    starts = table_starts(wh)
    retention = retention_metrics(base, periods, window_days, starts.get("orders"))
    values["retention_rate"] = retention["retention_rate"]
    values["churn_rate"] = retention["churn_rate"]
    values.update(_repeat_values(base, periods))
    usable = {t: wh.has(t) for t in OPTIONAL_TABLES}
    usable["carts"] = "order_id" in wh.columns("carts")  # a null order_id = abandoned
    missing = [t for t in OPTIONAL_TABLES if not usable[t]]
    values.update(_touchpoint_values(wh, periods, per["placed_orders"], usable["carts"]))
    customers = wh.table("customers") if wh.has("customers") else None
    ltvs = dict(zip([p.label for p in periods], historical_ltv(base, len(periods)), strict=True))
    acquisition = None
    if wh.has("marketing_spend"):
        acquisition, cac, ltv_cac = cac_by_period(wh, base, customers, periods, ltvs)
        values["cac"], values["ltv_cac"] = cac, ltv_cac
    if wh.has("loyalty_members"):
        values["loyalty_participation"] = loyalty_participation(
            wh.table("loyalty_members", end=current.end), base, periods
        )
    status = period_status(periods, starts, retention["enough_history"])
    table = scorecard_table(values, periods, missing, status)
    return Scorecard(
        table=table,
        periods=periods,
        acquisition=acquisition,
        ladder=repeat_ladder(base, 0) if lifecycle else None,
        onboarding=onboarding_metrics(orders, base, customers, current) if lifecycle else {},
        ltv=ltvs["current"],
        missing=missing,
    )


def _repeat_values(base: nw.LazyFrame, periods: Sequence[ReportPeriod]) -> dict[str, pd.Series]:
    """Repeat purchase rate (the ladder's first step) and hero multiplier per period."""
    repeat = {}
    for i, p in enumerate(periods):
        ladder_i = repeat_ladder(base, i, max_k=1)
        repeat[p.label] = ladder_i["probability"].iloc[0]
    heroes = hero_multipliers(base, range(len(periods)))
    return {
        "repeat_purchase_rate": pd.Series(repeat, dtype=object),
        "hero_multiplier": pd.Series(
            {p.label: h for p, h in zip(periods, heroes, strict=True)}, dtype=object
        ),
    }


def _touchpoint_values(
    wh: StoreWarehouse, periods: Sequence[ReportPeriod], placed_orders: pd.Series, carts: bool
) -> dict[str, pd.Series]:
    """Conversion, cart abandonment, NPS and CSAT per period, for the tables the store has.

    ``carts``: the store has a ``carts`` table with ``order_id``.
    """
    current, year_ago = periods[0], periods[2]
    values: dict[str, pd.Series] = {}
    if wh.has("sessions"):
        sessions = wh.table("sessions", start=month_dates(year_ago.month)[0], end=current.end)
        values["conversion_rate"] = conversion_metrics(sessions, placed_orders, periods)[
            "conversion_rate"
        ]
    if carts:
        values["cart_abandonment_rate"] = cart_metrics(
            wh.table("carts", start=year_ago.start, end=current.end), periods
        )["cart_abandonment_rate"]
    if wh.has("surveys"):
        surveys = survey_metrics(
            wh.table("surveys", start=year_ago.start, end=current.end), periods
        )
        values["nps"], values["csat"] = surveys["nps"], surveys["csat"]
    return values


def period_status(
    periods: Sequence[ReportPeriod], starts: dict[str, dt.datetime], enough_history: pd.Series
) -> dict[str, dict[str, str | None]]:
    """Per metric and period label: None (a value), :data:`NO_DATA` or :data:`NOT_ENOUGH_HISTORY`.

    A period has no data for a metric when it ends at or before the first row
    of the orders table or of the metric's own table (a store that did not
    exist yet sold nothing, but it did not sell 0 either).
    """
    out: dict[str, dict[str, str | None]] = {}
    for m in METRICS:
        # An absent optional table makes the metric unavailable, not "no data".
        firsts = [starts.get("orders")] + ([starts[m.table]] if m.table in starts else [])
        row: dict[str, str | None] = {}
        for p in periods:
            if any(first is None or p.end <= first for first in firsts):
                row[p.label] = NO_DATA
            elif m.key in ("retention_rate", "churn_rate") and not enough_history[p.label]:
                row[p.label] = NOT_ENOUGH_HISTORY
            else:
                row[p.label] = None
        out[m.key] = row
    return out


def scorecard_table(
    values: dict[str, pd.Series],
    periods: Sequence[ReportPeriod],
    missing: Sequence[str],
    status: dict[str, dict[str, str | None]] | None = None,
) -> pd.DataFrame:
    rows = []
    labels = [p.label for p in periods]
    for m in METRICS:
        series = values.get(m.key)
        notes = (status or {}).get(m.key, {})
        cells = [
            None if series is None or notes.get(label) else clean_number(series.get(label))
            for label in labels
        ]
        cur, prev, ago = cells
        rows.append(
            {
                "metric": m.key,
                "label": m.label,
                "unit": m.unit,
                "definition": m.definition,
                "higher_is_better": m.higher_is_better,
                "current": cur,
                "previous": prev,
                "year_ago": ago,
                "change_vs_previous": difference(cur, prev),
                "pct_vs_previous": relative_change(cur, prev),
                "change_vs_year_ago": difference(cur, ago),
                "pct_vs_year_ago": relative_change(cur, ago),
                "available": series is not None,
                "missing_table": m.table if series is None else None,
                **{f"{label}_status": notes.get(label) for label in labels},
            }
        )
    table = pd.DataFrame(rows).set_index("metric", drop=False)
    numbers = [
        c
        for c in table.columns
        if c.startswith(("current", "previous", "year_ago", "change", "pct"))
    ]
    table[numbers] = table[numbers].astype(object).where(table[numbers].notna(), None)
    return table


def headline_values(card: Scorecard) -> dict[str, float | int | None]:
    """Scorecard values for the report manifest (``kpis.*``), rounded so runs compare byte for byte.

    Money to 2 decimals (satang), ratios and other numbers to 6; counts as
    integers; for every metric also ``<key>_pct_vs_previous`` and
    ``<key>_pct_vs_year_ago`` (6 decimals). Unavailable metrics are omitted.
    """
    out: dict[str, float | int | None] = {}
    for row in card.table.itertuples(index=False):
        if not row.available:
            continue
        key, unit = str(row.metric), str(row.unit)
        digits = 2 if unit == "money" else 6
        out[key] = _round(clean_number(row.current), digits, as_int=unit == "count")
        out[f"{key}_pct_vs_previous"] = _round(clean_number(row.pct_vs_previous), 6)
        out[f"{key}_pct_vs_year_ago"] = _round(clean_number(row.pct_vs_year_ago), 6)
    return out


def _round(value: float | None, digits: int, as_int: bool = False) -> float | int | None:
    if value is None or pd.isna(value):
        return None
    return int(round(value)) if as_int else round(float(value), digits)
