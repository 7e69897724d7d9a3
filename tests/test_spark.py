"""Where the Spark engine reads from: URIs, listed files, the local data folder."""

from pathlib import Path

import pytest

from analysis.config import load_params
from analysis.errors import ConfigError
from analysis.ingest.run import ingest
from analysis.spark import StoredFile, is_uri


@pytest.mark.parametrize(
    "location",
    [
        "s3a://bucket/warehouse",
        "abfss://c@acct.dfs.core.windows.net/wh",
        "hdfs://nn:8020/wh",
        "gs://b/w",
        "file:///srv/warehouse",
        "file:/srv/warehouse",
    ],
)
def test_locations_with_a_scheme_are_uris(location):
    assert is_uri(location)


@pytest.mark.parametrize(
    "location", ["data/warehouse", "/srv/warehouse", "C:/warehouse", "C:\\wh", Path("/srv/wh")]
)
def test_paths_and_drive_letters_are_not(location):
    assert not is_uri(location)


def test_a_stored_file_reads_like_a_path():
    f = StoredFile("s3a://bucket/wh/orders/my-shop.parquet", 10, 0)
    assert (f.name, f.stem, f.parent.name, str(f)) == (
        "my-shop.parquet",
        "my-shop",
        "orders",
        "s3a://bucket/wh/orders/my-shop.parquet",
    )


def test_a_lakehouse_warehouse_keeps_key_and_exports_local(tmp_path):
    params = load_params("my-shop", {"data_dir": "s3a://bucket/warehouse"})
    assert params.warehouse_path(tmp_path) == "s3a://bucket/warehouse"
    assert params.data_folder(tmp_path) == tmp_path / "data"
    local = load_params("my-shop", {"data_dir": "data/warehouse"})
    assert local.warehouse_path(tmp_path) == tmp_path / "data" / "warehouse"
    assert local.data_folder(tmp_path) == tmp_path / "data"


def test_ingest_refuses_a_lakehouse_target(tmp_path):
    export = tmp_path / "orders.csv"
    export.write_text("order_id,customer_id,ordered_at,revenue\n1,a,2026-01-02,10\n")
    with pytest.raises(ConfigError, match="ingest writes a local warehouse folder"):
        ingest(
            [export],
            fmt="mapped",
            store="my-shop",
            overrides={"data_dir": "s3a://bucket/warehouse", "currency": "THB"},
        )
