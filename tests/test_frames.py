"""Backend helpers: epoch microseconds against Python's own arithmetic; materialised frames."""

import datetime as dt

import duckdb
import narwhals as nw
import pandas as pd
import pytest

from analysis.frames import epoch_microseconds, epoch_microseconds_of, materialize

INSTANTS = [
    dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 31, 17, 0, 0, 1, tzinfo=dt.UTC),
    dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),  # before the epoch
    dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=7))),
]


def test_epoch_microseconds_of_python_instants():
    # by hand: 2026-10-31 17:00:00.000001 UTC is 20,757 days and 61,200 s after the epoch
    assert epoch_microseconds_of(INSTANTS[1]) == (20_757 * 86_400 + 61_200) * 1_000_000 + 1
    assert epoch_microseconds_of(INSTANTS[0]) == 0
    assert epoch_microseconds_of(INSTANTS[2]) == -1
    assert epoch_microseconds_of(INSTANTS[3]) == int(INSTANTS[3].timestamp()) * 1_000_000


@pytest.mark.parametrize("backend", ["duckdb", "pandas"])
def test_epoch_microseconds_on_the_engine_matches_python(backend):
    frame = pd.DataFrame({"t": pd.to_datetime([i.astimezone(dt.UTC) for i in INSTANTS], utc=True)})
    native = duckdb.from_df(frame) if backend == "duckdb" else frame
    lf = nw.from_native(native).lazy()
    got = lf.select(epoch_microseconds("t", lf.implementation).alias("us")).collect()
    assert got["us"].to_list() == [epoch_microseconds_of(i) for i in INSTANTS]


def test_materialize_on_duckdb_keeps_the_rows_of_that_moment_in_the_same_connection():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(10)")
    lazy = nw.from_native(con.table("t")).filter(nw.col("x") % 2 == 0)
    kept = materialize(lazy)
    con.execute("INSERT INTO t SELECT range + 10 FROM range(10)")
    # the lazy frame sees the new rows (10, 12, ... 18); the materialised one does not
    assert sorted(lazy.collect()["x"].to_list()) == list(range(0, 20, 2))
    assert sorted(kept.collect()["x"].to_list()) == [0, 2, 4, 6, 8]
    # it stays a frame of that connection: it joins with the connection's other relations
    joined = kept.join(lazy.with_columns(y=nw.col("x") * 10), on="x", how="inner")
    assert sorted(joined.collect()["y"].to_list()) == [0, 20, 40, 60, 80]
    assert kept.implementation is nw.Implementation.DUCKDB
    assert materialize(kept).collect()["x"].sum() == 20  # a second table, a fresh name


def test_materialize_on_polars_collects_once():
    pl = pytest.importorskip("polars")
    lazy = nw.from_native(pl.LazyFrame({"x": [3, 1, 2]})).sort("x")
    kept = materialize(lazy)
    assert isinstance(kept, nw.LazyFrame)
    assert kept.collect()["x"].to_list() == [1, 2, 3]
