"""Charts of the CLV section (drawing only: every number comes from models/tracking/section).

Each function takes the small results of :mod:`analysis.clv.section` and
returns a matplotlib Figure, in the project's theme (:func:`analysis.plots.set_theme`)
with money in the store's currency.
"""

from __future__ import annotations

import datetime as dt

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from analysis.clv.models import (
    MODEL_LABELS,
    FrequencyRecencyMatrices,
    ModelComparison,
    SpendCorrelation,
)
from analysis.plots import ACCENT, PALETTE, format_money, money_axis, number_axis

__all__ = [
    "clv_distribution_chart",
    "frequency_recency_chart",
    "holdout_by_frequency_chart",
    "model_table",
    "spend_frequency_chart",
    "tracking_chart",
]

_ACTUAL = "black"
_NAIVE = "#b0b0b0"


def _model_colors(models: list[str]) -> dict[str, tuple]:
    colors = sns.color_palette(PALETTE, max(len(models), 1))
    return dict(zip(models, colors, strict=False))


def model_table(comparison: ModelComparison) -> pd.DataFrame:
    """The model comparison as a display table, one row per model and the naive baseline.

    Columns: ``model`` (label, the chosen one marked), ``MAE``, ``RMSE``
    (purchases per customer in the holdout), ``aggregate error`` (predicted
    total / actual total - 1), ``log-likelihood`` (calibration; blank for the
    baseline), ``penalizer`` (0 unless a retry was needed).
    """
    rows = []
    for score in comparison.scores:
        fit = comparison.fits.get(score.model)
        label = MODEL_LABELS[score.model]
        if score.model == comparison.chosen:
            label += " (chosen)"
        rows.append(
            {
                "model": label,
                "MAE": score.mae,
                "RMSE": score.rmse,
                "aggregate error": score.aggregate_error,
                "log-likelihood": score.log_likelihood,
                "penalizer": None if fit is None else fit.penalizer,
            }
        )
    return pd.DataFrame(rows).set_index("model")


def holdout_by_frequency_chart(data: pd.DataFrame, comparison: ModelComparison) -> Figure:
    """Mean holdout purchases by calibration frequency: actual vs every model and the baseline.

    ``data`` is :func:`analysis.clv.models.calibration_vs_holdout`.
    """
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(data))
    models = [m for m in comparison.fits if m in data.columns]
    colors = _model_colors(models)
    ax.plot(x, data["actual"], color=_ACTUAL, marker="o", linewidth=2.5, label="actual")
    for m in models:
        width = 2.0 if m == comparison.chosen else 1.2
        ax.plot(x, data[m], color=colors[m], marker=".", linewidth=width, label=MODEL_LABELS[m])
    ax.plot(x, data["naive"], color=_NAIVE, linestyle="--", label=MODEL_LABELS["naive"])
    ax.set_xticks(x, data["label"])
    ax.set_xlabel("repeat purchase days in the calibration period")
    ax.set_ylabel("mean purchase days in the holdout")
    ax.set_title("Holdout purchases by calibration frequency: actual vs predicted")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def tracking_chart(tracking: pd.DataFrame, *, calibration_end: dt.date, model_label: str) -> Figure:
    """Weekly repeat purchases, actual vs expected: cumulative (top) and per week (bottom).

    ``tracking`` is :func:`analysis.clv.tracking.tracking_curve`; a dashed line
    marks the end of the calibration period (the model saw nothing after it).
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    start = pd.to_datetime(tracking["start"])
    for ax, actual, expected in (
        (top, "actual_cumulative", "expected_cumulative"),
        (bottom, "actual", "expected"),
    ):
        ax.plot(start, tracking[actual], color=_ACTUAL, linewidth=1.8, label="actual")
        ax.plot(
            start, tracking[expected], color=ACCENT, linestyle="--", linewidth=1.8,
            label=f"expected ({model_label})",
        )  # fmt: skip
        ax.axvline(pd.Timestamp(calibration_end), color="grey", linestyle=":", linewidth=1.2)
        number_axis(ax)  # exact, distinct tick labels (never "0, 0, 1, 1" on a short range)
    top.set_title("Repeat purchase days: actual vs expected (tracking plot)")
    top.set_ylabel("cumulative")
    bottom.set_ylabel("per week")
    top.legend(frameon=False, fontsize=8, loc="upper left")
    ymax = top.get_ylim()[1]
    top.text(
        pd.Timestamp(calibration_end), ymax * 0.95, "  holdout →", va="top", fontsize=8,
        color="grey",
    )  # fmt: skip
    fig.tight_layout()
    return fig


def frequency_recency_chart(matrices: FrequencyRecencyMatrices) -> Figure:
    """Heatmaps of expected purchases (next ``horizon``) and P(alive) by frequency and recency.

    Rows are the recency of the last purchase (days after the first, latest at
    the top), columns the number of repeat purchase days; histories that cannot
    occur are left blank.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    impossible = ~matrices.possible.to_numpy(dtype=bool)
    recency = matrices.expected_purchases.index.to_numpy(dtype=float)
    frequency = matrices.expected_purchases.columns.to_numpy(dtype=int)
    panels = (
        (matrices.expected_purchases, f"Expected purchase days in the next {matrices.horizon:g} days", "viridis"),
        (matrices.p_alive, "P(alive): probability the customer is still active", "mako"),
    )  # fmt: skip
    for ax, (frame, title, cmap) in zip(axes, panels, strict=True):
        values = np.ma.masked_array(frame.to_numpy(dtype=float), mask=impossible)
        image = ax.imshow(
            values[::-1], aspect="auto", cmap=cmap, interpolation="nearest",
            extent=(frequency[0] - 0.5, frequency[-1] + 0.5, recency[0], recency[-1]),
        )  # fmt: skip
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        ax.grid(False)
        ax.set_xlabel("repeat purchase days (frequency)")
        ax.set_ylabel("day of the last purchase, after the first (recency)")
        ax.set_title(title, fontsize=10)
    fig.suptitle(
        f"Customers who first bought {matrices.age:g} days ago", x=0.01, ha="left",
        fontweight="bold",
    )  # fmt: skip
    fig.tight_layout()
    return fig


def clv_distribution_chart(clv: pd.Series, *, currency: str, horizon_months: int) -> Figure:
    """Histogram of CLV per customer (the top 1 % pooled in the last bin), mean and median marked."""
    values = np.asarray(clv, dtype=float)
    cap = float(np.quantile(values, 0.99)) if values.size else 0.0
    fig, ax = plt.subplots(figsize=(9, 4.5))
    sns.histplot(np.minimum(values, cap), bins=50, color=ACCENT, ax=ax)
    mean, median = float(values.mean()), float(np.median(values))
    ax.axvline(mean, color="black", linestyle="--", label=f"mean {format_money(mean, currency)}")
    ax.axvline(
        median, color="grey", linestyle=":", label=f"median {format_money(median, currency)}"
    )
    money_axis(ax, currency, axis="x")
    ax.set_xlabel(f"{horizon_months}-month CLV per customer (top 1 % pooled at the right edge)")
    ax.set_ylabel("customers")
    ax.set_title(f"Distribution of {horizon_months}-month customer lifetime value")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def spend_frequency_chart(
    summary: pd.DataFrame, correlation: SpendCorrelation, *, currency: str
) -> Figure:
    """Repeat customers' mean spend per purchase day against their repeat purchase days.

    Gamma-Gamma assumes no relation; the title carries the correlations.
    """
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    fig, ax = plt.subplots(figsize=(9, 4.5))
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
        label="median by frequency (30+ pooled)",
    )
    money_axis(ax, currency)
    ax.set_xlabel("repeat purchase days (frequency)")
    ax.set_ylabel("mean spend per repeat purchase day")
    ax.set_title(
        f"Spend vs frequency (Pearson {correlation.pearson:.2f}, Spearman {correlation.spearman:.2f})"
    )
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
