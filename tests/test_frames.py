"""Backend helpers: epoch microseconds against Python's own arithmetic."""

import datetime as dt

import duckdb
import narwhals as nw
import pandas as pd
import pytest

from analysis.frames import epoch_microseconds, epoch_microseconds_of

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
