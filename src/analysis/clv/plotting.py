"""Charts of the CLV section (drawing only: every number comes from the models and the section).

Each chart function takes the small results of :mod:`analysis.clv.section`
and an optional ``ax`` (as pymc-marketing's plotting functions do): it draws
on ``ax`` when given, else on a new figure of its own size, and returns the
Axes it drew on. The two-panel charts (:func:`tracking_chart`,
:func:`frequency_recency_chart`) take and return a pair of Axes; each panel
is also a function of its own. Charts use the project's theme
(:func:`analysis.plots.set_theme`) with money in the store's currency; every
title, axis label and legend is a message of :mod:`analysis.narrative.clv`,
in the report's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from analysis.clv.holdout import ModelComparison
from analysis.clv.predict import FrequencyRecencyMatrices
from analysis.clv.spend import SpendCorrelation
from analysis.formats import format_money
from analysis.i18n import _
from analysis.narrative import clv as words
from analysis.plots import ACCENT, PALETTE, money_axis, number_axis

__all__ = [
    "clv_distribution_chart",
    "expected_purchases_matrix_chart",
    "frequency_recency_chart",
    "holdout_by_frequency_chart",
    "p_alive_matrix_chart",
    "spend_frequency_chart",
    "tracking_chart",
    "tracking_panel",
]

_ACTUAL = "black"
_NAIVE = "#b0b0b0"


def _model_colors(models: list[str]) -> dict[str, tuple]:
    colors = sns.color_palette(PALETTE, max(len(models), 1))
    return dict(zip(models, colors, strict=False))


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Axes, bool]:
    """``ax``, or the Axes of a new figure of ``figsize``; True when the figure is new."""
    if ax is not None:
        return ax, False
    _, new = plt.subplots(figsize=figsize)
    return new, True


def _axes_pair(
    ax: Sequence[Axes] | None,
    figsize: tuple[float, float],
    *,
    nrows: int,
    ncols: int,
    sharex: bool = False,
) -> tuple[tuple[Axes, Axes], bool]:
    """Two Axes: ``ax`` or those of a new figure (``nrows`` x ``ncols`` = 2 panels)."""
    if ax is not None:
        first, second = ax
        return (first, second), False
    _, (first, second) = plt.subplots(nrows, ncols, figsize=figsize, sharex=sharex)
    return (first, second), True


def _tidy(ax: Axes) -> None:
    """``tight_layout`` of the figure this module made for ``ax``."""
    figure = ax.get_figure()
    if isinstance(figure, Figure):
        figure.tight_layout()


def holdout_by_frequency_chart(
    data: pd.DataFrame, comparison: ModelComparison, *, ax: Axes | None = None
) -> Axes:
    """Mean holdout purchases by calibration frequency: actual vs every model and the baseline.

    ``data`` is :func:`analysis.clv.holdout.calibration_vs_holdout` (purchase
    days per customer).
    """
    ax, new = _axes(ax, (9, 4.5))
    x = np.arange(len(data))
    models = [m for m in comparison.fits if m in data.columns]
    colors = _model_colors(models)
    actual = words.chart_label("actual")
    ax.plot(x, data["actual"], color=_ACTUAL, marker="o", linewidth=2.5, label=actual)
    for m in models:
        width = 2.0 if m == comparison.chosen else 1.2
        label = words.model_label(m)
        ax.plot(x, data[m], color=colors[m], marker=".", linewidth=width, label=label)
    ax.plot(x, data["naive"], color=_NAIVE, linestyle="--", label=words.model_label("naive"))
    ax.set_xticks(x, data["label"])
    ax.set_xlabel(_(words.CHART_HOLDOUT_X))
    ax.set_ylabel(_(words.CHART_HOLDOUT_Y))
    ax.set_title(_(words.CHART_HOLDOUT_TITLE))
    ax.legend(frameon=False, fontsize=8)
    if new:
        _tidy(ax)
    return ax


def tracking_panel(
    tracking: pd.DataFrame,
    *,
    calibration_end: dt.date,
    model_label: str,
    cumulative: bool,
    ax: Axes | None = None,
) -> Axes:
    """One panel of the tracking plot: repeat purchase days, actual vs expected.

    ``tracking`` is :func:`analysis.clv.tracking.tracking_curve`; ``cumulative``
    draws the running totals (with the title, the legend and the holdout
    mark), otherwise the purchase days per week. A dotted line marks the end
    of the calibration period (the model saw nothing after it).
    """
    ax, new = _axes(ax, (9, 3.5))
    start = pd.to_datetime(tracking["start"])
    actual, expected = (
        ("actual_cumulative", "expected_cumulative") if cumulative else ("actual", "expected")
    )
    ax.plot(
        start, tracking[actual], color=_ACTUAL, linewidth=1.8, label=words.chart_label("actual")
    )
    ax.plot(
        start, tracking[expected], color=ACCENT, linestyle="--", linewidth=1.8,
        label=_(words.CHART_EXPECTED).format(model=model_label),
    )  # fmt: skip
    mark = pd.Timestamp(calibration_end)
    # matplotlib converts dates through its units registry; its stubs only say float
    ax.axvline(mark, color="grey", linestyle=":", linewidth=1.2)  # type: ignore[arg-type]
    number_axis(ax)  # exact, distinct tick labels (never "0, 0, 1, 1" on a short range)
    if cumulative:
        ax.set_title(_(words.CHART_TRACKING_TITLE))
        ax.set_ylabel(words.chart_label("cumulative"))
        ax.legend(frameon=False, fontsize=8, loc="upper left")
        ymax = ax.get_ylim()[1]
        label = _(words.CHART_HOLDOUT_MARK)
        # a date x, as in axvline above
        ax.text(mark, ymax * 0.95, label, va="top", fontsize=8, color="grey")  # type: ignore[arg-type]
    else:
        ax.set_ylabel(words.chart_label("per_week"))
    if new:
        _tidy(ax)
    return ax


def tracking_chart(
    tracking: pd.DataFrame,
    *,
    calibration_end: dt.date,
    model_label: str,
    ax: Sequence[Axes] | None = None,
) -> tuple[Axes, Axes]:
    """Weekly repeat purchases, actual vs expected: cumulative (top) and per week (bottom).

    Two :func:`tracking_panel` calls; ``ax`` is a pair of Axes (top, bottom),
    or None for a new figure with a shared time axis.
    """
    (top, bottom), new = _axes_pair(ax, (9, 7), nrows=2, ncols=1, sharex=True)
    for panel, cumulative in ((top, True), (bottom, False)):
        tracking_panel(
            tracking, calibration_end=calibration_end, model_label=model_label,
            cumulative=cumulative, ax=panel,
        )  # fmt: skip
    if new:
        _tidy(top)
    return top, bottom


def _matrix_panel(
    matrices: FrequencyRecencyMatrices,
    frame: pd.DataFrame,
    *,
    title: str,
    cmap: str,
    ax: Axes | None,
) -> Axes:
    """One heatmap over (recency, frequency); impossible histories left blank."""
    ax, new = _axes(ax, (5.5, 5))
    impossible = ~matrices.possible.to_numpy(dtype=bool)
    recency = frame.index.to_numpy(dtype=float)
    frequency = frame.columns.to_numpy(dtype=int)
    values = np.ma.masked_array(frame.to_numpy(dtype=float), mask=impossible)
    image = ax.imshow(
        values[::-1], aspect="auto", cmap=cmap, interpolation="nearest",
        extent=(frequency[0] - 0.5, frequency[-1] + 0.5, recency[0], recency[-1]),
    )  # fmt: skip
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    ax.grid(False)
    ax.set_xlabel(_(words.CHART_FREQUENCY))
    ax.set_ylabel(_(words.CHART_RECENCY))
    ax.set_title(title, fontsize=10)
    if new:
        _tidy(ax)
    return ax


def expected_purchases_matrix_chart(
    matrices: FrequencyRecencyMatrices, *, ax: Axes | None = None
) -> Axes:
    """Heatmap of expected purchase days in the next ``matrices.horizon`` days.

    Rows are the recency of the last purchase (days after the first, latest at
    the top), columns the number of repeat purchase days; histories that
    cannot occur are left blank.
    """
    title = _(words.CHART_EXPECTED_MATRIX).format(days=f"{matrices.horizon:g}")
    return _matrix_panel(matrices, matrices.expected_purchases, title=title, cmap="viridis", ax=ax)


def p_alive_matrix_chart(matrices: FrequencyRecencyMatrices, *, ax: Axes | None = None) -> Axes:
    """Heatmap of P(alive) by frequency and recency (as :func:`expected_purchases_matrix_chart`)."""
    title = _(words.CHART_ALIVE_MATRIX)
    return _matrix_panel(matrices, matrices.p_alive, title=title, cmap="mako", ax=ax)


def frequency_recency_chart(
    matrices: FrequencyRecencyMatrices, *, ax: Sequence[Axes] | None = None
) -> tuple[Axes, Axes]:
    """Expected purchases (left) and P(alive) (right) side by side, for one customer age.

    ``ax`` is a pair of Axes, or None for a new figure titled with the age.
    """
    (left, right), new = _axes_pair(ax, (11, 5), nrows=1, ncols=2)
    expected_purchases_matrix_chart(matrices, ax=left)
    p_alive_matrix_chart(matrices, ax=right)
    if new:
        left.figure.suptitle(
            _(words.CHART_MATRIX_AGE).format(days=f"{matrices.age:g}"), x=0.01, ha="left",
            fontweight="bold",
        )  # fmt: skip
        _tidy(left)
    return left, right


def clv_distribution_chart(
    clv: pd.Series, *, currency: str, horizon_months: int, ax: Axes | None = None
) -> Axes:
    """Histogram of CLV per customer (the top 1 % pooled in the last bin), mean and median marked."""
    values = np.asarray(clv, dtype=float)
    cap = float(np.quantile(values, 0.99)) if values.size else 0.0
    ax, new = _axes(ax, (9, 4.5))
    sns.histplot(np.minimum(values, cap), bins=50, color=ACCENT, ax=ax)
    mean, median = float(values.mean()), float(np.median(values))
    mean_label = _(words.CHART_MEAN).format(value=format_money(mean, currency))
    median_label = _(words.CHART_MEDIAN).format(value=format_money(median, currency))
    ax.axvline(mean, color="black", linestyle="--", label=mean_label)
    ax.axvline(median, color="grey", linestyle=":", label=median_label)
    money_axis(ax, currency, axis="x")
    ax.set_xlabel(_(words.CHART_CLV_X).format(months=horizon_months))
    ax.set_ylabel(words.chart_label("customers"))
    ax.set_title(_(words.CHART_CLV_TITLE).format(months=horizon_months))
    ax.legend(frameon=False, fontsize=8)
    if new:
        _tidy(ax)
    return ax


def spend_frequency_chart(
    summary: pd.DataFrame,
    correlation: SpendCorrelation,
    *,
    currency: str,
    ax: Axes | None = None,
) -> Axes:
    """Repeat customers' mean spend per purchase day against their repeat purchase days.

    Gamma-Gamma assumes no relation; the title carries the correlations.
    """
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ax, new = _axes(ax, (9, 4.5))
    ax.hexbin(
        repeat["frequency"], repeat["monetary_value"], gridsize=40, bins="log", yscale="log",
        cmap="crest", mincnt=1,
    )  # fmt: skip
    means = repeat.groupby(np.minimum(repeat["frequency"], 30))["monetary_value"].median()
    ax.plot(
        means.index,
        means.to_numpy(),
        color="black",
        linewidth=1.5,
        label=_(words.CHART_SPEND_MEDIAN),
    )
    money_axis(ax, currency)
    ax.set_xlabel(_(words.CHART_FREQUENCY))
    ax.set_ylabel(_(words.CHART_SPEND_Y))
    ax.set_title(
        _(words.CHART_SPEND_TITLE).format(
            pearson=f"{correlation.pearson:.2f}", spearman=f"{correlation.spearman:.2f}"
        )
    )
    ax.legend(frameon=False, fontsize=8)
    if new:
        _tidy(ax)
    return ax
