"""Words of the loyalty programme dashboard: prose, tables, notes, findings, chart text, reasons.

:mod:`analysis.loyalty.programme` returns numbers (:class:`~analysis.loyalty.programme.ProgrammePage`);
this module turns them into what a reader sees, every message marked for the
catalogue (block ``loyalty programme``) and translated when it is shown. The
notebook shows the page prose with :func:`analysis.narrative.say` and the rest
with the functions below; :mod:`analysis.loyalty.plotting` takes its titles,
axis labels and legends from :func:`chart_text` here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
from babel.numbers import get_currency_name
from pandas.io.formats.style import Styler

from analysis.formats import (
    format_count,
    format_days,
    format_money,
    format_number,
    format_percent,
    month_label,
)
from analysis.i18n import N_, _, current_language, pgettext
from analysis.kpis.expressions import clean_number
from analysis.plots import html_table, markdown_escape

if TYPE_CHECKING:
    from analysis.loyalty.programme import ProgrammePage, RedemptionTiming

__all__ = [
    "COMPARISON",
    "INTRO",
    "POINTS",
    "TIERS",
    "chart_text",
    "comparison_table",
    "group_label",
    "members_table",
    "no_members_table",
    "no_members_yet",
    "notes_markdown",
    "overview_text",
    "page_notes",
    "points_table",
    "points_text",
    "programme_findings",
    "tier_table",
    "timing_table",
    "timing_text",
    "unavailable_note",
]

# --------------------------------------------------------------------------- page prose

INTRO = N_(
    """## The loyalty programme

How many customers are in the programme, how they use their points, and how members buy compared with other customers, month by month (local calendar months of the store; the report month and the `kpis.trend_months` − 1 months before it, from the store's first order).

- **Members**: customers in the loyalty members table, counted from their first join. **Joins**: members whose join falls in the month; **members** at a month's end: everyone who joined before it.
- **Participation rate**: active customers (registered customers with a completed order in the month) who are members at the month's end ÷ active customers. The report month's value is the scorecard's *Loyalty participation*."""
)
"""Page introduction (heading and definitions of the dashboard)."""

POINTS = N_(
    """### Points

**Earned** and **redeemed** points are counted in the month they were recorded. **Outstanding points** (the programme's liability) = all points earned minus all points redeemed up to the month's end; in money, outstanding points × `loyalty.point_value`. **Redemption rate** = points redeemed ÷ points earned, in the month and up to its end. **Time to first redemption**: days from joining to a member's first redemption; the share who redeemed within 30, 90 or 180 days counts only members who joined at least that many days before the report month's end."""
)
"""Prose above the points tables and chart."""

TIERS = N_("""### Members by tier""")
"""Heading of the tier table."""

COMPARISON = N_(
    """### Members and non-members

An order is a **member order** when it was placed at or after the customer's join; every other completed order of a registered customer is a non-member order (guest orders are neither). A customer who joins during a month can count in both groups that month. **Average order value** = revenue ÷ orders; **purchase frequency** = orders ÷ customers; **revenue per customer** = revenue ÷ customers; **repeat rate** = share of the group's customers who placed two or more of its orders in the month; **share of sales** = the group's revenue ÷ revenue of every completed order in the month, guest orders included.

Customers choose to join, and those who join are usually the store's better customers already: a gap here describes who the members are, not what the programme does for them. The member comparison below and the experiment estimate the programme's effect."""
)
"""Prose above the members vs non-members table and chart."""


# --------------------------------------------------------------------------- reasons and notes


def no_members_table() -> str:
    """Why the dashboard is unavailable: the store has no loyalty members table."""
    return _(
        "no loyalty programme data: add a loyalty_members table (one row per member: "
        "customer_id, joined_at, optionally tier) to see the programme dashboard."
    )


def no_members_yet(month: str, *, buddhist_era: bool = False) -> str:
    """Why the dashboard is unavailable: nobody joined before the end of ``month`` (``YYYY-MM``)."""
    return _("no customer had joined the loyalty programme by the end of {month}.").format(
        month=month_label(month, None, buddhist_era, width="wide")
    )


def unavailable_note(reason: str) -> str:
    """The line the page shows instead of the dashboard (Markdown; ``reason`` escaped).

    ``reason`` is the text of the :class:`~analysis.errors.SectionUnavailable`
    that :func:`analysis.loyalty.programme.programme_page` raised; the rest of
    the loyalty page (the experiment, the member comparison) still renders.
    """
    return _("**The programme dashboard is not shown:** {reason}").format(
        reason=markdown_escape(reason)
    )


def page_notes(page: ProgrammePage, currency: str) -> list[str]:
    """One line per part of the dashboard left out (:attr:`ProgrammePage.missing`), in order."""
    texts = {
        "points": _(
            "No points table (loyalty_points): points earned, redeemed and outstanding, the "
            "redemption rate and the time to first redemption are not shown."
        ),
        "point_value": _(
            "Outstanding points are shown in points only: set loyalty.point_value (money per "
            "point) to see the liability in {currency}."
        ).format(currency=get_currency_name(currency, locale=current_language())),
        "tier": _("The members table has no tier: the breakdown by tier is left out."),
    }
    return [texts[code] for code in page.missing]


def notes_markdown(notes: list[str]) -> str:
    """Notes as a Markdown list (each escaped: they may carry names from data or params)."""
    return "\n".join(f"- {markdown_escape(n)}" for n in notes)


# --------------------------------------------------------------------------- text


def _last(page: ProgrammePage) -> pd.Timestamp:
    return page.members.index[-1]


def overview_text(page: ProgrammePage, *, buddhist_era: bool = False) -> str:
    """Members, joins and participation in the report month (Markdown, escaped)."""
    last = _last(page)
    members, rate = _row(page.members, last), _row(page.participation, last)["participation_rate"]
    text = _(
        "At the end of {month} the programme had **{members}** members ({joins} joined during "
        "the month); **{rate}** of the month's active customers were members."
    )
    return text.format(
        month=markdown_escape(month_label(last, None, buddhist_era, width="wide")),
        members=markdown_escape(format_count(members["members"])),
        joins=markdown_escape(format_count(members["joins"])),
        rate=markdown_escape(format_percent(rate)),
    )


def points_text(page: ProgrammePage, currency: str, *, buddhist_era: bool = False) -> str | None:
    """Points earned, redeemed and outstanding to the report month's end, or None without points."""
    if page.points is None:
        return None
    row = _row(page.points, _last(page))
    text = _(
        "Up to the end of {month}: **{earned}** points earned and **{redeemed}** redeemed "
        "(redemption rate **{rate}**); **{outstanding}** points outstanding."
    ).format(
        month=markdown_escape(month_label(_last(page), None, buddhist_era, width="wide")),
        earned=markdown_escape(format_count(row["earned_to_date"])),
        redeemed=markdown_escape(format_count(row["redeemed_to_date"])),
        rate=markdown_escape(format_percent(row["redemption_rate_to_date"])),
        outstanding=markdown_escape(format_count(row["outstanding"])),
    )
    if row["outstanding_value"] is not None:
        value = _("At {point} a point they are worth **{value}**.").format(
            point=markdown_escape(format_money(page.point_value, currency, decimals=2)),
            value=markdown_escape(format_money(row["outstanding_value"], currency)),
        )
        text = f"{text} {value}"
    return text


def timing_text(timing: RedemptionTiming | None) -> str | None:
    """Members who redeemed and the median time to a first redemption, or None without points."""
    if timing is None:
        return None
    if timing.median_days is None:
        return _("No member has redeemed points yet.")
    return _(
        "{redeemers} of {members} members have redeemed points; half of them did so within "
        "{days} of joining."
    ).format(
        redeemers=markdown_escape(format_count(timing.redeemers)),
        members=markdown_escape(format_count(timing.members)),
        days=markdown_escape(_days(timing.median_days)),
    )


def _days(value: float) -> str:
    return format_days(value, 0)


# --------------------------------------------------------------------------- tables


def group_label(group: str) -> str:
    """``"member"`` → "members", ``"non_member"`` → "non-members", in the current language."""
    labels = {
        "member": pgettext("loyalty programme", "members"),
        "non_member": pgettext("loyalty programme", "non-members"),
    }
    return labels[group]


def _month_index(index: pd.Index, buddhist_era: bool) -> pd.Index:
    return pd.Index(
        [month_label(m, None, buddhist_era) for m in index],
        name=pgettext("loyalty programme", "month"),
    )


def _row(frame: pd.DataFrame, key: object) -> dict[str, float | None]:
    """One row of a result as plain numbers (None for a missing value)."""
    return {str(k): clean_number(v) for k, v in frame.loc[key].items()}  # type: ignore[call-overload]


def _percent(value: object) -> str:
    return format_percent(clean_number(value))


def _money(currency: str, decimals: int = 0) -> Callable[[object], str]:
    def render(value: object) -> str:
        return format_money(clean_number(value), currency, decimals=decimals)

    return render


def members_table(page: ProgrammePage, *, buddhist_era: bool = False) -> Styler:
    """Joins, members, active customers and participation by month (newest first)."""
    frame = page.members.join(page.participation).iloc[::-1]
    frame.index = _month_index(frame.index, buddhist_era)
    columns = {
        "joins": pgettext("loyalty programme", "joins"),
        "members": pgettext("loyalty programme", "members at month end"),
        "active_customers": pgettext("loyalty programme", "active customers"),
        "active_members": pgettext("loyalty programme", "active members"),
        "participation_rate": pgettext("loyalty programme", "participation rate"),
    }
    frame = frame[list(columns)].rename(columns=columns)
    formats: dict[object, object] = {c: format_count for c in list(columns.values())[:4]}
    formats[columns["participation_rate"]] = _percent
    return html_table(frame, formats)


def points_table(
    page: ProgrammePage, currency: str, *, buddhist_era: bool = False
) -> Styler | None:
    """Points by month (newest first), or None without a points table."""
    if page.points is None:
        return None
    columns = {
        "earned": pgettext("loyalty programme", "earned"),
        "redeemed": pgettext("loyalty programme", "redeemed"),
        "redemption_rate": pgettext("loyalty programme", "redemption rate"),
        "outstanding": pgettext("loyalty programme", "outstanding at month end"),
        "redemption_rate_to_date": pgettext("loyalty programme", "redemption rate to date"),
    }
    if page.point_value is not None:
        columns["outstanding_value"] = pgettext("loyalty programme", "outstanding value")
    frame = page.points[list(columns)].iloc[::-1].rename(columns=columns)
    frame.index = _month_index(frame.index, buddhist_era)
    formats: dict[object, object] = {
        columns["earned"]: format_count,
        columns["redeemed"]: format_count,
        columns["outstanding"]: format_count,
        columns["redemption_rate"]: _percent,
        columns["redemption_rate_to_date"]: _percent,
    }
    if "outstanding_value" in columns:
        formats[columns["outstanding_value"]] = _money(currency)
    return html_table(frame, formats)


def timing_table(timing: RedemptionTiming | None) -> Styler | None:
    """Share of members who redeemed within 30, 90 and 180 days of joining, or None."""
    if timing is None:
        return None
    frame = timing.windows.copy()
    frame.index = pd.Index(
        [_("within {days}").format(days=_days(d)) for d in frame.index],
        name=pgettext("loyalty programme", "first redemption"),
    )
    columns = {
        "eligible": pgettext("loyalty programme", "members who joined that long ago"),
        "redeemed": pgettext("loyalty programme", "redeemed in time"),
        "share": pgettext("loyalty programme", "share"),
    }
    frame = frame.rename(columns=columns)
    return html_table(
        frame,
        {
            columns["eligible"]: format_count,
            columns["redeemed"]: format_count,
            columns["share"]: _percent,
        },
    )


def tier_table(page: ProgrammePage) -> Styler | None:
    """Members, share and points by tier, or None without tiers (the tier names are data)."""
    if page.tiers is None:
        return None
    frame = page.tiers.copy()
    frame.index = pd.Index(
        [pgettext("loyalty programme", "(no tier)") if pd.isna(t) else str(t) for t in frame.index],
        name=pgettext("loyalty programme", "tier"),
    )
    columns = {
        "members": pgettext("loyalty programme", "members"),
        "share": pgettext("loyalty programme", "share of members"),
        "earned": pgettext("loyalty programme", "points earned"),
        "redeemed": pgettext("loyalty programme", "points redeemed"),
        "redemption_rate": pgettext("loyalty programme", "redemption rate"),
    }
    frame = frame[[c for c in columns if c in frame]].rename(columns=columns)
    formats: dict[object, object] = {
        columns["members"]: format_count,
        columns["share"]: _percent,
    }
    if columns["earned"] in frame:
        formats |= {
            columns["earned"]: format_count,
            columns["redeemed"]: format_count,
            columns["redemption_rate"]: _percent,
        }
    return html_table(frame, formats)


def comparison_table(page: ProgrammePage, currency: str, *, buddhist_era: bool = False) -> Styler:
    """Members vs non-members by month (newest first): each measure for both groups."""
    measures = {
        "customers": pgettext("loyalty programme", "customers"),
        "aov": pgettext("loyalty programme", "average order value"),
        "frequency": pgettext("loyalty programme", "purchase frequency"),
        "revenue_per_customer": pgettext("loyalty programme", "revenue per customer"),
        "repeat_rate": pgettext("loyalty programme", "repeat rate"),
        "sales_share": pgettext("loyalty programme", "share of sales"),
    }
    groups = ("member", "non_member")
    wide = pd.DataFrame(
        {
            (measures[m], group_label(g)): page.comparison.xs(g, level="group")[m]
            for m in measures
            for g in groups
        }
    ).iloc[::-1]
    wide.index = _month_index(wide.index, buddhist_era)
    render: dict[str, Callable[[object], str]] = {
        "customers": lambda v: format_count(clean_number(v)),
        "aov": _money(currency),
        "frequency": lambda v: format_number(clean_number(v), 2),
        "revenue_per_customer": _money(currency),
        "repeat_rate": _percent,
        "sales_share": _percent,
    }
    formats: dict[object, object] = {
        (measures[m], group_label(g)): render[m] for m in measures for g in groups
    }
    return html_table(wide, formats)


# --------------------------------------------------------------------------- findings


def programme_findings(
    page: ProgrammePage, currency: str, *, buddhist_era: bool = False
) -> list[str]:
    """One-line findings for the executive summary: participation and points; members vs others."""
    last = _last(page)
    month = month_label(last, None, buddhist_era, width="wide")
    out = []
    rate = _row(page.participation, last)["participation_rate"]
    members = format_count(_row(page.members, last)["members"])
    if rate is None:  # no active customer in the month
        first = _("The loyalty programme had {members} members at the end of {month}.").format(
            members=members, month=month
        )
    else:
        first = _(
            "{rate} of {month}'s active customers were loyalty members ({members} members in all)."
        ).format(rate=_percent(rate), month=month, members=members)
    if page.points is not None:
        row = _row(page.points, last)
        if row["outstanding_value"] is not None:
            extra = _(
                "Members have redeemed {rate} of the points earned; {outstanding} points "
                "({value}) are outstanding."
            ).format(
                rate=_percent(row["redemption_rate_to_date"]),
                outstanding=format_count(row["outstanding"]),
                value=format_money(row["outstanding_value"], currency),
            )
        else:
            extra = _(
                "Members have redeemed {rate} of the points earned; {outstanding} points are "
                "outstanding."
            ).format(
                rate=_percent(row["redemption_rate_to_date"]),
                outstanding=format_count(row["outstanding"]),
            )
        first = f"{first} {extra}"
    out.append(first)
    member = _row(page.comparison, (last, "member"))
    other = _row(page.comparison, (last, "non_member"))
    if member["revenue_per_customer"] is not None and other["revenue_per_customer"] is not None:
        out.append(
            _(
                "In {month} members spent {member} per customer against {other} for "
                "non-members and made {share} of sales; members chose to join, so the gap is "
                "not the programme's effect."
            ).format(
                month=month,
                member=format_money(member["revenue_per_customer"], currency),
                other=format_money(other["revenue_per_customer"], currency),
                share=_percent(member["sales_share"]),
            )
        )
    return out


# --------------------------------------------------------------------------- chart text


def chart_text(key: str) -> str:
    """A title, axis label or legend entry of the programme charts, in the current language.

    Keys: ``members_title``, ``joins``, ``members``, ``points_title``,
    ``earned``, ``redeemed``, ``points``, ``comparison_title``,
    ``member_rpc``, ``non_member_rpc``, ``member_aov``, ``non_member_aov``.
    """
    texts = {
        "members_title": _("Loyalty members: joins per month and members at month end"),
        "joins": pgettext("loyalty chart", "joins in the month"),
        "members": pgettext("loyalty chart", "members at month end"),
        "points_title": _("Points earned and redeemed per month"),
        "earned": pgettext("loyalty chart", "earned"),
        "redeemed": pgettext("loyalty chart", "redeemed"),
        "points": pgettext("loyalty chart", "points"),
        "comparison_title": _("Members and non-members: revenue per customer and order value"),
        "member_rpc": pgettext("loyalty chart", "members: revenue per customer"),
        "non_member_rpc": pgettext("loyalty chart", "non-members: revenue per customer"),
        "member_aov": pgettext("loyalty chart", "members: average order value"),
        "non_member_aov": pgettext("loyalty chart", "non-members: average order value"),
    }
    return texts[key]
