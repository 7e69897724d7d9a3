"""Words of the RFM segments and their migration: names, descriptions, rules, tables, findings.

:mod:`analysis.segments.rfm` and :mod:`analysis.segments.migration` return
numbers and segment keys; this module holds every word a reader sees around
them (catalogue block ``segments rfm``), translated when it is shown.
:mod:`analysis.segments.plotting` takes its titles and axis labels from
:func:`chart_text` here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from analysis.formats import format_count
from analysis.i18n import _, ngettext, pgettext
from analysis.segments.migration import NOT_SCORED, STATES
from analysis.segments.rfm import SCORES, SEGMENT_RULES, SEGMENTS, SegmentRule

if TYPE_CHECKING:
    from analysis.segments.migration import SegmentMigration

__all__ = [
    "segment_labels",
    "chart_text",
    "migration_finding",
    "migration_table",
    "rule_text",
    "rules_table",
    "segment_description",
    "segment_label",
]

#: Segments a finding watches: customers who were among the best ...
FROM_BEST: tuple[str, ...] = ("champions", "loyal")
#: ... and are now slipping away.
TO_SLIPPING: tuple[str, ...] = ("at_risk", "cant_lose")


def segment_label(key: str) -> str:
    """Display name of a segment key (or of ``"not_scored"``), in the current language.

    Raises
    ------
    KeyError
        An unknown key.
    """
    labels = {
        "champions": pgettext("rfm segment", "Champions"),
        "loyal": pgettext("rfm segment", "Loyal"),
        "potential_loyalist": pgettext("rfm segment", "Potential Loyalist"),
        "new_customers": pgettext("rfm segment", "New Customers"),
        "promising": pgettext("rfm segment", "Promising"),
        "need_attention": pgettext("rfm segment", "Need Attention"),
        "about_to_sleep": pgettext("rfm segment", "About to Sleep"),
        "at_risk": pgettext("rfm segment", "At Risk"),
        "cant_lose": pgettext("rfm segment", "Can't Lose Them"),
        "hibernating": pgettext("rfm segment", "Hibernating"),
        "lost": pgettext("rfm segment", "Lost"),
        NOT_SCORED: pgettext("rfm segment", "Not scored"),
    }
    return labels[key]


def segment_description(key: str) -> str:
    """One line saying who is in the segment ``key``, in the current language."""
    descriptions = {
        "champions": _("Bought recently, buy often and spend the most."),
        "loyal": _("Buy often; not all of them spend the most or bought very recently."),
        "potential_loyalist": _("Recent customers with a few orders: could become loyal."),
        "new_customers": _(
            "Bought very recently, with few orders so far (most often their first)."
        ),
        "promising": _("Bought fairly recently, with few orders so far."),
        "need_attention": _("A few orders, the last some months ago: still reachable."),
        "about_to_sleep": _("Few orders, the last some months ago: about to drift away."),
        "at_risk": _("Bought often and spent well, but not for a long time."),
        "cant_lose": _("Among the most frequent and biggest spenders, but gone the longest."),
        "hibernating": _("Last order long ago, few orders, low spend."),
        "lost": _("Longest since their last order, few orders, low spend."),
    }
    return descriptions[key]


def _range_text(bounds: tuple[int, int]) -> str | None:
    """``"4–5"``, ``"5"``, or None for the full range 1–5 (any score)."""
    low, high = bounds
    if (low, high) == (SCORES[0], SCORES[-1]):
        return None
    return str(low) if low == high else f"{low}–{high}"


def rule_text(rule: SegmentRule) -> str:
    """A rule's score ranges in words, e.g. ``R 4–5, F 4–5, M 4–5`` (a score left out: any)."""
    parts = []
    for template, bounds in (
        (pgettext("rfm rules", "R {scores}"), rule.r),
        (pgettext("rfm rules", "F {scores}"), rule.f),
        (pgettext("rfm rules", "M {scores}"), rule.m),
    ):
        shown = _range_text(bounds)
        if shown is not None:
            parts.append(template.format(scores=shown))
    return ", ".join(parts) if parts else pgettext("rfm rules", "any scores")


def rules_table() -> pd.DataFrame:
    """The segment rules in the order they are applied (the first that matches wins).

    Returns
    -------
    pandas.DataFrame
        One row per rule, index 1–11 (the order), translated columns: segment,
        rule (score ranges) and what it means.
    """
    table = pd.DataFrame(
        {
            pgettext("rfm rules", "Segment"): [segment_label(r.segment) for r in SEGMENT_RULES],
            pgettext("rfm rules", "Rule (scores 1–5)"): [rule_text(r) for r in SEGMENT_RULES],
            pgettext("rfm rules", "What it means"): [
                segment_description(r.segment) for r in SEGMENT_RULES
            ],
        },
        index=pd.RangeIndex(1, len(SEGMENT_RULES) + 1, name=pgettext("rfm rules", "Order")),
    )
    return table


def chart_text(key: str) -> str:
    """A title or axis label of the segment charts, in the current language.

    Keys: ``grid_title``, ``r_axis``, ``f_axis``, ``migration_title``,
    ``migration_title_since`` (placeholder ``{month}``), ``migration_from``,
    ``migration_to``.
    """
    texts = {
        "grid_title": _("Customers by recency and frequency score (below: share of revenue)"),
        "r_axis": _("R score (5 = most recent)"),
        "f_axis": _("F score (5 = most frequent)"),
        "migration_title": _("Where each segment's customers are now (share of the row)"),
        "migration_title_since": _(
            "Where the customers of each segment at the end of {month} are now (share of the row)"
        ),
        "migration_from": pgettext("rfm migration", "Segment before"),
        "migration_to": pgettext("rfm migration", "Segment now"),
    }
    return texts[key]


def migration_table(m: SegmentMigration, *, shares: bool = False) -> pd.DataFrame:
    """The migration matrix with translated segment names and axis names.

    Parameters
    ----------
    m
        :func:`analysis.segments.migration.segment_migration`'s result.
    shares
        Row shares (0–1) instead of customer counts.

    Returns
    -------
    pandas.DataFrame
        12 × 12: rows the segment before, columns the segment now (segments in
        display order, then "not scored").
    """
    table = (m.shares if shares else m.counts).copy()
    labels = [segment_label(key) for key in STATES]
    table.index = pd.Index(labels, name=chart_text("migration_from"))
    table.columns = pd.Index(labels, name=chart_text("migration_to"))
    return table


def migration_finding(m: SegmentMigration, month_label: str) -> str | None:
    """ "N customers moved from Champions or Loyal to At Risk or Can't Lose Them since <month>".

    Parameters
    ----------
    m
        Migration from the end of ``month_label``'s month to the report month's end.
    month_label
        The starting month as the reader sees it (:func:`analysis.formats.month_label`).

    Returns
    -------
    str or None
        The sentence, or None when nobody moved that way.
    """
    moved = m.moved(FROM_BEST, TO_SLIPPING)
    if moved == 0:
        return None
    return ngettext(
        "{count} customer moved from {best} or {loyal} to {at_risk} or {cant_lose} since {month}.",
        "{count} customers moved from {best} or {loyal} to {at_risk} or {cant_lose} since {month}.",
        moved,
    ).format(
        count=format_count(moved),
        best=segment_label("champions"),
        loyal=segment_label("loyal"),
        at_risk=segment_label("at_risk"),
        cant_lose=segment_label("cant_lose"),
        month=month_label,
    )


def segment_labels() -> dict[str, str]:
    """Segment key → display name, in display order and the current language."""
    return {key: segment_label(key) for key in SEGMENTS}
