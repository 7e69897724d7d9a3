"""Words of the customer-segments page: prose, table and chart labels, the unavailable reason.

The numbers come from :mod:`analysis.segments`; this module holds the words of the
page as a whole and of its value, profile and outlook tables (catalogue block
``segments``). Segment names, rules and migration words are in
:mod:`analysis.narrative.rfm`, bucket words in :mod:`analysis.narrative.buckets`,
the export's README in :mod:`analysis.narrative.exports`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from analysis.formats import format_count, format_money, format_number, format_percent, month_label
from analysis.i18n import N_, _, pgettext
from analysis.kpis.expressions import clean_number
from analysis.plots import html_table, markdown_escape

if TYPE_CHECKING:
    from analysis.segments.page import SegmentsPage

__all__ = [
    "migration_caption",
    "mix_tables",
    "bucket_notes",
    "chart_text",
    "no_bucket",
    "segments_findings",
    "shown_table",
    "AGE_BAND_LABELS",
    "BUCKETS",
    "CHURN_BANDS",
    "F_SCORE",
    "HEATMAP_TITLE",
    "INTRO",
    "MIGRATION",
    "MIX_TITLES",
    "OUTLOOK",
    "PROFILE",
    "R_SCORE",
    "SCORES",
    "VALUE",
    "churn_finding",
    "churn_table",
    "mix_table",
    "no_customers_for_buckets",
    "no_customers_to_score",
    "outlook_unavailable",
    "rf_table",
    "sample_note",
    "sample_table",
    "value_definitions",
    "value_finding",
    "value_table",
]

INTRO = N_(
    """# Segments

RFM scores over the last {days} days (parameter `segments.rfm_window_days`) ending with the report month: **recency** = days since the last completed order, **frequency** = completed orders, **monetary** = their revenue. Each is scored 1–5 by quintile (5 = best); customers with equal values always get the same score, so a value many customers share (such as a single order) never splits across two scores, and a score may then be skipped."""
)
"""Page introduction; ``days`` is ``segments.rfm_window_days`` (formatted)."""

R_SCORE = N_("R score")
F_SCORE = N_("F score")
HEATMAP_TITLE = N_("Customers by recency and frequency score")


def no_customers_to_score(window_days: int) -> str:
    """Why the section is unavailable: no registered customer bought in the RFM window."""
    return _(
        "no registered customer has a completed order in the {days} days up to the end of the "
        "report month, so there is nobody to score (guest orders carry no customer id)."
    ).format(days=format_count(window_days))


def rf_table(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.segments.rfm.rf_counts` with its axes named for the reader (R and F score)."""
    shown = counts.copy()
    shown.index.name, shown.columns.name = _(R_SCORE), _(F_SCORE)
    return shown


# ---- the page's parts -------------------------------------------------------------------

SCORES = N_(
    """## RFM segments

Each scored customer belongs to exactly one of eleven segments, from the rules below (the first rule that matches decides). The grid shows how many customers sit in each recency and frequency cell and how much of the window's revenue they brought."""
)
"""Heading and prose of the RFM segments part."""

VALUE = N_(
    """## What each group is worth

Figures over the RFM window. A customer with no order in the window (a lifecycle bucket such as *inactive*) counts in the group's size and adds nothing to its revenue."""
)
"""Heading and prose of the value tables."""

PROFILE = N_(
    """### Who they are

Share of each segment's customers by acquisition channel, age band, gender and region (from the customers table; *unknown* where it has no value)."""
)
"""Heading and prose of the profile mix tables."""

BUCKETS = N_(
    """## Lifecycle buckets

Buckets follow the customer's life with the store rather than their score. A customer may sit in several buckets at once (a hero can also be at risk)."""
)
"""Heading and prose of the buckets part."""

OUTLOOK = N_(
    """## Customer outlook

Predictions for each customer from the CLV page's fitted model: **P(alive)** = probability the customer still buys from the store; **churn risk** = *high* when P(alive) is below {low}, *medium* below {high}, otherwise *low* (parameter `segments.churn_risk_bands`). Campaign lists with these columns, one file per segment and bucket, come from the command `analysis segments export`; they stay on the analyst's machine and are never part of the report, which shows counts and pseudonymised samples only."""
)
"""Heading and prose of the outlook part; ``low`` and ``high`` are the churn-risk bands (formatted)."""

MIGRATION = N_(
    """## Who moved

Each customer's segment at the end of an earlier month against their segment at the end of the report month. *Not scored* = no completed order in the RFM window at that date (new or returning customers in the row, lapsed customers in the column). Rows show where each segment's customers went, as shares of the row."""
)
"""Heading and prose of the migration part."""


def value_definitions(horizon_months: int) -> str:
    """Definition of every column of the value tables, as a Markdown list."""
    items = [
        _(
            "**Customers**: customers in the group; **share of customers**: of all customers the groups are drawn from (scored customers for segments, customers with any completed order for buckets)."
        ),
        _(
            "**Revenue** and **share of revenue**: the group's completed revenue in the RFM window, and its share of every scored customer's revenue there."
        ),
        _(
            "**AOV**: revenue ÷ completed orders in the window; **orders per customer**: completed orders in the window ÷ customers."
        ),
        _(
            "**Mean CLV**: mean predicted customer lifetime value over the next {months} months (CLV page, parameter `clv.horizon_months`); **mean P(alive)**: mean probability of still being a customer."
        ),
        _(
            "**Open, click and convert rates**: opened, clicked and converted campaign sends ÷ sends to the group's customers in the window."
        ),
    ]
    return "\n".join(f"- {item}" for item in items).format(months=format_count(horizon_months))


def no_customers_for_buckets() -> str:
    """Why the buckets part is unavailable: no registered customer has a completed order."""
    return _(
        "no registered customer has a completed order before the end of the report month, so "
        "no customer can be placed in a lifecycle bucket."
    )


def _percent(value: object) -> str:
    return format_percent(clean_number(value))


def _money(currency: str) -> Callable[[object], str]:
    def render(value: object) -> str:
        return format_money(clean_number(value), currency)

    return render


def _number(value: object) -> str:
    return format_number(clean_number(value), 2)


def value_table(value: pd.DataFrame, labels: Mapping[str, str], currency: str) -> Styler:
    """A group value table (:func:`analysis.segments.value.group_value`) for the reader.

    ``labels`` maps each group key to its display name (in row order); the
    campaign-rate columns appear only when the value table has them.
    """
    columns = {
        "customers": pgettext("segments", "customers"),
        "customer_share": pgettext("segments", "share of customers"),
        "revenue": pgettext("segments", "revenue"),
        "revenue_share": pgettext("segments", "share of revenue"),
        "aov": pgettext("segments", "AOV"),
        "frequency": pgettext("segments", "orders per customer"),
        "mean_clv": pgettext("segments", "mean CLV"),
        "mean_p_alive": pgettext("segments", "mean P(alive)"),
        "open_rate": pgettext("segments", "open rate"),
        "click_rate": pgettext("segments", "click rate"),
        "convert_rate": pgettext("segments", "convert rate"),
    }
    columns = {k: v for k, v in columns.items() if k in value.columns}
    frame = value[list(columns)].rename(columns=columns)
    frame.index = pd.Index(
        [labels.get(str(k), str(k)) for k in value.index], name=pgettext("segments", "group")
    )
    money, percent = _money(currency), _percent
    formats: dict[object, object] = {
        columns["customers"]: format_count,
        columns["customer_share"]: percent,
        columns["revenue"]: money,
        columns["revenue_share"]: percent,
        columns["aov"]: money,
        columns["frequency"]: _number,
        columns["mean_clv"]: money,
        columns["mean_p_alive"]: percent,
    }
    formats.update(
        {columns[k]: percent for k in ("open_rate", "click_rate", "convert_rate") if k in columns}
    )
    return html_table(frame, formats, na_rep="–")


MIX_TITLES = {
    "acquisition_channel": N_("Acquisition channel"),
    "age_band": N_("Age band"),
    "gender": N_("Gender"),
    "region": N_("Region"),
}
"""Title of each profile mix table."""

AGE_BAND_LABELS = {
    "under_25": N_("under 25"),
    "25_34": N_("25–34"),
    "35_44": N_("35–44"),
    "45_54": N_("45–54"),
    "55_plus": N_("55 and over"),
}
"""Display names of :data:`analysis.segments.value.AGE_BANDS`."""


def _category(name: object) -> str:
    key = str(name)
    if key in AGE_BAND_LABELS:
        return _(AGE_BAND_LABELS[key])
    if key == "other":
        return pgettext("segments", "other")
    if key == "unknown":
        return pgettext("segments", "unknown")
    return key  # a name from the data (a channel, a region), shown as it is


def mix_tables(mixes: Mapping[str, pd.DataFrame], labels: Mapping[str, str]) -> list[Styler]:
    """:func:`mix_table` of every profile column, in page order."""
    return [mix_table(mix, labels, column) for column, mix in mixes.items()]


def mix_table(mix: pd.DataFrame, labels: Mapping[str, str], column: str) -> Styler:
    """A profile mix (:func:`analysis.segments.value.group_mix`) as shares, groups as rows."""
    frame = mix.copy()
    frame.index = pd.Index(
        [labels.get(str(k), str(k)) for k in mix.index], name=pgettext("segments", "group")
    )
    frame.columns = pd.Index([_category(c) for c in mix.columns], name=_(MIX_TITLES[column]))
    return html_table(frame, _percent, na_rep="–")


CHURN_BANDS = {"high": N_("high risk"), "medium": N_("medium risk"), "low": N_("low risk")}
"""Display names of the churn-risk bands."""


def churn_table(counts: pd.DataFrame, labels: Mapping[str, str]) -> Styler:
    """Customers per group and churn-risk band (:func:`analysis.segments.value.churn_by_group`)."""
    frame = counts.copy()
    frame.index = pd.Index(
        [labels.get(str(k), str(k)) for k in counts.index], name=pgettext("segments", "group")
    )
    names = {
        **{k: _(v) for k, v in CHURN_BANDS.items()},
        "not_modelled": pgettext("segments", "no prediction"),
    }
    frame.columns = [names.get(str(c), str(c)) for c in counts.columns]
    return html_table(frame, lambda v: format_count(clean_number(v)))


def sample_table(
    sample: pd.DataFrame, labels: Mapping[str, str], currency: str
) -> Styler | Markdown:
    """Pseudonymised sample customers (:func:`analysis.segments.page.priority_sample`).

    Nothing (an empty Markdown) when the sample is empty.
    """
    if sample.empty:
        return Markdown("")
    columns = {
        "pseudonym": pgettext("segments", "customer (pseudonym)"),
        "segment": pgettext("segments", "segment"),
        "r_score": _(R_SCORE),
        "f_score": _(F_SCORE),
        "m_score": pgettext("segments", "M score"),
        "monetary": pgettext("segments", "revenue in window"),
        "p_alive": pgettext("segments", "P(alive)"),
        "clv": pgettext("segments", "predicted CLV"),
        "churn_risk": pgettext("segments", "churn risk"),
    }
    frame = sample[list(columns)].copy()
    frame["segment"] = [labels.get(str(k), str(k)) for k in frame["segment"]]
    frame["churn_risk"] = [
        _(CHURN_BANDS[k]) if k in CHURN_BANDS else "–" for k in frame["churn_risk"]
    ]
    frame = frame.rename(columns=columns)
    money = _money(currency)
    formats: dict[object, object] = {
        columns["monetary"]: money,
        columns["clv"]: money,
        columns["p_alive"]: _percent,
    }
    return html_table(frame, formats, na_rep="–").hide(axis="index")


def sample_note(shown: int, total: int) -> str:
    """Above the sample: which customers it shows and that ids are pseudonyms."""
    if total == 0:
        return _("No customer is in Can't Lose Them or At Risk this month.")
    return _(
        "The {shown} customers of Can't Lose Them and At Risk with the highest predicted CLV "
        "(of {total}), under pseudonyms: the report never shows a customer id, e-mail or phone. "
        "The export command gives the real ids to the analyst."
    ).format(shown=format_count(shown), total=format_count(total))


def outlook_unavailable(reason: str) -> str:
    """Why the outlook columns are empty: the CLV model could not be fitted."""
    return _("*No predictions:* {reason}").format(reason=markdown_escape(reason))


def value_finding(value: pd.DataFrame, labels: Mapping[str, str]) -> str | None:
    """The segment that brings the most revenue: its share of customers and of revenue."""
    if value.empty or value["revenue"].fillna(0).max() <= 0:
        return None
    top = str(value["revenue"].idxmax())
    row = value.loc[top]
    return _(
        "{segment}: {customers} of scored customers brought {revenue} of the RFM window's revenue."
    ).format(
        segment=labels.get(str(top), str(top)),
        customers=format_percent(clean_number(row["customer_share"])),
        revenue=format_percent(clean_number(row["revenue_share"])),
    )


def churn_finding(outlook: pd.DataFrame, currency: str) -> str | None:
    """How many customers have a high churn risk, and their predicted CLV in total."""
    high = outlook[outlook["churn_risk"] == "high"]
    if high.empty:
        return None
    clv = clean_number(high["clv"].sum()) if "clv" in high and high["clv"].notna().any() else None
    if clv is None:
        return _(
            "{count} customers have a high churn risk (P(alive) below the lower band)."
        ).format(count=format_count(len(high)))
    return _(
        "{count} customers have a high churn risk; together their predicted CLV is {clv}."
    ).format(count=format_count(len(high)), clv=format_money(clv, currency))


def chart_text(key: str) -> str:
    """A title or axis label of the page's own charts: ``combinations_title``, ``customers_axis``."""
    texts = {
        "combinations_title": _("Customers by combination of lifecycle buckets (largest first)"),
        "customers_axis": pgettext("segments", "customers"),
    }
    return texts[key]


def no_bucket() -> str:
    """Label of the customers who sit in no lifecycle bucket."""
    return pgettext("segments", "in no bucket")


def shown_table(frame: pd.DataFrame, counts: bool = False, caption: str | None = None) -> Styler:
    """A labelled table of the page (rules, migration counts) as escaped HTML.

    ``counts`` formats every cell as a count (digit grouping of the report's
    language); a plain row number index (0, 1, …) is hidden; ``caption`` (text,
    escaped) is shown above the table.
    """
    styler = html_table(frame, (lambda v: format_count(clean_number(v))) if counts else None)
    if (
        isinstance(frame.index, pd.RangeIndex)
        and frame.index.start == 0
        and frame.index.name is None
    ):
        styler = styler.hide(axis="index")
    if caption is not None:
        styler = styler.set_caption(html.escape(caption))
    return styler


def migration_caption(month: str) -> str:
    """Caption of a migration count table; ``month`` is the starting month as the reader sees it."""
    return _("Customers by segment at the end of {month} (rows) and now (columns)").format(
        month=month
    )


def bucket_notes(
    unavailable: Mapping[str, str], notes: Mapping[str, str], labels: Mapping[str, str]
) -> str:
    """Markdown list: buckets left out (and why) and caveats on how others were computed."""
    lines = [
        _("*{bucket}* not shown: {reason}").format(
            bucket=markdown_escape(labels.get(k, k)), reason=markdown_escape(v)
        )
        for k, v in unavailable.items()
    ]
    lines += [
        _("*{bucket}*: {note}").format(
            bucket=markdown_escape(labels.get(k, k)), note=markdown_escape(v)
        )
        for k, v in notes.items()
    ]
    return "\n".join(f"- {line}" for line in lines)


def segments_findings(
    page: SegmentsPage,
    segment_labels: Mapping[str, str],
    currency: str,
    *,
    buddhist_era: bool = False,
) -> list[str]:
    """One-line findings of the page for the executive summary.

    The segment that brings the most revenue; who moved from Champions or Loyal
    to At Risk or Can't Lose Them since the previous month; how many customers
    have a high churn risk and their predicted CLV.
    """
    from analysis.narrative.rfm import (
        migration_finding,
    )  # imports analysis.segments.rfm: not at the top

    findings: list[str | None] = []
    if page.scores.value is not None:
        findings.append(value_finding(page.scores.value.value, segment_labels))
    if page.migration.value is not None:
        mig = page.migration.value
        since = month_label(mig.previous_month_key, None, buddhist_era)
        findings.append(migration_finding(mig.previous_month, since))
    if page.outlook.value is not None:
        findings.append(churn_finding(page.outlook.value, currency))
    return [f for f in findings if f]
