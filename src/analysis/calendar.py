"""The store's calendar: months, local days and weeks, and their indexes, in one place.

Every piece of month arithmetic in the package lives here: parsing a report
month (``"YYYY-MM"``), its bounds as UTC instants in the store's zone, moving
by whole months, the last day of a month, local dates of instants, and the
integer indexes of local days, weeks and months.

One epoch
---------
Every index counts from :data:`EPOCH`, **Monday 1 January of year 1**
(proleptic Gregorian; ``datetime.date.min``):

- day index: days since the epoch (``date.toordinal() - 1``);
- week index: ISO weeks (Monday to Sunday) since the epoch, ``day index // 7``
  (the epoch is a Monday, so ``// 7`` cuts at Mondays);
- month index: calendar months since January of year 1,
  ``(year - 1) * 12 + month - 1``.

Every date Python and the engines hold lies after the epoch, so every index is
non-negative and truncating division (SQL) equals floor division (Python).
The difference of two indexes of one grain is the number of days, weeks or
months between them.

Local time
----------
Instants are timezone-aware (stored in UTC). A local calendar period of the
store starts at local midnight of its first day; when a daylight-saving jump
skips that midnight, the period starts at the jump (``fold=0``).
:func:`local_time` and :func:`local_month` are narwhals expressions that need
the engine session's zone to be the store's (``StoreWarehouse`` sets it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args
from zoneinfo import ZoneInfo

import narwhals as nw
import numpy as np
import pandas as pd

from analysis.errors import DataError

__all__ = [
    "EPOCH",
    "EPOCH_DATETIME",
    "UNIX_EPOCH_DAY",
    "US_PER_DAY",
    "Grain",
    "GRAINS",
    "ReportPeriod",
    "parse_month",
    "format_month",
    "shift_month",
    "shift_date",
    "month_dates",
    "month_last_day",
    "month_bounds",
    "last_complete_month",
    "report_periods",
    "local_midnight",
    "local_date",
    "day_index",
    "week_index",
    "month_index",
    "index_of",
    "index_of_instant",
    "period_start",
    "period_starts",
    "period_start_instant",
    "local_time",
    "local_month",
    "day_index_expr",
    "wall_clock_literal",
    "index_expr",
    "period_index",
]

EPOCH = dt.date(1, 1, 1)
"""Day 0, week 0 and (its month) month 0 of every index: Monday 1 January of year 1."""
EPOCH_DATETIME = dt.datetime(1, 1, 1)
""":data:`EPOCH` at midnight (naive: a wall-clock time in any zone)."""
UNIX_EPOCH_DAY = (dt.date(1970, 1, 1) - EPOCH).days
"""Day index of 1970-01-01 (719,162): converts Unix days or microseconds to the epoch's."""
US_PER_DAY = 86_400_000_000
"""Microseconds in a day (of wall-clock time: local days are counted without DST)."""

Grain = Literal["month", "week"]
"""Grain of a local period index: calendar months or ISO weeks (Monday first)."""
GRAINS: tuple[str, ...] = get_args(Grain)


# --------------------------------------------------------------------------- months


def parse_month(month: str) -> dt.date:
    """First day of a month written ``YYYY-MM``: ``"2026-10"`` → ``date(2026, 10, 1)``.

    Raises
    ------
    DataError
        Anything else (``"2026-13"``, ``"2026-1-1"``, ``None``).
    """
    try:
        return dt.datetime.strptime(month, "%Y-%m").date()
    except (TypeError, ValueError):
        raise DataError(f"invalid month {month!r}", hint="use YYYY-MM, e.g. 2026-10") from None


def format_month(day: dt.date) -> str:
    """The month of ``day`` as ``YYYY-MM`` (the inverse of :func:`parse_month`)."""
    return f"{day.year:04d}-{day.month:02d}"


def _first_of(index: int) -> dt.date:
    """First day of the month with this month index."""
    year, month = divmod(index, 12)
    return dt.date(year + 1, month + 1, 1)


def shift_month(month: str, months: int) -> str:
    """The month ``months`` calendar months after ``month`` (before, when negative), ``YYYY-MM``.

    ``shift_month("2026-01", -1) == "2025-12"``.
    """
    return format_month(_first_of(month_index(parse_month(month)) + months))


def shift_date(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, its day clamped to the new month's length.

    ``shift_date(date(2026, 3, 31), -1) == date(2026, 2, 28)``.
    """
    first = _first_of(month_index(day) + months)
    return first.replace(day=min(day.day, _last_day(first).day))


def _last_day(first: dt.date) -> dt.date:
    """Last day of the month that starts on ``first``."""
    return _first_of(month_index(first) + 1) - dt.timedelta(days=1)


def month_dates(month: str) -> tuple[dt.date, dt.date]:
    """First day of ``month`` and first day of the month after (end exclusive), local dates."""
    first = parse_month(month)
    return first, _first_of(month_index(first) + 1)


def month_last_day(month: str) -> dt.date:
    """Last day of ``month`` (``YYYY-MM``): ``month_last_day("2024-02") == date(2024, 2, 29)``."""
    return _last_day(parse_month(month))


def month_bounds(month: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants of the start (inclusive) and end (exclusive) of a local calendar month.

    Parameters
    ----------
    month
        ``YYYY-MM``.
    timezone
        IANA zone of the store.
    """
    first, end = month_dates(month)
    return local_midnight(first, timezone), local_midnight(end, timezone)


def last_complete_month(last_day: dt.date) -> str:
    """Latest month (``YYYY-MM``) that data reaching local day ``last_day`` covers to its end.

    The month of ``last_day`` when it is that month's last day, else the month before.
    """
    month = format_month(last_day)
    return month if last_day == month_last_day(month) else shift_month(month, -1)


@dataclass(frozen=True)
class ReportPeriod:
    """One local calendar month the report compares, as UTC instants.

    Attributes
    ----------
    label
        ``"current"`` (the report month), ``"previous"`` or ``"year_ago"``.
    month
        ``YYYY-MM``.
    start, end
        UTC instants, start inclusive, end exclusive (:func:`month_bounds`).
    """

    label: str
    month: str
    start: dt.datetime
    end: dt.datetime


def report_periods(month: str, timezone: str) -> tuple[ReportPeriod, ReportPeriod, ReportPeriod]:
    """The report month, the month before and the same month a year earlier."""
    current, previous, year_ago = (
        ReportPeriod(label, m, *month_bounds(m, timezone))
        for label, m in (
            ("current", month),
            ("previous", shift_month(month, -1)),
            ("year_ago", shift_month(month, -12)),
        )
    )
    return current, previous, year_ago


# --------------------------------------------------------------------------- local days


def local_midnight(day: dt.date, timezone: str) -> dt.datetime:
    """UTC instant at which local ``day`` starts in ``timezone``.

    A midnight skipped by a daylight-saving jump maps to the jump itself (``fold=0``).
    """
    return dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(dt.UTC)


def local_date(instant: dt.datetime, timezone: str) -> dt.date:
    """Local calendar date of a timezone-aware instant in ``timezone``."""
    if instant.tzinfo is None:
        raise DataError(f"naive datetime {instant} where an instant is needed: add a time zone")
    return instant.astimezone(ZoneInfo(timezone)).date()


# --------------------------------------------------------------------------- indexes


def _as_date(day: dt.date | dt.datetime | pd.Timestamp) -> dt.date:
    """The (wall-clock) calendar date of a date, naive datetime or Timestamp."""
    return day.date() if isinstance(day, dt.datetime) else day


def day_index(day: dt.date | dt.datetime | pd.Timestamp) -> int:
    """Days from :data:`EPOCH` to the (wall-clock) date of ``day``."""
    return _as_date(day).toordinal() - 1


def week_index(day: dt.date | dt.datetime | pd.Timestamp) -> int:
    """ISO weeks (Monday first) from :data:`EPOCH` to the week holding ``day``."""
    return day_index(day) // 7


def month_index(day: dt.date | dt.datetime | pd.Timestamp) -> int:
    """Calendar months from January of year 1 to the month holding ``day``."""
    return (day.year - 1) * 12 + day.month - 1


def index_of(day: dt.date | dt.datetime | pd.Timestamp, grain: Grain) -> int:
    """Index of the local period (``grain``) holding a wall-clock date or time."""
    return month_index(day) if grain == "month" else week_index(day)


def index_of_instant(when: dt.datetime, timezone: str, grain: Grain) -> int:
    """Index of the local period (``grain``, in ``timezone``) holding a timezone-aware instant."""
    return index_of(when.astimezone(ZoneInfo(timezone)).replace(tzinfo=None), grain)


def period_start(index: int, grain: Grain) -> dt.date:
    """First local day of the period with this index."""
    if grain == "month":
        return _first_of(index)
    return EPOCH + dt.timedelta(days=7 * index)


def period_starts(
    indexes: pd.Series | np.ndarray | Sequence[int], grain: Grain
) -> pd.DatetimeIndex:
    """Vectorised :func:`period_start`: first local days (naive midnights) of many periods."""
    values = np.asarray(indexes, dtype="int64")
    if grain == "month":
        return pd.DatetimeIndex(
            pd.to_datetime({"year": values // 12 + 1, "month": values % 12 + 1, "day": 1})
        )
    # pandas' Timestamp cannot hold year 1: count from 1970-01-01 instead.
    return pd.DatetimeIndex(pd.to_datetime(values * 7 - UNIX_EPOCH_DAY, unit="D"))


def period_start_instant(index: int, timezone: str, grain: Grain) -> dt.datetime:
    """UTC instant at which local period ``index`` starts (see :func:`local_midnight`)."""
    return local_midnight(period_start(index, grain), timezone)


# --------------------------------------------------------------------------- expressions


def local_time(column: str, timezone: str) -> nw.Expr:
    """Expression: a timezone-aware column as naive wall-clock time in ``timezone``.

    Needs the engine session's zone to be ``timezone`` (narwhals checks it);
    :class:`~analysis.warehouse.StoreWarehouse` sets it.
    """
    return nw.col(column).dt.convert_time_zone(timezone).dt.replace_time_zone(None)


def wall_clock_literal(at: dt.datetime) -> nw.Expr:
    """Expression: a naive (wall-clock) datetime literal, to compare with :func:`local_time`.

    Spelled as text cast to a naive datetime: PySpark reads a naive Python
    datetime in the Python process's own zone, so ``nw.lit(at)`` would be off
    by that zone's offset from the store's.
    """
    if at.tzinfo is not None:
        raise ValueError(f"wall-clock literal must be naive, got {at!r}")
    return nw.lit(at.isoformat(sep=" ")).cast(nw.Datetime("us"))


def local_month(column: str, timezone: str) -> nw.Expr:
    """Expression: first day (naive datetime) of the local calendar month of ``column``.

    The cast keeps it naive on Spark, whose ``date_trunc`` returns a zoned
    timestamp even for a naive input (a no-op on DuckDB).
    """
    return local_time(column, timezone).dt.truncate("1mo").cast(nw.Datetime("us"))


def day_index_expr(local: nw.Expr) -> nw.Expr:
    """Expression: :func:`day_index` of a naive (wall-clock) datetime expression.

    Counted from the year and the day of the year (proleptic Gregorian leap
    rules), integers only: a difference of two datetimes is a duration, which
    Spark cannot turn into a number.
    """
    years = local.dt.year().cast(nw.Int64) - 1
    leap_days = years // 4 - years // 100 + years // 400
    return years * 365 + leap_days + local.dt.ordinal_day().cast(nw.Int64) - 1


def index_expr(local: nw.Expr, grain: Grain) -> nw.Expr:
    """Expression: :func:`index_of` of a naive (wall-clock) date/datetime expression (Int64)."""
    if grain == "month":
        return (local.dt.year().cast(nw.Int64) - 1) * 12 + local.dt.month().cast(nw.Int64) - 1
    return (day_index_expr(local) // 7).cast(nw.Int64)


def _search(starts: list[tuple[int, dt.datetime]], below: int, column: str) -> nw.Expr:
    """Nested CASE: index of the last period in ``starts`` that began at or before ``column``."""
    if not starts:
        return nw.lit(below)
    mid = len(starts) // 2
    index, start = starts[mid]
    return (
        nw.when(nw.col(column) < nw.lit(start))
        .then(_search(starts[:mid], below, column))
        .otherwise(_search(starts[mid + 1 :], index, column))
    )


def period_index(
    column: str,
    timezone: str,
    grain: Grain = "month",
    span: tuple[dt.datetime, dt.datetime] | None = None,
) -> nw.Expr:
    """Expression: index of the local period (``grain``) of a timezone-aware column (Int64).

    Parameters
    ----------
    column
        Timezone-aware column.
    timezone
        Store zone (the engine session must be in it).
    grain
        ``"month"`` or ``"week"``.
    span
        Optional first and last instant (timezone-aware) of the column's
        values. Inside it, the index comes from comparing each instant with
        the UTC instants at which the local periods begin (a binary search
        written as nested CASE, about log2(periods) comparisons a row, 5x
        cheaper on DuckDB than converting every value to local time); values
        outside it (and without ``span``, all values) are converted.
    """
    converted = index_expr(local_time(column, timezone), grain)
    if span is None or span[0] is None or span[1] is None:
        return converted
    first, last = span
    low, high = (index_of_instant(x, timezone, grain) for x in (first, last))
    if high - low > 4000:  # a century of weeks: keep the SQL small
        return converted
    starts = [(i, period_start_instant(i, timezone, grain)) for i in range(low + 1, high + 1)]
    inside = (nw.col(column) >= nw.lit(first.astimezone(dt.UTC))) & (
        nw.col(column) <= nw.lit(last.astimezone(dt.UTC))
    )
    return nw.when(inside).then(_search(starts, low, column)).otherwise(converted).cast(nw.Int64)
