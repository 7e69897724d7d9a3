"""The calendar: months, bounds in a zone, shifts, the one epoch's indexes (values pinned by hand)."""

import datetime as dt
from zoneinfo import ZoneInfo

import duckdb
import narwhals as nw
import pandas as pd
import pytest

from analysis import calendar as cal
from analysis.errors import DataError

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- months


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("2026-10", dt.date(2026, 10, 1)),
        ("0001-01", dt.date(1, 1, 1)),
        ("2024-02", dt.date(2024, 2, 1)),
    ],
)
def test_parse_month(text, first):
    assert cal.parse_month(text) == first
    assert cal.format_month(first) == text


@pytest.mark.parametrize(
    "bad", ["2026-13", "2026-00", "2026-1-1", "26-10", "2026/10", "", None, 202610]
)
def test_parse_month_refuses(bad):
    with pytest.raises(DataError, match="invalid month"):
        cal.parse_month(bad)


def test_month_bounds_without_dst():
    # Bangkok is UTC+7 all year: local midnight is 17:00 UTC the day before.
    assert cal.month_bounds("2026-02", "Asia/Bangkok") == (
        utc(2026, 1, 31, 17),
        utc(2026, 2, 28, 17),
    )
    assert cal.month_bounds("2025-12", "Asia/Bangkok") == (
        utc(2025, 11, 30, 17),
        utc(2025, 12, 31, 17),
    )
    assert cal.month_bounds("2026-03", "UTC") == (utc(2026, 3, 1), utc(2026, 4, 1))


def test_month_bounds_across_daylight_saving():
    # London: GMT until 29 March 2026 01:00 UTC, BST (UTC+1) until 25 October 2026 01:00 UTC.
    assert cal.month_bounds("2026-03", "Europe/London") == (utc(2026, 3, 1), utc(2026, 3, 31, 23))
    assert cal.month_bounds("2026-10", "Europe/London") == (utc(2026, 9, 30, 23), utc(2026, 11, 1))
    # Santiago skips local midnight when DST starts (2026-09-06 00:00 → 01:00): the day
    # starts at the jump, 04:00 UTC.
    assert cal.local_midnight(dt.date(2026, 9, 6), "America/Santiago") == utc(2026, 9, 6, 4)


@pytest.mark.parametrize(
    ("month", "months", "want"),
    [
        ("2026-01", -1, "2025-12"),
        ("2026-12", 1, "2027-01"),
        ("2026-10", -12, "2025-10"),
        ("2026-10", -22, "2024-12"),
        ("2026-10", 0, "2026-10"),
        ("1999-12", 25, "2002-01"),
    ],
)
def test_shift_month(month, months, want):
    assert cal.shift_month(month, months) == want


@pytest.mark.parametrize(
    ("day", "months", "want"),
    [
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
        (dt.date(2024, 3, 31), -1, dt.date(2024, 2, 29)),
        (dt.date(2026, 1, 31), 3, dt.date(2026, 4, 30)),
        (dt.date(2026, 11, 15), -36, dt.date(2023, 11, 15)),
        (dt.date(2025, 12, 1), 1, dt.date(2026, 1, 1)),
    ],
)
def test_shift_date_clamps_the_day(day, months, want):
    assert cal.shift_date(day, months) == want


def test_month_days():
    assert cal.month_last_day("2024-02") == dt.date(2024, 2, 29)
    assert cal.month_last_day("2100-02") == dt.date(2100, 2, 28)
    assert cal.month_last_day("2026-12") == dt.date(2026, 12, 31)
    assert cal.month_dates("2026-12") == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))


@pytest.mark.parametrize(
    ("last", "want"),
    [
        (dt.date(2026, 10, 31), "2026-10"),
        (dt.date(2026, 10, 30), "2026-09"),
        (dt.date(2026, 1, 15), "2025-12"),
        (dt.date(2024, 2, 29), "2024-02"),
        (dt.date(2024, 2, 28), "2024-01"),
    ],
)
def test_last_complete_month(last, want):
    assert cal.last_complete_month(last) == want


def test_report_periods():
    current, previous, year_ago = cal.report_periods("2026-01", "Asia/Bangkok")
    assert (current.label, current.month) == ("current", "2026-01")
    assert (previous.label, previous.month) == ("previous", "2025-12")
    assert (year_ago.label, year_ago.month) == ("year_ago", "2025-01")
    assert (previous.start, previous.end) == (utc(2025, 11, 30, 17), utc(2025, 12, 31, 17))
    assert current.start == previous.end


def test_local_date():
    assert cal.local_date(utc(2026, 1, 31, 17, 30), "Asia/Bangkok") == dt.date(2026, 2, 1)
    assert cal.local_date(utc(2026, 1, 31, 16, 30), "Asia/Bangkok") == dt.date(2026, 1, 31)
    with pytest.raises(DataError, match="naive"):
        cal.local_date(dt.datetime(2026, 1, 1), "UTC")


# --------------------------------------------------------------------------- indexes


def test_epoch():
    assert cal.EPOCH.weekday() == 0  # a Monday
    assert cal.UNIX_EPOCH_DAY == 719_162
    assert cal.day_index(dt.date(1, 1, 1)) == 0
    assert cal.day_index(dt.date(1970, 1, 1)) == 719_162
    assert cal.month_index(dt.date(1, 1, 1)) == 0


@pytest.mark.parametrize(
    ("monday", "week"),
    [
        (dt.date(1, 1, 1), 0),
        (dt.date(1, 1, 8), 1),
        (dt.date(1970, 1, 5), 102_738),  # 719,166 days
        (dt.date(2026, 1, 5), 105_660),  # 739,620 days
        (dt.date(2026, 9, 28), 105_698),
    ],
)
def test_week_index_of_mondays(monday, week):
    assert monday.weekday() == 0
    assert cal.week_index(monday) == week
    assert cal.week_index(monday + dt.timedelta(days=6)) == week  # Sunday: same week
    if week > 0:
        assert cal.week_index(monday - dt.timedelta(days=1)) == week - 1
    assert cal.period_start(week, "week") == monday


@pytest.mark.parametrize(
    ("day", "month"),
    [
        (dt.date(1, 12, 31), 11),
        (dt.date(2, 1, 1), 12),
        (dt.date(2026, 1, 1), 24_300),
        (dt.date(2026, 10, 31), 24_309),
    ],
)
def test_month_index(day, month):
    assert cal.month_index(day) == month
    assert cal.index_of(day, "month") == month
    assert cal.period_start(month, "month") == day.replace(day=1)


def test_index_and_start_round_trip():
    for grain, indexes in (
        ("month", range(24_000, 24_400, 7)),
        ("week", range(104_000, 106_000, 13)),
    ):
        starts = cal.period_starts(list(indexes), grain)
        for i, start in zip(indexes, starts, strict=True):
            assert start == pd.Timestamp(cal.period_start(i, grain))
            assert cal.index_of(start, grain) == i
            assert cal.index_of(start - pd.Timedelta(days=1), grain) == i - 1


def test_index_of_instant_in_the_store_zone():
    # 2026-01-31 17:30 UTC is 00:30 on Sunday 1 February in Bangkok.
    when = utc(2026, 1, 31, 17, 30)
    assert cal.index_of_instant(when, "Asia/Bangkok", "month") == 24_301
    assert cal.index_of_instant(when, "UTC", "month") == 24_300
    # Sunday 1 February belongs to the week of Monday 26 January (105,663).
    assert cal.index_of_instant(when, "Asia/Bangkok", "week") == 105_663
    assert cal.period_start_instant(24_301, "Asia/Bangkok", "month") == utc(2026, 1, 31, 17)
    assert cal.period_start_instant(105_664, "Europe/London", "week") == utc(2026, 2, 2)


# --------------------------------------------------------------------------- expressions


@pytest.mark.parametrize("tz", ["Asia/Bangkok", "Europe/London"])
def test_expressions_on_duckdb(tz):
    at = [
        utc(2026, 1, 31, 16, 30),
        utc(2026, 1, 31, 17, 30),
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 23, 30),
    ]
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = '{tz}'")
        frame = pd.DataFrame({"at": pd.Series(at).astype("datetime64[us, UTC]")})
        lf = nw.from_native(con.from_df(frame))
        span = (at[0], at[-1])
        got = (
            lf.select(
                cal.local_month("at", tz).alias("month"),
                cal.period_index("at", tz, "month").alias("m"),
                cal.period_index("at", tz, "month", span).alias("m_fast"),
                cal.period_index("at", tz, "week").alias("w"),
                cal.period_index("at", tz, "week", span).alias("w_fast"),
                cal.day_index_expr(cal.local_time("at", tz)).alias("d"),
            )
            .collect()
            .to_pandas()
        )
    finally:
        con.close()
    local = [x.astimezone(ZoneInfo(tz)).replace(tzinfo=None) for x in at]
    assert got["m"].tolist() == got["m_fast"].tolist() == [cal.month_index(x) for x in local]
    assert got["w"].tolist() == got["w_fast"].tolist() == [cal.week_index(x) for x in local]
    assert got["d"].tolist() == [cal.day_index(x) for x in local]
    assert got["month"].dt.strftime("%Y-%m").tolist() == [cal.format_month(x) for x in local]
    if tz == "Asia/Bangkok":  # by hand: Sat 31 Jan 23:30, Sun 1 Feb 00:30, Sun 29 Mar, Mon 30 Mar
        assert got["m"].tolist() == [24_300, 24_301, 24_302, 24_302]
        assert got["w"].tolist() == [105_663, 105_663, 105_671, 105_672]
