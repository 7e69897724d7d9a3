"""Charts of the segments page (drawing only: every number comes from the segment modules).

Each chart function takes a small result and an optional ``ax``: it draws on
``ax`` when given, else on a new figure of its own size, and returns the Axes it
drew on. Titles, axis labels and segment names come from
:mod:`analysis.narrative.rfm`, in the report's language.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from analysis.formats import format_count
from analysis.narrative import buckets as bucket_words
from analysis.narrative import rfm as words
from analysis.narrative import segments as page_words
from analysis.plots import PALETTE, share_label
from analysis.segments.migration import STATES, SegmentMigration
from analysis.segments.rfm import RfmGrid

__all__ = ["bucket_combinations_chart", "migration_chart", "rfm_grid_chart"]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _fig, new = plt.subplots(figsize=figsize)
    return new


def rfm_grid_chart(grid: RfmGrid, ax: Axes | None = None) -> Axes:
    """Heatmap of customers per (R, F) cell, each cell annotated with its count and revenue share.

    Rows are R scores 5 (top) to 1, columns F scores 1 to 5; the colour is the
    customer count, the second line of each cell the cell's share of the scored
    customers' revenue.

    Parameters
    ----------
    grid
        :func:`analysis.segments.rfm.rfm_grid`'s result.
    ax
        Axes to draw on; a new 6.5 × 5.5 in figure when None.
    """
    ax = _axes(ax, (6.5, 5.5))
    counts = grid.counts.sort_index(ascending=False)
    shares = grid.revenue_share.reindex(index=counts.index, columns=counts.columns)
    notes = np.array(
        [
            [f"{format_count(c)}\n{share_label(s)}" for c, s in zip(crow, srow, strict=True)]
            for crow, srow in zip(counts.to_numpy(), shares.to_numpy(), strict=True)
        ]
    )
    sns.heatmap(
        counts, annot=notes, fmt="", cmap=PALETTE, cbar=False, linewidths=0.5,
        linecolor="white", annot_kws={"size": 8}, ax=ax,
    )  # fmt: skip
    ax.grid(False)
    ax.set_title(words.chart_text("grid_title"))
    ax.set_ylabel(words.chart_text("r_axis"))
    ax.set_xlabel(words.chart_text("f_axis"))
    ax.tick_params(axis="y", rotation=0)
    return ax


def migration_chart(
    migration: SegmentMigration, ax: Axes | None = None, *, since: str | None = None
) -> Axes:
    """Heatmap of the migration matrix's row shares (where each segment's customers went).

    Parameters
    ----------
    migration
        :func:`analysis.segments.migration.segment_migration`'s result.
    ax
        Axes to draw on; a new 9 × 7.5 in figure when None.
    since
        The starting month as the reader sees it (for the title), or None for a
        title without it.
    """
    ax = _axes(ax, (9, 7.5))
    shares = migration.shares.reindex(index=list(STATES), columns=list(STATES)).astype(float)
    notes = shares.map(lambda v: share_label(v) if v > 0 else "")
    labels = [words.segment_label(key) for key in STATES]
    sns.heatmap(
        pd.DataFrame(shares.to_numpy(), index=labels, columns=labels), annot=notes.to_numpy(),
        fmt="", cmap=PALETTE, vmin=0, vmax=1, cbar=False, linewidths=0.5, linecolor="white",
        annot_kws={"size": 7}, ax=ax,
    )  # fmt: skip
    ax.grid(False)
    title = (
        words.chart_text("migration_title_since").format(month=since)
        if since
        else words.chart_text("migration_title")
    )
    ax.set_title(title)
    ax.set_ylabel(words.chart_text("migration_from"))
    ax.set_xlabel(words.chart_text("migration_to"))
    ax.tick_params(axis="x", rotation=45)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    ax.tick_params(axis="y", rotation=0)
    return ax


def bucket_combinations_chart(combinations: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of customers per combination of buckets (UpSet-style), most common at the top.

    Parameters
    ----------
    combinations
        :func:`analysis.segments.buckets.bucket_combinations`' result (``buckets``
        tuples, ``customers``; the customers in no bucket are the empty tuple).
    ax
        Axes to draw on; a new figure sized to the number of bars when None.
    """
    ax = _axes(ax, (9, 0.45 * len(combinations) + 1.2))
    labels = [
        " + ".join(bucket_words.bucket_name(b) for b in combo) if combo else page_words.no_bucket()
        for combo in combinations["buckets"]
    ]
    counts = combinations["customers"].to_numpy(dtype=float)
    positions = np.arange(len(counts))[::-1]
    ax.barh(positions, counts, color=sns.color_palette(PALETTE, 3)[1])
    ax.set_yticks(positions, labels)
    for y, count in zip(positions, counts, strict=True):
        ax.annotate(
            format_count(count), (count, y), xytext=(3, 0), textcoords="offset points",
            va="center", fontsize=8,
        )  # fmt: skip
    ax.set_title(page_words.chart_text("combinations_title"))
    ax.set_xlabel(page_words.chart_text("customers_axis"))
    ax.xaxis.set_major_formatter(lambda v, _pos: format_count(v))
    ax.grid(axis="y", visible=False)
    return ax
