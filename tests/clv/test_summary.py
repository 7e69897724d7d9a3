"""rfm_summary against lifetimes' own functions (lifetimes 0.11.3 is the reference).

Every comparison asks for the same index (customer ids, ascending), the same
columns in the same order and the same values within 1e-9, on lifetimes'
shipped CDNOW transaction files and on hypothesis-generated orders that put
orders on period boundaries and on the calibration/observation cuts.

How a call of ours maps to lifetimes' arguments (see ``reference``):
completed orders of registered customers only; timezone-aware times converted
to the store zone and made naive; a ``datetime.date`` boundary is the last
instant of that day; a datetime boundary is passed as it is.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import write_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.clv import rfm_summary
from analysis.clv.clock import utc_offsets
from analysis.compat import import_lifetimes
from analysis.errors import DataError
from analysis.warehouse import StoreWarehouse

from .helpers import cdnow_orders

import_lifetimes()
from lifetimes.utils import (  # noqa: E402 - after import_lifetimes (warning filters)
    calibration_and_holdout_data,
    summary_data_from_transaction_data,
)

ATOL = 1e-9


# --------------------------------------------------------------------------- the reference


def _lifetimes_bound(value):
    """Our boundary argument as lifetimes receives it (a date = its last instant)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return pd.Timestamp(value) + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    return value


def reference(
    orders: pd.DataFrame,
    observation_end,
    *,
    period: str = "D",
    time_unit: float = 1.0,
    calibration_end=None,
    timezone: str = "UTC",
    monetary: bool = True,
) -> pd.DataFrame:
    """What lifetimes returns for the orders and arguments that ``rfm_summary`` is given."""
    done = orders
    if "status" in done:
        done = done[done["status"] == "completed"]
    done = done[done["customer_id"].notna()].copy()
    if done["ordered_at"].dt.tz is not None:
        done["ordered_at"] = done["ordered_at"].dt.tz_convert(timezone).dt.tz_localize(None)
    common = dict(freq=period, freq_multiplier=time_unit)
    if calibration_end is None:
        return summary_data_from_transaction_data(
            done, "customer_id", "ordered_at",
            monetary_value_col="revenue" if monetary else None,
            observation_period_end=_lifetimes_bound(observation_end), **common,
        )  # fmt: skip
    # lifetimes 0.11.3's calibration_and_holdout_data fails on pandas 3 without a
    # monetary column (its holdout count aggregates a frame with no value column:
    # "No objects to concatenate"); its other columns never read the monetary
    # values, so they come from the call with them.
    with_value = calibration_and_holdout_data(
        done, "customer_id", "ordered_at", monetary_value_col="revenue",
        calibration_period_end=_lifetimes_bound(calibration_end),
        observation_period_end=_lifetimes_bound(observation_end), **common,
    )  # fmt: skip
    if monetary:
        return with_value
    return with_value.drop(columns=["monetary_value_cal", "monetary_value_holdout"])


def test_lifetimes_needs_a_monetary_column_for_holdout():
    """Why ``reference`` calls calibration_and_holdout_data with monetary values only."""
    orders = pd.DataFrame(
        {"customer_id": ["a", "a"], "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-09"])}
    )
    with pytest.raises(ValueError, match="No objects to concatenate"):
        calibration_and_holdout_data(
            orders, "customer_id", "ordered_at", "2024-01-05", "2024-01-10"
        )


def assert_same(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Same index (ascending ids), same columns in the same order, values within ATOL."""
    ref = ref.sort_index()
    assert list(ours.columns) == list(ref.columns)
    assert list(ours.index) == list(ref.index)
    assert ours.index.name == "customer_id"
    assert (ours.dtypes == "float64").all()
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy().astype(float), rtol=0, atol=ATOL)


# --------------------------------------------------------------------------- CDNOW


@pytest.fixture(scope="module")
def cdnow_sample() -> pd.DataFrame:
    return cdnow_orders("CDNOW_sample.txt")


@pytest.fixture(scope="module")
def cdnow_master() -> pd.DataFrame:
    return cdnow_orders("CDNOW_master.txt")


@pytest.mark.parametrize(
    ("period", "time_unit", "monetary", "end"),
    [
        ("D", 1.0, True, "1998-06-30"),
        ("D", 7.0, False, dt.date(1998, 3, 15)),
        ("W", 1.0, True, dt.date(1998, 6, 30)),
        ("W", 7.0, True, pd.Timestamp("1998-01-01 12:00")),  # a Thursday: its week counts
    ],
)
def test_cdnow_sample_summary(cdnow_sample, period, time_unit, monetary, end):
    orders = cdnow_sample if monetary else cdnow_sample.drop(columns="revenue")
    ours = rfm_summary(orders, end, period=period, time_unit=time_unit)
    ref = reference(cdnow_sample, end, period=period, time_unit=time_unit, monetary=monetary)
    assert_same(ours, ref)
    assert len(ours) == 2357  # every CDNOW customer's first purchase is in early 1997


@pytest.mark.parametrize(
    ("period", "time_unit", "monetary"), [("D", 1.0, True), ("W", 1.0, False), ("D", 7.0, True)]
)
def test_cdnow_sample_calibration_holdout(cdnow_sample, period, time_unit, monetary):
    ours = rfm_summary(
        cdnow_sample, "1998-06-30", calibration_end="1997-09-30", period=period,
        time_unit=time_unit, monetary=monetary,
    )  # fmt: skip
    ref = reference(
        cdnow_sample, "1998-06-30", calibration_end="1997-09-30", period=period,
        time_unit=time_unit, monetary=monetary,
    )  # fmt: skip
    assert_same(ours, ref)


def test_cdnow_master_summary_and_calibration(cdnow_master):
    """The full CDNOW file (23,570 customers, 69,659 purchases), as lifetimes' docs use it."""
    ours = rfm_summary(cdnow_master, "1998-06-30")
    ref = reference(cdnow_master, "1998-06-30")
    assert_same(ours, ref)
    assert len(ours) == 23_570
    ours = rfm_summary(cdnow_master, "1998-06-30", calibration_end="1997-09-30", period="W")
    ref = reference(cdnow_master, "1998-06-30", calibration_end="1997-09-30", period="W")
    assert_same(ours, ref)
    assert (ours["duration_holdout"] == 39.0).all()  # 1997-09-29 week to 1998-06-29 week


def test_customer_range_passes_equal_one_pass(cdnow_master, tmp_path, monkeypatch):
    """Large warehouse inputs run in customer-id ranges; forced on CDNOW (5,000 orders a pass)."""
    from analysis.clv import summary

    ranges_seen = []
    split = summary._customer_ranges

    def spy(lf):
        ranges_seen.append(split(lf))
        return ranges_seen[-1]

    monkeypatch.setattr(summary, "ROWS_PER_PASS", 5_000)
    monkeypatch.setattr(summary, "_SAMPLE_PERCENT", 100.0)  # every block, so ranges are even
    monkeypatch.setattr(summary, "_customer_ranges", spy)
    orders = cdnow_master.assign(
        ordered_at=cdnow_master["ordered_at"].dt.tz_localize("UTC"), store_id="cdnow"
    )
    write_table(tmp_path, "orders", "cdnow", orders)
    wh = StoreWarehouse(tmp_path, "cdnow", "UTC")
    ref = reference(cdnow_master, "1998-06-30")
    assert_same(rfm_summary(cdnow_master, "1998-06-30"), ref)
    assert not ranges_seen  # a pandas frame is scanned whole by every pass: one pass
    assert_same(rfm_summary(wh.table("orders"), "1998-06-30"), ref)
    assert len(ranges_seen[-1]) == 14  # 69,659 orders / 5,000 a pass
    ref = reference(cdnow_master, "1998-06-30", calibration_end="1997-09-30")
    ours = rfm_summary(wh.table("orders"), "1998-06-30", calibration_end="1997-09-30")
    assert_same(ours, ref)
    lows = [low for low, _ in ranges_seen[-1][1:]]
    assert lows == sorted(lows) and ranges_seen[-1][0][0] is None and ranges_seen[-1][-1][1] is None


# --------------------------------------------------------------------------- random orders

MONDAY = dt.datetime(2024, 1, 1)  # weeks of pandas' to_period("W") run Monday to Sunday
SPAN_DAYS = 60
TIMES_OF_DAY = [
    dt.timedelta(0),  # midnight: the first instant of a day (and of a week on Mondays)
    dt.timedelta(days=1) - dt.timedelta(microseconds=1),  # the last instant of a day
    dt.timedelta(hours=12),
]


@st.composite
def instants(draw, low: int = 0, high: int = SPAN_DAYS) -> dt.datetime:
    """A local wall-clock time: a day in range, at midnight, at its last µs, or any time."""
    day = MONDAY + dt.timedelta(days=draw(st.integers(low, high)))
    if draw(st.booleans()):
        return day + draw(st.sampled_from(TIMES_OF_DAY))
    return day + dt.timedelta(microseconds=draw(st.integers(0, 86_400_000_000 - 1)))


@st.composite
def scenarios(draw) -> dict:
    """Orders (a few customers, guests, cancellations) and the arguments of one call."""
    n = draw(st.integers(1, 40))
    customers = draw(st.integers(1, 6))
    int_ids = draw(st.booleans())
    times = draw(st.lists(instants(), min_size=n, max_size=n))
    ids = draw(st.lists(st.integers(-1, customers - 1), min_size=n, max_size=n))
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": pd.array(
                [None if i < 0 else (i * 37 if int_ids else f"c{i:02d}") for i in ids],
                dtype="Int64" if int_ids else "str",
            ),
            "ordered_at": pd.Series(times, dtype="datetime64[us]"),
            "revenue": draw(
                st.lists(
                    st.sampled_from([0.0, 9.99, 100.0, 1234.56, 50.25]), min_size=n, max_size=n
                )
            ),
            "status": draw(
                st.lists(st.sampled_from(["completed"] * 4 + ["cancelled"]), min_size=n, max_size=n)
            ),
        }
    )

    def boundary(low: int, high: int):
        kind = draw(st.sampled_from(["date", "instant", "order"]))
        if kind == "date":
            return (MONDAY + dt.timedelta(days=draw(st.integers(low, high)))).date()
        if kind == "order":  # exactly the time of an order: inclusive cuts keep it
            return pd.Timestamp(draw(st.sampled_from(times)))
        return pd.Timestamp(draw(instants(low, high)))

    args: dict = {
        "period": draw(st.sampled_from(["D", "W"])),
        "time_unit": draw(st.sampled_from([1.0, 7.0])),
        "monetary": draw(st.booleans()),
        "timezone": draw(st.sampled_from(["UTC", "Asia/Bangkok", "Europe/Berlin"])),
    }
    aware = draw(st.booleans())
    if aware:  # the same wall-clock times, stored as UTC instants
        orders["ordered_at"] = (
            orders["ordered_at"].dt.tz_localize(args["timezone"], nonexistent="shift_forward",
                                                ambiguous=False).dt.tz_convert("UTC")
        )  # fmt: skip
    if draw(st.booleans()):
        args["calibration_end"] = boundary(0, SPAN_DAYS - 10)
        args["observation_end"] = boundary(SPAN_DAYS - 25, SPAN_DAYS + 5)
    else:
        args["observation_end"] = boundary(10, SPAN_DAYS + 5)  # may cut orders off
    return {"orders": orders, "args": args}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_random_orders_equal_lifetimes(scenario):
    orders, args = scenario["orders"], dict(scenario["args"])
    end = args.pop("observation_end")
    try:
        ref = reference(orders, end, **args)
    except ValueError:  # lifetimes: no order in the holdout
        assert "calibration_end" in args
        with pytest.raises(DataError):
            rfm_summary(orders, end, **args)
        return
    frame = orders if args["monetary"] else orders.drop(columns="revenue")
    kwargs = {k: v for k, v in args.items() if k != "monetary"}
    assert_same(rfm_summary(frame, end, **kwargs), ref)
    # the portable narwhals path (engines other than DuckDB), here on a PyArrow table
    portable = nw.from_native(pa.Table.from_pandas(frame, preserve_index=False)).lazy()
    assert_same(rfm_summary(portable, end, **kwargs), ref)


# --------------------------------------------------------------------------- quirks, by hand


def _orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": [r[0] for r in rows],
            "ordered_at": pd.to_datetime([r[1] for r in rows], format="ISO8601").astype(
                "datetime64[us]"
            ),
            "revenue": [r[2] for r in rows],
        }
    )


def test_hand_worked_weekly_quirks():
    """Weekly periods, a Wednesday observation end, and lifetimes' treatment of the first week.

    a: Mon 1 Jan 10 + Sun 7 Jan 5 (one week, 15), Mon 8 Jan 20, Thu 18 Jan 30.
    b: Thu 18 Jan 7 only. The end, Wed 17 Jan, lies in the week of Mon 15 Jan,
    so the Thursday orders count (period cut); T runs to Mon 15 Jan.
    """
    orders = _orders(
        [
            ("a", "2024-01-01 09:00", 10.0),
            ("a", "2024-01-07 23:59", 5.0),
            ("a", "2024-01-08 00:00", 20.0),
            ("a", "2024-01-18 08:00", 30.0),
            ("b", "2024-01-18 08:00", 7.0),
        ]
    )
    ours = rfm_summary(orders, dt.date(2024, 1, 17), period="W")
    expected = pd.DataFrame(
        {
            "frequency": [2.0, 0.0],
            "recency": [2.0, 0.0],
            "T": [2.0, 0.0],
            "monetary_value": [25.0, 0.0],  # (20 + 30) / 2: the first week's 15 is dropped
        },
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(ours, expected, check_index_type=False)
    assert_same(ours, reference(orders, dt.date(2024, 1, 17), period="W"))


def test_hand_worked_calibration_quirks():
    """Instant cuts with calibration; holdout counts periods, averages per order.

    Calibration ends Wed 10 Jan 12:00 (weekly periods). a's order at 11:00 is
    calibration, the one at 13:00 holdout although in the same week; c buys
    only in the holdout and is left out.
    """
    orders = _orders(
        [
            ("a", "2024-01-01 09:00", 10.0),
            ("a", "2024-01-10 11:00", 20.0),
            ("a", "2024-01-10 13:00", 40.0),
            ("a", "2024-01-11 13:00", 50.0),
            ("a", "2024-01-22 13:00", 60.0),
            ("b", "2024-01-09 00:00", 8.0),
            ("c", "2024-01-20 00:00", 9.0),
        ]
    )
    args = dict(calibration_end=pd.Timestamp("2024-01-10 12:00"), period="W")
    ours = rfm_summary(orders, dt.date(2024, 1, 31), **args)
    expected = pd.DataFrame(
        {
            "frequency_cal": [1.0, 0.0],
            "recency_cal": [1.0, 0.0],
            "T_cal": [1.0, 0.0],
            "monetary_value_cal": [20.0, 0.0],
            "frequency_holdout": [2.0, 0.0],  # the week of 8 Jan and that of 22 Jan
            "monetary_value_holdout": [50.0, 0.0],  # (40 + 50 + 60) / 3 orders
            "duration_holdout": [3.0, 3.0],  # week of 8 Jan to week of 29 Jan
        },
        index=pd.Index(["a", "b"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(ours, expected, check_index_type=False)
    assert_same(ours, reference(orders, dt.date(2024, 1, 31), **args))


# --------------------------------------------------------------------------- inputs


def test_warehouse_frame_equals_pandas_frame(tmp_path):
    """A warehouse LazyFrame (TIMESTAMPTZ on a Bangkok session) and the same orders in pandas."""
    rng = np.random.default_rng(7)
    n = 3000
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": [None if c < 0 else f"c{c}" for c in rng.integers(-20, 300, n)],
            "ordered_at": pd.Timestamp("2025-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 300 * 24 * 60, n), unit="min"),
            "revenue": rng.gamma(2.0, 150.0, n).round(2),
            "status": rng.choice(["completed", "completed", "cancelled", "refunded"], n),
        }
    )
    write_table(tmp_path, "orders", "shop", orders)
    wh = StoreWarehouse(tmp_path, "shop", "Asia/Bangkok")
    args = dict(calibration_end=dt.date(2025, 6, 30), timezone="Asia/Bangkok", period="W")
    from_warehouse = rfm_summary(wh.table("orders"), dt.date(2025, 10, 15), **args)
    from_pandas = rfm_summary(orders, dt.date(2025, 10, 15), **args)
    pd.testing.assert_frame_equal(from_warehouse, from_pandas)
    assert_same(from_warehouse, reference(orders, dt.date(2025, 10, 15), **args))
    # the clv notebook's call: a warehouse frame, a date, the store's zone
    daily = rfm_summary(wh.table("orders"), dt.date(2025, 10, 15), timezone="Asia/Bangkok")
    assert_same(daily, reference(orders, dt.date(2025, 10, 15), timezone="Asia/Bangkok"))


@pytest.mark.parametrize(
    ("zone", "start", "fast"),
    [
        ("Asia/Tokyo", "1947-06-01", True),  # daylight saving 1948-1951: offsets in a CASE
        ("Asia/Singapore", "1981-06-01", True),  # +07:30 to +08:00 on 1982-01-01
        ("Europe/Berlin", "2024-01-01", False),  # DST rule: the engine converts per row
    ],
)
def test_zone_offset_changes(zone, start, fast):
    """Local days across a zone's offset changes agree with pandas' tz_convert."""
    assert (utc_offsets(zone) is not None) is fast
    rng = np.random.default_rng(3)
    n = 4000
    orders = pd.DataFrame(
        {
            "customer_id": [f"c{c}" for c in rng.integers(0, 200, n)],
            "ordered_at": pd.Timestamp(start, tz="UTC")
            + pd.to_timedelta(rng.integers(0, 2 * 365 * 24 * 4, n) * 15, unit="min"),
            "revenue": rng.gamma(2.0, 50.0, n).round(2),
        }
    )
    end = (pd.Timestamp(start) + pd.Timedelta(days=2 * 365 + 5)).date()
    ours = rfm_summary(orders, end, timezone=zone)
    assert_same(ours, reference(orders, end, timezone=zone))


def test_nanosecond_and_date_columns():
    """datetime64[ns] columns (read at µs precision) and columns of dates."""
    orders = _orders(
        [
            ("a", "2024-01-01 23:59:59.999999", 1.0),
            ("a", "2024-01-02 00:00", 2.0),
            ("b", "2024-01-03 00:00", 3.0),
        ]
    )
    ref = reference(orders, dt.date(2024, 1, 5))
    assert ref.loc["a", "frequency"] == 1.0
    nanoseconds = orders.assign(ordered_at=orders["ordered_at"].astype("datetime64[ns]"))
    assert_same(rfm_summary(nanoseconds, dt.date(2024, 1, 5)), ref)
    dates = orders.assign(ordered_at=orders["ordered_at"].dt.date)
    assert_same(rfm_summary(dates, dt.date(2024, 1, 5)), ref)


def test_duckdb_relation_and_existing_call():
    """A DuckDB relation on a zoned connection (the clv notebook's positional call)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Bangkok'")
    orders = _orders([("a", "2024-01-01 20:00", 5.0), ("a", "2024-01-03 20:00", 7.0)])
    orders["ordered_at"] = orders["ordered_at"].dt.tz_localize("UTC")  # 03:00 next day in Bangkok
    rel = con.from_df(orders)
    for frame in (rel, nw.from_native(rel)):
        ours = rfm_summary(frame, dt.date(2024, 1, 10), timezone="Asia/Bangkok")
        assert ours.loc["a"].tolist() == [1.0, 2.0, 8.0, 7.0]


def test_errors():
    orders = _orders([("a", "2024-01-01", 1.0), ("a", "2024-01-09", 2.0)])
    with pytest.raises(DataError, match="customer_id"):
        rfm_summary(orders.drop(columns="customer_id"), dt.date(2024, 2, 1))
    with pytest.raises(DataError, match="revenue"):
        rfm_summary(orders.drop(columns="revenue"), dt.date(2024, 2, 1), monetary=True)
    with pytest.raises(DataError, match="not a datetime"):
        rfm_summary(orders.assign(ordered_at="2024-01-01"), dt.date(2024, 2, 1))
    with pytest.raises(DataError, match="not before"):
        rfm_summary(orders, dt.date(2024, 1, 5), calibration_end=dt.date(2024, 1, 5))
    with pytest.raises(DataError, match="holdout is empty"):
        rfm_summary(orders, dt.date(2024, 1, 30), calibration_end=dt.date(2024, 1, 20))
    with pytest.raises(ValueError, match="period"):
        rfm_summary(orders, dt.date(2024, 2, 1), period="M")  # type: ignore[arg-type]
    no_money = rfm_summary(orders, dt.date(2024, 2, 1), monetary=False)
    assert list(no_money.columns) == ["frequency", "recency", "T"]
