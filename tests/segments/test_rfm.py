import datetime as dt

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pytest

from analysis.segments.rfm import ntile, rfm_table


@pytest.mark.parametrize("n_rows", [1, 4, 5, 7, 23, 100])
def test_ntile_matches_sql_semantics(n_rows):
    rng = np.random.default_rng(n_rows)
    df = pd.DataFrame(
        {"customer_id": [f"c{i:03d}" for i in range(n_rows)], "x": rng.integers(0, 4, n_rows)}
    )
    out = (
        nw.from_native(duckdb.from_df(df))
        .with_columns(ntile("x", 5).alias("t"))
        .collect()
        .to_pandas()
    )
    ordered = out.sort_values(["x", "customer_id"])
    # SQL NTILE(5): the first n % 5 tiles get one extra row, exactly like numpy.array_split.
    expected = np.concatenate(
        [np.full(len(p), i + 1) for i, p in enumerate(np.array_split(np.arange(n_rows), 5))]
    )
    assert ordered["t"].tolist() == expected.tolist()
    # and DuckDB's own NTILE agrees
    sql = duckdb.sql("select customer_id, ntile(5) over (order by x, customer_id) t from df").df()
    assert (
        sql.set_index("customer_id")["t"].sort_index().tolist()
        == out.set_index("customer_id")["t"].sort_index().tolist()
    )


def test_rfm_table_by_hand():
    as_of = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    df = pd.DataFrame(
        {
            "order_id": ["1", "2", "3", "4", "5"],
            "store_id": "s",
            "customer_id": ["a", "a", "b", "c", "c"],
            "ordered_at": pd.to_datetime(
                [
                    "2026-01-31 12:00",
                    "2025-06-01 00:00",
                    "2026-01-01 00:00",
                    "2024-01-01 00:00",
                    "2026-01-21 00:00",
                ],
                utc=True,
            ),
            "revenue": [10.10, 20.20, 5.0, 999.0, 7.0],
            "status": ["completed", "completed", "completed", "completed", "cancelled"],
        }
    )
    out = (
        rfm_table(nw.from_native(duckdb.from_df(df)), as_of, 365)
        .collect()
        .to_pandas()
        .set_index("customer_id")
    )
    # c's only order in the window is cancelled, its 2024 order is outside: c is not scored.
    assert list(out.index) == ["a", "b"]
    assert out.loc["a", "recency_days"] == 0 and out.loc["b", "recency_days"] == 31
    assert out.loc["a", "frequency"] == 2 and out.loc["a", "monetary"] == pytest.approx(30.30)
    assert out.loc["a", "r_score"] > out.loc["b", "r_score"]
