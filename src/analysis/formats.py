"""Numbers, money, changes and months as a reader of the report reads them, in its language.

One place for every format the pages, tables, charts and findings use.
Locale data (month names, the digit-grouping and decimal symbols) comes from
Babel; words (``days``, ``pp``, ``points``, the K/M/B of compact money) come
from the message catalogue (:mod:`analysis.i18n`), so a Thai report reads
``฿1.2 ล้าน`` and ``ต.ค. 2569`` where an English one reads ``฿1.2M`` and
``Oct 2026``. Rounding is Python's (``format(value, ",.1f")``), the same in
every language, so a figure never differs between the two reports.

Missing values (None, NaN) read ``–`` everywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Literal

import pandas as pd
from babel import Locale
from babel.dates import get_month_names

from analysis.i18n import _, current_language, ngettext, pgettext

__all__ = [
    "CURRENCY_SYMBOLS",
    "MISSING",
    "currency_symbol",
    "exact_decimals",
    "format_change",
    "format_compact_money",
    "format_count",
    "format_days",
    "format_metric",
    "format_money",
    "format_number",
    "format_pct_change",
    "format_percent",
    "format_points_change",
    "format_pp_change",
    "money_scale",
    "money_text",
    "month_label",
    "month_labels",
    "year_label",
]

MISSING = "–"
"""What a missing value reads (an en dash)."""

BUDDHIST_ERA_OFFSET = 543
"""B.E. year = C.E. year + 543."""

CURRENCY_SYMBOLS = {"THB": "฿", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "SGD": "S$"}
"""The symbol readers of a store in that currency's country write; other codes read ``XYZ 12``."""

MonthWidth = Literal["abbreviated", "wide"]


def _missing(value: object) -> bool:
    # pd.isna takes any scalar (NaN, NaT, pd.NA); its stubs want one of pandas' scalar types
    return value is None or bool(pd.isna(value))  # type: ignore[call-overload]


@functools.cache
def _symbols(language: str) -> tuple[str, str]:
    """(group, decimal) symbols of ``language``'s Latin-digit number system, from Babel."""
    locale = Locale.parse(language)
    symbols = locale.number_symbols["latn"]
    return symbols["group"], symbols["decimal"]


def _localised(text: str) -> str:
    """A number written by Python (``1,234.5``) with the current language's symbols."""
    group, decimal = _symbols(current_language())
    if (group, decimal) == (",", "."):
        return text
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


def format_number(value: float | None, decimals: int = 2) -> str:
    """``1234.5`` → ``"1,234.50"``: digit grouping, ``decimals`` places."""
    if _missing(value):
        return MISSING
    return _localised(f"{value:,.{decimals}f}")


def format_count(value: float | None) -> str:
    """A count with digit grouping: ``"12,345"``."""
    return format_number(value, 0)


def format_percent(value: float | None, decimals: int = 1) -> str:
    """A share 0–1 as a percentage: ``0.123`` → ``"12.3%"``."""
    if _missing(value):
        return MISSING
    return _localised(f"{value:.{decimals}%}")


def format_days(value: float | None, decimals: int = 1) -> str:
    """A duration in days: ``"4.5 days"`` (``"4.5 วัน"``)."""
    if _missing(value):
        return MISSING
    return _("{value} days").format(value=_localised(f"{value:,.{decimals}f}"))


def currency_symbol(currency: str) -> str:
    """``"THB"`` → ``"฿"``; a code without a symbol here reads ``"XYZ "`` (code and a space)."""
    return CURRENCY_SYMBOLS.get(currency, f"{currency} ")


def money_scale(magnitude: float) -> tuple[float, str]:
    """The unit of compact money for a magnitude: ``(1e6, "M")``, ``(1e3, "K")``, ``(1.0, "")``."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= size:
            return size, suffix
    return 1.0, ""


def _scaled_amount(amount: str, suffix: str) -> str:
    if suffix == "K":
        return pgettext("compact money", "{amount}K").format(amount=amount)
    if suffix == "M":
        return pgettext("compact money", "{amount}M").format(amount=amount)
    if suffix == "B":
        return pgettext("compact money", "{amount}B").format(amount=amount)
    return amount


def money_text(scaled: float, symbol: str, suffix: str, decimals: int) -> str:
    """``-`` + symbol + ``scaled`` with ``decimals`` places + the K/M/B word; zero is ``฿0``."""
    text = f"{abs(scaled):,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return f"{symbol}0"  # no sign, suffix or decimals on nothing
    amount = _scaled_amount(_localised(text), suffix)
    return f"{'-' if scaled < 0 else ''}{symbol}{amount}"


def format_money(value: float | None, currency: str = "THB", *, decimals: int = 0) -> str:
    """``1234567.8`` → ``"฿1,234,568"``; large values keep digit grouping, never exponents."""
    if _missing(value):
        return MISSING
    return money_text(float(value), currency_symbol(currency), "", decimals)  # type: ignore[arg-type]


def exact_decimals(values: Sequence[float], limit: int = 6) -> int:
    """Fewest decimals (0..limit) at which every value is shown exactly (to 1e-9 relative).

    Tick values from matplotlib's locators are round numbers (0.025, 2.5, 1500),
    so this never rounds a tick to a neighbour's label. When no precision up to
    ``limit`` is exact, the fewest decimals that keep the labels distinct.
    """
    finite = [float(v) for v in values if v is not None and pd.notna(v)]
    for d in range(limit + 1):
        if all(abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in finite):
            return d
    for d in range(limit + 1):
        if len({round(v, d) for v in finite}) == len(set(finite)):
            return d
    return limit


def format_compact_money(
    value: float | None, currency: str = "THB", *, decimals: int | None = None
) -> str:
    """Axis-friendly money: ``฿1.2M``, ``฿350K``, ``฿900``, ``฿0.25``.

    The suffix (K, M, B) follows the size of ``value``; ``decimals`` after it
    defaults to the fewest (at most 2) that show the value exactly, so that
    ``0.25`` never reads ``฿0``. Axes use :func:`analysis.plots.money_axis`,
    which picks one suffix and one precision for all their ticks.
    """
    if _missing(value):
        return MISSING
    size, suffix = money_scale(abs(float(value)))  # type: ignore[arg-type]
    scaled = float(value) / size  # type: ignore[arg-type]
    if decimals is None:
        decimals = exact_decimals([scaled], limit=2)
    return money_text(scaled, currency_symbol(currency), suffix, decimals)


def _signed(value: float, decimals: int) -> str | None:
    """``+2.1`` at ``decimals``; None when the value rounds to 0 (shown without a sign)."""
    text = f"{abs(value):,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return None
    return f"{'+' if value > 0 else '-'}{_localised(text)}"


def format_metric(value: float | None, unit: str, currency: str = "THB") -> str:
    """A metric value as people read it, by unit.

    ``money`` → ``฿1,234``; ``count`` → ``1,234``; ``ratio`` → ``12.3%``;
    ``points`` → ``+26``; ``days`` → ``4.5 days``; ``number`` → ``1.85``;
    None → ``–``.
    """
    if _missing(value):
        return MISSING
    number = float(value)  # type: ignore[arg-type]
    if unit == "money":
        return format_money(number, currency, decimals=0 if abs(number) >= 100 else 2)
    if unit == "count":
        return format_count(number)
    if unit == "ratio":
        return format_percent(number, 2 if abs(number) < 0.1 else 1)
    if unit == "points":
        return _signed(number, 0) or "0"
    if unit == "days":
        return format_days(number)
    return format_number(number, 2)


def format_pct_change(pct: float | None, decimals: int = 1) -> str:
    """A relative change (0.12 = +12 %) with a sign only when it is not 0 at the shown precision.

    ``0.0004`` → ``0%``; ``-1.0`` → ``-100.0%`` but ``-0.9996`` → ``-99.96%``
    (−100 % only when the value really fell to nothing); None → ``–``.
    """
    if _missing(pct):
        return MISSING
    share = float(pct)  # type: ignore[arg-type]
    for d in range(decimals, decimals + 4):
        signed = _signed(100 * share, d)
        text = f"{signed}%" if signed else "0%"
        if share == -1 or text != _localised(f"-{100:.{d}f}%"):
            return text
    return _localised("-99.99%")


def format_pp_change(change: float | None, decimals: int = 1) -> str:
    """A difference of two rates (shares 0–1) in percentage points: ``+2.1 pp``, ``0 pp``."""
    if _missing(change):
        return MISSING
    signed = _signed(100 * float(change), decimals)  # type: ignore[arg-type]
    return _("{value} pp").format(value=signed or "0")


def format_points_change(change: float | None) -> str:
    """A change of a points metric (NPS): ``+1 point``, ``-12 points``, ``0 points``."""
    if _missing(change):
        return MISSING
    rounded = round(float(change))  # type: ignore[arg-type]
    size = abs(rounded)
    text = ngettext("{n} point", "{n} points", size).format(n=format_count(size))
    if rounded == 0:
        return text
    return ("+" if rounded > 0 else "-") + text


def format_change(pct: float | None, change: float | None, unit: str) -> str:
    """A change as people read it: ratios in percentage points, points in points, others in %.

    Signs only when the change is not 0 at the shown precision (``0 pp``,
    ``0%``, ``0 points``); ``–`` when there is nothing to compare with.
    """
    if unit == "ratio":
        return format_pp_change(change, decimals=2)
    if unit == "points":
        return format_points_change(change)
    return format_pct_change(pct)


def year_label(year: int, buddhist_era: bool = False) -> str:
    """A year as the reader counts it: ``2026``, or ``2569`` in the Buddhist Era."""
    return str(year + (BUDDHIST_ERA_OFFSET if buddhist_era else 0))


def month_label(
    month: dt.date | pd.Timestamp | str,
    language: str | None = None,
    buddhist_era: bool = False,
    *,
    width: MonthWidth = "abbreviated",
) -> str:
    """``2026-10`` → ``"Oct 2026"``, or ``"ต.ค. 2569"`` in Thai with the Buddhist Era.

    ``language`` None is the current report language; ``width="wide"`` gives
    ``"October 2026"`` / ``"ตุลาคม 2569"``. Month names are Babel's (CLDR).
    """
    ts = pd.Timestamp(month)
    names = get_month_names(width, locale=language or current_language())
    return f"{names[ts.month]} {year_label(ts.year, buddhist_era)}"


def month_labels(
    months: Sequence[object], language: str | None = None, buddhist_era: bool = False
) -> list[str]:
    """:func:`month_label` of each month."""
    return [month_label(m, language, buddhist_era) for m in months]  # type: ignore[arg-type]
