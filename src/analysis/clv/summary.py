"""The per-customer RFM summary that lifetimes' models fit on, computed on the engine.

:func:`rfm_summary` computes, on the engine (one SQL statement on DuckDB, the
narwhals lazy API on other engines), exactly what
``lifetimes.utils.summary_data_from_transaction_data``
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
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import narwhals as nw
import pandas as pd

from analysis import DEFAULT_SEED
from analysis.calendar import wall_clock_literal
from analysis.clv.clock import (
    PURCHASE_PERIODS,
    Bound,
    Clock,
    PurchasePeriod,
    SqlClock,
    bound,
    narwhals_clock,
    period_start,
    sql_clock,
)
from analysis.errors import DataError
from analysis.frames import completed

__all__ = ["HOLDOUT_COLUMNS", "PERIODS", "SUMMARY_COLUMNS", "PurchasePeriod", "rfm_summary"]

#: Supported purchase periods (pandas frequency aliases, as lifetimes' ``freq``).
PERIODS: tuple[str, ...] = PURCHASE_PERIODS
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


def rfm_summary(
    orders: nw.LazyFrame | pd.DataFrame | Any,
    observation_end: dt.date | dt.datetime | str,
    *,
    period: PurchasePeriod = "D",
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
    lf, connection = _lazy(orders)
    on_duckdb = lf.implementation is nw.Implementation.DUCKDB
    if on_duckdb:  # DuckDB's own column types (narwhals' schema queries the session zone)
        native = lf.to_native()
        types: dict[str, Any] = dict(zip(native.columns, map(str, native.types), strict=True))
    else:
        types = dict(lf.collect_schema())
    missing = [c for c in _ORDER_COLUMNS if c not in types]
    if missing:
        raise DataError(
            f"orders: missing column(s) {', '.join(missing)} (have {', '.join(types)})",
            hint="rfm_summary needs customer_id, ordered_at and, for monetary values, revenue",
        )
    if monetary is None:
        monetary = "revenue" in types
    elif monetary and "revenue" not in types:
        raise DataError(
            f"orders: no revenue column for monetary values (have {', '.join(types)})",
            hint="pass monetary=False for frequency, recency and T only",
        )

    end = bound(observation_end, period, zone, "observation_end")
    cal = None
    if calibration_end is not None:
        cal = bound(calibration_end, period, zone, "calibration_end")
        if cal.at >= end.at:
            raise DataError(
                f"calibration_end {cal.at} is not before observation_end {end.at} (local time)",
                hint="the holdout runs from after calibration_end to observation_end",
            )
    rows = _Rows(period=period, end=end, cal=cal, monetary=monetary)
    if on_duckdb:
        clock = sql_clock(types["ordered_at"], zone)
        query: _DuckDBQuery | _NarwhalsQuery = _DuckDBQuery(
            rows, clock, "status" in types, connection
        )
    else:
        query = _NarwhalsQuery(rows, narwhals_clock(types["ordered_at"], zone), nw.Schema(types))
    if cal is not None and not query.has_holdout(lf):
        raise DataError(
            f"no completed order of a registered customer after calibration_end {cal.at} "
            f"up to observation_end {end.at} (local time): the holdout is empty",
            hint="move calibration_end earlier or observation_end later",
        )
    # A pandas frame is scanned whole by every pass (no row groups to skip): one pass.
    ranges = [(None, None)] if isinstance(orders, pd.DataFrame) else _customer_ranges(lf)
    return _collect_ranges(
        lambda part: _summary_columns(query.aggregates(part), rows, time_unit), lf, ranges
    )


# --------------------------------------------------------------------------- query parts


@dataclass(frozen=True)
class _Rows:
    """Which orders count, and how: the arguments every query part shares."""

    period: PurchasePeriod
    end: Bound
    cal: Bound | None  # None: a plain summary up to the period holding ``end``
    monetary: bool


def _summary_columns(aggregates: nw.LazyFrame, rows: _Rows, time_unit: float) -> nw.LazyFrame:
    """The result columns from the per-customer aggregates of a query.

    ``aggregates`` has ``customer_id``, ``periods`` (distinct purchase periods),
    ``first`` and ``last`` (period indexes) and, with monetary values, ``total``
    and ``first_value`` (revenue of all periods and of the first one); with a
    calibration split, also ``holdout_periods`` and ``holdout_value`` (revenue
    per priced holdout order), NULL for customers without a holdout order.
    """
    cut = rows.end if rows.cal is None else rows.cal
    suffix = "" if rows.cal is None else "_cal"
    periods = nw.col("periods")
    columns: list[str | nw.Expr] = [
        "customer_id",
        (periods - 1).cast(nw.Float64).alias(f"frequency{suffix}"),
        ((nw.col("last") - nw.col("first")).cast(nw.Float64) / time_unit).alias(f"recency{suffix}"),
        ((cut.period - nw.col("first")).cast(nw.Float64) / time_unit).alias(f"T{suffix}"),
    ]
    if rows.monetary:
        columns.append(
            nw.when(periods > 1)
            .then((nw.col("total") - nw.col("first_value")) / (periods - 1))
            .otherwise(0.0)
            .alias(f"monetary_value{suffix}")
        )
    if rows.cal is not None:
        duration = (rows.end.period - rows.cal.period) / time_unit
        columns += [
            nw.col("holdout_periods").cast(nw.Float64).fill_null(0.0).alias("frequency_holdout"),
            *(
                [nw.col("holdout_value").fill_null(0.0).alias("monetary_value_holdout")]
                if rows.monetary
                else []
            ),
            nw.lit(duration, nw.Float64).alias("duration_holdout"),
        ]
    return aggregates.select(*columns)


class _DuckDBQuery:
    """The aggregates as one DuckDB statement over the native relation.

    The same two aggregations as :class:`_NarwhalsQuery` (per customer and
    period, then per customer), written in SQL because here they are the hot
    path: local time as integer microseconds with the zone's offsets (no
    per-row time-zone lookup), the period as an integer division,
    the first period's value as ``arg_min``, and one statement to bind instead
    of a chain of relations (binding each costs about a millisecond).
    """

    def __init__(
        self,
        rows: _Rows,
        clock: SqlClock,
        has_status: bool,
        connection: duckdb.DuckDBPyConnection | None,
    ) -> None:
        self.rows, self.clock, self.connection = rows, clock, connection
        where = ["customer_id IS NOT NULL", *(["status = 'completed'"] if has_status else [])]
        revenue = ", revenue" if rows.monetary else ""
        time = f"SELECT customer_id, {clock.time} AS time{revenue} FROM _orders"
        self.orders = (
            f"SELECT customer_id, time, {clock.period('time', rows.period)} AS period{revenue} "
            f"FROM ({time} WHERE {' AND '.join(where)})"
        )

    def _keeps(self, cut: Bound) -> str:
        return f"time {'<=' if cut.inclusive else '<'} {self.clock.literal(cut.at)}"

    def has_holdout(self, lf: nw.LazyFrame) -> bool:
        cal, end = self.rows.cal, self.rows.end
        assert cal is not None
        sql = f"SELECT 1 FROM ({self.orders}) WHERE NOT ({self._keeps(cal)}) AND {self._keeps(end)}"
        return bool(self._run(lf, sql + " LIMIT 1").fetchall())

    def _run(self, orders: nw.LazyFrame, sql: str) -> duckdb.DuckDBPyRelation:
        """``sql`` over ``orders`` as the table ``_orders``.

        A pandas input is registered as ``_orders`` on its connection, and is
        always whole (one pass): a statement on the connection binds in about
        a millisecond, a query on a relation in about four.
        """
        if self.connection is not None:
            return self.connection.sql(sql)
        return orders.to_native().query("_orders", sql)

    def aggregates(self, orders: nw.LazyFrame) -> nw.LazyFrame:
        rows = self.rows
        if rows.cal is None:
            after = period_start(rows.end.period + 1, rows.period)
            keep = f"time < {self.clock.literal(after)}"
        else:
            keep = self._keeps(rows.cal)
        value = "sum(coalesce(revenue, 0))" if rows.monetary else "count(*)"
        money = ", sum(value) AS total, arg_min(value, period) AS first_value"
        sql = (
            f"WITH o AS ({self.orders}), "
            f"p AS (SELECT customer_id, period, {value} AS value FROM o WHERE {keep} GROUP BY 1, 2), "
            "s AS (SELECT customer_id, count(*) AS periods, min(period) AS first, "
            f"max(period) AS last{money if rows.monetary else ''} FROM p GROUP BY 1)"
        )
        if rows.cal is None:
            sql += " SELECT * FROM s"
        else:
            priced = ", sum(revenue) AS value, count(revenue) AS priced" if rows.monetary else ""
            sql += (
                f", h AS (SELECT customer_id, period{priced} FROM o "
                f"WHERE NOT ({keep}) AND {self._keeps(rows.end)} GROUP BY 1, 2), "
                "hs AS (SELECT customer_id, count(*) AS holdout_periods"
                f"{', sum(value) / sum(priced) AS holdout_value' if rows.monetary else ''} "
                "FROM h GROUP BY 1) "
                "SELECT * FROM s LEFT JOIN hs USING (customer_id)"
            )
        return nw.from_native(self._run(orders, sql))


class _NarwhalsQuery:
    """The aggregates with narwhals' lazy API, for engines other than DuckDB.

    Elementary aggregations only (what every narwhals backend supports); the
    first period's value joins the per-period values to each customer's first
    period.
    """

    def __init__(self, rows: _Rows, clock: Clock, schema: nw.Schema) -> None:
        self.rows, self.clock, self.schema = rows, clock, schema

    def _orders(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """Completed orders of registered customers: customer_id, time, period[, revenue]."""
        time = self.clock.time.alias("time")
        return (
            completed(lf, self.schema)
            .filter(~nw.col("customer_id").is_null())
            .select("customer_id", time, *(["revenue"] if self.rows.monetary else []))
            .with_columns(self.clock.period(nw.col("time"), self.rows.period).alias("period"))
        )

    def _keeps(self, cut: Bound) -> nw.Expr:
        time, at = nw.col("time"), wall_clock_literal(cut.at)
        return time <= at if cut.inclusive else time < at

    def has_holdout(self, lf: nw.LazyFrame) -> bool:
        cal, end = self.rows.cal, self.rows.end
        assert cal is not None
        holdout = self._orders(lf).filter(~self._keeps(cal) & self._keeps(end))
        return len(holdout.select("customer_id").head(1).collect()) > 0

    def aggregates(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        rows, orders = self.rows, self._orders(lf)
        if rows.cal is None:
            part = orders.filter(nw.col("period") <= rows.end.period)
        else:
            part = orders.filter(self._keeps(rows.cal))
        per_period = (
            # pandas' sum of all-NaN is 0; SQL's is NULL.
            part.with_columns(nw.col("revenue").fill_null(0.0))
            .group_by("customer_id", "period")
            .agg(nw.col("revenue").sum().alias("value"))
            if rows.monetary
            else part.group_by("customer_id", "period").agg(nw.len().alias("value"))
        )
        out = per_period.group_by("customer_id").agg(
            nw.len().alias("periods"),
            nw.col("period").min().alias("first"),
            nw.col("period").max().alias("last"),
            *([nw.col("value").sum().alias("total")] if rows.monetary else []),
        )
        if rows.monetary:
            firsts = per_period.select(
                "customer_id", nw.col("period").alias("first"), nw.col("value").alias("first_value")
            )
            out = out.join(firsts, on=["customer_id", "first"], how="left")
        if rows.cal is None:
            return out
        holdout = orders.filter(~self._keeps(rows.cal) & self._keeps(rows.end))
        if rows.monetary:
            by_period = holdout.group_by("customer_id", "period").agg(
                nw.col("revenue").sum().alias("value"), nw.col("revenue").count().alias("priced")
            )
            by_customer = by_period.group_by("customer_id").agg(
                nw.len().alias("holdout_periods"), nw.col("value").sum(), nw.col("priced").sum()
            )
            by_customer = by_customer.select(
                "customer_id",
                "holdout_periods",
                (nw.col("value") / nw.col("priced")).alias("holdout_value"),
            )
        else:
            by_period = holdout.group_by("customer_id", "period").agg(nw.len())
            by_customer = by_period.group_by("customer_id").agg(nw.len().alias("holdout_periods"))
        return out.join(by_customer, on="customer_id", how="left")


def _collect(frame: nw.LazyFrame) -> pd.DataFrame:
    """Collect the per-customer result to pandas, sorted and indexed by ``customer_id``.

    Sorted after collecting (one row per customer): on DuckDB an ORDER BY in the
    query costs more than sorting the collected Arrow table.
    """
    out = frame.collect().sort("customer_id").to_pandas().set_index("customer_id")
    return out.astype("float64")


#: Orders per pass of :func:`_collect_ranges` (below 0.1 GiB of DuckDB hash tables).
ROWS_PER_PASS = 1_000_000
_SAMPLE_PERCENT = 1.0
_SAMPLE_SEED = DEFAULT_SEED
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


# --------------------------------------------------------------------------- inputs


@functools.lru_cache(maxsize=1)
def _pandas_database() -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB database that scans pandas inputs (created on first use)."""
    return duckdb.connect()


def _lazy(orders: Any) -> tuple[nw.LazyFrame, duckdb.DuckDBPyConnection | None]:
    """``orders`` as a narwhals LazyFrame, and the connection a pandas frame is registered on.

    A pandas frame is registered as ``_orders`` on a cursor of its own (a
    connection to one shared in-memory database: opening a database per call
    costs about 20 ms), which DuckDB scans in place.
    """
    if isinstance(orders, pd.DataFrame):
        connection = _pandas_database().cursor()
        connection.register("_orders", orders)
        return nw.from_native(connection.table("_orders")), connection
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
