"""Words of the cohort page: prose, titles, axes, cut names, notes, findings and headlines.

:mod:`analysis.cohorts` returns numbers (:class:`~analysis.cohorts.CohortPage`);
this module turns them into what a reader sees, in the report's language
(messages from the catalogue, figures from :mod:`analysis.formats`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis.calendar import Grain
from analysis.cohorts import CohortMatrices, CohortPage, latest_observed, pooled_retention
from analysis.errors import SectionUnavailable
from analysis.formats import format_count, format_metric, format_percent, month_label
from analysis.i18n import N_, _
from analysis.narrative import say
from analysis.plots import cohort_lines, html_table, markdown_escape, year_on_year_frame

__all__ = [
    "INTRO",
    "RETENTION",
    "REVENUE",
    "CUTS",
    "REPEAT",
    "cohort_label",
    "cohort_labels",
    "summary",
    "bullets",
    "year_on_year",
    "show_cuts",
    "require_cohorts",
    "cut_notes",
    "cut_title",
    "cut_chart_title",
    "segment_table",
    "retention_table",
    "periods_since_first",
    "heatmap_title",
    "gap_labels",
    "median_gap",
    "findings",
    "headlines",
    "CHART",
]

# --------------------------------------------------------------------------- page prose

INTRO = N_(
    """# Cohort retention

Customers grouped by the month of their first completed order (store time zone): their **cohort**. Period **k** is the k-th month after the cohort month (k = 0 is the month they were acquired). Guest orders and cancelled or refunded orders never count.

- **Customer retention in k**: share of the cohort with a completed order in month k.
- **Revenue retention in k**: the cohort's revenue in month k ÷ its revenue in month 0.
- **Orders per cohort customer in k**: the cohort's completed orders in month k ÷ cohort size.
- **Cumulative revenue per acquired customer**: the cohort's revenue in months 0..k ÷ cohort size (the cohort's lifetime value so far).

Blank cells are months that have not happened yet. Cohorts smaller than `cohorts.min_cohort_size` customers are hidden (too noisy); parameter `cohorts.period: week` switches to ISO weeks."""
)
RETENTION = N_("## Customer retention")
REVENUE = N_("## Revenue and lifetime value")
CUTS = N_(
    """## Cuts

Retention pooled over every cohort (weighted by cohort size; each k counts only the cohorts observed at k), split by how customers were acquired, by whether their first order used a discount, and by loyalty membership (members at the end of the report month)."""
)
REPEAT = N_(
    """## Repeat behaviour

**Time to second order**: days from a customer's first to second completed order, over every customer who ordered twice. The **repeat ladder** shows, among customers with k completed orders by the end of the report month, the share who ordered again. The last table compares the latest cohorts with the same cohorts a year earlier."""
)
SUMMARY = N_("**{store}** · cohorts up to {month} · {cohorts} cohorts shown, {customers} customers")
ORDERS_PER_CUSTOMER = N_("**Orders per cohort customer**")
MEDIAN_GAP = N_("Median time to second order: **{days}**")
NO_YEAR_EARLIER = N_("Not enough history for a year-on-year comparison.")


class _Chart:
    """Chart titles and axis labels of the cohort page (translated when read)."""

    @property
    def recent_cohorts(self) -> str:
        return _("Recent cohorts against the average")

    @property
    def average(self) -> str:
        return _("all cohorts (average)")

    @property
    def share_of_cohort_active(self) -> str:
        return _("share of the cohort active")

    @property
    def cumulative_revenue(self) -> str:
        return _("Cumulative revenue per acquired customer")

    @property
    def revenue_per_customer(self) -> str:
        return _("revenue per customer")

    @property
    def share_active(self) -> str:
        return _("share active")

    @property
    def gap_title(self) -> str:
        return _("Time to second order")

    @property
    def gap_xlabel(self) -> str:
        return _("days from first to second order")

    @property
    def gap_ylabel(self) -> str:
        return _("share of repeat customers")


CHART = _Chart()
"""Chart words: ``CHART.average`` etc. give the text in the current language."""


# --------------------------------------------------------------------------- labels


def cohort_label(start: pd.Timestamp, grain: Grain, buddhist_era: bool = False) -> str:
    """A cohort as people read it: ``"Sep 2026"`` (month) or ``"07 Sep 2026"`` (week's Monday)."""
    month = month_label(start, buddhist_era=buddhist_era)
    return month if grain == "month" else f"{pd.Timestamp(start):%d} {month}"


def cohort_labels(starts: pd.Index, grain: Grain, buddhist_era: bool = False) -> list[str]:
    """:func:`cohort_label` of each cohort start."""
    return [cohort_label(s, grain, buddhist_era) for s in starts]


def summary(page: CohortPage, store: str, month: str) -> Markdown:
    """The page's one-line summary: store, report month, cohorts and customers shown."""
    size = page.matrices.size
    return say(
        SUMMARY,
        store=store,
        month=month,
        cohorts=len(size),
        customers=format_count(int(size.sum())),
    )


def bullets(lines: list[str]) -> Markdown:
    """Plain-text sentences as a Markdown list (each escaped)."""
    return Markdown("\n".join(f"- {markdown_escape(line)}" for line in lines))


def require_cohorts(page: CohortPage, min_size: int) -> None:
    """Raise :class:`SectionUnavailable` (with the reason in words) when no cohort is shown."""
    if len(page.matrices.size):
        return
    size = page.all_matrices.size
    if len(size) == 0 or size.sum() == 0:
        raise SectionUnavailable(
            _(
                "no registered customer has a completed order up to the end of the report "
                "month, so there is no cohort to follow (guest orders carry no customer id)."
            )
        )
    raise SectionUnavailable(
        _(
            "no cohort has {min_size} customers or more yet (the largest has {largest}); "
            "smaller cohorts are too noisy to show (cohorts.min_cohort_size)."
        ).format(min_size=format_count(min_size), largest=format_count(int(size.max())))
    )


# --------------------------------------------------------------------------- cuts

_CUT_TITLES = {
    "channel": N_("Acquisition channel"),
    "first_discount": N_("First order discounted"),
    "loyalty": N_("Loyalty membership"),
}
_CUT_CHART_TITLES = {
    "channel": N_("Retention by acquisition channel"),
    "first_discount": N_("Retention by first order discounted"),
    "loyalty": N_("Retention by loyalty membership"),
}
_SEGMENTS = {
    "channel": {"unknown": N_("unknown")},
    "first_discount": {
        "discounted": N_("discounted first order"),
        "full_price": N_("full price first order"),
        "unknown": N_("unknown"),
    },
    "loyalty": {"member": N_("member"), "unknown": N_("not a member")},
}
_MISSING_CUTS = {
    "no_customers_table": N_(
        "Acquisition channel: left out, the warehouse has no customers table "
        "(add one with an acquisition_channel column)."
    ),
    "no_acquisition_channel": N_(
        "Acquisition channel: left out, the customers table has no acquisition_channel column."
    ),
    "no_discount": N_("First order discounted: left out, the orders table has no discount column."),
    "no_loyalty_members": N_(
        "Loyalty membership: left out, the warehouse has no loyalty_members table."
    ),
}


def cut_title(cut: str) -> str:
    """Title of a cut (``"Acquisition channel"``)."""
    return _(_CUT_TITLES[cut])


def cut_chart_title(cut: str) -> str:
    """Title of a cut's retention chart (``"Retention by acquisition channel"``)."""
    return _(_CUT_CHART_TITLES[cut])


def cut_notes(page: CohortPage) -> list[str]:
    """One sentence per cut left out, naming what would enable it (plain text, not escaped)."""
    return [_(_MISSING_CUTS[reason]) for reason in page.missing_cuts]


def segment_table(curves: pd.DataFrame, cut: str) -> pd.DataFrame:
    """:func:`~analysis.cohorts.segment_retention` output with segments and headers in words.

    Segment values from data (acquisition channels) stay as they are, except ``unknown``.
    """
    words = _SEGMENTS[cut]
    out = curves.rename(index={code: _(text) for code, text in words.items()})
    out = out.rename(columns={"customers": _("customers")})
    out.index.name = _("segment")
    return out


def retention_table(matrix: pd.DataFrame, labels: list[str], size: pd.Series) -> pd.DataFrame:
    """A cohort × k matrix with cohort labels and, first, the cohort size as ``customers``."""
    out = matrix.copy()
    out.index = labels
    out.insert(0, _("customers"), size.to_numpy())
    return out


# --------------------------------------------------------------------------- chart words


def periods_since_first(grain: Grain) -> str:
    """x-axis label of the cohort charts: ``"months since first order"``."""
    return _("months since first order") if grain == "month" else _("weeks since first order")


def heatmap_title(grain: Grain) -> str:
    """Title of the retention heatmap."""
    if grain == "month":
        return _("Customer retention by cohort (share active in month k)")
    return _("Customer retention by cohort (share active in week k)")


def gap_labels(gaps: pd.DataFrame) -> list[str]:
    """Bucket names of :func:`~analysis.cohorts.second_order_gaps`: ``"≤ 7 days"``, ``"7–14 days"``, ..."""
    out = []
    for low, high in zip(gaps["low"], gaps["high"], strict=True):
        if pd.isna(low):
            out.append(_("≤ {high} days").format(high=int(high)))
        elif pd.isna(high):
            out.append(_("> {low} days").format(low=int(low)))
        else:
            out.append(_("{low}–{high} days").format(low=int(low), high=int(high)))
    return out


def median_gap(days: float | None) -> Markdown:
    """The median time to second order, in bold."""
    return say(MEDIAN_GAP, days=format_metric(days, "days"))


def year_on_year(page: CohortPage, language: str, buddhist_era: bool = False) -> object:
    """The year-on-year table of the latest cohorts, or a sentence when history is too short."""
    if not len(page.year_on_year):
        return say(NO_YEAR_EARLIER)
    frame = year_on_year_frame(
        page.year_on_year,
        lambda c: cohort_label(pd.Timestamp(c), page.grain, buddhist_era),  # type: ignore[arg-type]  # labels are objects to the callback's type
        page.grain,
        language,
    )
    return html_table(frame).hide(axis="index")


def show_cuts(page: CohortPage) -> None:
    """Display the cuts: notes on cuts left out, then per cut its title, table and chart."""
    notes = cut_notes(page)
    if notes:
        display(bullets(notes))
    for cut in page.cuts:
        curves = page.segments[cut]
        table = segment_table(curves, cut)
        customers = _("customers")
        formats: dict[object, object] = {k: "{:.0%}" for k in table.columns if k != customers}
        formats[customers] = "{:,.0f}"
        display(Markdown(f"**{markdown_escape(cut_title(cut))}**"))
        display(html_table(table, formats, na_rep=""))
        cohort_lines(
            table.drop(columns=[customers, 0]),
            percent=True,
            title=cut_chart_title(cut),
            ylabel=CHART.share_active,
            xlabel=periods_since_first(page.grain),
        )
        plt.show()


# --------------------------------------------------------------------------- findings


def _rate(value: float) -> str:
    return format_percent(value, 1)


def findings(page: CohortPage, buddhist_era: bool = False) -> list[str]:
    """One-line findings: latest period-1 retention against the average and a year earlier.

    The year-on-year difference is in percentage points (pp) to one decimal,
    with both rates; a difference that rounds to 0.0 pp reads "as well". No
    sentence when the year-earlier cohort has no data.
    """
    matrices, year_on_year, grain = page.all_matrices, page.year_on_year, page.grain

    def label(c: pd.Timestamp) -> str:
        return cohort_label(c, grain, buddhist_era)

    out = []
    cohort, value = latest_observed(matrices.retention, 1)
    pooled = pooled_retention(matrices).get(1)
    if cohort is not None and value is not None and pooled is not None and not pd.isna(pooled):
        text = (
            _(
                "Month-1 retention of the {cohort} cohort {value} (average of all cohorts {average})."
            )
            if grain == "month"
            else _(
                "Week-1 retention of the {cohort} cohort {value} (average of all cohorts {average})."
            )
        )
        out.append(text.format(cohort=label(cohort), value=_rate(value), average=_rate(pooled)))
    if len(year_on_year) and "k1_change" in year_on_year:
        last = year_on_year.iloc[-1]
        if not pd.isna(last["k1_change"]):
            fields = {
                "cohort": label(last["cohort"]),
                "earlier": label(last["year_earlier"]),
                "now": _rate(last["k1"]),
                "then": _rate(last["k1_year_earlier"]),
            }
            points = round(100 * float(last["k1_change"]), 1)
            out.append(_year_on_year(grain, points).format(points=f"{abs(points):.1f}", **fields))
    return out


def _year_on_year(grain: Grain, points: float) -> str:
    month = grain == "month"
    if points == 0:
        return (
            _(
                "The {cohort} cohort retains as well in month 1 as the {earlier} cohort a year "
                "earlier ({now})."
            )
            if month
            else _(
                "The {cohort} cohort retains as well in week 1 as the {earlier} cohort a year "
                "earlier ({now})."
            )
        )
    if points > 0:
        return (
            _(
                "The {cohort} cohort retains {points} pp better in month 1 than the {earlier} "
                "cohort a year earlier ({now} vs {then})."
            )
            if month
            else _(
                "The {cohort} cohort retains {points} pp better in week 1 than the {earlier} "
                "cohort a year earlier ({now} vs {then})."
            )
        )
    return (
        _(
            "The {cohort} cohort retains {points} pp worse in month 1 than the {earlier} "
            "cohort a year earlier ({now} vs {then})."
        )
        if month
        else _(
            "The {cohort} cohort retains {points} pp worse in week 1 than the {earlier} "
            "cohort a year earlier ({now} vs {then})."
        )
    )


# --------------------------------------------------------------------------- manifest


def headlines(page: CohortPage) -> dict[str, float | int | str | None]:
    """Headline values for the report manifest (``cohorts.*``), rounded for byte-stable runs.

    ``k1_retention_latest`` / ``k3_retention_latest``: retention of the most
    recent cohort observed at k = 1 / 3 (and which cohort, ``YYYY-MM-DD``);
    ``k1_retention_pooled`` and ``k3_retention_pooled``: pooled over the last
    12 cohorts observed there (the last 15 cohorts); ``median_days_to_second_order``.
    """
    return _headlines(page.all_matrices, page.median_days_to_second)


def _headlines(
    matrices: CohortMatrices, median_days_to_second: float | None
) -> dict[str, float | int | str | None]:
    out: dict[str, float | int | str | None] = {"cohorts": int(len(matrices.size))}
    pooled = pooled_retention(matrices, last_n=12 + 3)
    for k in (1, 3):
        cohort, value = latest_observed(matrices.retention, k)
        out[f"k{k}_retention_latest"] = None if value is None else round(value, 6)
        out[f"k{k}_latest_cohort"] = None if cohort is None else cohort.strftime("%Y-%m-%d")
        v = pooled.get(k)
        out[f"k{k}_retention_pooled"] = None if v is None or pd.isna(v) else round(float(v), 6)
    out["median_days_to_second_order"] = (
        None if median_days_to_second is None else round(median_days_to_second, 4)
    )
    return out
