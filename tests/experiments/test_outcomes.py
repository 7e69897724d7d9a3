"""Each assigned customer's outcomes, on hand-built tables: every window edge and metric by hand."""

import datetime as dt

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pytest

from analysis.experiments.outcomes import (
    bucket_sums,
    customer_outcomes,
    latest_experiment,
    metric_sums,
    revenue_caps,
)


def lazy(df: pd.DataFrame) -> nw.LazyFrame:
    return nw.from_native(duckdb.from_df(df))


EXPERIMENTS = pd.DataFrame(
    {
        "experiment_id": ["old", "x", "x", "x", "x", "x", "x", "x", "x"],
        "customer_id": ["a", "a", "b", "c", "d", "e", "e", "f", "f"],
        "store_id": "s",
        "variant": [
            "invitation",
            "invitation",
            "invitation",
            "holdout",
            "holdout",
            "holdout",
            "invitation",
            "holdout",
            "holdout",
        ],  # fmt: skip
        "assigned_at": pd.to_datetime(
            ["2025-01-01"] + ["2026-01-01"] * 6 + ["2026-01-01", "2026-02-01"], utc=True
        ),
    }
)
ORDERS = pd.DataFrame(
    {
        "order_id": [str(i) for i in range(10)],
        "store_id": "s",
        "customer_id": ["a", "a", "b", "c", "c", "d", "e", "f", "f", None],
        "ordered_at": pd.to_datetime(
            [
                "2025-12-31",
                "2026-01-05",
                "2026-03-01",
                "2026-01-02",
                "2026-02-02",
                "2026-04-01",
                "2026-01-03",
                "2025-09-01",
                "2026-01-20",
                "2026-01-10",
            ],  # fmt: skip
            utc=True,
        ),
        "revenue": [1000.0, 100.0, 50.0, 30.0, 20.0, 999.0, 5.0, 70.0, 40.0, 300.0],
        "status": ["completed"] * 4 + ["refunded"] + ["completed"] * 5,
    }
)
END = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)


def outcomes(retention_days: int = 30) -> pd.DataFrame:
    frame = customer_outcomes(lazy(EXPERIMENTS), lazy(ORDERS), "x", END, retention_days)
    return frame.collect().to_pandas().set_index("customer_id").sort_index()


def test_latest_experiment_is_the_one_assigned_last():
    assert latest_experiment(lazy(EXPERIMENTS)) == "x"


def test_outcomes_by_hand():
    out = outcomes()
    # e is listed under two variants: left out; f is listed twice in one: first assignment kept.
    assert list(out.index) == ["a", "b", "c", "d", "f"]
    assert out.loc["f", "assigned_at"] == pd.Timestamp("2026-01-01", tz="UTC")
    assert dict(out["variant"]) == {
        "a": "invitation", "b": "invitation", "c": "holdout", "d": "holdout", "f": "holdout",
    }  # fmt: skip
    # window [2026-01-01, 2026-03-31): 89 days; the pre-window is the 89 days before: from 2025-10-03
    assert dict(out["revenue"]) == {"a": 100.0, "b": 50.0, "c": 30.0, "d": 0.0, "f": 40.0}
    assert dict(out["orders"]) == {"a": 1, "b": 1, "c": 1, "d": 0, "f": 1}
    # a's 2025-12-31 order is pre; f's 2025-09-01 order is before the pre-window
    assert dict(out["revenue_pre"]) == {"a": 1000.0, "b": 0.0, "c": 0.0, "d": 0.0, "f": 0.0}
    assert dict(out["orders_pre"]) == {"a": 1, "b": 0, "c": 0, "d": 0, "f": 0}
    # repeat: an order in the window that is not the customer's first ever
    assert dict(out["repeat"]) == {"a": 1, "b": 0, "c": 0, "d": 0, "f": 1}
    assert dict(out["repeat_pre"]) == {"a": 0, "b": 0, "c": 0, "d": 0, "f": 0}
    # retained within 30 days of 2026-01-01: a (01-05), c (01-02), f (01-20); b's order is later
    assert dict(out["retained"]) == {"a": 1, "b": 0, "c": 1, "d": 0, "f": 1}
    assert dict(out["retained_pre"]) == {"a": 1, "b": 0, "c": 0, "d": 0, "f": 0}


def test_retention_is_unknown_until_its_window_has_passed():
    out = outcomes(retention_days=90)  # 2026-01-01 + 90 days = 2026-04-01, after the end
    assert out["retained"].isna().all()
    sums = metric_sums(customer_outcomes(lazy(EXPERIMENTS), lazy(ORDERS), "x", END, 90), 1e9, 1e9)
    assert list(sums["retained_n"]) == [0.0, 0.0]


def test_metric_sums_by_hand():
    lf = customer_outcomes(lazy(EXPERIMENTS), lazy(ORDERS), "x", END, 30)
    sums = metric_sums(lf, 60.0, 500.0).set_index("variant")
    hold, inv = sums.loc["holdout"], sums.loc["invitation"]
    assert hold["customers"] == 3 and inv["customers"] == 2
    # revenue capped at 60: invitation a 100 -> 60, b 50; covariate capped at 500: a 1000 -> 500
    assert inv["revenue_raw"] == 150.0 and inv["revenue_y"] == 110.0 and inv["capped"] == 1
    assert inv["revenue_y2"] == 60.0**2 + 50.0**2
    assert inv["revenue_x"] == 500.0 and inv["revenue_x2"] == 500.0**2
    assert inv["revenue_xy"] == 60.0 * 500.0
    assert hold["revenue_y"] == 70.0 and hold["revenue_y2"] == 30.0**2 + 40.0**2
    assert hold["orders_y"] == 2.0 and hold["repeat_y"] == 1.0 and hold["retained_y"] == 2.0


def test_caps_interpolate_between_customers():
    lf = customer_outcomes(lazy(EXPERIMENTS), lazy(ORDERS), "x", END, 30)
    cap, pre_cap = revenue_caps(lf, 50.0)
    assert cap == 40.0  # median of 0, 30, 40, 50, 100
    assert pre_cap == 0.0
    assert revenue_caps(lf, 100.0) == (100.0, 1000.0)
    assert revenue_caps(lf, 90.0)[0] == pytest.approx(50.0 + 0.6 * 50.0)


def test_bucket_sums_deal_customers_in_id_order():
    lf = customer_outcomes(lazy(EXPERIMENTS), lazy(ORDERS), "x", END, 30)
    buckets = bucket_sums(lf, "revenue", 1e9, buckets=2)
    # ids in order a, b, c, d, f -> rows 1..5 -> buckets 1, 0, 1, 0, 1
    n, total = buckets["invitation"]  # a (bucket 1), b (bucket 0)
    assert list(n) == [1, 1] and list(total) == [50.0, 100.0]
    n, total = buckets["holdout"]  # c (1), d (0), f (1)
    assert list(n) == [1, 2] and list(total) == [0.0, 70.0]
    one_each = bucket_sums(lf, "orders", 1e9)
    assert np.array_equal(one_each["holdout"][0], [1, 1, 1])
