import datetime as dt

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pytest

from analysis.clv import rfm_summary
from analysis.compat import import_lifetimes


def random_orders(seed: int, n: int = 4000, customers: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "store_id": "shop",
            "customer_id": [f"c{i}" for i in rng.integers(0, customers, n)],
            "ordered_at": pd.Timestamp("2025-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 400 * 24 * 60, n), unit="min"),
            "revenue": rng.gamma(2.0, 150.0, n).round(2),
            "status": rng.choice(["completed", "completed", "completed", "cancelled"], n),
        }
    )


@pytest.mark.parametrize(("seed", "tz", "unit"), [(1, "Asia/Bangkok", 1.0), (2, "UTC", 7.0)])
def test_rfm_summary_equals_lifetimes(seed, tz, unit):
    import_lifetimes()
    from lifetimes.utils import summary_data_from_transaction_data

    orders = random_orders(seed)
    end = dt.date(2026, 1, 15)  # orders after this day are ignored by both
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{tz}'")
    ours = rfm_summary(nw.from_native(con.from_df(orders)), end, timezone=tz, time_unit=unit)

    done = orders[orders["status"] == "completed"].copy()
    done["local"] = done["ordered_at"].dt.tz_convert(tz).dt.tz_localize(None)
    ref = summary_data_from_transaction_data(
        done, "customer_id", "local", monetary_value_col="revenue",
        observation_period_end=pd.Timestamp(end), freq="D", freq_multiplier=unit,
    ).sort_index()  # fmt: skip
    assert list(ours.index) == list(ref.index)
    np.testing.assert_allclose(ours[ref.columns].to_numpy(), ref.to_numpy(), rtol=0, atol=1e-9)
