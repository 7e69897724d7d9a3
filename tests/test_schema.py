import duckdb
import narwhals as nw
import pandas as pd
import pytest

from analysis.errors import DataError
from analysis.schema import TABLES, validate_table


def frame(df: pd.DataFrame) -> nw.LazyFrame:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return nw.from_native(con.from_df(df))


def good_orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "store_id": ["shop"] * 3,
            "customer_id": pd.array(["c1", None, "c2"], dtype="string"),
            "ordered_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
            "revenue": [100.0, 20.0, -5.0],
            "status": ["completed", "completed", "refunded"],
        }
    )


def test_good_orders_pass_and_count():
    # A guest (null customer_id) and a negative refunded order are allowed.
    assert validate_table("orders", frame(good_orders()), source="orders.csv") == 3


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns="revenue"), "missing required column(s) revenue"),
        (
            lambda d: d.assign(revenue=["a", "b", "c"]),
            "orders.revenue has type String, expected number",
        ),
        (lambda d: d.assign(ordered_at=d["ordered_at"].dt.tz_localize(None)), "naive timestamp"),
        (
            lambda d: d.assign(order_id=[None, "o2", "o3"]),
            "orders.order_id: null in a required column in 1 row",
        ),
        (
            lambda d: d.assign(status=["completed", "shipped", "done"]),
            "orders.status: value not in",
        ),
        (
            lambda d: d.assign(revenue=[-1.0, 20.0, 5.0]),
            "negative revenue on a completed order in 1 row",
        ),
        (lambda d: d.assign(order_id=["o1", "o1", "o3"]), "duplicate key"),
        (lambda d: d.assign(store_id=["shop", "../x", "shop"]), "store id does not match"),
    ],
)
def test_broken_orders_are_named(mutate, message):
    with pytest.raises(DataError) as err:
        validate_table("orders", frame(mutate(good_orders())), source="orders.csv")
    text = str(err.value)
    assert text.startswith("orders.csv: ")
    assert message in text


def test_sample_rows_are_quoted():
    bad = good_orders().assign(status=["completed", "shipped", "done"])
    with pytest.raises(DataError) as err:
        validate_table("orders", frame(bad), source="x")
    assert "'order_id': 'o2'" in str(err.value) and "'status': 'shipped'" in str(err.value)


def test_survey_ranges():
    surveys = pd.DataFrame(
        {
            "store_id": ["shop"] * 2,
            "responded_at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
            "nps": [10, 11],
            "csat": [5, 1],
        }
    )
    with pytest.raises(DataError, match=r"surveys.nps: value above 10 in 1 row"):
        validate_table("surveys", frame(surveys), source="s")


def test_contract_tables_match_design():
    assert list(TABLES) == [
        "orders", "customers", "loyalty_members", "loyalty_points", "experiments",
        "sessions", "carts", "marketing_spend", "surveys", "campaigns",
    ]  # fmt: skip
    assert TABLES["customers"].pii == ("email", "phone", "name")
    assert all("store_id" in TABLES[t].required for t in TABLES)


def test_data_readme_documents_every_column():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "data" / "README.md").read_text(encoding="utf-8")
    for table in TABLES.values():
        assert f"## {table.name}" in text
        for col in table.columns:
            assert f"| {col.name} |" in text or f"| **{col.name}** |" in text, (
                table.name,
                col.name,
            )


def test_row_order_clusters_orders_by_customer_then_time():
    assert TABLES["orders"].row_order == ("customer_id", "ordered_at", "store_id", "order_id")
    # Without a cluster: time column first, then the key, each column once.
    assert TABLES["loyalty_points"].row_order == ("occurred_at", "store_id", "customer_id")
    assert TABLES["customers"].row_order == ("store_id", "customer_id")
