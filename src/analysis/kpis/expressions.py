"""Small engine expressions and pandas helpers shared by the KPI modules.

Time ranges (``start`` inclusive, ``end`` exclusive), period labels for a
``group_by``, and ratios that are None (not 0) when there is nothing to divide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import narwhals as nw
import pandas as pd

from analysis.calendar import ReportPeriod, month_dates

__all__ = [
    "any_of",
    "clean_number",
    "date_period_label",
    "difference",
    "period_label",
    "ratio",
    "relative_change",
    "within",
    "within_any",
]


def within(col: str, start: dt.datetime, end: dt.datetime) -> nw.Expr:
    """``start <= col < end``."""
    return (nw.col(col) >= start) & (nw.col(col) < end)


def any_of(conditions: Sequence[nw.Expr]) -> nw.Expr:
    """The OR of one or more boolean expressions."""
    out = conditions[0]
    for c in conditions[1:]:
        out = out | c
    return out


def within_any(col: str, periods: Sequence[ReportPeriod]) -> nw.Expr:
    """``col`` falls in one of the periods (the periods need not be adjacent)."""
    return any_of([within(col, p.start, p.end) for p in periods])


def period_label(col: str, periods: Sequence[ReportPeriod]) -> nw.Expr:
    """The label of the period an instant column falls in (``"current"``, ...), else null."""
    label = None
    for p in periods:
        cond = within(col, p.start, p.end)
        label = (
            nw.when(cond).then(nw.lit(p.label))
            if label is None
            else label.when(cond).then(nw.lit(p.label))
        )
    return label.otherwise(nw.lit(None))  # type: ignore[union-attr]  # label is not None after the loop: periods is never empty


def date_period_label(periods: Sequence[ReportPeriod]) -> nw.Expr:
    """The label of the period a local ``date`` column falls in (its month's dates), else null."""
    label = None
    for p in periods:
        first, nxt = month_dates(p.month)
        cond = (nw.col("date") >= first) & (nw.col("date") < nxt)
        label = (
            nw.when(cond).then(nw.lit(p.label))
            if label is None
            else label.when(cond).then(nw.lit(p.label))
        )
    return label.otherwise(nw.lit(None))  # type: ignore[union-attr]  # label is not None after the loop: periods is never empty


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den with None where den is 0 (a ratio of nothing is not 0)."""
    num, den = num.astype("float64"), den.astype("float64")
    return (num / den).where(den > 0).astype(object).where(den > 0, None)


def clean_number(value: object) -> float | None:
    """A cell as a float, or None for None, NaN and anything that is not a number."""
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if pd.isna(number) else number


def difference(a: float | None, b: float | None) -> float | None:
    """``a − b`` in the values' unit, or None when either is missing."""
    return None if a is None or b is None else a - b


def relative_change(a: float | None, b: float | None) -> float | None:
    """``(a − b) ÷ |b|`` (0.12 = +12 %), or None when either is missing or ``b`` is 0."""
    return None if a is None or b is None or b == 0 else (a - b) / abs(b)
