"""Words of the KPI page: chart series, the onboarding and retention lists, from the catalogue.

The metric modules (:mod:`analysis.kpis`) return numbers; this module turns
them into what the KPI page shows. Labels and units come from the metric
catalogue (:mod:`analysis.kpis.catalogue`), never retyped in a notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis import plots
from analysis.kpis.assemble import Scorecard
from analysis.kpis.catalogue import TREND_METRICS, metric

__all__ = ["lifecycle_list", "lifecycle_value", "trend_series"]


def trend_series(
    keys: Sequence[str] = TREND_METRICS, language: str = "en"
) -> list[tuple[str, str, str]]:
    """The trend charts' series as ``(column, title, unit)`` for :func:`analysis.plots.small_multiples`.

    Parameters
    ----------
    keys
        Metric keys, columns of :func:`analysis.kpis.monthly_trends`
        (default :data:`~analysis.kpis.catalogue.TREND_METRICS`).
    language
        Report language of the titles.
    """
    out = []
    for key in keys:
        m = metric(key)
        out.append((key, plots.metric_label(key, m.chart_title, language), m.unit))
    return out


def lifecycle_value(card: Scorecard, key: str, currency: str, language: str = "en") -> str:
    """One value of the onboarding or retention list as text.

    A scorecard metric reads as in the scorecard's current column ("no data",
    "not enough history" where it has no value) and "Not available — add
    `<table>` …" without its table; a lifecycle value
    (:data:`~analysis.kpis.catalogue.LIFECYCLE_METRICS`, ``card.onboarding``)
    likewise without its table, "–" when there is nothing to measure.
    Markdown (the not-available sentence has code spans).
    """
    m = metric(key)
    if key in card.table.index:
        if not card.table.loc[key, "available"]:
            return plots.not_available(m.table)
        return plots.scorecard_value(card.table, key, currency, language)
    if m.table in card.missing:
        return plots.not_available(m.table)
    return plots.format_metric(card.onboarding.get(key), m.unit, currency)


def lifecycle_list(
    card: Scorecard, keys: Sequence[str], currency: str, language: str = "en"
) -> str:
    """A Markdown list ``- **label**: value`` of the given metrics (:func:`lifecycle_value`).

    ``keys``: e.g. :data:`~analysis.kpis.catalogue.ONBOARDING_VALUES` or
    :data:`~analysis.kpis.catalogue.RETENTION_VALUES`.
    """
    return "\n".join(
        f"- **{plots.metric_label(key, metric(key).label, language)}**: "
        f"{lifecycle_value(card, key, currency, language)}"
        for key in keys
    )
