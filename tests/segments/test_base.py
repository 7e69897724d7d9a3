"""The per-customer base of the segments page, by hand."""

import datetime as dt
from zoneinfo import ZoneInfo

import duckdb
import narwhals as nw
import pandas as pd
import pytest
from conftest import orders_frame

from analysis.frames import epoch_microseconds_of
from analysis.segments.base import customer_base, window_base, window_columns

AS_OF = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
EARLIER = AS_OF - dt.timedelta(days=31)


def _lazy(frame: pd.DataFrame) -> nw.LazyFrame:
    frame = frame.assign(ordered_at=pd.to_datetime(frame["ordered_at"], utc=True))
    return nw.from_native(duckdb.from_df(frame))


def _at(days_before: float, hours: float = 0) -> str:
    return str(AS_OF - dt.timedelta(days=days_before, hours=hours))


def _orders() -> pd.DataFrame:
    frame = orders_frame(
        [
            # a: 400 days ago (outside both 365-day windows), 40 days (both), 2 days + 1 h (now only)
            ("o1", "a", _at(400), 10.0, "completed"),
            ("o2", "a", _at(40), 20.125, "completed"),  # 2012.5 satang: rounds away from 0
            ("o3", "a", _at(2, 1), 30.0, "completed"),
            # b: one order exactly 365 days before AS_OF (in now's window, its first instant;
            # in the earlier one too) and one at AS_OF itself (excluded: windows end before)
            ("o4", "b", _at(365), 5.0, "completed"),
            ("o5", "b", str(AS_OF), 99.0, "completed"),
            # c: refunded and cancelled orders are not customer orders; a guest has no id
            ("o6", "c", _at(10), 50.0, "refunded"),
            ("o7", None, _at(10), 70.0, "completed"),
            # d: only before the earlier window and far back
            ("o8", "d", _at(700), 8.0, "completed"),
        ]
    )
    frame["discount"] = [0.0, 2.0, None, 1.0, 0.0, 0.0, 0.0, 0.0]
    return frame


def test_customer_base_by_hand():
    base = customer_base(_lazy(_orders()), AS_OF, 365, earlier=[EARLIER])
    got = base.collect().to_pandas().set_index("customer_id").sort_index()
    assert list(got.index) == ["a", "b", "d"]  # c has no completed order, guests no id
    r, n, m = window_columns("window")
    r0, n0, m0 = window_columns(0)
    a, b, d = got.loc["a"], got.loc["b"], got.loc["d"]
    assert (a["n_orders"], a[n], a[n0]) == (3, 2, 1)  # o2, o3 now; o2 31 days earlier
    assert (a[m], a[m0]) == (2013 + 3000, 2013)  # satang, each order rounded first
    assert a[r] == 2  # 2 days and 1 hour: whole days, floored
    assert a[r0] == 9  # o2 was 40 - 31 = 9 days before the earlier window's end
    assert a["first_us"] == epoch_microseconds_of(AS_OF - dt.timedelta(days=400))
    assert a["last_us"] == epoch_microseconds_of(AS_OF - dt.timedelta(days=2, hours=1))
    assert a["discounted"] == 1  # o2 (o3's discount is missing: not discounted)
    assert (b["n_orders"], b[n], b[r], b["discounted"]) == (1, 1, 365, 1)  # o5 is at AS_OF
    assert (b[n0], b[r0], b[m0]) == (1, 365 - 31, 500)
    assert (d[n], d[m]) == (0, 0) and pd.isna(d[r])
    assert all(str(got[c].dtype) == "int64" for c in (n, m, n0, m0, "n_orders", "first_us"))


def test_customer_base_without_a_discount_column_and_with_a_later_earlier_date():
    orders = _lazy(_orders().drop(columns="discount"))
    assert "discounted" not in customer_base(orders, AS_OF, 365).collect_schema().names()
    with pytest.raises(ValueError, match="at or before as_of"):
        customer_base(orders, AS_OF, 365, earlier=[AS_OF + dt.timedelta(days=1)])


def test_recency_is_elapsed_days_across_a_daylight_saving_change():
    # New York: 1998-03-01 00:00 EST to 1998-07-01 00:00 EDT is 122 days less the hour
    # the clocks went forward, so 121 whole 24-hour days (the documented rule).
    zone = ZoneInfo("America/New_York")
    as_of = dt.datetime(1998, 7, 1, tzinfo=zone)
    orders = orders_frame(
        [("o1", "a", str(dt.datetime(1998, 3, 1, tzinfo=zone)), 1.0, "completed")]
    )
    got = customer_base(_lazy(orders), as_of, 365).collect().to_pandas()
    assert got[window_columns("window")[0]].tolist() == [121]


def test_window_base_by_hand_equals_the_bases_window_columns():
    got = window_base(_lazy(_orders()), AS_OF, 365).collect().to_pandas()
    got = got.set_index("customer_id").sort_index()
    r, n, m = window_columns("window")
    assert list(got.columns) == [r, n, m]
    # a: o2 and o3 (o1 is 400 days back); b: o4, exactly 365 days back (o5 is at AS_OF);
    # c refunded, d only before the window, the guest has no id
    assert got.to_dict("index") == {
        "a": {r: 2, n: 2, m: 2013 + 3000},
        "b": {r: 365, n: 1, m: 500},
    }
    assert all(str(got[c].dtype) == "int64" for c in (r, n, m))
    full = customer_base(_lazy(_orders()), AS_OF, 365).collect().to_pandas()
    full = full.set_index("customer_id").loc[got.index, [r, n, m]]
    pd.testing.assert_frame_equal(got, full, check_dtype=False)  # its recency has nulls (d)
