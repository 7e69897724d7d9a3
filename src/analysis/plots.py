"""Chart theme and helpers: one look for every notebook, Thai text that renders.

Plotting is separate from computation: functions here take small pandas
results and return matplotlib objects; they never touch the warehouse.
"""

from __future__ import annotations

import html
import string
from collections.abc import Callable, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import Formatter, LogFormatter
from pandas.io.formats.style import Styler

from analysis.formats import (
    currency_symbol,
    exact_decimals,
    format_compact_money,
    format_money,
    format_percent,
    format_pp_change,
    money_scale,
    money_text,
    month_labels,
)
from analysis.i18n import _, use_language

THAI_FONT_FAMILY = "Sarabun"
PALETTE = "crest"
ACCENT = "#1f6f8b"


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
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


MARKDOWN_SPECIALS = frozenset(string.punctuation)
"""Every ASCII punctuation character: CommonMark lets each be backslash-escaped."""


def markdown_escape(text: object) -> str:
    """Text (a number, a name, a sentence) made safe to drop into Markdown, read literally.

    Every ASCII punctuation character gets a backslash (CommonMark lets any of
    them be escaped, and the escape renders as the character itself), so that
    nothing in the text is read as markup: ``**$265,095**`` renders as bold
    money instead of starting a formula, ``<img onerror=…>`` and ``&lt;`` render
    as the characters typed (never as HTML or an entity), ``[x](url)`` and bare
    ``https://`` addresses do not become links, and ``1.`` or ``-`` at the start
    does not start a list. Line breaks become spaces: the result is inline text.
    Store names, channels, experiment ids and variant names (data and params)
    must pass through here wherever they meet Markdown.
    """
    flat = " ".join(str(text).splitlines())
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in flat)


def chart_text(text: object) -> str:
    """A name from the data made literal for a matplotlib label, legend or tick.

    matplotlib reads text between two ``$`` as a formula (mathtext): a channel
    called ``$5 off $10`` would turn into maths, and a malformed one would stop
    the chart from drawing. Every ``$`` gets a backslash.
    """
    return str(text).replace("$", r"\$")


def _escaped_levels(index: pd.Index) -> pd.Index:
    """``index`` with its level names HTML-escaped (a Styler prints them as they are)."""
    names = [None if n is None else html.escape(str(n)) for n in index.names]
    return index.set_names(names)


def html_table(
    frame: pd.DataFrame,
    formatter: str | Callable[[object], object] | Mapping[object, object] | None = None,
    *,
    na_rep: str | None = None,
) -> Styler:
    """``frame.style.format(formatter, na_rep=na_rep)`` with every text HTML-escaped.

    A pandas Styler writes cells, index and column labels and level names into
    its HTML as they are: a channel named ``<img src=x onerror=…>`` would be a
    live element in the report. Every table a notebook displays goes through
    here. Cells without a formatter are escaped by pandas (``escape="html"``);
    a formatter (a format string like ``"{:.0%}"`` or a callable) gets the raw
    value and its output is escaped; index and column labels are escaped, and
    so are the names of their levels.

    Parameters
    ----------
    frame
        A small, already collected result.
    formatter
        As :meth:`pandas.io.formats.style.Styler.format`: one format string or
        callable for every column, or a mapping column → format string or callable.
    na_rep
        Text for missing values (default pandas' ``nan``).

    Returns
    -------
    pandas.io.formats.style.Styler
        Chain ``.hide(axis="index")`` and the like as usual.
    """
    shown = frame.copy(deep=False)
    shown.index = _escaped_levels(shown.index)
    shown.columns = _escaped_levels(shown.columns)
    if formatter is None or isinstance(formatter, Mapping):
        formats = dict(formatter or {})
    else:
        formats = dict.fromkeys(shown.columns, formatter)
    styler = shown.style.format(escape="html", na_rep=na_rep)
    for column, fmt in formats.items():
        if fmt is None:
            continue
        render: Callable[[object], object]
        if isinstance(fmt, str):
            render = fmt.format
        elif callable(fmt):
            render = fmt
        else:
            raise TypeError(f"html_table: the format of {column!r} is not a string or a callable")

        def escaped(v: object, render: Callable[[object], object] = render) -> str:
            return html.escape(str(render(v)))

        styler = styler.format(escaped, subset=[column], na_rep=na_rep)
    return styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)


def markdown_money(value: float, currency: str = "THB", *, decimals: int = 0) -> str:
    """:func:`format_money` escaped for Markdown (``\\$265,095``; Thai baht is unchanged)."""
    return markdown_escape(format_money(value, currency, decimals=decimals))


class TickFormatter(Formatter):
    """Tick labels that are exact and distinct: one precision for all ticks of an axis.

    ``render(value, decimals)`` turns a tick value into its label; the
    precision is the fewest decimals (of ``value × scale``) that show every
    tick exactly (:func:`analysis.formats.exact_decimals`). Never an offset or scientific
    notation.
    """

    def __init__(self, render, scale: float = 1.0) -> None:
        self.render = render
        self.scale = scale
        self.decimals = 0

    def format_ticks(self, values) -> list[str]:
        self.decimals = exact_decimals([v * self.scale for v in values])
        return [self.render(v, self.decimals) for v in values]

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.render(x, self.decimals)


class _MoneyTicks(TickFormatter):
    """Compact money with one suffix (K, M, B) chosen from the largest tick."""

    def __init__(self, currency: str) -> None:
        self.symbol = currency_symbol(currency)
        self.size, self.suffix = 1.0, ""
        super().__init__(self._render)

    def _render(self, value: float, decimals: int) -> str:
        return money_text(value / self.size, self.symbol, self.suffix, decimals)

    def format_ticks(self, values) -> list[str]:
        self.size, self.suffix = money_scale(max((abs(v) for v in values), default=0.0))
        self.scale = 1 / self.size
        return super().format_ticks(values)


class _MoneyLogTicks(LogFormatter):
    """matplotlib's log-axis labelling (which ticks get a label), with compact money text."""

    def __init__(self, currency: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.currency = currency

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return format_compact_money(x, self.currency)


def _axis(ax: Axes, axis: str):
    return ax.yaxis if axis == "y" else ax.xaxis


def money_axis(ax: Axes, currency: str = "THB", axis: str = "y") -> None:
    """Format an axis's tick labels as compact money in ``currency``.

    Linear axes: one suffix and the fewest decimals that label every tick
    exactly (``฿0.5M, ฿1.0M, ฿1.5M``; ``BRL 0.2, BRL 0.4``). Log axes: major
    and minor ticks labelled as money where matplotlib would label them (no
    ``2 × 10¹``).
    """
    target = _axis(ax, axis)
    if target.get_scale() == "log":
        target.set_major_formatter(_MoneyLogTicks(currency, labelOnlyBase=False))
        target.set_minor_formatter(_MoneyLogTicks(currency, labelOnlyBase=False))
    else:
        target.set_major_formatter(_MoneyTicks(currency))


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Format tick labels of a 0–1 share as percentages, as precise as the ticks need.

    Ticks at 0.025, 0.05, 0.075 read ``2.5%, 5.0%, 7.5%`` (never ``2%, 5%, 8%``).
    """
    _axis(ax, axis).set_major_formatter(TickFormatter(lambda v, d: f"{100 * v:.{d}f}%", 100))


def number_axis(ax: Axes, axis: str = "y") -> None:
    """Format tick labels as plain numbers with digit grouping (``12,500``), never ``1e4``."""
    _axis(ax, axis).set_major_formatter(TickFormatter(lambda v, d: f"{v:,.{d}f}"))


def trend_chart(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    currency: str | None = None,
    percent: bool = False,
    language: str | None = None,
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
        Format the y axis as a percentage (values are shares 0–1); otherwise
        plain numbers (:func:`number_axis`).
    language
        Language of the month labels; None: the report's current language.
    ax
        Axes to draw on (a new figure when None).

    Months whose value is missing (NaN: before the store's data starts) are
    left out of the line (a gap), not drawn as 0.
    """
    if ax is None:
        _fig, ax = plt.subplots()
    frame = data.sort_values(x)
    # Months without data (NaN) are gaps in the line, never zeros.
    ax.plot(frame[x], frame[y].astype("float64"), marker="o", color=ACCENT)
    ax.set_title(title)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks(frame[x])
    ax.set_xticklabels(
        month_labels(list(frame[x]), language, buddhist_era), rotation=45, ha="right"
    )
    if currency:
        money_axis(ax, currency)
    elif percent:
        percent_axis(ax)
    else:
        number_axis(ax)
    return ax


def share_label(value: float) -> str:
    """A share for a chart annotation: whole percents, one decimal under 9.5 % (``0.4%``, not ``0%``).

    0 reads ``0%``; a missing value reads ``""``.
    """
    if value is None or pd.isna(value):
        return ""
    return format_percent(value, 0 if value == 0 or abs(value) >= 0.095 else 1)


def retention_heatmap(
    matrix: pd.DataFrame, *, title: str, xlabel: str, ax: Axes | None = None
) -> Axes:
    """Triangular cohort heatmap annotated with percentages (:func:`share_label`).

    Parameters
    ----------
    matrix
        Rows = cohorts (labels), columns = periods since acquisition ``k`` with
        shares 0–1 (NaN = not yet observed); a ``size`` column is ignored.
        The colour scale is set by periods ``k >= 1`` (period 0 is 100% by
        definition and would wash out every other cell).
    title, xlabel
        Words from the caller (``narrative.cohorts``), in the report's language.
    """
    shares = matrix.drop(columns=[c for c in ("size",) if c in matrix.columns])
    later = shares.drop(columns=[c for c in shares.columns if c == 0]).to_numpy(dtype=float)
    finite = later[~pd.isna(later)]
    vmax = float(finite.max()) if finite.size else 1.0
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 0.35 * len(shares) + 1.5))
    values = shares.astype(float)
    sns.heatmap(
        values, annot=values.map(share_label), fmt="", cmap=PALETTE, vmin=0, vmax=vmax,
        cbar=False, annot_kws={"size": 7}, linewidths=0.5, linecolor="white", ax=ax,
    )  # fmt: skip
    ax.grid(False)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    return ax


# --------------------------------------------------------------------------- KPI charts and tables


def year_on_year_frame(
    yoy: pd.DataFrame,
    label: Callable[[object], str],
    period: str = "month",
    language: str | None = None,
) -> pd.DataFrame:
    """The cohort year-on-year table (``cohorts.same_cohorts_a_year_earlier``) ready to display.

    Columns read "Cohort", "Cohort a year earlier" and per period k "Month k",
    "Month k, a year earlier", "Month k change" (percentage points), in the
    report language. A year-earlier cohort the data does not reach reads "no
    data" and its change is blank; rates show one decimal (``7.2%``), changes a
    sign only when not 0.0 pp.

    Parameters
    ----------
    label
        Cohort start → the text people read (e.g. ``"Sep 2026"``).
    period
        ``month`` or ``week``: the cohort grain.
    language
        Report language; None: the current one (:func:`analysis.i18n.current_language`).
    """
    if language is not None:
        with use_language(language):
            return year_on_year_frame(yoy, label, period)
    weekly = period != "month"
    no_data = _("no data")
    ks = [int(c[1:]) for c in yoy.columns if c[:1] == "k" and c[1:].isdigit()]

    def rate(v: float) -> str:
        return no_data if v is None or pd.isna(v) else format_percent(v, 1)

    out = pd.DataFrame(
        {
            _("Cohort"): yoy["cohort"].map(label),
            _("Cohort a year earlier"): yoy["year_earlier"].map(label),
        }
    )
    for k in ks:
        now = _("Week {k}") if weekly else _("Month {k}")
        before = _("Week {k}, a year earlier") if weekly else _("Month {k}, a year earlier")
        change = _("Week {k} change") if weekly else _("Month {k} change")
        out[now.format(k=k)] = yoy[f"k{k}"].map(rate)
        out[before.format(k=k)] = yoy[f"k{k}_year_earlier"].map(rate)
        out[change.format(k=k)] = [
            "" if pd.isna(c) else format_pp_change(c) for c in yoy[f"k{k}_change"]
        ]
    return out


def small_multiples(
    data: pd.DataFrame,
    series: Sequence[tuple[str, str, str]],
    *,
    currency: str,
    language: str | None = None,
    buddhist_era: bool = False,
    ncols: int = 3,
) -> Figure:
    """A grid of monthly trend charts, one per ``(column, title, unit)``; missing columns skipped.

    Parameters
    ----------
    data
        One row per month with a ``month`` column (month starts).
    series
        ``(column, title, unit)`` per chart, e.g. from
        :func:`analysis.narrative.kpis.trend_series` (titles in the report language).
    currency
        Currency of the ``money`` charts' axes.
    language
        Language of the month labels; None: the report's current language.
    """
    present = [s for s in series if s[0] in data.columns and data[s[0]].notna().any()]
    nrows = max(1, -(-len(present) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False)
    for ax, (column, title, unit) in zip(axes.flat, present, strict=False):
        trend_chart(
            data, x="month", y=column, title=title, language=language, buddhist_era=buddhist_era,
            currency=currency if unit == "money" else None, percent=unit == "ratio", ax=ax,
        )  # fmt: skip
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(present) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def spend_vs_new_customers(
    trends: pd.DataFrame,
    *,
    currency: str,
    language: str | None = None,
    buddhist_era: bool = False,
    ax: Axes | None = None,
) -> Axes | None:
    """Monthly new customers (bars) against marketing spend (line, right axis).

    Parameters
    ----------
    trends
        :func:`analysis.kpis.monthly_trends`: ``month, new_customers`` and
        ``spend`` (store currency; only when the store has ``marketing_spend``).
    currency
        Currency of the spend axis.
    language
        Language of the month labels; None: the report's current language.
    ax
        Axes of the bars (a new figure when None); the spend line gets a twin axis.

    Returns
    -------
    matplotlib.axes.Axes or None
        The bars' axes; None (nothing drawn) without a ``spend`` column.
    """
    if "spend" not in trends.columns:
        return None
    if ax is None:
        _fig, ax = plt.subplots(figsize=(10, 4))
    labels = month_labels(list(trends["month"]), language, buddhist_era)
    ax.bar(
        labels,
        trends["new_customers"],
        color=sns.color_palette(PALETTE, 3)[0],
        label=_("new customers"),
    )
    ax.set_ylabel(_("new customers"))
    number_axis(ax)
    ax.tick_params(axis="x", rotation=45)
    right = ax.twinx()
    right.plot(labels, trends["spend"], color=ACCENT, marker="o", label=_("marketing spend"))
    right.grid(False)
    money_axis(right, currency)
    right.set_ylabel(_("marketing spend"))
    ax.set_title(_("New customers and marketing spend"))
    fig = ax.get_figure(root=True)
    assert fig is not None  # an Axes always belongs to a figure
    fig.legend(loc="upper left", bbox_to_anchor=(0.08, 0.88), frameon=False)
    fig.tight_layout()
    return ax


def repeat_ladder_chart(ladder: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of P(order k+1 | k orders) for k = 1..n (``kpis.repeat_ladder`` output).

    Titles and axis labels in the report's current language.
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 3.5))
    frame = ladder.assign(
        step=[f"{k} → {k + 1}" for k in ladder["k"]], p=ladder["probability"].astype(float)
    )
    sns.barplot(data=frame, x="step", y="p", color=ACCENT, ax=ax)
    bars = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
    for bar, value in zip(bars, frame["p"], strict=False):
        if pd.notna(value):
            ax.annotate(format_percent(value, 0),
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=9)  # fmt: skip
    percent_axis(ax)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(_("orders"))
    ax.set_ylabel(_("chance of one more order"))
    ax.set_title(_("Repeat ladder: P(order k+1 | k orders)"))
    return ax


def retention_curves(
    retention: pd.DataFrame,
    size: pd.Series,
    *,
    n: int = 6,
    title: str,
    xlabel: str,
    ylabel: str,
    average_label: str,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Retention curves of the last ``n`` cohorts (k >= 1 observed) against the pooled average.

    The average at each k pools every cohort observed at k, weighted by cohort size.
    ``title``, ``xlabel``, ``ylabel`` and ``average_label`` (the average's legend
    entry) are words from the caller; ``labels`` name the cohorts (data).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    pooled = (
        retention.mul(size, axis=0).sum(min_count=1) / retention.notna().mul(size, axis=0).sum()
    )
    recent = (
        retention[retention[1].notna()].tail(n) if 1 in retention.columns else retention.tail(0)
    )
    names = list(labels) if labels is not None else [str(i) for i in retention.index]
    lookup = dict(zip(retention.index, names, strict=True))
    palette = sns.color_palette(PALETTE, max(len(recent), 1))
    for color, (cohort, row) in zip(palette, recent.iterrows(), strict=False):
        ax.plot(
            row.index,
            row.to_numpy(dtype=float),
            marker=".",
            color=color,
            alpha=0.9,
            label=chart_text(lookup[cohort]),
        )
    ax.plot(
        pooled.index,
        pooled.to_numpy(dtype=float),
        color="black",
        linewidth=2.5,
        label=chart_text(average_label),
    )
    percent_axis(ax)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, ncol=2)
    return ax


def cohort_lines(
    matrix: pd.DataFrame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    currency: str | None = None,
    percent: bool = False,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One line per row of a (cohort or segment) × k matrix, e.g. cumulative revenue per customer.

    ``title`` and the axis labels are words from the caller; ``labels`` name
    the rows (default: the index); ``currency`` or ``percent`` format the y axis.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    names = list(labels) if labels is not None else [str(i) for i in matrix.index]
    palette = sns.color_palette(PALETTE, max(len(matrix), 1))
    for color, name, (_, row) in zip(palette, names, matrix.iterrows(), strict=False):
        ax.plot(
            row.index, row.to_numpy(dtype=float), marker=".", color=color, label=chart_text(name)
        )
    if currency:
        money_axis(ax, currency)
    elif percent:
        percent_axis(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, ncol=2)
    return ax


def second_order_chart(
    shares: Sequence[float],
    buckets: Sequence[str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    ax: Axes | None = None,
) -> Axes:
    """Bars of the share of repeat customers per time-to-second-order bucket.

    ``shares`` (0–1) and ``buckets`` (their names) come from
    ``cohorts.second_order_gaps`` and ``narrative.cohorts.gap_labels``; the
    words are the caller's.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    frame = pd.DataFrame({"bucket": list(buckets), "share": list(shares)})
    sns.barplot(data=frame, x="bucket", y="share", color=ACCENT, ax=ax)
    percent_axis(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    return ax
