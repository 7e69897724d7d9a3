"""Words of the member comparison (observational): prose, assumptions, headers, chart
text, notes, the verdict and unavailable reasons (catalogue block ``member comparison``).

The numbers come from :mod:`analysis.loyalty.comparison`; figures are formatted with
:mod:`analysis.formats` (money in the store's currency).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.formats import format_count, format_money, format_number, month_label
from analysis.i18n import N_, _, ngettext, pgettext
from analysis.plots import html_table, markdown_escape

if TYPE_CHECKING:
    from analysis.loyalty.comparison import MemberComparison

__all__ = [
    "ASSUMPTIONS",
    "CHART_BALANCE_AFTER",
    "CHART_BALANCE_BEFORE",
    "CHART_BALANCE_TITLE",
    "CHART_BALANCE_X",
    "CHART_EVENT_TITLE",
    "CHART_EVENT_X",
    "CHART_EVENT_Y",
    "INTRO",
    "balance_columns",
    "chart_controls",
    "chart_join",
    "chart_members",
    "balance_table",
    "covariate_label",
    "did_verdict",
    "matching_note",
    "naive_gap_text",
    "no_eligible_members",
    "no_members_table",
    "pretrend_note",
    "too_few_members",
]

INTRO = N_(
    """## Members vs non-members (observational)

Members chose to join, and the customers who join are usually the ones who already bought more. A plain comparison of members with non-members mixes what the programme does with who joins. This part compares each member's spending before and after joining with the same months of **non-members who looked alike before** (matched on recency, frequency and spend): a difference-in-differences."""
)
"""Introduction of the comparison (Markdown)."""

ASSUMPTIONS = N_(
    """**What this rests on.** (1) *Parallel trends*: without the programme, members' monthly spend would have moved like that of their matched non-members; the months before joining are the check. (2) *No anticipation*: customers did not change their buying in the months before they joined because they were about to join. (3) *Matched on what we see only*: members and their comparison customers are alike in recency, frequency and spend before joining and in the month they joined; anything else that made them join (a life change, a new job) is not matched. It is an association, not proof."""
)
"""The assumptions in plain words (Markdown)."""

CHART_EVENT_TITLE = N_("Monthly spend before and after joining: members vs matched non-members")
CHART_EVENT_X = N_("months from joining (0 = the month of joining)")
CHART_EVENT_Y = N_("mean spend per customer per month")
CHART_BALANCE_TITLE = N_("Balance before and after matching")
CHART_BALANCE_X = N_("standardised difference, members − non-members")
CHART_BALANCE_BEFORE = N_("before matching")
CHART_BALANCE_AFTER = N_("after matching")


def chart_members() -> str:
    """Legend of the members' line and dots."""
    return pgettext("member comparison chart", "members")


def chart_controls() -> str:
    """Legend of the matched non-members' line."""
    return pgettext("member comparison chart", "matched non-members")


def chart_join() -> str:
    """Label of the joining line of the event study."""
    return pgettext("member comparison chart", "joined")


def covariate_label(name: str) -> str:
    """Reader's name of a matching covariate (``recency``, ``frequency``, ``monetary``)."""
    labels = {
        "recency": pgettext("member comparison", "recency (months since last order)"),
        "frequency": pgettext("member comparison", "frequency (orders)"),
        "monetary": pgettext("member comparison", "spend"),
    }
    return labels.get(name, name)


def balance_columns() -> dict[str, str]:
    """Header of each column of the balance table, in the current language."""
    return {
        "members_before": pgettext("member comparison", "members"),
        "controls_before": pgettext("member comparison", "all non-members"),
        "controls_after": pgettext("member comparison", "matched non-members"),
        "smd_before": pgettext("member comparison", "difference before (SD)"),
        "smd_after": pgettext("member comparison", "difference after (SD)"),
    }


def balance_table(balance: pd.DataFrame, currency: str) -> Styler:
    """The balance table: covariate means and standardised differences before/after.

    ``balance`` is :attr:`MemberComparison.balance`; spend in ``currency``.
    """
    columns = balance_columns()
    frame = balance[list(columns)].copy()
    shown = frame.rename(columns=columns)
    shown.index = [covariate_label(i) for i in frame.index]
    shown = shown.astype(object)
    for i, name in enumerate(frame.index):
        for c in ("members_before", "controls_before", "controls_after"):
            v = frame.loc[name, c]
            shown.iloc[i, list(columns).index(c)] = (
                format_money(v, currency) if name == "monetary" else format_number(v, 1)
            )
        for c in ("smd_before", "smd_after"):
            shown.iloc[i, list(columns).index(c)] = format_number(frame.loc[name, c], 2)
    return html_table(shown, {})


def naive_gap_text(result: MemberComparison, currency: str) -> str:
    """The naive gap with its caveat (Markdown)."""
    n = result.naive
    return _(
        "**Naive gap** ({first} to {last}, customers with an order in those months): members "
        "spent {members} a month, non-members {non_members}, a gap of **{gap}**. This gap is "
        "biased by self-selection: customers who already bought more are the ones who join, "
        "so it overstates what membership does."
    ).format(
        first=markdown_escape(month_label(n.first_month)),
        last=markdown_escape(month_label(n.last_month)),
        members=markdown_escape(format_money(n.members, currency)),
        non_members=markdown_escape(format_money(n.non_members, currency)),
        gap=markdown_escape(format_money(n.gap, currency)),
    )


def matching_note(result: MemberComparison) -> str:
    """Who was compared: members kept, matched and their controls (Markdown)."""
    return ngettext(
        "{matched} of {eligible} member who joined between {first} and {last} with {months} "
        "months of history on each side was matched to {controls} non-members in {strata} "
        "groups of the same join month and the same recency, frequency and spend over the "
        "{match} months before those {months} months.",
        "{matched} of {eligible} members who joined between {first} and {last} with {months} "
        "months of history on each side were matched to {controls} non-members in {strata} "
        "groups of the same join month and the same recency, frequency and spend over the "
        "{match} months before those {months} months.",
        result.eligible_members,
    ).format(
        matched=format_count(result.matched_members),
        eligible=format_count(result.eligible_members),
        first=markdown_escape(month_label(result.first_join_month)),
        last=markdown_escape(month_label(result.last_join_month)),
        months=result.event_months,
        controls=format_count(result.control_customers),
        strata=format_count(result.strata),
        match=result.match_months,
    )


def did_verdict(result: MemberComparison, currency: str) -> str:
    """The verdict sentence of the comparison (plain text, no Markdown)."""
    d = result.did
    values = {
        "effect": format_money(abs(d.difference), currency),
        "low": format_money(d.low, currency),
        "high": format_money(d.high, currency),
    }
    if d.difference >= 0:
        message = _(
            "Members spend {effect} more a month after joining than matched non-members "
            "(95% CI {low} to {high}); this is an association, not proof."
        )
    else:
        message = _(
            "Members spend {effect} less a month after joining than matched non-members "
            "(95% CI {low} to {high}); this is an association, not proof."
        )
    return message.format(**values)


def pretrend_note(result: MemberComparison, currency: str) -> str:
    """The pre-trend check in words (Markdown)."""
    p = result.pretrend
    values = {
        "slope": markdown_escape(format_money(p.difference, currency, decimals=1)),
        "p": format_number(p.p_value, 2),
    }
    if result.pretrend_flagged:
        return _(
            "**Pre-trend check failed** (p = {p}): before joining, members' monthly spend "
            "already moved differently from their matched non-members ({slope} a month per "
            "month). The comparison after joining may be biased; read it with care."
        ).format(**values)
    return _(
        "**Pre-trend check passed** (p = {p}): before joining, members' and matched "
        "non-members' monthly spend moved alike (difference in trend {slope} a month per "
        "month)."
    ).format(**values)


def no_members_table() -> str:
    """Why the comparison is unavailable: the store has no loyalty_members table."""
    return _(
        "member comparison: the warehouse has no loyalty_members table (one row per member: "
        "customer_id, joined_at) to compare members with non-members."
    )


def no_eligible_members(months: int) -> str:
    """Why the comparison is unavailable: no member has enough history around joining."""
    return ngettext(
        "member comparison: no member has {months} full month of order history before "
        "joining and {months} month after it by the end of the report month.",
        "member comparison: no member has {months} full months of order history before "
        "joining and {months} months after it by the end of the report month.",
        months,
    ).format(months=months)


def too_few_members(matched: int, minimum: int) -> str:
    """Why the comparison is unavailable: too few members found comparable non-members."""
    return ngettext(
        "member comparison: only {count} member could be matched to comparable non-members; "
        "at least {minimum} are needed.",
        "member comparison: only {count} members could be matched to comparable non-members; "
        "at least {minimum} are needed.",
        matched,
    ).format(count=format_count(matched), minimum=format_count(minimum))
