"""Charts of the loyalty page (drawing only: every number comes from the loyalty modules).

Each chart function takes small pandas results and an optional ``ax``: it draws
on ``ax`` when given, else on a new figure of its own size, and returns the
Axes it drew on. Every title, axis label and legend is a message of the
narrative layer, in the report's language; money is in the store's currency.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from analysis.formats import month_labels
from analysis.i18n import _
from analysis.narrative import members as member_words
from analysis.narrative import programme as programme_words
from analysis.plots import ACCENT, money_axis, number_axis

__all__ = [
    "balance_chart",
    "event_study_chart",
    "member_comparison_chart",
    "members_chart",
    "points_chart",
]

# ---- programme dashboard charts (analysis.loyalty.programme) ----


_MEMBER = ACCENT
_OTHER = "#b0b0b0"


def _programme_axes(ax: Axes | None, figsize: tuple[float, float] = (9, 4.5)) -> Axes:
    if ax is not None:
        return ax
    _fig, new = plt.subplots(figsize=figsize)
    return new


def _month_ticks(ax: Axes, months: pd.Index, language: str | None, buddhist_era: bool) -> None:
    ax.set_xticks(range(len(months)))
    ax.set_xticklabels(month_labels(list(months), language, buddhist_era), rotation=45, ha="right")
    ax.set_xlabel("")


def members_chart(
    members: pd.DataFrame,
    *,
    language: str | None = None,
    buddhist_era: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Joins per month (bars, left axis) and members at each month's end (line, right axis).

    Parameters
    ----------
    members
        :attr:`analysis.loyalty.programme.ProgrammePage.members` (by month start:
        ``joins``, ``members``).
    language, buddhist_era
        Month labels (None: the report's current language).
    ax
        Axes to draw on (a new figure when None); the line goes on a twin Axes.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes of the bars.
    """
    ax = _programme_axes(ax)
    x = range(len(members))
    bars = ax.bar(x, members["joins"], color=_OTHER, label=programme_words.chart_text("joins"))
    twin = ax.twinx()
    (line,) = twin.plot(
        x, members["members"], color=_MEMBER, marker="o",
        label=programme_words.chart_text("members"),
    )  # fmt: skip
    number_axis(ax)
    number_axis(twin)
    twin.set_ylim(bottom=0)
    twin.grid(False)
    ax.set_ylabel(programme_words.chart_text("joins"))
    twin.set_ylabel(programme_words.chart_text("members"))
    _month_ticks(ax, members.index, language, buddhist_era)
    ax.set_title(programme_words.chart_text("members_title"))
    ax.legend(handles=[bars, line], loc="upper left", frameon=False)
    return ax


def points_chart(
    points: pd.DataFrame,
    *,
    language: str | None = None,
    buddhist_era: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Points earned and redeemed per month (two bars a month).

    ``points`` is :attr:`analysis.loyalty.programme.ProgrammePage.points`
    (by month start: ``earned``, ``redeemed``; points).
    """
    ax = _programme_axes(ax)
    width = 0.4
    x = range(len(points))
    ax.bar(
        [i - width / 2 for i in x], points["earned"], width, color=_MEMBER,
        label=programme_words.chart_text("earned"),
    )  # fmt: skip
    ax.bar(
        [i + width / 2 for i in x], points["redeemed"], width, color=_OTHER,
        label=programme_words.chart_text("redeemed"),
    )  # fmt: skip
    number_axis(ax)
    ax.set_ylabel(programme_words.chart_text("points"))
    _month_ticks(ax, points.index, language, buddhist_era)
    ax.set_title(programme_words.chart_text("points_title"))
    ax.legend(loc="upper left", frameon=False)
    return ax


def member_comparison_chart(
    comparison: pd.DataFrame,
    currency: str,
    *,
    language: str | None = None,
    buddhist_era: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Revenue per customer (solid) and average order value (dashed), members vs non-members.

    ``comparison`` is :attr:`analysis.loyalty.programme.ProgrammePage.comparison`
    (index month start × group); money in ``currency``. A month without
    customers in a group is a gap in its lines.
    """
    ax = _programme_axes(ax)
    months = comparison.index.get_level_values(0).unique()
    x = range(len(months))
    for group, color in (("member", _MEMBER), ("non_member", _OTHER)):
        rows = comparison.xs(group, level="group").reindex(months)
        for measure, style in (("revenue_per_customer", "-"), ("aov", "--")):
            key = f"{group}_{'rpc' if measure == 'revenue_per_customer' else 'aov'}"
            values = pd.to_numeric(rows[measure], errors="coerce").astype("float64")
            ax.plot(
                x, values, style, color=color, marker="o" if style == "-" else None,
                label=programme_words.chart_text(key),
            )  # fmt: skip
    money_axis(ax, currency)
    ax.set_ylim(bottom=0)
    _month_ticks(ax, months, language, buddhist_era)
    ax.set_title(programme_words.chart_text("comparison_title"))
    ax.legend(loc="lower left", frameon=False, ncols=2)
    return ax


# ---- end of programme dashboard charts ----


# ---- member comparison charts (analysis.loyalty.comparison) ----


_CONTROLS = "#7f7f7f"


def _comparison_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize)
    return new


def event_study_chart(event_study: pd.DataFrame, currency: str, ax: Axes | None = None) -> Axes:
    """Mean monthly spend by month relative to joining: members and matched non-members.

    Parameters
    ----------
    event_study
        :attr:`analysis.loyalty.comparison.MemberComparison.event_study` (index: months
        from joining; columns ``members``, ``controls`` and their ``_low``/``_high``
        interval bounds, money per customer per month).
    currency
        The store's currency (y axis).
    ax
        Axes to draw on; None = a new figure.
    """
    ax = _comparison_axes(ax, (8.0, 4.2))
    x = event_study.index.to_numpy()
    for col, color, label in (
        ("members", ACCENT, member_words.chart_members()),
        ("controls", _CONTROLS, member_words.chart_controls()),
    ):
        ax.plot(x, event_study[col], marker="o", color=color, label=label)
        ax.fill_between(
            x, event_study[f"{col}_low"], event_study[f"{col}_high"], color=color, alpha=0.15
        )
    ax.axvline(-0.5, color="black", linestyle="--", linewidth=1)
    ax.annotate(
        member_words.chart_join(),
        xy=(-0.5, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4, -12),
        textcoords="offset points",
    )
    ax.set_xticks(x)
    ax.set_xlabel(_(member_words.CHART_EVENT_X))
    ax.set_ylabel(_(member_words.CHART_EVENT_Y))
    ax.set_title(_(member_words.CHART_EVENT_TITLE))
    money_axis(ax, currency)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right")
    return ax


def balance_chart(balance: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Standardised differences of the matching covariates before and after matching.

    Parameters
    ----------
    balance
        :attr:`analysis.loyalty.comparison.MemberComparison.balance` (index: covariates;
        columns ``smd_before``, ``smd_after``, unitless).
    ax
        Axes to draw on; None = a new figure.
    """
    ax = _comparison_axes(ax, (7.0, 2.8))
    labels = [member_words.covariate_label(str(i)) for i in balance.index]
    y = list(range(len(labels)))
    ax.scatter(
        balance["smd_before"], y, color=_CONTROLS, label=_(member_words.CHART_BALANCE_BEFORE)
    )
    ax.scatter(balance["smd_after"], y, color=ACCENT, label=_(member_words.CHART_BALANCE_AFTER))
    for yi, (b, a) in enumerate(zip(balance["smd_before"], balance["smd_after"], strict=True)):
        ax.plot([b, a], [yi, yi], color="#cccccc", zorder=0)
    ax.axvline(0, color="black", linewidth=1)
    for edge in (-0.1, 0.1):
        ax.axvline(edge, color="#bbbbbb", linestyle=":", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.set_xlabel(_(member_words.CHART_BALANCE_X))
    ax.set_title(_(member_words.CHART_BALANCE_TITLE))
    ax.legend(loc="lower right")
    return ax


# ---- end of member comparison charts ----
