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
from matplotlib.ticker import Formatter, LogFormatter
from pandas.io.formats.style import Styler

from analysis.formats import (
    currency_symbol,
    exact_decimals,
    format_change,
    format_compact_money,
    format_metric,
    format_money,
    format_pct_change,  # noqa: F401 - callers move to analysis.formats (#15)
    format_pp_change,
    money_scale,
    money_text,
    month_label,  # noqa: F401 - callers move to analysis.formats (#15)
    month_labels,
)

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
        render = fmt.format if isinstance(fmt, str) else fmt
        styler = styler.format(
            lambda v, render=render: html.escape(str(render(v))), subset=[column], na_rep=na_rep
        )
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
        Format the y axis as a percentage (values are shares 0–1); otherwise
        plain numbers (:func:`number_axis`).

    Months whose value is missing (NaN: before the store's data starts) are
    left out of the line (a gap), not drawn as 0.
    """
    if ax is None:
        _, ax = plt.subplots()
    frame = data.sort_values(x)
    # Months without data (NaN) are gaps in the line, never zeros.
    ax.plot(frame[x], frame[y].astype("float64"), marker="o", color=ACCENT)
    ax.set_title(title)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks(frame[x])
    ax.set_xticklabels(month_labels(frame[x], language, buddhist_era), rotation=45, ha="right")
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
    if value == 0 or abs(value) >= 0.095:
        return f"{value:.0%}"
    return f"{value:.1%}"


def retention_heatmap(matrix: pd.DataFrame, *, title: str, ax: Axes | None = None) -> Axes:
    """Triangular cohort heatmap annotated with percentages (:func:`share_label`).

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
    values = shares.astype(float)
    sns.heatmap(
        values, annot=values.map(share_label), fmt="", cmap=PALETTE, vmin=0, vmax=vmax,
        cbar=False, annot_kws={"size": 7}, linewidths=0.5, linecolor="white", ax=ax,
    )  # fmt: skip
    ax.grid(False)
    ax.set_title(title)
    ax.set_xlabel("months since first order")
    ax.set_ylabel("")
    return ax


# --------------------------------------------------------------------------- metric text

THAI_LABELS = {
    "revenue": "ยอดขาย",
    "orders": "คำสั่งซื้อ",
    "aov": "มูลค่าเฉลี่ยต่อคำสั่งซื้อ",
    "active_customers": "ลูกค้าที่ซื้อ",
    "new_customers": "ลูกค้าใหม่",
    "returning_customers": "ลูกค้าเก่าที่กลับมาซื้อ",
    "purchase_frequency": "ความถี่ในการซื้อ",
    "retention_rate": "อัตราการรักษาลูกค้า",
    "churn_rate": "อัตราการสูญเสียลูกค้า",
    "repeat_purchase_rate": "อัตราการซื้อซ้ำ",
    "repeat_revenue_share": "สัดส่วนยอดขายจากการซื้อซ้ำ",
    "hero_multiplier": "ตัวคูณลูกค้าชั้นยอด",
    "conversion_rate": "อัตราการเปลี่ยนผู้เข้าชมเป็นผู้ซื้อ",
    "cart_abandonment_rate": "อัตราการทิ้งตะกร้า",
    "cac": "ต้นทุนการได้ลูกค้าใหม่",
    "ltv_cac": "LTV : CAC",
    "nps": "NPS",
    "csat": "ความพึงพอใจ (CSAT)",
    "discount_order_share": "สัดส่วนคำสั่งซื้อที่ใช้ส่วนลด",
    "cancelled_orders": "คำสั่งซื้อที่ยกเลิก",
    "cancelled_value": "มูลค่าที่ยกเลิก",
    "refunded_orders": "คำสั่งซื้อที่คืนเงิน",
    "refunded_value": "มูลค่าที่คืนเงิน",
    "loyalty_participation": "สัดส่วนสมาชิกสะสมแต้ม",
    "spend": "ค่าการตลาด",
}


def metric_label(key: str, default: str, language: str = "en") -> str:
    """A metric's label in the report language (Thai when ``language == "th"``)."""
    return THAI_LABELS.get(key, default) if language == "th" else default


SCORECARD_COLUMNS = {
    "en": {
        "label": "Metric",
        "current": "This month",
        "previous": "Previous month",
        "vs_previous": "Change",
        "year_ago": "Year ago",
        "vs_year_ago": "Change vs year ago",
    },
    "th": {
        "label": "ตัวชี้วัด",
        "current": "เดือนนี้",
        "previous": "เดือนก่อน",
        "vs_previous": "เปลี่ยนแปลง",
        "year_ago": "ปีก่อน",
        "vs_year_ago": "เทียบปีก่อน",
    },
}


STATUS_TEXT = {
    "en": {"no data": "no data", "not enough history": "not enough history"},
    "th": {"no data": "ไม่มีข้อมูล", "not enough history": "ประวัติข้อมูลยังไม่พอ"},
}
"""What a cell shows instead of a number when its period has no data (see ``kpis.NO_DATA``)."""


def _status(row, period: str, language: str) -> str | None:
    """The no-data text of one period of a scorecard row (namedtuple or Series), or None."""
    name = f"{period}_status"
    status = row.get(name) if isinstance(row, pd.Series) else getattr(row, name, None)
    if not isinstance(status, str):
        return None
    return STATUS_TEXT["th" if language == "th" else "en"].get(status, status)


def scorecard_frame(
    table: pd.DataFrame, currency: str, language: str = "en", columns: dict[str, str] | None = None
) -> pd.DataFrame:
    """A scorecard table (``kpis.Scorecard.table``) as text, ready to display.

    Unavailable metrics read "not available — add <table> to the warehouse"
    (plain text: table cells do not render Markdown). A period that ends
    before the data starts reads "no data" (a retention rate without two full
    windows of history: "not enough history") and the change against it is
    blank.
    """
    heads = columns or SCORECARD_COLUMNS["th" if language == "th" else "en"]
    rows = []
    for row in table.itertuples(index=False):
        label = metric_label(row.metric, row.label, language)
        if not row.available:
            missing = f"not available — add {row.missing_table} to the warehouse"
            rows.append([label, missing, "", "", "", ""])
            continue
        cells = {
            period: _status(row, period, language)
            or format_metric(getattr(row, period), row.unit, currency)
            for period in ("current", "previous", "year_ago")
        }
        # no change against (or from) a period without data: blank, not 0 or -100 %
        changes = {
            period: ""
            if _status(row, "current", language) or _status(row, period, language)
            else format_change(
                getattr(row, f"pct_vs_{period}"), getattr(row, f"change_vs_{period}"), row.unit
            )
            for period in ("previous", "year_ago")
        }
        rows.append(
            [
                label,
                cells["current"],
                cells["previous"],
                changes["previous"],
                cells["year_ago"],
                changes["year_ago"],
            ]
        )
    return pd.DataFrame(rows, columns=list(heads.values()))


def scorecard_value(
    table: pd.DataFrame,
    key: str,
    currency: str = "THB",
    language: str = "en",
    period: str = "current",
) -> str:
    """One scorecard cell as text: the formatted value, or "no data" / "not enough history"."""
    row = table.loc[key]
    return _status(row, period, language) or format_metric(row[period], row["unit"], currency)


def year_on_year_frame(
    yoy: pd.DataFrame, label, period: str = "month", language: str = "en"
) -> pd.DataFrame:
    """The cohort year-on-year table (``cohorts.same_cohorts_a_year_earlier``) ready to display.

    Columns read "Cohort", "Cohort a year earlier" and per period k "Month k",
    "Month k, a year earlier", "Month k change" (percentage points). A year-earlier
    cohort the data does not reach reads "no data" and its change is blank;
    rates show one decimal (``7.2%``), changes a sign only when not 0.0 pp.

    Parameters
    ----------
    label
        Cohort start → the text people read (e.g. ``"Sep 2026"``).
    """
    unit = "Month" if period == "month" else "Week"
    no_data = STATUS_TEXT["th" if language == "th" else "en"]["no data"]
    ks = [int(c[1:]) for c in yoy.columns if c[:1] == "k" and c[1:].isdigit()]

    def rate(v: float) -> str:
        return no_data if v is None or pd.isna(v) else f"{v:.1%}"

    out = pd.DataFrame(
        {
            "Cohort": yoy["cohort"].map(label),
            "Cohort a year earlier": yoy["year_earlier"].map(label),
        }
    )
    for k in ks:
        out[f"{unit} {k}"] = yoy[f"k{k}"].map(rate)
        out[f"{unit} {k}, a year earlier"] = yoy[f"k{k}_year_earlier"].map(rate)
        out[f"{unit} {k} change"] = [
            "" if pd.isna(c) else format_pp_change(c) for c in yoy[f"k{k}_change"]
        ]
    return out


def small_multiples(
    data: pd.DataFrame,
    series: list[tuple[str, str, str]],
    *,
    currency: str,
    language: str = "en",
    buddhist_era: bool = False,
    ncols: int = 3,
):
    """A grid of monthly trend charts, one per ``(column, title, unit)``; missing columns skipped."""
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


def kpi_cards(
    table: pd.DataFrame, keys: Sequence[str], currency: str, language: str = "en"
) -> list[dict]:
    """Executive-summary cards for the given metrics of a scorecard table.

    Each card: ``key, label, value`` (formatted), ``change`` (vs the previous
    month), ``direction`` (``up``/``down``/``flat``) and ``good`` (whether the
    move is welcome; None when the metric has no preferred direction).
    A current value without data reads "no data" or "not enough history"
    (the retention rate) and has no change; so does a card whose previous
    month has no data. Unavailable metrics get no card.
    """
    cards = []
    for key in keys:
        if key not in table.index or not table.loc[key, "available"]:
            continue
        row = table.loc[key]
        status = _status(row, "current", language)
        blank = status is not None or _status(row, "previous", language) is not None
        change = None if blank else row["change_vs_previous"]
        direction = "flat"
        if change is not None and not pd.isna(change) and change != 0:
            direction = "up" if change > 0 else "down"
        better = row["higher_is_better"]
        good = (
            None if better is None or direction == "flat" else (direction == "up") == bool(better)
        )
        cards.append(
            {
                "key": key,
                "label": metric_label(key, row["label"], language),
                "value": status or format_metric(row["current"], row["unit"], currency),
                "change": ""
                if blank
                else format_change(row["pct_vs_previous"], change, row["unit"]),
                "direction": direction,
                "good": good,
            }
        )
    return cards


def not_available(table: str) -> str:
    """The sentence a report shows instead of a metric whose optional table is missing."""
    return f"Not available — add `{table}` to the warehouse (`data/warehouse/{table}/<store>.parquet`)."


def spend_vs_new_customers(
    trends: pd.DataFrame, *, currency: str, language: str = "en", buddhist_era: bool = False
):
    """Monthly new customers (bars) against marketing spend (line, right axis)."""
    fig, ax = plt.subplots(figsize=(10, 4))
    labels = month_labels(trends["month"], language, buddhist_era)
    ax.bar(
        labels,
        trends["new_customers"],
        color=sns.color_palette(PALETTE, 3)[0],
        label="new customers",
    )
    ax.set_ylabel("new customers")
    number_axis(ax)
    ax.tick_params(axis="x", rotation=45)
    right = ax.twinx()
    right.plot(labels, trends["spend"], color=ACCENT, marker="o", label="marketing spend")
    right.grid(False)
    money_axis(right, currency)
    right.set_ylabel("marketing spend")
    ax.set_title("New customers and marketing spend")
    fig.legend(loc="upper left", bbox_to_anchor=(0.08, 0.88), frameon=False)
    fig.tight_layout()
    return fig


def repeat_ladder_chart(ladder: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of P(order k+1 | k orders) for k = 1..n (``kpis.repeat_ladder`` output)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    frame = ladder.assign(
        step=[f"{k} → {k + 1}" for k in ladder["k"]], p=ladder["probability"].astype(float)
    )
    sns.barplot(data=frame, x="step", y="p", color=ACCENT, ax=ax)
    for patch, value in zip(ax.patches, frame["p"], strict=False):
        if pd.notna(value):
            ax.annotate(f"{value:.0%}", (patch.get_x() + patch.get_width() / 2, patch.get_height()),
                        ha="center", va="bottom", fontsize=9)  # fmt: skip
    percent_axis(ax)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("orders")
    ax.set_ylabel("chance of one more order")
    ax.set_title("Repeat ladder: P(order k+1 | k orders)")
    return ax


def retention_curves(
    retention: pd.DataFrame,
    size: pd.Series,
    *,
    n: int = 6,
    title: str,
    labels: Sequence[str] | None = None,
    xlabel: str = "months since first order",
    ax: Axes | None = None,
) -> Axes:
    """Retention curves of the last ``n`` cohorts (k >= 1 observed) against the pooled average.

    The average at each k pools every cohort observed at k, weighted by cohort size.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    pooled = (
        retention.mul(size, axis=0).sum(min_count=1) / retention.notna().mul(size, axis=0).sum()
    )
    recent = (
        retention[retention.get(1).notna()].tail(n) if 1 in retention.columns else retention.tail(0)
    )
    names = list(labels) if labels is not None else [str(i) for i in retention.index]
    lookup = dict(zip(retention.index, names, strict=True))
    palette = sns.color_palette(PALETTE, max(len(recent), 1))
    for color, (cohort, row) in zip(palette, recent.iterrows(), strict=False):
        ax.plot(
            row.index,
            row.values,
            marker=".",
            color=color,
            alpha=0.9,
            label=chart_text(lookup[cohort]),
        )
    ax.plot(
        pooled.index, pooled.values, color="black", linewidth=2.5, label="all cohorts (average)"
    )
    percent_axis(ax)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of the cohort active")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, ncol=2)
    return ax


def cohort_lines(
    matrix: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    currency: str | None = None,
    percent: bool = False,
    labels: Sequence[str] | None = None,
    xlabel: str = "months since first order",
    ax: Axes | None = None,
) -> Axes:
    """One line per row of a (cohort or segment) × k matrix, e.g. cumulative revenue per customer."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4.5))
    names = list(labels) if labels is not None else [str(i) for i in matrix.index]
    palette = sns.color_palette(PALETTE, max(len(matrix), 1))
    for color, name, (_, row) in zip(palette, names, matrix.iterrows(), strict=False):
        ax.plot(row.index, row.values, marker=".", color=color, label=chart_text(name))
    if currency:
        money_axis(ax, currency)
    elif percent:
        percent_axis(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, ncol=2)
    return ax
