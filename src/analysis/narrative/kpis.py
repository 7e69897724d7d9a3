"""Words of the KPI page: prose, findings, the scorecard as text, cards, lists, in the report language.

The metric modules (:mod:`analysis.kpis`) return numbers; this module turns
them into what the KPI page and the executive summary show. Every word is a
catalogue message (:mod:`analysis.i18n`, the ``kpis`` block of the Thai
catalogue) translated into the current report language; labels, units and
definitions come from the metric catalogue (:mod:`analysis.kpis.catalogue`);
figures from :mod:`analysis.formats`.

The notebook shows the page's prose with one call each (``say(text.INTRO)``),
so it still reads top to bottom.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from analysis.formats import (
    format_change,
    format_count,
    format_metric,
    format_money,
    format_pct_change,
    format_pp_change,
    month_label,
)
from analysis.i18n import N_, _, pgettext
from analysis.kpis.assemble import Scorecard
from analysis.kpis.catalogue import METRIC_BY_KEY, TREND_METRICS, metric
from analysis.kpis.expressions import clean_number, difference
from analysis.kpis.periods import NO_DATA, NOT_ENOUGH_HISTORY
from analysis.narrative import markdown_text
from analysis.narrative.cards import SummaryCard
from analysis.plots import html_table, markdown_escape

__all__ = [
    "ACQUISITION",
    "DEFINITIONS",
    "FINDINGS",
    "INTRO",
    "ONBOARDING",
    "RETENTION",
    "SCORECARD",
    "TRENDS",
    "acquisition_table",
    "compared_line",
    "definitions_table",
    "findings",
    "findings_markdown",
    "label",
    "lifecycle_list",
    "lifecycle_value",
    "not_available",
    "scorecard_frame",
    "scorecard_value",
    "status_text",
    "summary_cards",
    "table_name",
    "trend_series",
    "warnings_markdown",
]

# --------------------------------------------------------------------------- page prose

INTRO = N_(
    """# KPIs: the monthly scorecard

The store's month at a glance, compared with the month before and the same month a year earlier. Money is in the store's currency; months are calendar months in the store's time zone. Only **completed** orders count as sales; cancelled and refunded orders are shown separately. Every metric is defined at the end of this page."""
)
FINDINGS = N_("## Findings")
SCORECARD = N_("## Scorecard")
ACQUISITION = N_(
    """## Acquisition

**New customers** made their first completed order this month. **CAC** (customer acquisition cost) = marketing spend ÷ new customers, per acquisition channel where the `customers` table says which channel brought each customer; organic and referral customers cost nothing and lower the blended CAC."""
)
ONBOARDING = N_(
    """## Onboarding

**Conversion rate** = orders placed (any status, guests included) ÷ sessions. **Days from sign-up to first order**: median over this month's new customers with a sign-up date. **First-order discount use**: share of new customers whose first order carried a discount."""
)
RETENTION = N_(
    """## Retention and loyalty

**Customer retention rate** = the share of the customers who bought in the window before the last one (S) who bought again in the last window, which ends with this month (E): |S ∩ E| ÷ |S|. Each window is `kpis.retention_window_days` long (365 days by default: the share of last year's customers who bought again this year). **Churn rate** = 1 − retention: the share of S who did not come back. A store with less than two windows of history reads "not enough history". The **repeat ladder** shows, among customers with k completed orders, the share who went on to order again. **Loyalty participation** = members among the month's active customers."""
)
TRENDS = N_(
    """## Trends

The last months of the headline KPIs (parameter `kpis.trend_months`)."""
)
DEFINITIONS = N_("## Definitions")

_STATUS = {NO_DATA: N_("no data"), NOT_ENOUGH_HISTORY: N_("not enough history")}
"""What a cell shows instead of a number when its period has no data (``kpis.NO_DATA``)."""

# --------------------------------------------------------------------------- small pieces


def label(key: str) -> str:
    """A metric's label (:attr:`~analysis.kpis.catalogue.Metric.label`) in the report language."""
    return _(metric(key).label)


def table_name(table: str) -> str:
    """A warehouse table as the report names it: the table's name in English, a Thai noun in Thai."""
    names = {
        "orders": pgettext("warehouse table", "orders"),
        "sessions": pgettext("warehouse table", "sessions"),
        "carts": pgettext("warehouse table", "carts"),
        "marketing_spend": pgettext("warehouse table", "marketing_spend"),
        "surveys": pgettext("warehouse table", "surveys"),
        "customers": pgettext("warehouse table", "customers"),
        "loyalty_members": pgettext("warehouse table", "loyalty_members"),
    }
    return names.get(table, table)


def not_available(table: str) -> str:
    """The sentence (Markdown) shown instead of a metric whose optional table is missing.

    English names the table and its file; Thai says which data to add, in Thai
    (:func:`table_name`).
    """
    return _(
        "Not available — add `{table}` to the warehouse (`data/warehouse/{table}/<store>.parquet`)."
    ).format(table=table_name(table))


def status_text(row: object, period: str) -> str | None:
    """The no-data text of one period of a scorecard row (namedtuple or Series), or None.

    ``"no data"`` or ``"not enough history"`` in the report language (the
    ``<period>_status`` column, see :data:`analysis.kpis.NO_DATA`).
    """
    name = f"{period}_status"
    status = row.get(name) if isinstance(row, pd.Series) else getattr(row, name, None)
    if not isinstance(status, str):
        return None
    return _(_STATUS[status]) if status in _STATUS else status


def compared_line(card: Scorecard, title: str, month_title: str, buddhist_era: bool) -> Markdown:
    """``**Store** · October 2026 · compared with Sep 2026 and Oct 2025`` (names escaped)."""
    return Markdown(
        markdown_text(
            N_("**{title}** · {month} · compared with {previous} and {year_ago}"),
            title=title,
            month=month_title,
            previous=month_label(card.periods[1].month, buddhist_era=buddhist_era),
            year_ago=month_label(card.periods[2].month, buddhist_era=buddhist_era),
        )
    )


def warnings_markdown(warnings: Sequence[str]) -> Markdown:
    """Each data warning as ``**Warning.** …`` (the warning escaped); nothing when there is none."""
    lead = _("**Warning.**")
    return Markdown("\n\n".join(f"{lead} {markdown_escape(w)}" for w in warnings))


# --------------------------------------------------------------------------- findings


def _change_text(pct: float) -> str:
    """A relative change for a sentence: whole percent from 10 %, one decimal below it.

    ``"+12%"``, ``"-3.4%"``, ``"-100%"`` (only for a real fall to nothing: -99.96 %
    reads ``"-99.96%"``); a change that rounds to 0 returns ``""`` (the sentence
    then says "unchanged").
    """
    text = format_pct_change(pct, decimals=0 if abs(pct) >= 0.1 else 1)
    return "" if text == format_pct_change(0.0) else text


_MOVERS = (
    "active_customers",
    "new_customers",
    "aov",
    "conversion_rate",
    "cart_abandonment_rate",
    "cac",
)
"""Metrics a finding mentions when they moved by 5 % or more against the previous month."""


def _revenue_findings(card: Scorecard, month: str) -> list[str]:
    """The revenue sentences: against the previous month (with its driver) and a year earlier."""
    out = []
    rev = card.value("revenue", "pct_vs_previous")
    if rev is not None:
        change = _change_text(rev)
        new_d = difference(card.value("new_customers"), card.value("new_customers", "previous"))
        ret_d = difference(
            card.value("returning_customers"), card.value("returning_customers", "previous")
        )
        if not change:
            out.append(_("Revenue unchanged vs {month}.").format(month=month))
        elif new_d is not None and ret_d is not None and (new_d or ret_d):
            sentence = (
                _("Revenue {change} vs {month}, driven by returning customers.")
                if abs(ret_d) >= abs(new_d)
                else _("Revenue {change} vs {month}, driven by new customers.")
            )
            out.append(sentence.format(change=change, month=month))
        else:
            out.append(_("Revenue {change} vs {month}.").format(change=change, month=month))
    yoy = card.value("revenue", "pct_vs_year_ago")
    if yoy is not None:
        change = _change_text(yoy)
        out.append(
            _("Revenue {change} vs the same month last year.").format(change=change)
            if change
            else _("Revenue unchanged vs the same month last year.")
        )
    return out


def findings(card: Scorecard, *, previous_month_name: str, max_items: int = 4) -> list[str]:
    """A few one-line findings for the executive summary, largest movements first.

    Sentences are generated from the scorecard only (no free text), e.g.
    ``"Revenue +12% vs September, driven by returning customers."``; a change
    that rounds to 0 reads "unchanged", a rate's move is in percentage points
    with its level ("Conversion rate +0.12 pp vs September (now 2.52%)."), and
    nothing is compared with a month without data. In the report language;
    plain text (escape it before putting it into Markdown:
    :func:`findings_markdown`).

    Parameters
    ----------
    card
        The month's scorecard.
    previous_month_name
        The previous month as the sentences name it (``"Sep 2026"``).
    max_items
        At most this many sentences.
    """
    month = previous_month_name
    out = _revenue_findings(card, month)
    movers = []
    for key in _MOVERS:
        change = card.value(key, "pct_vs_previous")
        if change is not None and abs(change) >= 0.05:
            movers.append((abs(change), key, change))
    for _size, key, change in sorted(movers, reverse=True):
        name = label(key)
        if METRIC_BY_KEY[key].unit == "ratio":  # a rate moves in percentage points, with its level
            now = card.value(key)
            points = format_pp_change(
                card.value(key, "change_vs_previous"),
                decimals=2 if now is not None and abs(now) < 0.1 else 1,
            )
            out.append(
                _("{metric} {change} vs {month} (now {level}).").format(
                    metric=name, change=points, month=month, level=format_metric(now, "ratio")
                )
            )
        else:
            out.append(
                _("{metric} {change} vs {month}.").format(
                    metric=name, change=_change_text(change), month=month
                )
            )
    crr = card.value("retention_rate")
    if crr is not None:
        out.append(
            _("Customer retention rate {rate} (churn {churn}).").format(
                rate=format_metric(crr, "ratio"), churn=format_metric(1 - crr, "ratio")
            )
        )
    return out[:max_items]


def findings_markdown(sentences: Sequence[str]) -> Markdown:
    """The findings as a Markdown list (each escaped), or a line saying there is none."""
    lines = "\n".join(f"- {markdown_escape(s)}" for s in sentences)
    return Markdown(lines or _("No change worth a sentence this month."))


# --------------------------------------------------------------------------- scorecard


def scorecard_value(table: pd.DataFrame, key: str, currency: str, period: str = "current") -> str:
    """One scorecard cell as text: the formatted value, or "no data" / "not enough history"."""
    row = table.loc[key]
    return status_text(row, period) or format_metric(
        clean_number(row[period]), str(row["unit"]), currency
    )


def _scorecard_row(row: object, currency: str) -> list[str]:
    name = _(row.label)  # type: ignore[attr-defined]
    if not row.available:  # type: ignore[attr-defined]
        missing = _("not available — add {table} to the warehouse").format(
            table=table_name(row.missing_table)  # type: ignore[attr-defined]
        )
        return [name, missing, "", "", "", ""]
    cells = {
        period: status_text(row, period) or format_metric(getattr(row, period), row.unit, currency)  # type: ignore[attr-defined]
        for period in ("current", "previous", "year_ago")
    }
    # no change against (or from) a period without data: blank, not 0 or -100 %
    changes = {
        period: ""
        if status_text(row, "current") or status_text(row, period)
        else format_change(
            getattr(row, f"pct_vs_{period}"),
            getattr(row, f"change_vs_{period}"),
            row.unit,  # type: ignore[attr-defined]
        )
        for period in ("previous", "year_ago")
    }
    return [
        name,
        cells["current"],
        cells["previous"],
        changes["previous"],
        cells["year_ago"],
        changes["year_ago"],
    ]


def scorecard_frame(table: pd.DataFrame, currency: str) -> pd.DataFrame:
    """A scorecard table (``kpis.Scorecard.table``) as text in the report language, ready to display.

    Columns: Metric, This month, Previous month, Change, Year ago, Change vs
    year ago. Unavailable metrics read "not available — add <table> to the
    warehouse" (plain text: table cells do not render Markdown). A period
    that ends before the data starts reads "no data" (a retention rate
    without two full windows of history: "not enough history") and the
    change against it is blank.
    """
    heads = [
        _("Metric"),
        _("This month"),
        _("Previous month"),
        _("Change"),
        _("Year ago"),
        _("Change vs year ago"),
    ]
    rows = [_scorecard_row(row, currency) for row in table.itertuples(index=False)]
    return pd.DataFrame(rows, columns=heads)


def summary_cards(
    table: pd.DataFrame, keys: Sequence[str], currency: str
) -> list[dict[str, object]]:
    """Executive-summary cards for the given metrics of a scorecard table.

    Each card is a :class:`~analysis.narrative.cards.SummaryCard` as a dict
    (what ``record_headlines(cards=...)`` takes): ``key, label, value``
    (formatted), ``change`` (vs the previous month), ``direction``
    (``up``/``down``/``flat``) and ``good`` (whether the move is welcome;
    None when the metric has no preferred direction). A current value
    without data reads "no data" or "not enough history" (the retention rate)
    and has no change; so does a card whose previous month has no data.
    Unavailable metrics get no card.
    """
    cards = []
    for key in keys:
        if key not in table.index or not table.loc[key, "available"]:
            continue
        row = table.loc[key]
        status = status_text(row, "current")
        blank = status is not None or status_text(row, "previous") is not None
        change = None if blank else clean_number(row["change_vs_previous"])
        unit = str(row["unit"])
        direction = "flat"
        if change is not None and change != 0:
            direction = "up" if change > 0 else "down"
        better = row["higher_is_better"]
        good = (
            None if better is None or direction == "flat" else (direction == "up") == bool(better)
        )
        cards.append(
            SummaryCard(
                key=key,
                label=label(key),
                value=status or format_metric(clean_number(row["current"]), unit, currency),
                change=""
                if blank
                else format_change(clean_number(row["pct_vs_previous"]), change, unit),
                direction=direction,
                good=good,
            ).as_dict()
        )
    return cards


def definitions_table(table: pd.DataFrame) -> Styler:
    """The Definitions table: each scorecard metric's label and definition, in the report language."""
    frame = pd.DataFrame(
        {
            _("Metric"): [_(v) for v in table["label"]],
            _("Definition"): [_(v) for v in table["definition"]],
        }
    )
    return html_table(frame).hide(axis="index")


# --------------------------------------------------------------------------- lifecycle blocks


def acquisition_table(acquisition: pd.DataFrame | None, currency: str) -> Styler | Markdown:
    """New customers, spend and CAC by channel (``Scorecard.acquisition``) ready to display.

    Channel names are data, shown as they are, except the rows the code adds
    (``all``, ``unknown``), which are translated. Without ``marketing_spend``
    (None): the not-available sentence.
    """
    if acquisition is None:
        return Markdown(not_available("marketing_spend"))
    frame = acquisition.reset_index()
    added = {
        "all": pgettext("acquisition channel", "all"),
        "unknown": pgettext("acquisition channel", "unknown"),
    }
    frame["channel"] = [added.get(c, c) for c in frame["channel"]]
    # English heads are the frame's column names, as the page has always shown them.
    heads = {
        "channel": pgettext("acquisition table", "channel"),
        "new_customers": pgettext("acquisition table", "new_customers"),
        "spend": pgettext("acquisition table", "spend"),
        "cac": pgettext("acquisition table", "cac"),
    }
    return html_table(
        frame.rename(columns=heads),
        {
            heads["spend"]: lambda v: format_money(v, currency),
            heads["cac"]: lambda v: format_metric(v, "money", currency),
            heads["new_customers"]: format_count,
        },
    ).hide(axis="index")


def trend_series(keys: Sequence[str] = TREND_METRICS) -> list[tuple[str, str, str]]:
    """The trend charts' series as ``(column, title, unit)`` for :func:`analysis.plots.small_multiples`.

    Titles are the catalogue's chart titles in the report language; ``keys``
    are columns of :func:`analysis.kpis.monthly_trends` (default
    :data:`~analysis.kpis.catalogue.TREND_METRICS`).
    """
    return [(key, _(metric(key).chart_title), metric(key).unit) for key in keys]


def lifecycle_value(card: Scorecard, key: str, currency: str) -> str:
    """One value of the onboarding or retention list as text (Markdown).

    A scorecard metric reads as in the scorecard's current column ("no data",
    "not enough history" where it has no value) and "Not available — add
    `<table>` …" without its table; a lifecycle value
    (:data:`~analysis.kpis.catalogue.LIFECYCLE_METRICS`, ``card.onboarding``)
    likewise without its table, "–" when there is nothing to measure.
    """
    m = metric(key)
    if key in card.table.index:
        if not card.table.loc[key, "available"]:
            return not_available(m.table)
        return scorecard_value(card.table, key, currency)
    if m.table in card.missing:
        return not_available(m.table)
    return format_metric(card.onboarding.get(key), m.unit, currency)


def lifecycle_list(card: Scorecard, keys: Sequence[str], currency: str) -> Markdown:
    """A Markdown list ``- **label**: value`` of the given metrics (:func:`lifecycle_value`).

    ``keys``: e.g. :data:`~analysis.kpis.catalogue.ONBOARDING_VALUES` or
    :data:`~analysis.kpis.catalogue.RETENTION_VALUES`.
    """
    return Markdown(
        "\n".join(f"- **{label(key)}**: {lifecycle_value(card, key, currency)}" for key in keys)
    )
