"""Tracking curve: against lifetimes' expected_cumulative_transactions and a hand-worked case."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import orders_frame, write_table

from analysis.clv import rfm_summary
from analysis.clv.tracking import daily_purchases, tracking_curve
from analysis.compat import import_lifetimes, quiet_lifetimes
from analysis.warehouse import StoreWarehouse

from .helpers import cdnow_orders


def test_daily_purchases_and_curve_by_hand(warehouse_dir):
    rows = [
        # a: first day 1 Jan; repeat days 3 Jan (two orders count once) and 9 Jan
        ("o1", "a", "2026-01-01 03:00:00", 1.0, "completed"),
        ("o2", "a", "2026-01-01 05:00:00", 1.0, "completed"),  # same day as the first
        ("o3", "a", "2026-01-03 03:00:00", 1.0, "completed"),
        ("o4", "a", "2026-01-03 04:00:00", 1.0, "completed"),
        ("o5", "a", "2026-01-09 03:00:00", 1.0, "completed"),
        # b: first day 2 Jan, a cancelled order on 4 Jan does not count
        ("o6", "b", "2026-01-02 03:00:00", 1.0, "completed"),
        ("o7", "b", "2026-01-04 03:00:00", 1.0, "cancelled"),
        # c: acquired 10 Jan, after acquired_until: neither first nor repeat counted
        ("o8", "c", "2026-01-10 03:00:00", 1.0, "completed"),
        ("o9", "c", "2026-01-11 03:00:00", 1.0, "completed"),
        ("o10", None, "2026-01-05 03:00:00", 1.0, "completed"),  # guest
    ]
    write_table(warehouse_dir, "orders", "shop", orders_frame(rows))
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    daily = daily_purchases(
        wh.table("orders"), "Asia/Bangkok", dt.date(2026, 1, 7), dt.date(2026, 1, 14)
    )
    assert daily.index[0] == pd.Timestamp("2026-01-01") and len(daily) == 14
    assert daily["first"].tolist() == [1, 1] + [0] * 12
    assert daily["repeat"].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]

    # A model that expects 0.1 repeat purchases a day: E[X(s)] = 0.1 s.
    curve = tracking_curve(
        daily, lambda s: 0.1 * s, step_days=7, calibration_end=dt.date(2026, 1, 7)
    )
    # Step 1 ends at day offset 7: a born at 0 -> 0.1 * 7, b born at 1 -> 0.1 * 6; total 1.3.
    # Step 2 ends at 14: 0.1 * 14 + 0.1 * 13 = 2.7. Actual: 1 (3 Jan), then 2 (with 9 Jan).
    np.testing.assert_allclose(curve["expected_cumulative"], [1.3, 2.7])
    np.testing.assert_allclose(curve["expected"], [1.3, 1.4])
    assert curve["actual_cumulative"].tolist() == [1.0, 2.0]
    assert curve["actual"].tolist() == [1.0, 1.0]
    assert curve["start"].dt.strftime("%m-%d").tolist() == ["01-01", "01-08"]
    assert curve["holdout"].tolist() == [False, True]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tracking_curve_equals_lifetimes_on_cdnow(warehouse_dir):
    """Same numbers as lifetimes.utils.expected_cumulative_transactions (weekly model units)."""
    lifetimes = import_lifetimes()
    orders = cdnow_orders("CDNOW_sample.txt")
    orders["ordered_at"] = orders["ordered_at"].dt.tz_localize("UTC")
    write_table(warehouse_dir, "orders", "cdnow", orders)
    end = dt.date(1998, 6, 30)
    wh = StoreWarehouse(warehouse_dir, "cdnow", "UTC")
    summary = rfm_summary(wh.table("orders"), end, time_unit=7.0, timezone="UTC")
    with quiet_lifetimes():
        model = lifetimes.BetaGeoFitter(penalizer_coef=0.0)
        model.fit(summary["frequency"], summary["recency"], summary["T"])
        daily = daily_purchases(wh.table("orders"), "UTC", end, end)
        ours = tracking_curve(
            daily, model.expected_number_of_purchases_up_to_time, step_days=7, time_unit=7.0
        )
        transactions = pd.DataFrame(
            {"id": orders["customer_id"], "date": orders["ordered_at"].dt.tz_localize(None)}
        )
        theirs = lifetimes.utils.expected_cumulative_transactions(
            model, transactions, "date", "id", t=len(daily), freq="D", freq_multiplier=7
        )
    assert len(ours) == len(theirs) == len(daily) // 7 == 78
    np.testing.assert_allclose(ours["expected_cumulative"], theirs["predicted"], rtol=1e-9)
    np.testing.assert_allclose(ours["actual_cumulative"], theirs["actual"], rtol=0)
