"""The simulated history: local days, their midnights in UTC and their acquisition weights."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from analysis.calendar import format_month, local_midnight, month_last_day, shift_date
from analysis.demo.draws import US_PER_HOUR, pick
from analysis.demo.spec import HOUR_PROFILE, SALE_DAY_MULTIPLIERS, TIMEZONE


def local_midnight_us(day: dt.date) -> int:
    """UTC instant (microseconds since the Unix epoch) at which the store's local ``day`` starts."""
    return int(local_midnight(day, TIMEZONE).timestamp()) * 1_000_000


@dataclass
class Timeline:
    """The local days of a store's history (Asia/Bangkok), ``start`` to ``end`` exclusive.

    Attributes
    ----------
    start, end
        First local day of the history and the first local day after it.
    start_us, end_us
        Their local midnights, microseconds since the epoch (UTC).
    day_start_us
        D + 1 local-midnight instants, microseconds (the last is ``end_us``).
    dates
        The D local dates, ``datetime64[D]``.
    weights
        Acquisition intensity per day (unnormalised): growth trend times sale-day multipliers.
    """

    start: dt.date
    end: dt.date
    start_us: int
    end_us: int
    day_start_us: np.ndarray
    dates: np.ndarray
    weights: np.ndarray

    @property
    def days(self) -> int:
        """Number of local days D."""
        return len(self.dates)

    def day_of(self, us: np.ndarray) -> np.ndarray:
        """Index of the local date of each instant (microseconds)."""
        return np.searchsorted(self.day_start_us, us, side="right") - 1

    def time_in_day(self, rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
        """Instants (microseconds) on the given local days with the hour-of-day profile."""
        hours = pick(rng, HOUR_PROFILE, len(day)).astype(np.int64)
        within = (rng.random(len(day)) * US_PER_HOUR).astype(np.int64)
        t = self.day_start_us[day] + hours * US_PER_HOUR + within
        return np.minimum(t, self.day_start_us[day + 1] - 1)


def timeline(end: dt.date, months: int, growth: float) -> Timeline:
    """The ``months`` calendar months before ``end`` with log-linear growth ``growth`` a year."""
    start = shift_date(end, -months)
    n = (end - start).days
    day_start = np.array(
        [local_midnight_us(start + dt.timedelta(days=i)) for i in range(n + 1)], dtype=np.int64
    )
    dates = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    days = [start + dt.timedelta(days=i) for i in range(n)]
    dom = np.array([d.day for d in days], dtype=np.int64)
    mon = np.array([d.month for d in days], dtype=np.int64)
    month_len = np.array([month_last_day(format_month(d)).day for d in days], dtype=np.int64)
    weekday = np.array([d.weekday() for d in days], dtype=np.int64)  # Monday = 0
    m = SALE_DAY_MULTIPLIERS
    sale = np.ones(n)
    sale = np.where(dom == 15, m["mid_month"], sale)
    sale = np.where(dom >= month_len - 1, np.maximum(sale, m["payday"]), sale)
    sale = np.where(dom == mon, np.maximum(sale, m["double_day"]), sale)
    sale = np.where((dom == 11) & (mon == 11), m["11.11"], sale)
    sale = np.where((dom == 12) & (mon == 12), m["12.12"], sale)
    sale = sale * np.where(weekday >= 5, m["weekend"], 1.0)
    trend = np.exp(growth * np.arange(n) / 365.25)
    return Timeline(
        start, end, int(day_start[0]), int(day_start[-1]), day_start, dates, trend * sale
    )
