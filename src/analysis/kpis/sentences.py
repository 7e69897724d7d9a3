"""Findings: one-line sentences about the scorecard for the executive summary."""

from __future__ import annotations

import pandas as pd

from analysis.kpis.assemble import Scorecard
from analysis.kpis.catalogue import METRIC_BY_KEY
from analysis.kpis.expressions import difference

__all__ = ["findings"]


def _change_text(pct: float) -> str:
    """A relative change for a sentence: whole percent from 10 %, one decimal below it.

    ``"+12%"``, ``"-3.4%"``, ``"-100%"`` (only for a real fall to nothing: -99.96 %
    reads ``"-99.96%"``); a change that rounds to 0 returns ``""`` (the sentence
    then says "unchanged").
    """
    from analysis.plots import format_pct_change

    text = format_pct_change(pct, decimals=0 if abs(pct) >= 0.1 else 1)
    return "" if text == "0%" else text


def findings(card: Scorecard, *, previous_month_name: str, max_items: int = 4) -> list[str]:
    """A few one-line findings for the executive summary, largest movements first.

    Sentences are generated from the scorecard only (no free text), e.g.
    ``"Revenue +12% vs September, driven by returning customers."``; a change
    that rounds to 0 reads "unchanged", a rate's move is in percentage points
    with its level ("Conversion rate +0.12 pp vs September (now 2.52%)."), and
    nothing is compared with a month without data. Plain text (escape it before putting it into Markdown:
    :func:`analysis.plots.markdown_escape`).
    """
    t = card.table
    out: list[str] = []

    def pct(key: str, col: str = "pct_vs_previous") -> float | None:
        v = t.loc[key, col]
        return None if v is None or pd.isna(v) else float(v)

    rev = pct("revenue")
    if rev is not None:
        change = _change_text(rev)
        new_d = difference(card.value("new_customers"), card.value("new_customers", "previous"))
        ret_d = difference(
            card.value("returning_customers"), card.value("returning_customers", "previous")
        )
        driver = ""
        if change and new_d is not None and ret_d is not None and (new_d or ret_d):
            bigger = "returning customers" if abs(ret_d) >= abs(new_d) else "new customers"
            driver = f", driven by {bigger}"
        if change:
            out.append(f"Revenue {change} vs {previous_month_name}{driver}.")
        else:
            out.append(f"Revenue unchanged vs {previous_month_name}.")
    yoy = pct("revenue", "pct_vs_year_ago")
    if yoy is not None:
        change = _change_text(yoy)
        out.append(
            f"Revenue {change} vs the same month last year."
            if change
            else "Revenue unchanged vs the same month last year."
        )
    movers = []
    for key in (
        "active_customers",
        "new_customers",
        "aov",
        "conversion_rate",
        "cart_abandonment_rate",
        "cac",
    ):
        change = pct(key)
        if change is not None and abs(change) >= 0.05:
            movers.append((abs(change), key, change))
    for _, key, change in sorted(movers, reverse=True):
        metric = METRIC_BY_KEY[key]
        if metric.unit == "ratio":  # a rate moves in percentage points, with its level
            from analysis.plots import format_metric, format_pp_change

            now = card.value(key)
            points = format_pp_change(
                t.loc[key, "change_vs_previous"], decimals=2 if abs(now) < 0.1 else 1
            )
            out.append(
                f"{metric.label} {points} vs {previous_month_name} "
                f"(now {format_metric(now, 'ratio')})."
            )
        else:
            out.append(f"{metric.label} {_change_text(change)} vs {previous_month_name}.")
    crr = card.value("retention_rate")
    if crr is not None:
        from analysis.plots import format_metric

        out.append(
            f"Customer retention rate {format_metric(crr, 'ratio')} "
            f"(churn {format_metric(1 - crr, 'ratio')})."
        )
    return out[:max_items]
