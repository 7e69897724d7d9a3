"""The store's monthly scorecard across the customer lifecycle, computed on the engine.

Every metric is defined once, in :mod:`analysis.kpis.catalogue` (``METRICS``;
``docs/metrics.md`` holds the same definitions). The scorecard compares the
report month with the previous month and the same month a year earlier.
Orders are never collected: each function aggregates on the engine and hands
back a few rows.

Modules, one concern each
-------------------------
- :mod:`~analysis.kpis.catalogue` — :class:`Metric`, :data:`METRICS`,
  :data:`LIFECYCLE_METRICS`, :data:`HEADLINE_METRICS`, :data:`TREND_METRICS`:
  keys, labels, units, definitions, the code behind each
  (:mod:`~analysis.kpis.docs` writes them into ``docs/metrics.md``);
- :mod:`~analysis.kpis.periods` — where each table's data starts
  (:func:`table_starts`, :data:`NO_DATA`, :data:`NOT_ENOUGH_HISTORY`); the
  three compared months are :func:`analysis.calendar.report_periods`
  (re-exported here as :func:`report_periods`);
- :mod:`~analysis.kpis.base` — :func:`customer_base`, one row per customer,
  persisted once and shared by the customer metrics;
- :mod:`~analysis.kpis.orders` — :func:`period_order_metrics`: revenue, orders,
  customers per period;
- :mod:`~analysis.kpis.retention` — :func:`retention_metrics`,
  :func:`repeat_ladder`, :func:`hero_multiplier`;
- :mod:`~analysis.kpis.touchpoints` — optional tables: :func:`conversion_metrics`,
  :func:`cart_metrics`, :func:`survey_metrics`, :func:`loyalty_participation`;
- :mod:`~analysis.kpis.acquisition` — :func:`acquisition_metrics` (CAC by
  channel), :func:`historical_ltv`, :func:`onboarding_metrics`;
- :mod:`~analysis.kpis.assemble` — :func:`scorecard`: all of the above for the
  three periods as one table, and :func:`headline_values` for the manifest;
- :mod:`~analysis.kpis.trends` — :func:`monthly_trends`: headline KPIs for the
  trailing months.

Words about these numbers (findings, cards, the scorecard as text, in English
and Thai) are in :mod:`analysis.narrative.kpis`.
"""

from analysis.calendar import report_periods
from analysis.kpis.acquisition import acquisition_metrics, historical_ltv, onboarding_metrics
from analysis.kpis.assemble import Scorecard, headline_values, scorecard
from analysis.kpis.base import LTV_DAYS, customer_base
from analysis.kpis.catalogue import (
    HEADLINE_METRICS,
    LIFECYCLE_METRICS,
    METRICS,
    ONBOARDING_VALUES,
    RETENTION_VALUES,
    TREND_METRICS,
    Metric,
    metric,
)
from analysis.kpis.orders import period_order_metrics
from analysis.kpis.periods import NO_DATA, NOT_ENOUGH_HISTORY, table_starts
from analysis.kpis.retention import (
    hero_multiplier,
    hero_multipliers,
    repeat_ladder,
    retention_metrics,
)
from analysis.kpis.touchpoints import (
    cart_metrics,
    conversion_metrics,
    loyalty_participation,
    survey_metrics,
)
from analysis.kpis.trends import monthly_trends

__all__ = [
    "HEADLINE_METRICS",
    "LIFECYCLE_METRICS",
    "LTV_DAYS",
    "METRICS",
    "NOT_ENOUGH_HISTORY",
    "NO_DATA",
    "ONBOARDING_VALUES",
    "RETENTION_VALUES",
    "TREND_METRICS",
    "Metric",
    "Scorecard",
    "acquisition_metrics",
    "cart_metrics",
    "conversion_metrics",
    "customer_base",
    "headline_values",
    "hero_multiplier",
    "hero_multipliers",
    "historical_ltv",
    "loyalty_participation",
    "metric",
    "monthly_trends",
    "onboarding_metrics",
    "period_order_metrics",
    "report_periods",
    "repeat_ladder",
    "retention_metrics",
    "scorecard",
    "survey_metrics",
    "table_starts",
]
