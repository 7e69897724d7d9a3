"""Cohort matrices: brute-force properties, hand-worked cases, and the demo's planted BG/NBD process."""

import tempfile
from pathlib import Path

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import orders_frame, write_table
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analysis.cohorts import (
    CohortMatrices,
    activity_by,
    cohort_activity,
    cohort_findings,
    cohort_matrices,
    customer_firsts,
    label_customers,
    pooled_retention,
    retention_matrix,
    same_cohorts_a_year_earlier,
    second_order_gaps,
    segment_retention,
)
from analysis.demo import write_demo
from analysis.frames import completed
from analysis.warehouse import StoreWarehouse

ROWS = [
    ("o1", "a", "2026-01-05 03:00:00", 10.0, "completed"),
    ("o2", "a", "2026-02-05 03:00:00", 10.0, "completed"),
    ("o3", "b", "2026-01-31 17:30:00", 10.0, "completed"),  # 00:30 1 Feb Bangkok: February cohort
    (
        "o4",
        "c",
        "2026-01-20 03:00:00",
        10.0,
        "cancelled",
    ),  # cancelled first order: not acquired in Jan
    ("o5", "c", "2026-03-02 03:00:00", 10.0, "completed"),  # c's cohort is March
    ("o6", None, "2026-01-07 03:00:00", 10.0, "completed"),  # guest: no cohort
    ("o7", "d", "2026-01-09 03:00:00", 10.0, "completed"),
    ("o8", "a", "2026-03-09 03:00:00", 10.0, "completed"),
    ("o9", "b", "2026-03-10 03:00:00", 10.0, "completed"),
]


class _Both:
    """cohort_activity both ways: DuckDB bitmaps and the portable join; they must agree."""

    def __init__(self, orders, tz, period):
        firsts = customer_firsts(orders, tz, period)
        names = firsts.collect_schema().names()
        assert any(n.startswith("__active_") for n in names)  # the DuckDB fast path ran
        plain = firsts.select([n for n in names if not n.startswith("__active_")])
        self.fast = cohort_activity(orders, firsts, tz, period).collect().to_pandas()
        self.portable = cohort_activity(orders, plain, tz, period).collect().to_pandas()

    def collect(self):
        return self

    def to_pandas(self):
        pd.testing.assert_frame_equal(self.fast, self.portable, check_dtype=False)
        return self.fast


def _lazy_activity(orders, tz, period="month"):
    return _Both(orders, tz, period)


def test_retention_matrix_by_hand(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", orders_frame(ROWS))
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    activity = _lazy_activity(wh.table("orders"), "Asia/Bangkok").collect().to_pandas()
    m = retention_matrix(activity)
    m.index = m.index.strftime("%Y-%m")
    assert m["size"].to_dict() == {"2026-01": 2, "2026-02": 1, "2026-03": 1}
    # January cohort {a, d}: a active in Feb and Mar, d never again.
    assert m.loc["2026-01", [0, 1, 2]].tolist() == [1.0, 0.5, 0.5]
    # February cohort {b}: b skips nothing in March (k=1); k=2 is in the future -> NaN.
    assert m.loc["2026-02", 1] == 1.0 and np.isnan(m.loc["2026-02", 2])
    assert m.loc["2026-03", 0] == 1.0 and np.isnan(m.loc["2026-03", 1])


def test_cohort_with_gap_month_is_zero_not_missing(warehouse_dir):
    rows = [
        ("o1", "a", "2026-01-05 03:00:00", 1.0, "completed"),
        ("o2", "a", "2026-03-05 03:00:00", 1.0, "completed"),
    ]
    write_table(warehouse_dir, "orders", "shop", orders_frame(rows))
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    activity = _lazy_activity(wh.table("orders"), "Asia/Bangkok").collect().to_pandas()
    m = retention_matrix(activity)
    assert m.iloc[0][[0, 1, 2]].tolist() == [1.0, 0.0, 1.0]
    assert isinstance(m.index[0], pd.Timestamp)


# --------------------------------------------------------------------------- helpers

BKK = "Asia/Bangkok"
MATRICES = (
    "retention",
    "revenue_retention",
    "orders_per_customer",
    "cumulative_revenue_per_customer",
)


def _activity(root: Path, tz: str, period: str = "month", store: str = "shop") -> pd.DataFrame:
    wh = StoreWarehouse(root, store, tz)
    try:
        return _lazy_activity(wh.table("orders"), tz, period).collect().to_pandas()
    finally:
        wh.connection.close()


def _matrices(rows, tz: str, period: str = "month", last=None) -> CohortMatrices:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_table(root, "orders", "shop", orders_frame(rows))
        return cohort_matrices(_activity(root, tz, period), last=last, period=period)


def _months(frame):
    """The same frame/series indexed by ``YYYY-MM`` labels."""
    out = frame.copy()
    out.index = out.index.strftime("%Y-%m")
    return out


# --------------------------------------------------------------------------- 1. property-based


def _period_start(local: pd.Series, period: str) -> pd.Series:
    """First local day of the calendar month / ISO week (Monday) of naive local times."""
    if period == "month":
        return local.dt.to_period("M").dt.start_time.astype("datetime64[ns]")
    day = local.dt.normalize()
    return (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).astype("datetime64[ns]")


def _plus(start: pd.Timestamp, k: int, period: str) -> pd.Timestamp:
    return start + (pd.DateOffset(months=k) if period == "month" else pd.Timedelta(weeks=k))


def _steps(a: pd.Timestamp, b: pd.Timestamp, period: str) -> int:
    """Whole periods from the period starting at ``a`` to the one starting at ``b``."""
    if period == "month":
        return (b.year - a.year) * 12 + b.month - a.month
    return (b - a).days // 7


def reference_matrices(orders: pd.DataFrame, tz: str, period: str, last) -> dict:
    """The cohort matrices by brute force in plain pandas (loops over cohorts and k).

    Its columns run to the oldest cohort's last observed k; ``max_active_k`` is
    the largest k in which anybody was active.
    """
    done = orders[(orders["status"] == "completed") & orders["customer_id"].notna()].copy()
    if done.empty:
        return {"size": pd.Series([], dtype="int64")}
    local = pd.to_datetime(done["ordered_at"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    done["start"] = _period_start(local, period)
    cohort_of = done.groupby("customer_id")["start"].min()
    done["k"] = [
        _steps(cohort_of[c], s, period)
        for c, s in zip(done["customer_id"], done["start"], strict=True)
    ]
    if last is None:
        last_start = done["start"].max()
    else:
        last_start = _period_start(pd.Series([pd.Timestamp(last)]), period).iloc[0]
    cohorts = sorted(cohort_of.unique())
    width = max(_steps(cohorts[0], last_start, period), int(done["k"].max())) + 1
    out = {name: np.full((len(cohorts), width), np.nan) for name in MATRICES}
    sizes = []
    for i, c in enumerate(cohorts):
        members = set(cohort_of.index[cohort_of == c])
        sizes.append(len(members))
        cells = {k: cell for k, cell in done[done["customer_id"].isin(members)].groupby("k")}
        empty = done.iloc[:0]
        revenue0 = cells[0]["revenue"].sum()  # every member has a completed order at k = 0
        running = 0.0
        for k in range(width):
            if _plus(c, k, period) > last_start:
                break  # the future stays NaN
            cell = cells.get(k, empty)
            running += cell["revenue"].sum()
            out["retention"][i, k] = cell["customer_id"].nunique() / len(members)
            out["orders_per_customer"][i, k] = len(cell) / len(members)
            out["cumulative_revenue_per_customer"][i, k] = running / len(members)
            if revenue0 > 0:  # no first-period revenue: no revenue retention at all
                out["revenue_retention"][i, k] = cell["revenue"].sum() / revenue0
    index = pd.DatetimeIndex(cohorts, name="cohort")
    cols = pd.RangeIndex(width, name="k")
    result = {name: pd.DataFrame(v, index=index, columns=cols) for name, v in out.items()}
    result["size"] = pd.Series(sizes, index=index, dtype="int64", name="size")
    result["max_active_k"] = int(done["k"].max())
    return result


_T0 = pd.Timestamp("2024-01-01", tz="UTC")  # a Monday
_instants = st.one_of(
    st.integers(0, 730 * 86_400).map(lambda s: _T0 + pd.Timedelta(seconds=s)),
    # near a UTC month start (Bangkok's midnight is 17:00 UTC the day before)
    st.builds(
        lambda m, s: _T0 + pd.DateOffset(months=m) + pd.Timedelta(seconds=s),
        st.integers(0, 23),
        st.integers(-12 * 3600, 12 * 3600),
    ),
    # near a Monday 00:00 UTC (week boundaries)
    st.builds(
        lambda w, s: _T0 + pd.Timedelta(weeks=w, seconds=s),
        st.integers(0, 104),
        st.integers(-12 * 3600, 12 * 3600),
    ),
)
_orders = st.tuples(
    _instants,
    st.sampled_from(["completed", "completed", "completed", "cancelled", "refunded"]),
    st.one_of(st.just(0.0), st.floats(0.01, 5000.0, allow_nan=False, allow_infinity=False)),
)
_stores = st.tuples(
    st.lists(st.lists(_orders, max_size=8), min_size=1, max_size=30),  # registered customers
    st.lists(_orders, max_size=5),  # guest orders
    st.one_of(st.none(), st.integers(0, 100)),  # `last`: None or days after the last order
)


@pytest.mark.parametrize("period", ["month", "week"])
@pytest.mark.parametrize("tz", [BKK, "UTC"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store=_stores)
def test_matrices_match_brute_force(tz, period, store):
    customers, guests, last_days = store
    raw = [(f"c{i}", *o) for i, orders in enumerate(customers) for o in orders]
    raw += [(None, *o) for o in guests]
    assume(raw)
    rows = [(f"o{j}", c, t.isoformat(), rev, s) for j, (c, t, s, rev) in enumerate(raw)]
    orders = orders_frame(rows)
    last = None
    if last_days is not None:
        local = (
            pd.to_datetime(orders["ordered_at"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
        )
        last = local.max() + pd.Timedelta(days=last_days)

    got = _matrices(rows, tz, period, last)
    want = reference_matrices(orders, tz, period, last)

    np.testing.assert_array_equal(got.size.to_numpy(), want["size"].to_numpy())
    if want["size"].empty:
        assert all(getattr(got, name).empty for name in MATRICES)
        return
    assert got.size.index.as_unit("ns").equals(want["size"].index)
    # Columns run to the oldest cohort's last observed k (zeros where nobody came back).
    width = len(got.retention.columns)
    assert width == want["retention"].shape[1]
    for name in MATRICES:
        g = getattr(got, name)
        g = g.set_axis(g.index.as_unit("ns"), axis=0)
        pd.testing.assert_frame_equal(
            g,
            want[name].iloc[:, :width],
            check_exact=False,
            rtol=1e-9,
            atol=1e-9,
            check_column_type=False,
            obj=name,
        )


# --------------------------------------------------------------------------- 2. hand-worked cases

# Bangkok is UTC+7 all year: local = UTC + 7 h.
EDGE_ROWS = [
    # a: 16:30 UTC 31 Jan = 23:30 31 Jan Bangkok -> January cohort
    ("e1", "a", "2026-01-31 16:30:00", 100.0, "completed"),
    # b: 17:30 UTC 31 Jan = 00:30 1 Feb Bangkok -> February cohort (both are 31 Jan in UTC)
    ("e2", "b", "2026-01-31 17:30:00", 50.0, "completed"),
    # c: cancelled in January, first COMPLETED order in February -> February cohort
    ("e3", "c", "2026-01-10 03:00:00", 999.0, "cancelled"),
    ("e4", "c", "2026-02-10 03:00:00", 30.0, "completed"),
    ("e5", "c", "2026-03-05 03:00:00", 70.0, "refunded"),  # not activity
    ("e6", None, "2026-01-15 03:00:00", 500.0, "completed"),  # guest: no cohort, no revenue
    ("e7", "a", "2026-02-14 03:00:00", 40.0, "completed"),
    ("e8", "a", "2026-02-20 03:00:00", 10.0, "completed"),
    ("e9", "b", "2026-03-03 03:00:00", 25.0, "completed"),
    ("e10", "a", "2026-04-01 03:00:00", 60.0, "completed"),
    ("e11", "d", "2026-04-02 03:00:00", 80.0, "completed"),  # one-customer April cohort
]


def test_edge_cases_by_hand_bangkok():
    m = _matrices(EDGE_ROWS, BKK, "month", last="2026-04-30")
    nan = np.nan
    # Cohorts: Jan {a}, Feb {b, c}, Apr {d}; guest and cancelled orders place nobody.
    assert _months(m.size).to_dict() == {"2026-01": 1, "2026-02": 2, "2026-04": 1}
    expected = {
        # Jan {a}: k0 Jan 100 (1 order); k1 Feb 40 + 10 (2 orders); k2 Mar nothing; k3 Apr 60.
        # Feb {b, c}: k0 Feb 50 + 30 (2 orders); k1 Mar b 25 (c's refund does not count);
        #   k2 Apr nothing; k3 = May is after `last` -> NaN.
        # Apr {d}: k0 80; k1.. after `last` -> NaN.
        "retention": [[1, 1, 0, 1], [1, 1 / 2, 0, nan], [1, nan, nan, nan]],
        # revenue in k / revenue in k0: Jan 50/100, 0/100, 60/100; Feb 25/80 = 0.3125
        "revenue_retention": [[1, 0.5, 0, 0.6], [1, 0.3125, 0, nan], [1, nan, nan, nan]],
        # orders in k / size: Jan 1, 2, 0, 1; Feb 2/2, 1/2, 0/2
        "orders_per_customer": [[1, 2, 0, 1], [1, 0.5, 0, nan], [1, nan, nan, nan]],
        # revenue in 0..k / size: Jan 100, 150, 150, 210; Feb 80/2 = 40, 105/2 = 52.5, 52.5
        "cumulative_revenue_per_customer": [
            [100, 150, 150, 210],
            [40, 52.5, 52.5, nan],
            [80, nan, nan, nan],
        ],
    }
    for name, values in expected.items():
        got = _months(getattr(m, name))
        assert list(got.index) == ["2026-01", "2026-02", "2026-04"], name
        np.testing.assert_allclose(got.to_numpy(), values, rtol=1e-12, err_msg=name)


def test_same_orders_in_utc_put_a_and_b_in_january():
    # In UTC a (16:30 31 Jan) and b (17:30 31 Jan) are both January customers; c is still Feb.
    m = _matrices(EDGE_ROWS, "UTC", "month", last="2026-04-30")
    assert _months(m.size).to_dict() == {"2026-01": 2, "2026-02": 1, "2026-04": 1}
    # Jan {a, b}: k1 Feb a only -> 1/2; k2 Mar b only -> 1/2; k3 Apr a -> 1/2.
    np.testing.assert_allclose(_months(m.retention).loc["2026-01"], [1, 0.5, 0.5, 0.5])
    # revenue: k0 100 + 50 = 150; k1 50; k2 25; k3 60 -> 1, 1/3, 1/6, 0.4
    np.testing.assert_allclose(
        _months(m.revenue_retention).loc["2026-01"], [1, 50 / 150, 25 / 150, 60 / 150]
    )


def test_week_cohorts_by_hand_bangkok():
    rows = [
        # Sun 4 Jan 2026 16:30 UTC = Sun 23:30 Bangkok -> week of Mon 29 Dec 2025
        ("w1", "a", "2026-01-04 16:30:00", 10.0, "completed"),
        # Sun 4 Jan 17:30 UTC = Mon 5 Jan 00:30 Bangkok -> week of Mon 5 Jan 2026
        ("w2", "b", "2026-01-04 17:30:00", 10.0, "completed"),
        ("w3", "a", "2026-01-12 03:00:00", 10.0, "completed"),  # a: week 12 Jan = k 2
    ]
    m = _matrices(rows, BKK, "week")
    assert m.size.index.strftime("%Y-%m-%d").tolist() == ["2025-12-29", "2026-01-05"]
    assert m.size.tolist() == [1, 1]
    # a: k0 week 29 Dec, k1 week 5 Jan nothing, k2 week 12 Jan; last = week of 12 Jan
    # b: k0 week 5 Jan, k1 week 12 Jan nothing (observed -> 0), k2 NaN
    np.testing.assert_allclose(m.retention.to_numpy(), [[1, 0, 1], [1, 0, np.nan]])


def test_trailing_observed_period_without_activity_is_zero():
    rows = [
        ("t1", "a", "2026-01-05 03:00:00", 1.0, "completed"),
        ("t2", "b", "2026-03-05 03:00:00", 1.0, "completed"),
    ]
    m = _matrices(rows, "UTC", "month", last="2026-03-31")
    # Jan {a} is observed in Feb (k1) and Mar (k2), a never came back -> 0, 0.
    # Mar {b}: k1, k2 are after `last` -> NaN.  The code returns only column k = 0.
    expected = [[1.0, 0.0, 0.0], [1.0, np.nan, np.nan]]
    np.testing.assert_allclose(m.retention.to_numpy(), expected)


# Collected cohort_activity rows with segments (cohort = month index (year - 1) * 12 + month - 1).
_JAN, _FEB = 2025 * 12 + 0, 2025 * 12 + 1
SEGMENT_ACTIVITY = pd.DataFrame(
    [
        ("x", _JAN, 0, 2, 20.0, 2),
        ("x", _JAN, 1, 1, 5.0, 1),
        ("x", _JAN, 2, 2, 8.0, 2),
        ("x", _FEB, 0, 4, 40.0, 4),
        ("x", _FEB, 1, 1, 3.0, 1),
        ("y", _FEB, 0, 1, 9.0, 1),
    ],
    columns=["segment", "cohort", "k", "customers", "revenue", "orders"],
)


def test_segment_retention_pools_size_weighted_over_observed_cohorts():
    out = segment_retention(SEGMENT_ACTIVITY, horizon=2, last="2026-03-15", min_size=2)
    # y (1 customer) is below min_size.
    assert out.index.tolist() == ["x"]
    assert out.loc["x", "customers"] == 6  # Jan 2 + Feb 4
    # last = March: Jan observed at k 0..2, Feb at k 0..1.
    # k1: (1 + 1) / (2 + 4) = 1/3 (size-weighted, not the mean of 1/2 and 1/4 = 0.375)
    # k2: only Jan is observed: 2 / 2 = 1 (not 2 / 6)
    np.testing.assert_allclose(out.loc["x", [0, 1, 2]].astype(float), [1.0, 1 / 3, 1.0])


def test_segment_retention_observed_zero_is_zero():
    out = segment_retention(SEGMENT_ACTIVITY, horizon=2, last="2026-03-15")
    # y: Feb {1 customer}: k0 1/1; k1 March observed, nobody -> 0/1 = 0; k2 April > last -> NaN.
    assert out.loc["y", 0] == 1.0
    assert out.loc["y", 1] == 0.0
    assert np.isnan(out.loc["y", 2])


def test_second_order_gaps_histogram_and_median(warehouse_dir):
    day = "2026-01-01 00:00:00"
    rows = [
        ("g1", "a", day, 1.0, "completed"),
        ("g2", "a", "2026-01-08 00:00:00", 1.0, "completed"),  # 7 days exactly -> "≤ 7 days"
        ("g3", "a", "2026-01-09 00:00:00", 1.0, "completed"),  # third order: ignored
        ("g4", "b", day, 1.0, "completed"),
        ("g5", "b", "2026-01-02 00:00:00", 1.0, "cancelled"),  # not a second order
        ("g6", "b", "2026-01-08 00:00:01", 1.0, "completed"),  # 7 days + 1 s -> "7–14 days"
        ("g7", "c", day, 1.0, "completed"),
        ("g8", "c", "2026-01-21 00:00:00", 1.0, "completed"),  # 20 days -> "14–30 days"
        ("g9", "d", day, 1.0, "completed"),
        ("g10", "d", "2026-03-02 00:00:00", 1.0, "completed"),  # 31 + 28 + 1 = 60 -> "30–60"
        ("g11", "e", day, 1.0, "completed"),
        ("g12", "e", "2027-01-02 00:00:00", 1.0, "completed"),  # 366 days -> "> 365 days"
        ("g13", "f", day, 1.0, "completed"),
        ("g14", "f", "2027-02-05 00:00:00", 1.0, "completed"),  # 365 + 35 = 400 -> "> 365"
        ("g15", "g", day, 1.0, "completed"),  # one order only: no gap
        ("g16", None, day, 1.0, "completed"),  # guests: no gap
        ("g17", None, "2026-01-03 00:00:00", 1.0, "completed"),
    ]
    write_table(warehouse_dir, "orders", "shop", orders_frame(rows))
    wh = StoreWarehouse(warehouse_dir, "shop", BKK)
    hist, median = second_order_gaps(customer_firsts(wh.table("orders"), BKK))
    # gaps 7, 7.0000116, 20, 60, 366, 400 -> median (20 + 60) / 2 = 40
    assert median == pytest.approx(40.0)
    assert hist["bucket"].tolist() == [
        "≤ 7 days",
        "7–14 days",
        "14–30 days",
        "30–60 days",
        "60–90 days",
        "90–180 days",
        "180–365 days",
        "> 365 days",
    ]
    assert hist["customers"].tolist() == [1, 1, 1, 1, 0, 0, 0, 2]
    np.testing.assert_allclose(hist["share"], np.array([1, 1, 1, 1, 0, 0, 0, 2]) / 6)


def test_second_order_gaps_nobody_twice(warehouse_dir):
    rows = [("s1", "a", "2026-01-01 00:00:00", 1.0, "completed")]
    write_table(warehouse_dir, "orders", "shop", orders_frame(rows))
    orders = StoreWarehouse(warehouse_dir, "shop", BKK).table("orders")
    hist, median = second_order_gaps(customer_firsts(orders, BKK))
    assert median is None
    assert hist["customers"].sum() == 0 and hist["share"].isna().all()


def test_same_cohorts_a_year_earlier_by_hand():
    # 18 monthly cohorts Jan 2025 .. Jun 2026 (i = 0..17), retention 0.30 + 0.01 i - 0.05 k,
    # observed while i + k <= 17 (the data end in June 2026).
    index = pd.date_range("2025-01-01", periods=18, freq="MS", name="cohort")
    i = np.arange(18)[:, None]
    k = np.arange(4)[None, :]
    values = np.where(i + k <= 17, 0.30 + 0.01 * i - 0.05 * k, np.nan)
    retention = pd.DataFrame(values, index=index, columns=pd.RangeIndex(4, name="k"))
    out = same_cohorts_a_year_earlier(retention, n=4, ks=(1, 2, 3))
    # Complete at k = 1..3 up to i = 14 (Mar 2026); the last 4: Dec 2025 .. Mar 2026.
    assert out["cohort"].dt.strftime("%Y-%m").tolist() == [
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert out["year_earlier"].dt.strftime("%Y-%m").tolist() == [
        "2024-12",
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    # Mar 2026 (i = 14) k1 = 0.30 + 0.14 - 0.05 = 0.39; Mar 2025 (i = 2) k1 = 0.27; change 0.12.
    last = out.iloc[-1]
    assert last["k1"] == pytest.approx(0.39)
    assert last["k1_year_earlier"] == pytest.approx(0.27)
    assert last["k3_change"] == pytest.approx(0.12)
    np.testing.assert_allclose(out.loc[1:, ["k1_change", "k2_change", "k3_change"]], 0.12)
    # Dec 2024 is not in the matrix: the year-earlier values and changes are NaN.
    assert out.iloc[0][["k1_year_earlier", "k1_change"]].isna().all()
    assert out.iloc[0]["k2"] == pytest.approx(0.30 + 0.11 - 0.10)


# --------------------------------------------------------------------------- 3. demo vs BG/NBD

DEMO = "demo-bangkok"


def test_demo_monthly_retention_matches_planted_bgnbd(tmp_path):
    """Pooled month-k retention of the demo equals what the planted BG/NBD process implies.

    How the check works:

    1. ``write_demo`` writes ``demo-bangkok`` with 20 000 customers; its planted
       BG/NBD parameters ``r, alpha`` (rate, per day) and ``a, b`` are read from
       ``_truth.json`` (``bgnbd``).
    2. The cohort code gives the monthly retention matrix (``last`` = the last
       local day of the history); for k = 1..6 the observed pooled retention is
       ``sum(retention * size) / sum(size)`` over the cohorts observed at k
       (cross-checked against :func:`pooled_retention`).
    3. The implied value is simulated here, without ``analysis.demo``: each
       customer of a cohort observed at k keeps their real acquisition instant
       ``t0`` (first completed order, read from the Parquet file with pyarrow;
       in the demo it is drawn independently of the purchase process, with
       sale-day peaks, so it is used as is rather than a uniform day of the
       month), times R = 20 replicas. Per replica: ``lambda ~ Gamma(r, rate
       alpha)``, ``p ~ Beta(a, b)``; ``J ~ Geometric(p)`` on {1, 2, ...} is the
       repeat purchase after which the customer drops out; ``N1 ~
       Poisson(lambda d)`` repeat-purchase opportunities between ``t0`` and the
       start of local calendar month k (d days; Bangkok has no DST, so naive
       local differences are real durations), ``N2 ~ Poisson(lambda L)`` those
       within month k (L days). The customer is still alive at month k iff ``N1 <
       J`` (fewer than J purchases made), and then buys in month k iff ``N2 >=
       1``. The implied retention is the share of replicas with both.
    4. Tolerance: 4 binomial standard errors ``sqrt(q (1 - q) / n_k)`` with n_k
       the cohort customers observed at k, plus 4 Monte-Carlo standard errors of
       the simulated share (std of the indicator / sqrt(n_k R)).
    """
    truth = write_demo(tmp_path, stores=[DEMO], customers=20_000, seed=11)[DEMO]
    bg = truth["bgnbd"]
    assert bg["time_unit"] == "days"
    r, alpha, a, b = bg["r"], bg["alpha"], bg["a"], bg["b"]
    last_day = pd.Timestamp(truth["history"]["end_local_exclusive"]) - pd.Timedelta(days=1)

    m = cohort_matrices(_activity(tmp_path, BKK, "month", store=DEMO), last=last_day)
    pooled = pooled_retention(m)

    orders = pq.read_table(
        tmp_path / "orders" / f"{DEMO}.parquet", columns=["customer_id", "ordered_at", "status"]
    ).to_pandas()
    done = orders[(orders["status"] == "completed") & orders["customer_id"].notna()]
    t0 = done.groupby("customer_id")["ordered_at"].min().dt.tz_convert(BKK).dt.tz_localize(None)
    cohort = t0.dt.to_period("M")
    assert _months(m.size).to_dict() == {
        str(p): n for p, n in cohort.value_counts().sort_index().items()
    }

    rng = np.random.default_rng(2026)
    reps = 20
    last_month = last_day.to_period("M")
    report = []
    for k in range(1, 7):
        seen = m.retention[k].notna()
        n_k = int(m.size[seen].sum())
        observed = float((m.retention[k] * m.size)[seen].sum() / n_k)
        assert observed == pytest.approx(pooled[k], rel=1e-12)

        mine = (cohort + k) <= last_month
        assert int(mine.sum()) == n_k
        start = (cohort[mine] + k).dt.start_time.to_numpy()
        stop = (cohort[mine] + k + 1).dt.start_time.to_numpy()
        d = np.repeat((start - t0[mine].to_numpy()) / np.timedelta64(1, "D"), reps)
        length = np.repeat((stop - start) / np.timedelta64(1, "D"), reps)
        lam = rng.gamma(r, 1.0 / alpha, d.size)
        p = rng.beta(a, b, d.size)
        alive = rng.poisson(lam * d) < rng.geometric(p)
        active = alive & (rng.poisson(lam * length) >= 1)
        implied = active.mean()
        se_mc = active.std() / np.sqrt(active.size)
        se_obs = np.sqrt(implied * (1 - implied) / n_k)
        tol = 4 * se_obs + 4 * se_mc
        report.append(f"k={k}: observed {observed:.4f} implied {implied:.4f} ± {tol:.4f} (n={n_k})")
        assert abs(observed - implied) <= tol, "\n".join(report)


# --------------------------------------------------------------------------- 4. engine shortcuts

# Zones with DST, midnight transitions (Santiago, Havana), half-hour DST (Lord Howe), a skipped
# day (Apia, 30 Dec 2011) and none (Bangkok).
ZONES = [
    BKK,
    "Europe/London",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Pacific/Apia",
]


@pytest.mark.parametrize("period", ["month", "week"])
@pytest.mark.parametrize("tz", ZONES)
@settings(max_examples=25, deadline=None)
@given(
    seconds=st.lists(st.integers(0, 16 * 365 * 86_400), min_size=1, max_size=60),
    near=st.lists(st.integers(-3 * 3600, 3 * 3600), max_size=20),
)
def test_period_index_search_equals_conversion(tz, period, seconds, near):
    """The CASE search over period starts gives the same index as converting each instant."""
    import duckdb

    from analysis.calendar import period_index, period_start_instant
    from analysis.cohorts import time_span

    t0 = pd.Timestamp("2010-01-01", tz="UTC")
    instants = [t0 + pd.Timedelta(seconds=s) for s in seconds]
    # instants around local period starts (DST jumps often sit at midnight)
    for j, offset in enumerate(near):
        first = pd.Timestamp(instants[j % len(instants)]).tz_convert(tz)
        index = (first.year - 1) * 12 + first.month - 1 if period == "month" else None
        if index is None:  # weeks since Monday 0001-01-01 (1970-01-05 is week 102,738)
            index = (first.tz_localize(None) - pd.Timestamp("1970-01-05")).days // 7 + 102_738
        start = period_start_instant(index + 1, tz, period)
        instants.append(pd.Timestamp(start) + pd.Timedelta(seconds=offset))
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = '{tz}'")
        frame = pd.DataFrame({"at": pd.Series(instants).astype("datetime64[us, UTC]")})
        lf = nw.from_native(con.from_df(frame))
        span = time_span(lf, "at")
        got = (
            lf.select(
                period_index("at", tz, period, span).alias("fast"),
                period_index("at", tz, period).alias("slow"),
            )
            .collect()
            .to_pandas()
        )
    finally:
        con.close()
    local = frame["at"].dt.tz_convert(tz).dt.tz_localize(None)
    if period == "month":
        want = (local.dt.year - 1) * 12 + local.dt.month - 1
    else:
        want = (local - pd.Timestamp("1970-01-05")) // pd.Timedelta(days=7) + 102_738
    np.testing.assert_array_equal(got["slow"].to_numpy(), want.to_numpy())
    np.testing.assert_array_equal(got["fast"].to_numpy(), want.to_numpy())


FIRSTS_ROWS = [
    # a: two orders at the same first instant (second == first); the discounted one is at it.
    ("f1", "a", "2026-01-05 03:00:00", 10.0, "completed", 0.0),
    ("f2", "a", "2026-01-05 03:00:00", 10.0, "completed", 5.0),
    ("f3", "a", "2026-01-09 03:00:00", 10.0, "completed", 0.0),
    # b: a cancelled earlier order is not the first; the second is 2 days later
    ("f4", "b", "2026-01-01 03:00:00", 10.0, "cancelled", 9.0),
    ("f5", "b", "2026-01-02 03:00:00", 10.0, "completed", 0.0),
    ("f6", "b", "2026-01-04 03:00:00", 10.0, "completed", 3.0),
    # c: one order, no discount value
    ("f7", "c", "2026-02-01 03:00:00", 10.0, "completed", None),
    ("f8", None, "2026-01-01 03:00:00", 10.0, "completed", 1.0),  # guest
]


def _firsts_both_ways(root: Path, tz: str = BKK) -> tuple[pd.DataFrame, pd.DataFrame]:
    from analysis import cohorts

    wh = StoreWarehouse(root, "shop", tz)
    done = completed(wh.table("orders")).filter(~nw.col("customer_id").is_null())
    has_discount = "discount" in wh.table("orders").collect_schema()
    out = []
    for fn in (cohorts._customer_firsts_duckdb, cohorts._customer_firsts_portable):
        frame = fn(done, has_discount).collect().to_pandas()
        out.append(frame.sort_values("customer_id").reset_index(drop=True))
    wh.connection.close()
    return out[0], out[1]


def test_customer_firsts_by_hand(warehouse_dir):
    frame = orders_frame([r[:5] for r in FIRSTS_ROWS])
    frame["discount"] = [r[5] for r in FIRSTS_ROWS]
    write_table(warehouse_dir, "orders", "shop", frame)
    fast, portable = _firsts_both_ways(warehouse_dir)
    for got in (fast, portable):
        assert got["customer_id"].tolist() == ["a", "b", "c"]
        first = got["first_at"].dt.tz_convert("UTC").dt.strftime("%m-%d %H")
        second = got["second_at"].dt.tz_convert("UTC").dt.strftime("%m-%d %H")
        assert first.tolist() == ["01-05 03", "01-02 03", "02-01 03"]
        assert second.tolist()[:2] == ["01-05 03", "01-04 03"] and pd.isna(second.iloc[2])
        assert got["first_discount"].tolist() == [True, False, False]
        last = got["last_at"].dt.tz_convert("UTC").dt.strftime("%m-%d %H")
        assert last.tolist() == ["01-09 03", "01-04 03", "02-01 03"]
        assert got["days_to_second"].tolist()[:2] == [0.0, 2.0]
        assert pd.isna(got["days_to_second"].iloc[2])
    wh = StoreWarehouse(warehouse_dir, "shop", BKK)
    firsts = customer_firsts(wh.table("orders"), BKK)
    cohort = firsts.collect().to_pandas()
    assert sorted(cohort["cohort"].tolist()) == [2025 * 12, 2025 * 12, 2025 * 12 + 1]
    # Activity bitmaps (DuckDB): one per 64 periods from the first month of any order
    # (2026-01, index 24300); a and b were active in January (bit 0), c in February (bit 1).
    bits = cohort.set_index("customer_id")["__active_24300"].sort_index()
    assert bits.tolist() == [1, 1, 2]


_firsts_orders = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", None]),
        st.integers(0, 20),  # hours: small range, so ties are common
        st.sampled_from(["completed", "completed", "cancelled"]),
        st.sampled_from([0.0, 2.5, None]),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_firsts_orders, with_discount=st.booleans())
def test_customer_firsts_fast_path_equals_portable(rows, with_discount):
    t0 = pd.Timestamp("2026-03-01", tz="UTC")
    frame = orders_frame(
        [
            (f"o{i}", c, (t0 + pd.Timedelta(hours=h)).isoformat(), 1.0, s)
            for i, (c, h, s, _) in enumerate(rows)
        ]
    )
    if with_discount:
        frame["discount"] = [d for *_, d in rows]
    with tempfile.TemporaryDirectory() as tmp:
        write_table(Path(tmp), "orders", "shop", frame)
        fast, portable = _firsts_both_ways(Path(tmp))
    pd.testing.assert_frame_equal(fast, portable, check_dtype=False)


def test_labelled_activity_sums_to_the_uncut_matrix(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", orders_frame(EDGE_ROWS))
    wh = StoreWarehouse(warehouse_dir, "shop", BKK)
    orders = wh.table("orders")
    firsts = customer_firsts(orders, BKK)
    labels = wh.connection.from_df(pd.DataFrame({"customer_id": ["a", "b"], "segment": ["x", "y"]}))
    labelled = label_customers(firsts, {"cut": nw.from_native(labels)})
    # A cut given as an expression over the firsts' own columns needs no join.
    labelled = label_customers(
        labelled, {"early": nw.when(nw.col("cohort") < 2025 * 12 + 1).then(nw.lit("jan"))}
    )
    act = cohort_activity(orders, labelled, BKK, by=["cut", "early"]).collect().to_pandas()
    early = activity_by(act, "early").groupby("segment")["customers"].sum().to_dict()
    jan = act[act["cohort"] == 2025 * 12]["customers"].sum()
    assert early == {"jan": jan, "unknown": act["customers"].sum() - jan} and jan > 0
    plain = labelled.select([n for n in labelled.columns if not n.startswith("__active_")])
    portable = cohort_activity(orders, plain, BKK, by=["cut", "early"]).collect().to_pandas()
    pd.testing.assert_frame_equal(act, portable, check_dtype=False)
    # c and d have no label -> "unknown"; a is the January cohort, b and c February, d April.
    cut = activity_by(act, "cut")
    assert set(cut["segment"]) == {"x", "y", "unknown"}
    feb = cut[(cut["cohort"] == 2025 * 12 + 1) & (cut["k"] == 0)].set_index("segment")
    assert feb["customers"].to_dict() == {"unknown": 1, "y": 1}
    uncut = _activity(warehouse_dir, BKK)
    pd.testing.assert_frame_equal(
        activity_by(act).reset_index(drop=True),
        uncut[["cohort", "k", "customers", "revenue", "orders"]].reset_index(drop=True),
        check_dtype=False,
    )


def _yoy_findings(k1_now: float, k1_then: float) -> list[str]:
    """Findings for two monthly cohorts a year apart, sizes 100 each, observed at k = 1."""
    index = pd.to_datetime(["2025-08-01", "2026-08-01"])
    retention = pd.DataFrame({0: [1.0, 1.0], 1: [k1_then, k1_now]}, index=index)
    size = pd.Series([100, 100], index=index)
    m = CohortMatrices(size, retention, retention, retention, retention)
    yoy = same_cohorts_a_year_earlier(retention, n=1, ks=(1,))
    return cohort_findings(m, yoy, lambda c: c.strftime("%b %Y"))


def test_cohort_findings_in_percentage_points():
    # Aug 2026 retains 7.2 % in month 1, Aug 2025 5.0 %: +2.2 pp (not "2 points");
    # the average of both cohorts (size 100 each) is (7.2 + 5.0) / 2 = 6.1 %
    assert _yoy_findings(0.072, 0.050) == [
        "Month-1 retention of the Aug 2026 cohort 7.2% (average of all cohorts 6.1%).",
        "The Aug 2026 cohort retains 2.2 pp better in month 1 than the Aug 2025 cohort a "
        "year earlier (7.2% vs 5.0%).",
    ]
    # 1 point worse reads "1.0 pp", never "1 points"
    assert _yoy_findings(0.05, 0.06)[1].startswith("The Aug 2026 cohort retains 1.0 pp worse")


def test_cohort_findings_no_change_reads_as_well():
    # 7.02 % vs 6.98 %: +0.04 pp rounds to 0.0 -> no "0 points worse"
    assert _yoy_findings(0.0702, 0.0698)[1] == (
        "The Aug 2026 cohort retains as well in month 1 as the Aug 2025 cohort a year "
        "earlier (7.0%)."
    )


def test_cohort_findings_small_retention_is_not_rounded_to_nothing():
    # a marketplace: 0.4 % month-1 retention reads 0.4 %, not 0 %
    assert _yoy_findings(0.004, 0.004)[0].startswith(
        "Month-1 retention of the Aug 2026 cohort 0.4%"
    )


def test_cohort_findings_without_a_year_earlier_cohort():
    index = pd.to_datetime(["2026-07-01", "2026-08-01"])
    retention = pd.DataFrame({0: [1.0, 1.0], 1: [0.1, 0.2]}, index=index)
    size = pd.Series([10, 10], index=index)
    m = CohortMatrices(size, retention, retention, retention, retention)
    yoy = same_cohorts_a_year_earlier(retention, n=1, ks=(1,))
    out = cohort_findings(m, yoy, lambda c: c.strftime("%b %Y"))
    assert len(out) == 1  # no year-on-year sentence against a cohort without data
