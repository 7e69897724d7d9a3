import datetime as dt

import duckdb
import narwhals as nw
import pandas as pd

from analysis.experiments.outcomes import arm_summary, experiment_outcomes, latest_experiment


def lazy(df: pd.DataFrame) -> nw.LazyFrame:
    return nw.from_native(duckdb.from_df(df))


def test_arms_by_hand():
    experiments = lazy(
        pd.DataFrame(
            {
                "experiment_id": ["old", "x", "x", "x", "x"],
                "customer_id": ["a", "a", "b", "c", "d"],
                "store_id": "s",
                "variant": ["invitation", "invitation", "invitation", "holdout", "holdout"],
                "assigned_at": pd.to_datetime(["2025-01-01"] + ["2026-01-01"] * 4, utc=True),
            }
        )
    )
    orders = lazy(
        pd.DataFrame(
            {
                "order_id": list("123456"),
                "store_id": "s",
                "customer_id": ["a", "a", "b", "c", "c", "d"],
                "ordered_at": pd.to_datetime(
                    [
                        "2025-12-31",
                        "2026-01-05",
                        "2026-03-01",
                        "2026-01-02",
                        "2026-02-02",
                        "2026-04-01",
                    ],
                    utc=True,
                ),
                "revenue": [1000.0, 100.0, 50.0, 30.0, 20.0, 999.0],
                "status": [
                    "completed",
                    "completed",
                    "completed",
                    "completed",
                    "refunded",
                    "completed",
                ],
            }
        )
    )
    assert latest_experiment(experiments) == "x"
    end = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    arms = (
        arm_summary(experiment_outcomes(experiments, orders, "x", end))
        .collect()
        .to_pandas()
        .set_index("variant")
    )
    # a's pre-assignment order and d's order after `end` are outside the window; c's refund is not revenue.
    assert arms.loc["invitation", "revenue_per_customer"] == 75.0  # (100 + 50) / 2
    assert arms.loc["holdout", "revenue_per_customer"] == 15.0  # (30 + 0) / 2
    assert arms.loc["holdout", "buyer_rate"] == 0.5
