"""Chart theme and helpers: one look for every notebook, Thai text that renders.

Plotting is separate from computation: functions here take small pandas
results and return matplotlib objects; they never touch the warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

THAI_FONT_FAMILY = "Sarabun"
PALETTE = "crest"
ACCENT = "#1f6f8b"

THAI_MONTHS = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
CURRENCY_SYMBOLS = {"THB": "฿", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "SGD": "S$"}


def register_thai_font() -> str:
    """Add the packaged Sarabun font files to matplotlib's font manager; return the family.

    matplotlib's font cache is built once and misses fonts installed later, so
    the files from the ``fontpkg-sarabun`` package are added explicitly.
    """
    import fontpkg

    family = fontpkg.family("sarabun")
    known = {f.fname for f in font_manager.fontManager.ttflist}
    for font in family.files:
        if str(font.path) not in known:
            font_manager.fontManager.addfont(str(font.path))
    return family.name


def set_theme() -> None:
    """The project's seaborn theme, with a Thai-capable font first in the fallback list."""
    family = register_thai_font()
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    matplotlib.rcParams.update(
        {
            "font.family": [family, "DejaVu Sans"],
            "figure.figsize": (9, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.titleweight": "semibold",
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def format_money(value: float, currency: str = "THB", *, decimals: int = 0) -> str:
    """``1234567.8`` → ``"฿1,234,568"``; large values keep digit grouping, never exponents."""
    if value is None or pd.isna(value):
        return "–"
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.{decimals}f}"


def format_compact_money(value: float, currency: str = "THB") -> str:
    """Axis-friendly money: ``฿1.2M``, ``฿350K``, ``฿900``."""
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{symbol}{value / size:,.1f}{suffix}"
    return f"{symbol}{value:,.0f}"


def money_axis(ax: Axes, currency: str = "THB", axis: str = "y") -> None:
    """Format an axis's tick labels as compact money in ``currency``."""
    formatter = FuncFormatter(lambda v, _pos: format_compact_money(v, currency))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Format tick labels of a 0–1 share as percentages."""
    formatter = FuncFormatter(lambda v, _pos: f"{v:.0%}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def month_label(
    month: dt.date | pd.Timestamp | str, language: str = "en", buddhist_era: bool = False
) -> str:
    """``2026-10`` → ``"Oct 2026"``, or ``"ต.ค. 2569"`` in Thai with the Buddhist Era."""
    ts = pd.Timestamp(month)
    year = ts.year + (543 if buddhist_era else 0)
    if language == "th":
        return f"{THAI_MONTHS[ts.month - 1]} {year}"
    return f"{ts.strftime('%b')} {year}"


def month_labels(months: Sequence, language: str = "en", buddhist_era: bool = False) -> list[str]:
    return [month_label(m, language, buddhist_era) for m in months]


def trend_chart(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    currency: str | None = None,
    percent: bool = False,
    language: str = "en",
    buddhist_era: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Line chart of a monthly series with month labels on the x axis.

    Parameters
    ----------
    data
        One row per month; ``x`` holds month starts (datetime-like).
    currency
        Format the y axis as money in this currency.
    percent
        Format the y axis as a percentage (values are shares 0–1).
    """
    if ax is None:
        _, ax = plt.subplots()
    frame = data.sort_values(x)
    sns.lineplot(data=frame, x=x, y=y, marker="o", color=ACCENT, ax=ax)
    ax.set_title(title)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks(frame[x])
    ax.set_xticklabels(month_labels(frame[x], language, buddhist_era), rotation=45, ha="right")
    if currency:
        money_axis(ax, currency)
    elif percent:
        percent_axis(ax)
    return ax


def retention_heatmap(matrix: pd.DataFrame, *, title: str, ax: Axes | None = None) -> Axes:
    """Triangular cohort heatmap annotated with percentages.

    Parameters
    ----------
    matrix
        Rows = cohorts (labels), columns = months since acquisition ``k`` with
        shares 0–1 (NaN = not yet observed); a ``size`` column is ignored.
        The colour scale is set by months ``k >= 1`` (month 0 is 100% by
        definition and would wash out every other cell).
    """
    shares = matrix.drop(columns=[c for c in ("size",) if c in matrix.columns])
    later = shares.drop(columns=[c for c in shares.columns if c == 0]).to_numpy(dtype=float)
    finite = later[~pd.isna(later)]
    vmax = float(finite.max()) if finite.size else 1.0
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 0.35 * len(shares) + 1.5))
    sns.heatmap(
        shares.astype(float), annot=True, fmt=".0%", cmap=PALETTE, vmin=0, vmax=vmax,
        cbar=False, annot_kws={"size": 7}, linewidths=0.5, linecolor="white", ax=ax,
    )  # fmt: skip
    ax.grid(False)
    ax.set_title(title)
    ax.set_xlabel("months since first order")
    ax.set_ylabel("")
    return ax
