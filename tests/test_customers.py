"""Customers in one place: the customer-order filter, firsts (both engines' ways), periods."""

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import orders_frame, write_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import customers
from analysis.customers import customer_firsts, customer_orders, customer_periods
from analysis.warehouse import StoreWarehouse

BKK = "Asia/Bangkok"


def test_customer_orders_are_completed_and_registered(warehouse_dir):
    frame = orders_frame(
        [
            ("o1", "a", "2026-01-05 03:00:00", 10.0, "completed"),
            ("o2", "a", "2026-01-06 03:00:00", 20.0, "cancelled"),
            ("o3", None, "2026-01-07 03:00:00", 30.0, "completed"),  # guest
            ("o4", "b", "2026-01-08 03:00:00", 40.0, "refunded"),
            ("o5", "b", "2026-01-09 03:00:00", 50.0, "completed"),
        ]
    )
    write_table(warehouse_dir, "orders", "shop", frame)
    wh = StoreWarehouse(warehouse_dir, "shop", BKK)
    orders = wh.table("orders")
    got = customer_orders(orders).select("order_id").sort("order_id").collect()
    assert got["order_id"].to_list() == ["o1", "o5"]
    schema = orders.collect_schema()
    again = customer_orders(orders, schema).select("order_id").sort("order_id").collect()
    assert again["order_id"].to_list() == ["o1", "o5"]


def test_orders_without_status_are_all_completed(warehouse_dir):
    frame = orders_frame([("o1", "a", "2026-01-05 03:00:00", 10.0, "completed")]).drop(
        columns="status"
    )
    frame = pd.concat([frame, frame.assign(order_id="o2", customer_id=None)], ignore_index=True)
    write_table(warehouse_dir, "orders", "shop", frame)
    wh = StoreWarehouse(warehouse_dir, "shop", BKK)
    got = customer_orders(wh.table("orders")).select("order_id").collect()
    assert got["order_id"].to_list() == ["o1"]


@pytest.mark.parametrize(
    ("grain", "want"),
    [
        # months 2026-01 = 24,300 and 2026-02 = 24,301 (months since 0001-01)
        ("month", [("a", 24_300, 30.0, 2), ("a", 24_301, 5.0, 1), ("b", 24_301, 7.0, 1)]),
        # Mon 2026-01-26 = week 105,663; Mon 2026-02-02 = week 105,664
        ("week", [("a", 105_663, 35.0, 3), ("b", 105_663, 7.0, 1)]),
    ],
)
def test_customer_periods_by_hand(warehouse_dir, grain, want):
    frame = orders_frame(
        [
            ("o1", "a", "2026-01-26 03:00:00", 10.0, "completed"),  # Mon 26 Jan, Bangkok
            ("o2", "a", "2026-01-30 03:00:00", 20.0, "completed"),  # Fri 30 Jan
            ("o3", "a", "2026-01-31 17:30:00", 5.0, "completed"),  # Sun 1 Feb 00:30 Bangkok
            ("o4", "b", "2026-02-01 10:00:00", 7.0, "completed"),  # Sun 1 Feb
            ("o5", "b", "2026-02-03 10:00:00", 9.0, "cancelled"),
            ("o6", None, "2026-02-03 10:00:00", 9.0, "completed"),
        ]
    )
    write_table(warehouse_dir, "orders", "shop", frame)
    wh = StoreWarehouse(warehouse_dir, "shop", BKK)
    got = (
        customer_periods(wh.table("orders"), BKK, grain)
        .sort("customer_id", "index")
        .collect()
        .to_pandas()
    )
    assert list(got.itertuples(index=False, name=None)) == want


FIRSTS_ROWS = [
    # a: two orders at the same first instant (second == first); the discounted one is at it.
    ("f1", "a", "2026-01-05 03:00:00", 10.0, "completed", 0.0),
    ("f2", "a", "2026-01-05 03:00:00", 10.0, "completed", 5.0),
    ("f3", "a", "2026-01-09 03:00:00", 10.0, "completed", 0.0),
    # b: a cancelled earlier order is not the first; the second is 2 days later
    ("f4", "b", "2026-01-01 03:00:00", 10.0, "cancelled", 9.0),
    ("f5", "b", "2026-01-02 03:00:00", 10.0, "completed", 0.0),
    ("f6", "b", "2026-01-04 03:00:00", 10.0, "completed", 3.0),
    # c: one order, no discount value
    ("f7", "c", "2026-02-01 03:00:00", 10.0, "completed", None),
    ("f8", None, "2026-01-01 03:00:00", 10.0, "completed", 1.0),  # guest
]


def _firsts_both_ways(root: Path, tz: str = BKK) -> tuple[pd.DataFrame, pd.DataFrame]:
    wh = StoreWarehouse(root, "shop", tz)
    done = customer_orders(wh.table("orders"))
    has_discount = "discount" in wh.table("orders").collect_schema()
    out = []
    for fn in (customers._customer_firsts_duckdb, customers._customer_firsts_portable):
        frame = fn(done, has_discount).collect().to_pandas()
        out.append(frame.sort_values("customer_id").reset_index(drop=True))
    wh.connection.close()
    return out[0], out[1]


def test_customer_firsts_by_hand(warehouse_dir):
    frame = orders_frame([r[:5] for r in FIRSTS_ROWS])
    frame["discount"] = [r[5] for r in FIRSTS_ROWS]
    write_table(warehouse_dir, "orders", "shop", frame)
    fast, portable = _firsts_both_ways(warehouse_dir)
    for got in (fast, portable):
        assert got["customer_id"].tolist() == ["a", "b", "c"]
        first = got["first_at"].dt.tz_convert("UTC").dt.strftime("%m-%d %H")
        second = got["second_at"].dt.tz_convert("UTC").dt.strftime("%m-%d %H")
        assert first.tolist() == ["01-05 03", "01-02 03", "02-01 03"]
        assert second.tolist()[:2] == ["01-05 03", "01-04 03"] and pd.isna(second.iloc[2])
        assert got["first_discount"].tolist() == [True, False, False]
        last = got["last_at"].dt.tz_convert("UTC").dt.strftime("%m-%d %H")
        assert last.tolist() == ["01-09 03", "01-04 03", "02-01 03"]
        assert got["days_to_second"].tolist()[:2] == [0.0, 2.0]
        assert pd.isna(got["days_to_second"].iloc[2])
    wh = StoreWarehouse(warehouse_dir, "shop", BKK)
    firsts = customer_firsts(wh.table("orders"), BKK)
    cohort = firsts.collect().to_pandas()
    assert sorted(cohort["cohort"].tolist()) == [2025 * 12, 2025 * 12, 2025 * 12 + 1]
    # Activity bitmaps (DuckDB): one per 64 periods from the first month of any order
    # (2026-01, index 24300); a and b were active in January (bit 0), c in February (bit 1).
    bits = cohort.set_index("customer_id")["__active_24300"].sort_index()
    assert bits.tolist() == [1, 1, 2]


_firsts_orders = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", None]),
        st.integers(0, 20),  # hours: small range, so ties are common
        st.sampled_from(["completed", "completed", "cancelled"]),
        st.sampled_from([0.0, 2.5, None]),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_firsts_orders, with_discount=st.booleans())
def test_customer_firsts_fast_path_equals_portable(rows, with_discount):
    t0 = pd.Timestamp("2026-03-01", tz="UTC")
    frame = orders_frame(
        [
            (f"o{i}", c, (t0 + pd.Timedelta(hours=h)).isoformat(), 1.0, s)
            for i, (c, h, s, _) in enumerate(rows)
        ]
    )
    if with_discount:
        frame["discount"] = [d for *_, d in rows]
    with tempfile.TemporaryDirectory() as tmp:
        write_table(Path(tmp), "orders", "shop", frame)
        fast, portable = _firsts_both_ways(Path(tmp))
    pd.testing.assert_frame_equal(fast, portable, check_dtype=False)
