import numpy as np
import pandas as pd
from conftest import orders_frame, write_table

from analysis.cohorts import cohort_activity, customer_periods, retention_matrix
from analysis.warehouse import StoreWarehouse

ROWS = [
    ("o1", "a", "2026-01-05 03:00:00", 10.0, "completed"),
    ("o2", "a", "2026-02-05 03:00:00", 10.0, "completed"),
    ("o3", "b", "2026-01-31 17:30:00", 10.0, "completed"),  # 00:30 1 Feb Bangkok: February cohort
    (
        "o4",
        "c",
        "2026-01-20 03:00:00",
        10.0,
        "cancelled",
    ),  # cancelled first order: not acquired in Jan
    ("o5", "c", "2026-03-02 03:00:00", 10.0, "completed"),  # c's cohort is March
    ("o6", None, "2026-01-07 03:00:00", 10.0, "completed"),  # guest: no cohort
    ("o7", "d", "2026-01-09 03:00:00", 10.0, "completed"),
    ("o8", "a", "2026-03-09 03:00:00", 10.0, "completed"),
    ("o9", "b", "2026-03-10 03:00:00", 10.0, "completed"),
]


def test_retention_matrix_by_hand(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", orders_frame(ROWS))
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    activity = (
        cohort_activity(customer_periods(wh.table("orders"), "Asia/Bangkok")).collect().to_pandas()
    )
    m = retention_matrix(activity)
    m.index = m.index.strftime("%Y-%m")
    assert m["size"].to_dict() == {"2026-01": 2, "2026-02": 1, "2026-03": 1}
    # January cohort {a, d}: a active in Feb and Mar, d never again.
    assert m.loc["2026-01", [0, 1, 2]].tolist() == [1.0, 0.5, 0.5]
    # February cohort {b}: b skips nothing in March (k=1); k=2 is in the future -> NaN.
    assert m.loc["2026-02", 1] == 1.0 and np.isnan(m.loc["2026-02", 2])
    assert m.loc["2026-03", 0] == 1.0 and np.isnan(m.loc["2026-03", 1])


def test_cohort_with_gap_month_is_zero_not_missing(warehouse_dir):
    rows = [
        ("o1", "a", "2026-01-05 03:00:00", 1.0, "completed"),
        ("o2", "a", "2026-03-05 03:00:00", 1.0, "completed"),
    ]
    write_table(warehouse_dir, "orders", "shop", orders_frame(rows))
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    activity = (
        cohort_activity(customer_periods(wh.table("orders"), "Asia/Bangkok")).collect().to_pandas()
    )
    m = retention_matrix(activity)
    assert m.iloc[0][[0, 1, 2]].tolist() == [1.0, 0.0, 1.0]
    assert isinstance(m.index[0], pd.Timestamp)
