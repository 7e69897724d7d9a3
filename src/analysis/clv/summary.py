"""The per-customer RFM summary that lifetimes' models fit on, computed on the engine.

:func:`rfm_summary` computes, on the engine (narwhals lazy API, e.g. over
DuckDB), exactly what ``lifetimes.utils.summary_data_from_transaction_data``
and ``lifetimes.utils.calibration_and_holdout_data`` (lifetimes 0.11.3)
compute in pandas, so the fitters receive one small row per customer instead
of the whole orders table. Only the per-customer result is collected.

lifetimes' semantics, quirks included (each is pinned by a test against
lifetimes itself):

* A purchase period is the calendar period of the order's local wall-clock
  time (``to_period(freq)``): a day, or a week Monday to Sunday (pandas'
  ``"W"`` = ``"W-SUN"``). Several orders of a customer in one period count
  once; their revenue is summed into that period's value.
* ``frequency`` is the number of purchase periods minus one; ``recency`` is
  first to last purchase period and ``T`` first purchase period to the period
  of the observation end, both in periods divided by ``time_unit``
  (lifetimes' ``freq_multiplier``).
* ``monetary_value`` is the mean of the per-period values of every period but
  the first (the first purchase period is dropped whole, however many orders
  it holds); 0 with no repeat period.
* Without a calibration split the observation end is applied per *period*:
  every order in the period that contains ``observation_end`` counts, even
  one later than ``observation_end`` (with weekly periods and a Wednesday as
  the end, Thursday to Sunday of that week count too).
* With ``calibration_end`` the cut is per *instant*: the calibration part is
  the orders at or before ``calibration_end``, the holdout part the orders
  after it and at or before ``observation_end``. ``T_cal`` still runs to the
  start of the period holding ``calibration_end``, so with weekly periods a
  holdout order may fall in the same week as the last calibration day.
* Only customers with a calibration order appear; those whose every order
  is in the holdout are left out. ``frequency_holdout`` is the number of
  distinct holdout periods (*not* minus one), ``monetary_value_holdout`` the
  mean revenue per holdout *order* (not per period), both 0 for customers
  without a holdout order; ``duration_holdout`` is the number of periods from
  the period of ``calibration_end`` to that of ``observation_end`` divided by
  ``time_unit``, the same for every customer.
* lifetimes raises when no order falls in the holdout; so does this module
  (:class:`~analysis.errors.DataError`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

import duckdb
import narwhals as nw
import pandas as pd

from analysis.errors import DataError
from analysis.frames import completed
from analysis.warehouse import local_time

__all__ = ["HOLDOUT_COLUMNS", "PERIODS", "SUMMARY_COLUMNS", "rfm_summary"]

Period = Literal["D", "W"]
#: Supported purchase periods (pandas frequency aliases, as lifetimes' ``freq``).
PERIODS: tuple[str, ...] = ("D", "W")
#: Columns of the plain summary (``monetary_value`` only with monetary values).
SUMMARY_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T", "monetary_value")
#: Columns of the calibration/holdout summary (the ``monetary_*`` ones only with monetary values).
HOLDOUT_COLUMNS: tuple[str, ...] = (
    "frequency_cal",
    "recency_cal",
    "T_cal",
    "monetary_value_cal",
    "frequency_holdout",
    "monetary_value_holdout",
    "duration_holdout",
)
_ORDER_COLUMNS = ("customer_id", "ordered_at")

# Periods are counted as integers from a Monday, so that ``day // 7`` is the
# Monday-to-Sunday week of pandas' ``to_period("W")`` (= "W-SUN").
_EPOCH = dt.datetime(1969, 12, 29)
_US_PER_DAY = 86_400_000_000
_UNIX_US = (dt.datetime(1970, 1, 1) - _EPOCH) // dt.timedelta(microseconds=1)
# Zones with at most this many UTC-offset changes since 1800 get the integer fast path.
_MAX_OFFSET_CHANGES = 32


def rfm_summary(
    orders: nw.LazyFrame | pd.DataFrame | Any,
    observation_end: dt.date | dt.datetime | str,
    *,
    period: Period = "D",
    time_unit: float = 1.0,
    calibration_end: dt.date | dt.datetime | str | None = None,
    timezone: str = "UTC",
    monetary: bool | None = None,
) -> pd.DataFrame:
    """Frequency, recency, T and monetary value per customer, with lifetimes' semantics.

    Computes on the engine what ``lifetimes.utils.summary_data_from_transaction_data``
    (without ``calibration_end``) or ``lifetimes.utils.calibration_and_holdout_data``
    (with it) return for the same orders, ``freq=period`` and
    ``freq_multiplier=time_unit``; the quirks are listed in the module docstring.

    Only completed orders (``status == "completed"``; no ``status`` column means
    every order is completed) of registered customers (non-null ``customer_id``;
    null is a guest) count.

    Parameters
    ----------
    orders
        Orders with columns ``customer_id``, ``ordered_at`` and optionally
        ``revenue`` and ``status`` (other columns such as ``order_id`` are
        ignored). Either a lazy frame as :meth:`StoreWarehouse.table` returns
        (narwhals ``LazyFrame``, or a native frame narwhals wraps, on an engine
        whose session time zone is ``timezone``), or a pandas DataFrame, which
        DuckDB scans in place (it is not looped over in Python). Timezone-aware
        ``ordered_at`` values are converted to ``timezone``; naive ones (and
        dates) are taken as local wall-clock times as they are. Times are read
        at microsecond precision (DuckDB rounds nanosecond timestamps to the
        nearest microsecond).
    observation_end
        End of the observation. A ``datetime.date`` is a whole local calendar
        day, inclusive (the same as lifetimes given the last instant of that
        day). A ``datetime``/``pandas.Timestamp``, or a string parsed by
        ``pandas.Timestamp`` as lifetimes parses it (so ``"2026-10-31"`` is that
        day's midnight), is an instant, inclusive: naive means wall-clock time
        in ``timezone``, aware is converted to ``timezone``. Without
        ``calibration_end`` only its period matters (see the module docstring).
    period
        Length of a purchase period: ``"D"`` (local calendar day) or ``"W"``
        (week Monday to Sunday, pandas' ``to_period("W")``).
    time_unit
        Periods per reported unit (lifetimes' ``freq_multiplier``): with
        ``period="D"``, 7 reports recency and T in weeks of 7 days.
    calibration_end
        End of the calibration part, in the same forms as ``observation_end``
        and before it. Given, the result is the calibration/holdout summary.
    timezone
        IANA zone of the store: purchase periods are local calendar periods there.
    monetary
        Whether to compute the monetary columns (from ``revenue``). ``None``
        (default): when ``orders`` has a ``revenue`` column. ``False`` leaves
        them out, as lifetimes does with ``monetary_value_col=None``.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a counted order (with ``calibration_end``: a
        calibration order), indexed by ``customer_id`` in ascending order, all
        columns float64. Without ``calibration_end``: ``frequency`` (repeat
        purchase periods), ``recency`` and ``T`` (in periods / ``time_unit``),
        ``monetary_value`` (revenue per repeat period, 0 when none). With it:
        the same four suffixed ``_cal`` for the calibration part, then
        ``frequency_holdout`` (holdout purchase periods), ``monetary_value_holdout``
        (revenue per holdout order, 0 when none) and ``duration_holdout`` (in
        periods / ``time_unit``). Monetary values are in the currency of ``revenue``.

    Raises
    ------
    DataError
        A required column is missing, ``monetary=True`` without ``revenue``,
        ``ordered_at`` is not a date/datetime, ``calibration_end`` is not
        before ``observation_end``, or no order falls in the holdout.
    ValueError
        Unknown ``period`` or a non-positive ``time_unit``.
    """
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, got {period!r}")
    if not time_unit > 0:
        raise ValueError(f"time_unit must be positive, got {time_unit!r}")
    zone = ZoneInfo(timezone).key
    # A pandas frame is scanned by DuckDB on a connection of its own; keep it
    # referenced until the result is collected.
    lf, _connection = _lazy(orders, zone)
    schema = lf.collect_schema()
    missing = [c for c in _ORDER_COLUMNS if c not in schema]
    if missing:
        raise DataError(
            f"orders: missing column(s) {', '.join(missing)} (have {', '.join(schema)})",
            hint="rfm_summary needs customer_id, ordered_at and, for monetary values, revenue",
        )
    if monetary is None:
        monetary = "revenue" in schema
    elif monetary and "revenue" not in schema:
        raise DataError(
            f"orders: no revenue column for monetary values (have {', '.join(schema)})",
            hint="pass monetary=False for frequency, recency and T only",
        )

    clock = _clock(lf, schema["ordered_at"], zone)
    end = _bound(observation_end, period, zone, "observation_end")
    base = (
        completed(lf)
        .filter(~nw.col("customer_id").is_null())
        .select("customer_id", clock.time.alias("time"), *(["revenue"] if monetary else []))
        .with_columns(_period_index(clock.day(nw.col("time")), period).alias("period"))
    )
    # A pandas frame is scanned whole by every pass (no row groups to skip): one pass.
    ranges = [(None, None)] if isinstance(orders, pd.DataFrame) else _customer_ranges(lf)
    if calibration_end is None:
        in_scope = base.filter(nw.col("period") <= end.period)
        return _collect_ranges(
            lambda part: _summary(part, end, time_unit, monetary), in_scope, ranges
        )

    cal = _bound(calibration_end, period, zone, "calibration_end")
    if cal.at >= end.at:
        raise DataError(
            f"calibration_end {cal.at} is not before observation_end {end.at} (local time)",
            hint="the holdout runs from after calibration_end to observation_end",
        )
    time = nw.col("time")
    if not len(
        base.filter(~cal.keeps(time, clock) & end.keeps(time, clock))
        .select("customer_id")
        .head(1)
        .collect()
    ):
        raise DataError(
            f"no completed order of a registered customer after calibration_end {cal.at} "
            f"up to observation_end {end.at} (local time): the holdout is empty",
            hint="move calibration_end earlier or observation_end later",
        )
    duration = (end.period - cal.period) / time_unit

    def calibration_and_holdout(part: nw.LazyFrame) -> nw.LazyFrame:
        calibration = part.filter(cal.keeps(time, clock))
        holdout = part.filter(~cal.keeps(time, clock) & end.keeps(time, clock))
        summary = _summary(calibration, cal, time_unit, monetary)
        summary = summary.rename({c: f"{c}_cal" for c in SUMMARY_COLUMNS if c in summary.columns})
        return summary.join(_holdout(holdout, monetary), on="customer_id", how="left").select(
            "customer_id",
            "frequency_cal",
            "recency_cal",
            "T_cal",
            *(["monetary_value_cal"] if monetary else []),
            nw.col("frequency_holdout").fill_null(0.0),
            *([nw.col("monetary_value_holdout").fill_null(0.0)] if monetary else []),
            nw.lit(duration, nw.Float64).alias("duration_holdout"),
        )

    return _collect_ranges(calibration_and_holdout, base, ranges)


# --------------------------------------------------------------------------- query parts


def _summary(orders: nw.LazyFrame, end: _Bound, time_unit: float, monetary: bool) -> nw.LazyFrame:
    """``customer_id, frequency, recency, T[, monetary_value]`` of ``orders``, lazily.

    ``orders`` has ``customer_id``, ``period`` (integer period index) and, with
    ``monetary``, ``revenue``. One group_by on (customer, period), then one on
    customer with min/max/count/sum and the first period's value as an ordered
    ``first`` (DuckDB plans it as ``arg_min``), no window. The repeat periods'
    value is the total minus the first period's.
    """
    columns = [
        "customer_id",
        (nw.col("periods") - 1).cast(nw.Float64).alias("frequency"),
        ((nw.col("last") - nw.col("first")).cast(nw.Float64) / time_unit).alias("recency"),
        ((end.period - nw.col("first")).cast(nw.Float64) / time_unit).alias("T"),
    ]
    if monetary:
        columns.append(
            nw.when(nw.col("periods") > 1)
            .then((nw.col("total") - nw.col("first_value")) / (nw.col("periods") - 1))
            .otherwise(0.0)
            .alias("monetary_value")
        )
    if orders.implementation is nw.Implementation.DUCKDB:
        # The same two aggregations with arg_min for the first period's value: narwhals'
        # ordered first() builds a sort key per row (10% of the query at 1M orders).
        value = "sum(coalesce(revenue, 0)) AS value" if monetary else "count(*) AS value"
        rel = (
            orders.select("customer_id", "period", *(["revenue"] if monetary else []))
            .to_native()
            .aggregate(f"customer_id, period, {value}", "customer_id, period")
            .aggregate(
                "customer_id, count(*) AS periods, min(period) AS first, max(period) AS last"
                + (
                    ", sum(value) AS total, arg_min(value, period) AS first_value"
                    if monetary
                    else ""
                ),
                "customer_id",
            )
        )
        return nw.from_native(rel).select(*columns)
    per_period = orders.group_by("customer_id", "period").agg(
        # pandas' sum of all-NaN is 0; SQL's is NULL.
        nw.col("revenue").fill_null(0.0).sum().alias("value") if monetary else nw.len()
    )
    aggs = [
        nw.len().alias("periods"),
        nw.col("period").min().alias("first"),
        nw.col("period").max().alias("last"),
    ]
    if monetary:
        aggs += [
            nw.col("value").sum().alias("total"),
            nw.col("value").first(order_by="period").alias("first_value"),
        ]
    return per_period.group_by("customer_id").agg(*aggs).select(*columns)


def _holdout(orders: nw.LazyFrame, monetary: bool) -> nw.LazyFrame:
    """``customer_id, frequency_holdout[, monetary_value_holdout]`` of the holdout orders.

    Distinct holdout periods, and the mean revenue per holdout order (NULL
    revenue skipped, as pandas' ``mean`` skips NaN).
    """
    if not monetary:
        per_period = orders.group_by("customer_id", "period").agg(nw.len())
        return per_period.group_by("customer_id").agg(
            nw.len().cast(nw.Float64).alias("frequency_holdout")
        )
    per_period = orders.group_by("customer_id", "period").agg(
        nw.col("revenue").sum().alias("value"), nw.col("revenue").count().alias("priced")
    )
    return per_period.group_by("customer_id").agg(
        nw.len().cast(nw.Float64).alias("frequency_holdout"),
        (nw.col("value").sum() / nw.col("priced").sum()).alias("monetary_value_holdout"),
    )


def _collect(frame: nw.LazyFrame) -> pd.DataFrame:
    """Collect the per-customer result to pandas, sorted and indexed by ``customer_id``."""
    out = frame.sort("customer_id").collect().to_pandas().set_index("customer_id")
    return out.astype("float64")


#: Orders per pass of :func:`_collect_ranges` (below 0.1 GiB of DuckDB hash tables).
ROWS_PER_PASS = 1_000_000
_SAMPLE_PERCENT = 1.0
_SAMPLE_SEED = 20261124
_Range = tuple[Any, Any]


def _customer_ranges(lf: nw.LazyFrame) -> list[_Range]:
    """Ranges of ``customer_id`` ``[low, high)`` (None = open) that split the orders in passes.

    One range per :data:`ROWS_PER_PASS` orders, bounded by quantiles of a
    block sample of ``customer_id`` (1%, fixed seed; DuckDB only; the sample
    also estimates the number of orders). Small inputs and other engines get
    one open range. The ranges partition the ids exactly whatever the sample,
    so the result never depends on it; only the memory and time per pass do.
    """
    whole: list[_Range] = [(None, None)]
    if lf.implementation is not nw.Implementation.DUCKDB:
        return whole
    sample = (
        lf.select("customer_id")
        .to_native()
        .query(
            "_orders",
            f"SELECT customer_id FROM _orders "
            f"USING SAMPLE {_SAMPLE_PERCENT}% (system, {_SAMPLE_SEED})",
        )
        .to_arrow_table()
        .column(0)
    )
    passes = int(-(-len(sample) * 100 / _SAMPLE_PERCENT // ROWS_PER_PASS))
    ids = sample.drop_null().sort().to_pylist()
    if passes <= 1 or len(ids) < passes:
        return whole
    bounds = sorted({ids[len(ids) * i // passes] for i in range(1, passes)})
    edges = [None, *bounds, None]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _collect_ranges(build: Any, orders: nw.LazyFrame, ranges: list[_Range]) -> pd.DataFrame:
    """``_collect(build(orders))``, one customer range at a time, concatenated in id order.

    On files clustered by customer (the warehouse layout) each pass reads only
    the row groups of its range, so the passes together cost about one pass
    while the peak memory of the per-(customer, period) aggregation shrinks
    with the number of ranges.
    """
    if ranges == [(None, None)]:
        return _collect(build(orders))
    parts = []
    for low, high in ranges:
        keep = [
            *([nw.col("customer_id") >= low] if low is not None else []),
            *([nw.col("customer_id") < high] if high is not None else []),
        ]
        parts.append(_collect(build(orders.filter(*keep))))
    return pd.concat(parts)


def _period_index(day: nw.Expr, period: Period) -> nw.Expr:
    """Expression: the integer period of a day index (days since the Monday ``_EPOCH``)."""
    return day if period == "D" else day // 7


# --------------------------------------------------------------------------- local time


@dataclass(frozen=True)
class _Clock:
    """Local wall-clock time of ``ordered_at`` on the engine.

    ``time`` is either naive local datetimes (portable: any narwhals backend)
    or, on DuckDB, integer microseconds of local time since ``_EPOCH`` (no
    per-row time-zone lookup; about twice as fast on 10M orders).
    """

    time: nw.Expr
    integer: bool

    def day(self, time: nw.Expr) -> nw.Expr:
        """Expression: local day index (days since ``_EPOCH``) of a ``time`` column."""
        if self.integer:
            return time // _US_PER_DAY
        return (time.dt.date() - nw.lit(_EPOCH.date())).cast(nw.Int64)

    def literal(self, at: dt.datetime) -> Any:
        """A naive local datetime in the form ``time`` is compared with."""
        return (at - _EPOCH) // dt.timedelta(microseconds=1) if self.integer else at


def _clock(lf: nw.LazyFrame, dtype: Any, zone: str) -> _Clock:
    """How to read ``ordered_at`` as local wall-clock time in ``zone``."""
    column = nw.col("ordered_at")
    if dtype == nw.Date:
        column, dtype = column.cast(nw.Datetime("us")), nw.Datetime("us")
    if not isinstance(dtype, nw.Datetime):
        raise DataError(
            f"orders: ordered_at has type {dtype}, not a datetime",
            hint="convert it first, e.g. pandas.to_datetime(df['ordered_at'])",
        )
    # DuckDB's epoch_us (narwhals' total_microseconds) reads the stored instant of a
    # TIMESTAMPTZ, or the wall clock of a TIMESTAMP, as an integer.
    if lf.implementation is nw.Implementation.DUCKDB:
        since_epoch = column.dt.total_microseconds() + _UNIX_US
        if dtype.time_zone is None:
            return _Clock(since_epoch, integer=True)
        offsets = _utc_offsets(zone)
        if offsets is not None:
            return _Clock(_shift(since_epoch, offsets), integer=True)
    time = column if dtype.time_zone is None else local_time("ordered_at", zone)
    return _Clock(time, integer=False)


def _shift(utc: nw.Expr, offsets: tuple[tuple[int, int], ...]) -> nw.Expr:
    """Expression: UTC microseconds plus the zone's offset in force (newest offset tested first)."""
    if len(offsets) == 1:
        return utc + offsets[0][1]
    (start, offset), *older = reversed(offsets)
    shifted = nw.when(utc >= start).then(utc + offset)
    for start, offset in older[:-1]:
        shifted = shifted.when(utc >= start).then(utc + offset)
    return shifted.otherwise(utc + older[-1][1])


@functools.lru_cache(maxsize=64)
def _utc_offsets(zone: str) -> tuple[tuple[int, int], ...] | None:
    """UTC offsets of ``zone`` as ``((from, offset), ...)`` in microseconds, or None.

    ``from`` is the UTC instant (µs since ``_EPOCH``) where ``offset`` starts;
    the first offset also applies to every earlier instant. The change instants
    are the transitions of the zone's TZif file (Python's time zone database,
    read with ``zoneinfo``'s own loader) and the offsets are what ``zoneinfo``
    gives there, so the result matches pandas' ``tz_convert``. None when the
    zone still follows a daylight-saving rule, changed offset more than
    ``_MAX_OFFSET_CHANGES`` times, or its file cannot be read: such zones are
    converted per row by the engine instead.
    """
    try:
        from zoneinfo import _common, _tzpath  # the loader ZoneInfo itself uses

        path = _tzpath.find_tzfile(zone)
        with open(path, "rb") if path else _common.load_tzdata(zone) as fobj:
            _, transitions, *_, footer = _common.load_data(fobj)
    except Exception:
        return None
    if b"," in (footer or b""):  # a POSIX TZ rule with daylight saving time
        return None
    tz = ZoneInfo(zone)

    def offset_at(second: int) -> dt.timedelta:
        return dt.datetime.fromtimestamp(second, tz).utcoffset()  # type: ignore[return-value]

    first = min(transitions, default=0) - 1
    out = [(first, offset_at(first))]
    for second in sorted(transitions):
        offset = offset_at(second)
        if offset != out[-1][1]:
            out.append((second, offset))
    if len(out) > _MAX_OFFSET_CHANGES + 1:
        return None
    us = dt.timedelta(microseconds=1)
    return tuple((second * 1_000_000 + _UNIX_US, offset // us) for second, offset in out)


# --------------------------------------------------------------------------- inputs


@functools.lru_cache(maxsize=1)
def _pandas_database() -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB database that scans pandas inputs (created on first use)."""
    return duckdb.connect()


def _lazy(orders: Any, zone: str) -> tuple[nw.LazyFrame, duckdb.DuckDBPyConnection | None]:
    """``orders`` as a narwhals LazyFrame; a pandas frame goes to a fresh DuckDB connection."""
    if isinstance(orders, pd.DataFrame):
        # A cursor is a connection of its own (own session zone) to one shared
        # in-memory database: opening a database per call costs ~15 ms.
        connection = _pandas_database().cursor()
        connection.execute(f"SET TimeZone = '{zone}'")
        return nw.from_native(connection.from_df(orders)), connection
    if isinstance(orders, nw.LazyFrame):
        return orders, None
    if isinstance(orders, nw.DataFrame):
        return orders.lazy(), None
    try:
        frame = nw.from_native(orders)
    except TypeError:
        raise TypeError(
            "orders must be a narwhals LazyFrame, a frame narwhals wraps, or a pandas "
            f"DataFrame, got {type(orders).__name__}"
        ) from None
    return frame.lazy(), None


@dataclass(frozen=True)
class _Bound:
    """A cut on local wall-clock time: ``time <= at`` (inclusive) or ``time < at``."""

    at: dt.datetime  # naive, local wall clock
    inclusive: bool
    period: int  # index of the period that holds the cut (as _period_index)

    def keeps(self, time: nw.Expr, clock: _Clock) -> nw.Expr:
        """Expression: ``time`` is at or before the cut."""
        at = clock.literal(self.at)
        return time <= at if self.inclusive else time < at


def _bound(value: dt.date | dt.datetime | str, period: Period, zone: str, name: str) -> _Bound:
    """A boundary argument as a cut on local wall-clock time, with its period."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        midnight = dt.datetime.combine(value, dt.time())
        at, inclusive, day = midnight + dt.timedelta(days=1), False, (midnight - _EPOCH).days
    else:
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError):
            raise DataError(
                f"{name} {value!r} is not a date or datetime",
                hint="pass a datetime.date (a whole day) or a datetime (an instant)",
            ) from None
        if stamp is pd.NaT:
            raise DataError(f"{name} is missing (NaT)", hint="pass a date or a datetime")
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert(zone).tz_localize(None)
        at = stamp.floor("us").to_pydatetime()
        at, inclusive, day = at, True, (at - _EPOCH) // dt.timedelta(days=1)
    return _Bound(at=at, inclusive=inclusive, period=day if period == "D" else day // 7)
