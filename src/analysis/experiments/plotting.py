"""Charts of an experiment's readout (drawing only: the numbers come from the readout).

Each chart takes the readout and an optional ``ax``; it draws on ``ax`` when
given, else on a new figure, and returns the Axes. Titles, axis labels and
legends are messages of :mod:`analysis.narrative.experiments`, in the report's
language; variant names are data and pass through :func:`analysis.plots.chart_text`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.i18n import _
from analysis.narrative import experiments as words
from analysis.plots import ACCENT, chart_text, percent_axis

if TYPE_CHECKING:
    from analysis.experiments.readout import Readout

__all__ = ["lift_chart"]

_RAW = "#9a9a9a"


def lift_chart(readout: Readout, ax: Axes | None = None) -> Axes:
    """Relative lift of every metric × variant with 95% intervals, unadjusted and CUPED.

    One row per comparison (primary metric first), a grey interval for the
    unadjusted lift and a coloured one for the CUPED-adjusted lift, a vertical
    line at no effect.
    """
    rows = readout.comparisons
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7.5, 0.7 * len(rows) + 1.4))
    labels = []
    for i, c in enumerate(rows):
        y = len(rows) - 1 - i
        for offset, lift, color in ((0.15, c.raw, _RAW), (-0.15, c.cuped.lift, ACCENT)):
            ax.errorbar(
                [lift.rel_lift],
                [y + offset],
                xerr=[[lift.rel_lift - lift.rel_ci_low], [lift.rel_ci_high - lift.rel_lift]],
                fmt="o",
                color=color,
                capsize=3,
            )
        name = words.metric_label(c.metric, readout.retention_days)
        several = len({r.variant for r in rows}) > 1
        labels.append((y, f"{name}\n{chart_text(c.variant)}" if several else name))
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks([y for y, _label in labels], [label for _y, label in labels])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    percent_axis(ax, axis="x")
    ax.set_xlabel(_(words.CHART_LIFT_X))
    ax.set_title(_(words.CHART_LIFT_TITLE).format(control=chart_text(readout.control)))
    ax.plot([], [], "o", color=_RAW, label=_(words.CHART_RAW))
    ax.plot([], [], "o", color=ACCENT, label=_(words.CHART_CUPED))
    ax.legend(loc="best", frameon=False)
    figure = ax.get_figure()
    if isinstance(figure, Figure):
        figure.tight_layout()
    return ax
