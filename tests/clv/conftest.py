"""Fixtures shared by the CLV tests: one demo warehouse written once per session."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.clv import rfm_summary

DEMO_STORE, DEMO_TZ = "demo-bangkok", "Asia/Bangkok"
DEMO_CUSTOMERS, DEMO_SEED = 20_000, 11
DEMO_HOLDOUT_DAYS = 180


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> SimpleNamespace:
    """A 20,000-customer ``demo-bangkok`` warehouse (about 1 s to write) and its summaries.

    Attributes: ``root`` (warehouse folder), ``store``, ``tz``, ``truth`` (the
    store's planted truth from ``_truth.json``), ``done`` (completed orders of
    registered customers, pandas, for independent checks), ``end`` (last local
    day of the history), ``calibration_end`` (``end`` - ``holdout_days``),
    ``full`` (daily summary at ``end``) and ``cal_holdout``.
    """
    from analysis.demo import write_demo
    from analysis.warehouse import StoreWarehouse

    root = tmp_path_factory.mktemp("clv-demo")
    truth = write_demo(root, stores=[DEMO_STORE], customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
    truth = truth[DEMO_STORE]
    wh = StoreWarehouse(root, DEMO_STORE, DEMO_TZ)
    end = dt.date.fromisoformat(truth["history"]["end_local_exclusive"]) - dt.timedelta(days=1)
    calibration_end = end - dt.timedelta(days=DEMO_HOLDOUT_DAYS)
    orders = wh.table("orders")
    raw = pd.read_parquet(root / "orders" / f"{DEMO_STORE}.parquet")
    return SimpleNamespace(
        root=root,
        store=DEMO_STORE,
        tz=DEMO_TZ,
        customers=DEMO_CUSTOMERS,
        holdout_days=DEMO_HOLDOUT_DAYS,
        truth=truth,
        done=raw[(raw["status"] == "completed") & raw["customer_id"].notna()],
        end=end,
        calibration_end=calibration_end,
        full=rfm_summary(orders, end, timezone=DEMO_TZ),
        cal_holdout=rfm_summary(orders, end, timezone=DEMO_TZ, calibration_end=calibration_end),
    )
