import pytest
from conftest import orders_frame, write_table

from analysis.kpis import monthly_summary
from analysis.warehouse import StoreWarehouse

ROWS = [
    # January (Bangkok): c1 twice (once at 23:30 on the 31st), c2 once, a guest, a cancellation
    ("o1", "c1", "2026-01-05 03:00:00", 100.0, "completed"),
    ("o2", "c1", "2026-01-31 16:30:00", 50.0, "completed"),  # 23:30 Bangkok, still January
    ("o3", "c2", "2026-01-10 03:00:00", 30.0, "completed"),
    ("o4", None, "2026-01-11 03:00:00", 20.0, "completed"),  # guest
    ("o5", "c3", "2026-01-12 03:00:00", 70.0, "cancelled"),  # c3 has only a cancelled order
    # February: 00:30 Bangkok on the 1st, and a refund
    ("o6", "c2", "2026-01-31 17:30:00", 40.0, "completed"),
    ("o7", "c1", "2026-02-10 03:00:00", 25.0, "refunded"),
    # April: one order; March has none
    ("o8", "c1", "2026-04-01 03:00:00", 10.0, "completed"),
]


@pytest.fixture
def summary(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", orders_frame(ROWS))
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    out = monthly_summary(wh.table("orders"), "Asia/Bangkok").collect().to_pandas()
    return out.set_index(out["month"].dt.strftime("%Y-%m"))


def test_january_by_hand(summary):
    jan = summary.loc["2026-01"]
    assert jan["revenue"] == 200.0  # 100 + 50 + 30 + 20 (guest); the cancelled 70 excluded
    assert jan["orders"] == 4
    assert jan["aov"] == 50.0
    assert jan["active_customers"] == 2  # c1, c2; not the guest, not c3 (cancelled only)
    assert jan["purchase_frequency"] == 1.5  # 3 registered orders / 2 customers
    assert jan["cancelled_orders"] == 1 and jan["cancelled_value"] == 70.0


def test_february_refund_and_boundary(summary):
    feb = summary.loc["2026-02"]
    assert feb["revenue"] == 40.0 and feb["orders"] == 1  # o6 at 00:30 Bangkok on 1 Feb
    assert feb["refunded_orders"] == 1 and feb["refunded_value"] == 25.0


def test_month_without_orders_is_absent(summary):
    assert list(summary.index) == ["2026-01", "2026-02", "2026-04"]
