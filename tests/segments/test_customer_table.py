"""The page's one-query customer table equals the section's functions run one by one."""

import numpy as np
import pandas as pd
import pytest

from analysis import DEFAULT_SEED
from analysis.calendar import report_periods
from analysis.config import default_params
from analysis.segments.base import customer_base
from analysis.segments.buckets import bucket_flags
from analysis.segments.customer_table import customer_table
from analysis.segments.rfm import rfm_scores
from analysis.segments.value import customer_profile
from analysis.warehouse import StoreWarehouse

STORE, MONTH, ZONE = "demo-bangkok", "2026-09", "Asia/Bangkok"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from analysis.demo import write_demo

    root = tmp_path_factory.mktemp("customer-table")
    write_demo(root, stores=[STORE], customers=1200, seed=DEFAULT_SEED)
    wh = StoreWarehouse(root, STORE, ZONE)
    end = report_periods(MONTH, ZONE)[0].end
    tables = {t: wh.table(t, end=end) for t in ("customers", "surveys", "carts", "campaigns")}
    return wh, end, tables


def _table(store, p_alive=None):
    wh, end, tables = store
    params = default_params().segments
    orders = wh.table("orders", end=end)
    base = wh.persist(customer_base(orders, end, params.rfm_window_days))
    return customer_table(orders, end, params, 2026, base=base, p_alive=p_alive, **tables)


def test_scores_buckets_and_profile_equal_the_functions_one_by_one(store):
    wh, end, tables = store
    params = default_params().segments
    orders = wh.table("orders", end=end)
    table = _table(store)
    pd.testing.assert_frame_equal(table.rfm, rfm_scores(orders, end, params.rfm_window_days))
    flags = bucket_flags(
        orders, end, params, **{k: tables[k] for k in ("surveys", "carts", "campaigns")}
    )
    pd.testing.assert_frame_equal(table.flags.flags, flags.flags)
    assert (table.flags.unavailable, table.flags.notes) == (flags.unavailable, flags.notes)
    alone = customer_profile(tables["customers"], tables["campaigns"], end, 365, 2026)
    for column in ("acquisition_channel", "age_band", "sends", "converted"):
        want = alone.frame[column].reindex(table.window.index)
        if column in ("sends", "converted"):
            want = want.fillna(0).astype(np.int64)  # a customer without a send: 0
        assert table.profile.frame[column].tolist() == want.tolist(), column
    assert table.profile.mix_columns == alone.mix_columns
    # window figures: the scored customers' own, 0 for the rest; segments only where scored
    scored = table.rfm.set_index("customer_id")
    window = table.window
    assert window.loc[scored.index, "monetary"].tolist() == scored["monetary"].tolist()
    rest = window.drop(index=scored.index)
    assert (rest["frequency"] == 0).all() and rest["segment"].isna().all() and len(rest) > 0


def test_every_frame_shares_one_index_and_p_alive_marks_at_risk(store):
    table = _table(store)
    assert table.flags.flags.index is table.window.index
    assert table.profile.frame.index is table.window.index
    assert table.window.index.is_monotonic_increasing and table.window.index.is_unique
    # P(alive) below the threshold puts a customer who is not inactive at risk
    flags = table.flags.flags
    target = flags.index[~flags["inactive"] & ~flags["at_risk"]][:5]
    p_alive = pd.Series(0.01, index=target)
    with_p = _table(store, p_alive).flags
    assert with_p.flags.loc[target, "at_risk"].all()
    assert int(with_p.flags["at_risk"].sum()) == int(flags["at_risk"].sum()) + len(target)
    assert "at_risk" not in with_p.notes and "at_risk" in table.flags.notes
