"""analysis.kpis on tiny hand-built warehouses; every expected number is worked out by hand.

Times are written as Bangkok wall-clock times (UTC+7, no DST) and stored as UTC
instants by ``conftest.write_table``. The arithmetic sits next to each assertion.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import orders_frame, write_table

from analysis.calendar import month_bounds
from analysis.kpis import (
    customer_base,
    monthly_trends,
    period_order_metrics,
    report_periods,
    retention_metrics,
    scorecard,
    table_starts,
)
from analysis.narrative.kpis import findings
from analysis.warehouse import StoreWarehouse

ROWS = [
    # January (Bangkok): c1 twice (once at 23:30 on the 31st), c2 once, a guest, a cancellation
    ("o1", "c1", "2026-01-05 03:00:00", 100.0, "completed"),
    ("o2", "c1", "2026-01-31 16:30:00", 50.0, "completed"),  # 23:30 Bangkok, still January
    ("o3", "c2", "2026-01-10 03:00:00", 30.0, "completed"),
    ("o4", None, "2026-01-11 03:00:00", 20.0, "completed"),  # guest
    ("o5", "c3", "2026-01-12 03:00:00", 70.0, "cancelled"),  # c3 has only a cancelled order
    # February: 00:30 Bangkok on the 1st, and a refund
    ("o6", "c2", "2026-01-31 17:30:00", 40.0, "completed"),
    ("o7", "c1", "2026-02-10 03:00:00", 25.0, "refunded"),
    # April: one order; March has none
    ("o8", "c1", "2026-04-01 03:00:00", 10.0, "completed"),
]


@pytest.fixture
def small_shop(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", orders_frame(ROWS))
    return StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")


def _month_orders(wh, month):
    """period_order_metrics of the report month ``month`` (its "current" row)."""
    periods = report_periods(month, wh.timezone)
    orders = wh.table("orders", end=periods[0].end)
    base = customer_base(orders, periods, 365)
    return period_order_metrics(orders, base, periods).loc["current"]


def test_january_by_hand(small_shop):
    jan = _month_orders(small_shop, "2026-01")
    assert jan["revenue"] == 200.0  # 100 + 50 + 30 + 20 (guest); the cancelled 70 excluded
    assert jan["orders"] == 4
    assert jan["aov"] == 50.0
    assert jan["active_customers"] == 2  # c1, c2; not the guest, not c3 (cancelled only)
    assert jan["purchase_frequency"] == 1.5  # 3 registered orders / 2 customers
    assert jan["cancelled_orders"] == 1 and jan["cancelled_value"] == 70.0


def test_february_refund_and_boundary(small_shop):
    feb = _month_orders(small_shop, "2026-02")
    assert feb["revenue"] == 40.0 and feb["orders"] == 1  # o6 at 00:30 Bangkok on 1 Feb
    assert feb["refunded_orders"] == 1 and feb["refunded_value"] == 25.0


def test_month_without_orders_is_zero_in_the_trends(small_shop):
    trends = monthly_trends(small_shop, "2026-04", months=4)
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert list(trends["month"].dt.strftime("%Y-%m")) == months
    assert list(trends["orders"]) == [4, 1, 0, 1]  # March: inside the data, nothing sold
    assert list(trends["revenue"]) == [200.0, 40.0, 0.0, 10.0]
    assert list(trends["active_customers"]) == [2, 1, 0, 1]


# =========================================================================== scorecard
#
# The "core" store, report month 2026-03 (previous 2026-02, year ago 2025-03),
# window_days = 60. Trailing windows, as local Bangkok dates [from, to):
#   S current  = [2025-12-31, 2026-03-01)   (1 Mar - 60 d: -28 Feb, -31 Jan, -1 Dec)
#   E current  = [2026-01-31, 2026-04-01)   (1 Apr - 60 d: -31 Mar, -29 Feb)
#   S previous = [2025-12-03, 2026-02-01)   E previous = S current
#   S year ago = [2024-12-31, 2025-03-01)   E year ago = [2025-01-31, 2025-04-01)
#
# Customers: h, i (2025); j (Dec 2025); a, b (Jan); k, c (Feb); d, e, m (new in Mar);
# f (first order 00:30 on 1 Apr: April); g (only a cancelled order); guests (None).

TZ = "Asia/Bangkok"
STORE = "shop"
WINDOW = 60


def bkk(local: str) -> str:
    """A Bangkok wall-clock time as an ISO string with its UTC offset."""
    return f"{local}+07:00"


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def orders_with_discount(rows: list[tuple]) -> pd.DataFrame:
    """``(order_id, customer_id, Bangkok time, revenue, status, discount)`` tuples."""
    frame = orders_frame([(o, c, bkk(t), r, s) for o, c, t, r, s, _ in rows])
    frame["discount"] = [float(r[5]) for r in rows]
    return frame


CORE_ORDERS = [
    # year ago (2025-03) and before
    ("o01", "h", "2025-01-20 10:00", 100, "completed", 0),  # h's first order (in S year ago)
    ("o02", "h", "2025-03-10 10:00", 60, "completed", 0),  # h returning in 2025-03
    ("o03", "i", "2025-03-15 10:00", 40, "completed", 5),  # i new in 2025-03, discounted
    ("o04", "j", "2025-12-10 10:00", 70, "completed", 0),  # j: in S previous only
    # January 2026
    ("o05", "a", "2026-01-10 10:00", 100, "completed", 0),
    ("o06", "b", "2026-01-15 10:00", 80, "completed", 0),  # b: in S current, not in E
    # February 2026 (previous)
    ("o07", "k", "2026-02-05 10:00", 70, "completed", 0),  # k new
    ("o08", "c", "2026-02-10 10:00", 60, "completed", 10),  # c new, discounted
    ("o09", "a", "2026-02-14 10:00", 50, "completed", 0),  # a returning (repeat order)
    ("o10", None, "2026-02-20 10:00", 20, "completed", 0),  # guest
    ("o11", "h", "2026-02-25 10:00", 30, "cancelled", 0),  # h: cancelled, so not active
    # March 2026 (current)
    ("o12", "a", "2026-03-05 10:00", 200, "completed", 0),  # a's 3rd order
    ("o13", "c", "2026-03-10 10:00", 40, "completed", 0),  # c's 2nd
    ("o14", "d", "2026-03-12 10:00", 150, "completed", 15),  # d new, discounted first order
    ("o15", "g", "2026-03-15 10:00", 70, "cancelled", 0),  # g: only ever a cancelled order
    ("o16", None, "2026-03-16 10:00", 60, "completed", 0),  # guest
    ("o17", "a", "2026-03-18 10:00", 25, "refunded", 0),
    ("o18", "c", "2026-03-20 10:00", 100, "completed", 20),  # c's 3rd, discounted
    ("o19", "d", "2026-03-25 10:00", 60, "completed", 0),  # d's 2nd
    ("o20", "m", "2026-03-28 10:00", 100, "completed", 10),  # m new (no customers row)
    ("o21", "e", "2026-03-31 23:30", 90, "completed", 0),  # e new: 23:30 on 31 Mar is March
    # April 2026
    ("o22", "f", "2026-04-01 00:30", 500, "completed", 0),  # 00:30 on 1 Apr is April
]

CUSTOMERS = [
    # customer_id, acquisition_channel, signed_up_at (Bangkok); m has no row
    ("a", "ads", "2026-01-01 10:00"),
    ("b", "ads", "2026-01-02 10:00"),
    ("c", "social", "2026-02-01 10:00"),
    ("d", "ads", "2026-03-02 10:00"),  # first order 12 Mar 10:00: 10 days
    ("e", "organic", "2026-03-31 11:30"),  # first order 31 Mar 23:30: 0.5 days
    ("f", "ads", "2026-03-30 10:00"),
    ("g", "social", "2026-03-01 10:00"),
    ("h", "organic", "2025-01-01 10:00"),
    ("i", "social", "2025-03-01 10:00"),
    ("j", "ads", "2025-12-01 10:00"),
    ("k", "social", "2026-02-01 10:00"),
]

SPEND = [
    ("2025-03-03", 90.0, "ads"),  # year ago
    ("2026-02-01", 150.0, "social"),  # previous
    ("2026-02-28", 50.0, "ads"),  # previous
    ("2026-03-01", 300.0, "ads"),
    ("2026-03-15", 100.0, "ads"),
    ("2026-03-31", 120.0, "social"),
    ("2026-04-01", 999.0, "ads"),  # after the report month
]

SESSIONS = [
    ("2026-02-01", 50),
    ("2026-02-28", 150),
    ("2026-03-01", 120),
    ("2026-03-31", 80),
    ("2026-04-01", 1000),  # after the report month
]

CARTS = [
    # cart_id, created_at (Bangkok), customer_id, order_id (None = abandoned)
    ("k1", "2026-02-10 09:50", "c", "o08"),
    ("k2", "2026-02-28 23:50", "h", None),
    ("k3", "2026-03-01 00:10", "a", "o12"),  # 28 Feb 17:10 UTC, but March in Bangkok
    ("k4", "2026-03-15 09:00", "g", None),
    ("k5", "2026-03-20 12:00", None, None),
    ("k6", "2026-03-31 23:50", "e", None),
    ("k7", "2026-04-01 00:10", "f", None),  # April
]

SURVEYS = [
    # responded_at (Bangkok), customer_id, nps, csat
    ("2026-02-11 10:00", "c", 6, 3),
    ("2026-02-28 23:59", "a", 10, 5),
    ("2026-03-01 00:05", "a", 10, 5),
    ("2026-03-11 10:00", "c", 9, 4),
    ("2026-03-13 10:00", "d", 9, 4),
    ("2026-03-21 10:00", None, 7, 2),
    ("2026-03-31 23:59", "e", 3, None),
    ("2026-04-01 00:01", "f", 0, 1),  # April
]

MEMBERS = [
    ("a", "2026-01-01 10:00"),
    ("k", "2026-02-01 10:00"),
    ("c", "2026-03-31 23:00"),  # member by the end of March, not of February
    ("d", "2026-04-01 00:30"),  # joins in April: not a member in March
    ("h", "2025-06-01 10:00"),  # joins after 2025-03
]


def write_core(root, *, optional: bool = True) -> None:
    write_table(root, "orders", STORE, orders_with_discount(CORE_ORDERS))
    if not optional:
        return
    write_table(
        root,
        "customers",
        STORE,
        pd.DataFrame(
            [(c, ch, bkk(t)) for c, ch, t in CUSTOMERS],
            columns=["customer_id", "acquisition_channel", "signed_up_at"],
        ),
    )
    write_table(
        root,
        "marketing_spend",
        STORE,
        pd.DataFrame([(d(x), s, ch) for x, s, ch in SPEND], columns=["date", "spend", "channel"]),
    )
    write_table(
        root,
        "sessions",
        STORE,
        pd.DataFrame([(d(x), n) for x, n in SESSIONS], columns=["date", "sessions"]),
    )
    write_table(
        root,
        "carts",
        STORE,
        pd.DataFrame(
            [(k, bkk(t), c, o) for k, t, c, o in CARTS],
            columns=["cart_id", "created_at", "customer_id", "order_id"],
        ).astype({"customer_id": "string", "order_id": "string"}),
    )
    surveys = pd.DataFrame(
        [(bkk(t), c, n, s) for t, c, n, s in SURVEYS],
        columns=["responded_at", "customer_id", "nps", "csat"],
    )
    write_table(
        root,
        "surveys",
        STORE,
        surveys.astype({"customer_id": "string", "nps": "Int64", "csat": "Int64"}),
    )
    write_table(
        root,
        "loyalty_members",
        STORE,
        pd.DataFrame([(c, bkk(t)) for c, t in MEMBERS], columns=["customer_id", "joined_at"]),
    )


@pytest.fixture(scope="module")
def core_wh(tmp_path_factory) -> StoreWarehouse:
    root = tmp_path_factory.mktemp("core")
    write_core(root)
    return StoreWarehouse(root, STORE, TZ)


@pytest.fixture(scope="module")
def core(core_wh):
    return scorecard(core_wh, "2026-03", window_days=WINDOW)


def cells(card, key: str) -> tuple:
    """(current, previous, year_ago) of one metric via ``Scorecard.value`` (None, never NaN)."""
    return tuple(card.value(key, p) for p in ("current", "previous", "year_ago"))


class approx:  # lower case: used like pytest.approx
    """pytest.approx for a tuple/list in which ``None`` must be exactly ``None``."""

    def __init__(self, *expected):
        self.expected = expected

    def __eq__(self, actual) -> bool:
        actual = tuple(actual)
        return len(actual) == len(self.expected) and all(
            (a is None) if e is None else (a is not None and a == pytest.approx(e, rel=1e-9))
            for a, e in zip(actual, self.expected, strict=True)
        )

    def __repr__(self) -> str:
        return f"approx{self.expected!r}"


def test_periods_are_local_months():
    cur, prev, ago = report_periods("2026-03", TZ)
    assert (cur.month, prev.month, ago.month) == ("2026-03", "2026-02", "2025-03")
    # 1 Mar 00:00 Bangkok = 28 Feb 17:00 UTC; 1 Apr 00:00 Bangkok = 31 Mar 17:00 UTC
    assert cur.start == dt.datetime(2026, 2, 28, 17, tzinfo=dt.UTC)
    assert cur.end == dt.datetime(2026, 3, 31, 17, tzinfo=dt.UTC)
    assert month_bounds("2026-03", "UTC")[0] == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_revenue_orders_aov(core):
    # current: completed 200 + 40 + 150 + 60 (guest) + 100 + 60 + 100 + 90 (e, 23:30 on 31 Mar)
    #   = 800; not g's cancelled 70, a's refunded 25, f's 500 at 00:30 on 1 Apr
    # previous: 70 + 60 + 50 + 20 (guest) = 200 (h's cancelled 30 excluded)
    # year ago: 60 + 40 = 100
    assert cells(core, "revenue") == approx(800.0, 200.0, 100.0)
    assert cells(core, "orders") == approx(8, 4, 2)  # guests included
    assert cells(core, "aov") == approx(100.0, 50.0, 50.0)  # 800/8, 200/4, 100/2


def test_customer_counts(core):
    # current: active a, c, d, e, m = 5 (not the guest, not g with only a cancelled order,
    #   not f whose order is in April); new d, e, m = 3; returning a, c = 2 (= 5 - 3)
    # previous: active k, c, a = 3 (h only cancelled); new k, c = 2; returning a = 1
    # year ago: active h, i = 2; new i = 1 (h's first order was Jan 2025); returning h = 1
    assert cells(core, "active_customers") == approx(5, 3, 2)
    assert cells(core, "new_customers") == approx(3, 2, 1)
    assert cells(core, "returning_customers") == approx(2, 1, 1)


def test_purchase_frequency_excludes_guest_orders(core):
    # registered completed orders / active: current 7/5 (8 orders minus the guest's),
    # previous 3/3 (4 minus the guest's), year ago 2/2
    assert cells(core, "purchase_frequency") == approx(1.4, 1.0, 1.0)


def test_retention_and_churn(core, core_wh):
    # Retention = |S ∩ E| / |S|, windows of 60 days ending at the period's end:
    # current:  E = [31 Jan, 1 Apr), S = [2 Dec 2025, 31 Jan 2026) (31 Jan - 60 d: -31, -29)
    #           S = j (10 Dec), a (10 Jan), b (15 Jan) = 3
    #           E = a (14 Feb, 5 Mar), k, c, d, e (23:30 31 Mar), m = 6 (h's Feb is cancelled)
    #           S ∩ E = a -> 1/3; churn 2/3 (j and b did not come back)
    # previous: E = [31 Dec, 1 Mar), S = [1 Nov, 31 Dec): S = j; E = a, b, k, c
    #           S ∩ E = {} -> 0/1 = 0, churn 1
    # year ago: S = [2 Dec 2024, 31 Jan 2025) starts before the store's first order
    #           (h, 20 Jan 2025): not enough history -> None, although S = h and h is in E
    assert cells(core, "retention_rate") == approx(1 / 3, 0.0, None)
    assert cells(core, "churn_rate") == approx(2 / 3, 1.0, None)
    t = core.table
    assert t.loc["retention_rate", "year_ago_status"] == "not enough history"
    assert t.loc["churn_rate", "year_ago_status"] == "not enough history"
    assert t.loc["retention_rate", "current_status"] is None
    periods = report_periods("2026-03", TZ)
    base = customer_base(core_wh.table("orders", end=periods[0].end), periods, WINDOW)
    first = dt.datetime(2025, 1, 20, 3, tzinfo=dt.UTC)  # h, 10:00 Bangkok
    r = retention_metrics(base, periods, WINDOW, first)
    assert r["prior_customers"].tolist() == [3, 1, 1]  # S
    assert r["recent_customers"].tolist() == [6, 4, 2]  # E
    assert r["retained_customers"].tolist() == [1, 0, 1]  # S ∩ E
    assert r["reactivated_customers"].tolist() == [0, 0, 0]
    assert r["enough_history"].tolist() == [True, True, False]
    assert r["retention_rate"].tolist()[2] is None
    # a store without orders has no history at all
    assert retention_metrics(base, periods, WINDOW, None)["retention_rate"].tolist() == [
        None, None, None,
    ]  # fmt: skip


def test_repeat_purchase_rate_and_revenue_share(core):
    # customers with a completed order before the period's end, and those with >= 2:
    # current (before 1 Apr): h2 i1 j1 a3 b1 k1 c3 d2 m1 e1 -> 4 of 10 (g never completed)
    # previous (before 1 Mar): h2 i1 j1 a2 b1 k1 c1 -> 2 of 7; year ago: h2 i1 -> 1 of 2
    assert cells(core, "repeat_purchase_rate") == approx(0.4, 2 / 7, 0.5)
    # repeat revenue / revenue: current a 200 + c 40 + c 100 + d 60 = 400 of 800 (guest 60 not
    # repeat); previous a 50 of 200; year ago h 60 of 100
    assert cells(core, "repeat_revenue_share") == approx(0.5, 0.25, 0.6)


def test_discount_and_cancellations(core):
    # completed orders with discount > 0: current o14, o18, o20 = 3 of 8; previous o08 = 1 of 4;
    # year ago o03 = 1 of 2 (the cancelled/refunded orders do not count either way)
    assert cells(core, "discount_order_share") == approx(0.375, 0.25, 0.5)
    assert cells(core, "cancelled_orders") == approx(1, 1, 0)  # g in Mar, h in Feb
    assert cells(core, "cancelled_value") == approx(70.0, 30.0, 0.0)
    assert cells(core, "refunded_orders") == approx(1, 0, 0)  # a's o17
    assert cells(core, "refunded_value") == approx(25.0, 0.0, 0.0)


def test_conversion_rate(core):
    # orders placed in any status, guests included / sessions on the month's local dates
    # current: o12..o21 = 10 (incl. g's cancelled, a's refund, not f) / (120 + 80) = 0.05
    # previous: o07..o11 = 5 / (50 + 150) = 0.025; year ago: 2 orders, no sessions -> None
    assert cells(core, "conversion_rate") == approx(0.05, 0.025, None)


def test_cart_abandonment(core):
    # current: k3 (00:10 on 1 Mar), k4, k5, k6 (23:50 on 31 Mar) = 4 created, 1 converted
    #   -> 1 - 1/4 = 0.75 (k7 is April); previous: k1, k2 -> 1 - 1/2 = 0.5; year ago: none
    assert cells(core, "cart_abandonment_rate") == approx(0.75, 0.5, None)


def test_nps_and_csat(core):
    # current nps 10, 9, 9, 7, 3: 3 promoters, 1 detractor of 5 -> 100 * (3 - 1) / 5 = 40
    # csat 5, 4, 4, 2 (one blank) -> 3 of 4 = 0.75
    # previous nps 6, 10 -> 100 * (1 - 1) / 2 = 0; csat 3, 5 -> 1/2; year ago: none
    assert cells(core, "nps") == approx(40.0, 0.0, None)
    assert cells(core, "csat") == approx(0.75, 0.5, None)


def test_loyalty_participation(core):
    # current active a, c, d, e, m: members by 1 Apr a, c (d joins 1 Apr 00:30) -> 2/5
    # previous active k, c, a: members by 1 Mar a, k (c joins 31 Mar) -> 2/3
    # year ago active h, i, but the loyalty_members table starts in June 2025 (h's join):
    # March 2025 ends before its first row -> no data, not 0
    assert cells(core, "loyalty_participation") == approx(0.4, 2 / 3, None)
    assert core.table.loc["loyalty_participation", "year_ago_status"] == "no data"


def test_cac_and_acquisition_table(core):
    # spend on local dates: Mar 300 + 100 (ads) + 120 (social) = 520 (999 on 1 Apr excluded);
    # Feb 150 + 50 = 200; Mar 2025 90. New: Mar d (ads), e (organic), m (no row: unknown);
    # Feb c, k (social); Mar 2025 i (social)
    assert cells(core, "cac") == approx(520 / 3, 200 / 2, 90 / 1)
    acq = core.acquisition
    assert list(acq.index) == ["ads", "organic", "social", "unknown", "all"]
    assert acq["new_customers"].tolist() == [1, 1, 0, 1, 3]
    assert acq["spend"].tolist() == [400.0, 0.0, 120.0, 0.0, 520.0]
    # ads 400/1; organic 0/1 = 0 (no spend); social 120/0 = None; unknown 0/1; all 520/3
    assert acq["cac"].tolist() == approx(400.0, 0.0, None, 0.0, 520 / 3)


def test_ltv_cac(core):
    # LTV = completed revenue of registered customers in the 365 days before the period's
    # end / customers who bought in them (guests, cancelled and refunded orders excluded).
    # current [1 Apr 2025, 1 Apr 2026): j 70, a 100+50+200, b 80, k 70, c 60+40+100,
    #   d 150+60, m 100, e 90 -> 1170 / 8 customers = 146.25
    # CAC over the same 365 days: spend 150 + 50 + 300 + 100 + 120 = 720;
    #   new j, a, b, k, c, d, m, e = 8 -> 90; LTV:CAC = 146.25 / 90
    # previous [1 Mar 2025, 1 Mar 2026): h 60, i 40, j 70, a 100+50, b 80, k 70, c 60
    #   -> 530 / 7; CAC: spend 90 + 200 = 290 over new i, j, a, b, k, c = 6
    #   -> (530 / 7) / (290 / 6)
    # year ago [1 Apr 2024, 1 Apr 2025): h 100+60, i 40 -> 200 / 2 = 100;
    #   CAC: spend 90 / new h, i = 45 -> 100 / 45
    assert core.ltv == pytest.approx(146.25)
    assert cells(core, "ltv_cac") == approx(146.25 / 90, (530 / 7) / (290 / 6), 100 / 45)


def test_ladder(core):
    # completed orders before 1 Apr: >=1: 10, >=2: h a c d = 4, >=3: a c = 2, >=4: 0
    ladder = core.ladder
    assert ladder["k"].tolist() == [1, 2, 3, 4, 5]
    assert ladder["customers"].tolist() == [10, 4, 2, 0, 0]
    assert ladder["next"].tolist() == [4, 2, 0, 0, 0]
    # 4/10, 2/4, 0/2 = 0 (a real zero), then nobody with 4 orders: None (not 0)
    assert ladder["probability"].tolist() == approx(0.4, 0.5, 0.0, None, None)


def test_onboarding(core):
    ob = core.onboarding
    # new in March: d (signed up 2 Mar 10:00, first order 12 Mar 10:00: 10 days),
    # e (31 Mar 11:30 -> 23:30: 0.5 days), m (no customers row: left out) -> median 5.25
    assert ob["median_days_signup_to_first_order"] == pytest.approx(5.25)
    # first orders with a discount: d (15) yes, e no, m (10) yes -> 2/3
    assert ob["first_order_discount_share"] == pytest.approx(2 / 3)
    # first -> second completed order, before 1 Apr: h 20 Jan -> 10 Mar 2025 = 49,
    # a 10 Jan -> 14 Feb = 35, c 10 Feb -> 10 Mar = 28, d 12 -> 25 Mar = 13
    # -> median of 13, 28, 35, 49 = (28 + 35) / 2 = 31.5
    assert ob["median_days_first_to_second"] == pytest.approx(31.5)


def test_deltas(core):
    t = core.table
    rev = t.loc["revenue"]
    assert rev["change_vs_previous"] == pytest.approx(600.0)  # 800 - 200
    assert rev["pct_vs_previous"] == pytest.approx(3.0)  # 600 / 200
    assert rev["change_vs_year_ago"] == pytest.approx(700.0)  # 800 - 100
    assert rev["pct_vs_year_ago"] == pytest.approx(7.0)  # 700 / 100
    crr = t.loc["retention_rate"]
    assert crr["change_vs_previous"] == pytest.approx(1 / 3)  # 1/3 - 0 (points)
    assert pd.isna(crr["pct_vs_previous"])  # relative to 0: undefined
    # year ago: not enough history, so no delta at all (not 1/3 - 0 or -100 %)
    assert pd.isna(crr["change_vs_year_ago"]) and pd.isna(crr["pct_vs_year_ago"])
    # loyalty 0.4 vs 2/3: -4/15 points, -40 %
    loy = t.loc["loyalty_participation"]
    assert loy["change_vs_previous"] == pytest.approx(0.4 - 2 / 3)
    assert loy["pct_vs_previous"] == pytest.approx(-0.4)
    # NPS 40 vs 0: +40 points; a relative change against 0 is undefined (None)
    nps = t.loc["nps"]
    assert nps["change_vs_previous"] == pytest.approx(40.0)
    assert pd.isna(nps["pct_vs_previous"])
    assert pd.isna(nps["change_vs_year_ago"]) and pd.isna(nps["pct_vs_year_ago"])  # no answers
    # CAC 520/3 vs 100 and vs 90: relative to |previous|
    cac = t.loc["cac"]
    assert cac["pct_vs_previous"] == pytest.approx((520 / 3 - 100) / 100)
    assert cac["pct_vs_year_ago"] == pytest.approx((520 / 3 - 90) / 90)


def test_every_metric_is_available_with_all_tables(core):
    assert core.table["available"].all()
    assert core.table["missing_table"].isna().all()
    assert core.missing == []


@pytest.fixture(scope="module")
def empty_month(core_wh):
    # 2026-05: no orders; previous 2026-04 has only f's 500 (new); 2025-05 has nothing
    return scorecard(core_wh, "2026-05", window_days=WINDOW)


def test_month_without_orders(empty_month):
    card = empty_month
    # counts are 0 (previous: f's one order, f active and new)
    assert cells(card, "orders") == approx(0, 1, 0)
    assert cells(card, "active_customers") == approx(0, 1, 0)
    assert cells(card, "new_customers") == approx(0, 1, 0)
    assert cells(card, "returning_customers") == approx(0, 0, 0)
    assert cells(card, "cancelled_orders") == approx(0, 0, 0)
    assert cells(card, "refunded_orders") == approx(0, 0, 0)
    assert cells(card, "revenue") == approx(0.0, 500.0, 0.0)
    # ratios of nothing are None, not 0 and not NaN
    for key in (
        "aov",
        "purchase_frequency",
        "repeat_revenue_share",
        "discount_order_share",
        "conversion_rate",  # 0 orders / 0 sessions
        "cart_abandonment_rate",
        "cac",  # 0 spend / 0 new customers
        "nps",
        "csat",
        "loyalty_participation",
        "hero_multiplier",  # nobody spent in [2 Apr, 1 Jun)
    ):
        assert card.value(key) is None, key
        assert card.value(key, "year_ago") is None, key
    assert card.value("aov", "previous") == 500.0  # 500 / 1
    assert card.value("loyalty_participation", "previous") == 0.0  # f is not a member
    # retention still defined: S = active in [2 Mar, 1 May) = a, c, d, e, m, f = 6;
    # E = active in [2 Apr, 1 Jun) = 0 (f's 1 Apr < 2 Apr); N = 0 -> (0 - 0) / 6 = 0
    assert card.value("retention_rate") == 0.0 and card.value("churn_rate") == 1.0
    # repeat purchase rate before 1 Jun: h, a, c, d of 11 customers (f joins the 10)
    assert card.value("repeat_purchase_rate") == pytest.approx(4 / 11)
    # deltas: revenue 0 - 500 = -500 (-100 %); vs 0 a year ago: change 0, pct None
    rev = card.table.loc["revenue"]
    assert rev["change_vs_previous"] == -500.0 and rev["pct_vs_previous"] == -1.0
    assert rev["change_vs_year_ago"] == 0.0 and pd.isna(rev["pct_vs_year_ago"])
    assert pd.isna(card.table.loc["aov", "change_vs_previous"])  # None - 500
    assert card.acquisition.loc["all", "new_customers"] == 0
    assert card.acquisition.loc["all", "cac"] is None


def test_undefined_ratio_is_none_in_the_table(empty_month):
    assert empty_month.table.loc["aov", "current"] is None  # 0 revenue / 0 orders


def test_store_without_optional_tables(tmp_path):
    write_core(tmp_path, optional=False)
    wh = StoreWarehouse(tmp_path, STORE, TZ)
    card = scorecard(wh, "2026-03", window_days=WINDOW)
    t = card.table
    expected_missing = {
        "conversion_rate": "sessions",
        "cart_abandonment_rate": "carts",
        "cac": "marketing_spend",
        "ltv_cac": "marketing_spend",
        "nps": "surveys",
        "csat": "surveys",
        "loyalty_participation": "loyalty_members",
    }
    for key, table in expected_missing.items():
        assert not t.loc[key, "available"], key
        assert t.loc[key, "missing_table"] == table
        assert card.value(key) is None
    rest = t.drop(index=list(expected_missing))
    assert rest["available"].all() and rest["missing_table"].isna().all()
    # the order-based metrics are unchanged (same numbers as the full store)
    assert cells(card, "revenue") == approx(800.0, 200.0, 100.0)
    assert cells(card, "retention_rate") == approx(1 / 3, 0.0, None)
    assert (t[["current_status", "previous_status"]].isna()).all().all()  # no "no data"
    assert card.missing == [
        "sessions",
        "carts",
        "marketing_spend",
        "surveys",
        "customers",
        "loyalty_members",
    ]
    assert card.acquisition is None
    assert card.ltv == pytest.approx(146.25)  # needs orders only (see test_ltv_cac)
    assert card.onboarding["median_days_signup_to_first_order"] is None  # needs customers
    assert card.onboarding["first_order_discount_share"] == pytest.approx(2 / 3)
    assert card.onboarding["median_days_first_to_second"] == pytest.approx(31.5)
    trends = monthly_trends(wh, "2026-03", months=3)
    assert trends["revenue"].tolist() == [180.0, 200.0, 800.0]  # Jan a 100 + b 80; Feb; Mar
    for col in ("conversion_rate", "cart_abandonment_rate", "nps", "spend"):
        assert col not in trends


# --------------------------------------------------------------------------- hero multiplier


def hero_store(root, spends: dict[str, float], extra: list[tuple] = ()) -> StoreWarehouse:
    rows = [(f"o-{c}", c, "2026-03-10 10:00", s, "completed", 0) for c, s in spends.items()]
    write_table(root, "orders", STORE, orders_with_discount(rows + list(extra)))
    return StoreWarehouse(root, STORE, TZ)


def test_hero_multiplier_top_decile(tmp_path):
    # 20 customers spending 100, 200, ..., 2000 in March (x03's 300 = 100.10 + 199.90,
    # summed in satang 10010 + 19990 = 30000)
    spends = {f"x{i:02d}": 100.0 * i for i in range(1, 21)}
    spends["x03"] = 100.10
    extra = [
        ("o-x03b", "x03", "2026-03-11 10:00", 199.90, "completed", 0),
        ("o-old", "x01", "2026-01-15 10:00", 5000.0, "completed", 0),  # before 31 Jan: outside
        ("o-guest", None, "2026-03-12 10:00", 10000.0, "completed", 0),  # guest: no customer
        ("o-canc", "x02", "2026-03-13 10:00", 9000.0, "cancelled", 0),  # not spend
    ]
    wh = hero_store(tmp_path, spends, extra)
    card = scorecard(wh, "2026-03", window_days=WINDOW)
    # NTILE(10) of 20 customers: 2 per tile; top tile = x19, x20 -> mean 1950
    # mean of all = 100 * (1 + ... + 20) / 20 = 1050 -> 1950 / 1050 = 13/7
    assert card.value("hero_multiplier") == pytest.approx(13 / 7)
    # a 365-day window takes in x01's 5000 of 15 Jan: x01 = 5100 tops the ranking
    # top tile = x01 5100, x20 2000 -> 3550; all = (21000 + 5000) / 20 = 1300 -> 3550 / 1300
    wide = scorecard(wh, "2026-03", window_days=365)
    assert wide.value("hero_multiplier") == pytest.approx(3550 / 1300)


def test_hero_multiplier_ntile_uneven(tmp_path):
    # 12 customers spending 100..1200. NTILE(10) in descending order of spend gives the
    # 12 % 10 = 2 extra rows to tiles 1 and 2 (2 customers each), tiles 3..10 one each:
    # top tile = {1200, 1100}, mean 1150; mean of all = 650 -> 1150 / 650 = 23/13
    wh = hero_store(tmp_path, {f"y{i:02d}": 100.0 * i for i in range(1, 13)})
    card = scorecard(wh, "2026-03", window_days=WINDOW)
    assert card.value("hero_multiplier") == pytest.approx(23 / 13)


def test_hero_multiplier_fewer_than_ten_customers(tmp_path):
    # 5 customers spending 100..500: the top decile is the top customer (500);
    # mean of all = 300 -> 500 / 300 = 5/3
    wh = hero_store(tmp_path, {f"z{i}": 100.0 * i for i in range(1, 6)})
    card = scorecard(wh, "2026-03", window_days=WINDOW)
    assert card.value("hero_multiplier") == pytest.approx(5 / 3)


# --------------------------------------------------------------------------- time zones

TZ_ORDERS = [
    ("t1", "c3", "2026-01-01 00:30", 25, "completed", 0),  # 31 Dec 17:30 UTC
    ("t2", "c1", "2026-01-31 23:30", 100, "completed", 0),  # 31 Jan 16:30 UTC
    ("t3", "c2", "2026-02-01 00:30", 40, "completed", 0),  # 31 Jan 17:30 UTC
    ("t4", "c1", "2026-02-15 10:00", 10, "completed", 0),
]


@pytest.fixture(scope="module")
def tz_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("tz")
    write_table(root, "orders", STORE, orders_with_discount(TZ_ORDERS))
    carts = pd.DataFrame(
        [("k1", bkk("2026-02-01 00:30"), "c2", None)],  # 31 Jan 17:30 UTC, abandoned
        columns=["cart_id", "created_at", "customer_id", "order_id"],
    ).astype({"order_id": "string"})
    write_table(root, "carts", STORE, carts)
    return root


def test_midnight_bangkok(tz_root):
    card = scorecard(StoreWarehouse(tz_root, STORE, TZ), "2026-02", window_days=WINDOW)
    # Feb (Bangkok): t3 40 (00:30 on 1 Feb) + t4 10 = 50; new c2, returning c1
    # Jan (Bangkok): t1 25 (00:30 on 1 Jan) + t2 100 (23:30 on 31 Jan) = 125
    # Feb 2025 ends before the store's first order (t1): no data, not 0
    assert cells(card, "revenue") == approx(50.0, 125.0, None)
    assert card.table.loc["revenue", "year_ago_status"] == "no data"
    assert cells(card, "orders") == approx(2, 2, None)
    assert cells(card, "new_customers") == approx(1, 2, None)
    assert cells(card, "returning_customers") == approx(1, 0, None)
    assert cells(card, "cart_abandonment_rate") == approx(1.0, None, None)  # k1 in Feb


def test_midnight_utc_changes_the_answer(tz_root):
    card = scorecard(StoreWarehouse(tz_root, STORE, "UTC"), "2026-02", window_days=WINDOW)
    # Feb (UTC): t4 10 only; Jan (UTC): t2 100 + t3 40 = 140 (t1 is 31 Dec in UTC)
    assert cells(card, "revenue") == approx(10.0, 140.0, None)
    assert cells(card, "orders") == approx(1, 2, None)
    assert cells(card, "new_customers") == approx(0, 2, None)  # c1, c2 both new in January
    assert cells(card, "returning_customers") == approx(1, 0, None)
    assert cells(card, "cart_abandonment_rate") == approx(None, 1.0, None)  # k1 in Jan


def test_trends_follow_the_store_zone(tz_root):
    bkk_trend = monthly_trends(StoreWarehouse(tz_root, STORE, TZ), "2026-02", months=3)
    utc_trend = monthly_trends(StoreWarehouse(tz_root, STORE, "UTC"), "2026-02", months=3)
    # Dec, Jan, Feb (Bangkok): December ends before the first order (t1, 00:30 on 1 Jan),
    # so it is a gap (NaN), not 0
    assert pd.isna(bkk_trend["revenue"].iloc[0]) and pd.isna(bkk_trend["orders"].iloc[0])
    assert bkk_trend["revenue"].tolist()[1:] == [125.0, 50.0]
    assert utc_trend["revenue"].tolist() == [25.0, 140.0, 10.0]  # Dec, Jan, Feb (UTC)


# --------------------------------------------------------------------------- trends


def test_monthly_trends(core_wh, core):
    trends = monthly_trends(core_wh, "2026-03")
    months = trends["month"].dt.strftime("%Y-%m").tolist()
    assert len(trends) == 13
    assert months[0] == "2025-03" and months[-1] == "2026-03"
    t = trends.set_index(pd.Index(months))
    assert t.loc["2025-03", ["revenue", "orders", "active_customers", "new_customers"]].tolist() == [
        100.0, 2, 2, 1,  # h 60 + i 40; i new, h returning
    ]  # fmt: skip
    assert t.loc["2025-12", "revenue"] == 70.0  # j
    assert t.loc["2026-01", ["revenue", "orders", "new_customers"]].tolist() == [180.0, 2, 2]
    # 2025-04 .. 2025-11: no orders, zero-filled
    empty = t.loc["2025-04":"2025-11"]
    assert len(empty) == 8
    assert (empty[["revenue", "orders", "active_customers", "new_customers"]] == 0).all().all()
    assert (empty["spend"] == 0).all()
    assert t.loc["2025-03", "spend"] == 90.0
    # the last two months agree with the scorecard's current and previous columns
    for label, month in (("current", "2026-03"), ("previous", "2026-02")):
        for key in (
            "revenue",
            "orders",
            "aov",
            "active_customers",
            "new_customers",
            "returning_customers",
            "conversion_rate",
            "cart_abandonment_rate",
            "nps",
        ):
            assert t.loc[month, key] == pytest.approx(core.value(key, label)), (month, key)
    assert t.loc["2026-03", "spend"] == 520.0 and t.loc["2026-02", "spend"] == 200.0


# --------------------------------------------------------------------------- findings

FINDINGS_ORDERS = [
    ("q1", "q", "2025-03-10 10:00", 800, "completed", 0),  # year ago: 800
    ("r1", "r", "2026-01-20 10:00", 100, "completed", 0),  # January: 100, r new
    ("p1", "p1", "2026-02-10 10:00", 100, "completed", 0),  # February: 200, p1 p2 new
    ("p2", "p2", "2026-02-12 10:00", 100, "completed", 0),
    ("p3", "p1", "2026-03-05 10:00", 150, "completed", 0),  # March: 400; p1 p2 returning,
    ("p4", "p2", "2026-03-06 10:00", 150, "completed", 0),  # p3 p4 new
    ("p5", "p3", "2026-03-07 10:00", 50, "completed", 0),
    ("p6", "p4", "2026-03-08 10:00", 50, "completed", 0),
]


@pytest.fixture(scope="module")
def findings_wh(tmp_path_factory):
    root = tmp_path_factory.mktemp("findings")
    write_table(root, "orders", STORE, orders_with_discount(FINDINGS_ORDERS))
    return StoreWarehouse(root, STORE, TZ)


def test_findings_growth_driven_by_returning(findings_wh):
    card = scorecard(findings_wh, "2026-03", window_days=WINDOW)
    # revenue 400 vs 200 = +100 %; new 2 vs 2 (0), returning 2 vs 0 (+2) -> returning
    # vs 800 a year ago: -50 %; movers >= 5 %: active 4 vs 2 = +100 % (new 0 %, AOV 100 = 100)
    # retention: S [2 Dec, 31 Jan) = r; E [31 Jan, 1 Apr) = p1..p4; S ∩ E = {} -> 0 %
    assert findings(card, previous_month_name="February") == [
        "Revenue +100% vs February, driven by returning customers.",
        "Revenue -50% vs the same month last year.",
        "Active customers +100% vs February.",
        "Customer retention rate 0.00% (churn 100.0%).",
    ]


def test_findings_driven_by_new_customers(findings_wh):
    card = scorecard(findings_wh, "2026-02", window_days=WINDOW)
    # revenue 200 vs 100 (+100 %); new 2 vs 1 (+1), returning 0 vs 0 -> new customers;
    # no orders in Feb 2025: no year-on-year sentence
    out = findings(card, previous_month_name="January", max_items=10)
    assert out[0] == "Revenue +100% vs January, driven by new customers."
    assert not any("same month last year" in s for s in out)


def test_findings_decline(findings_wh):
    card = scorecard(findings_wh, "2026-04", window_days=WINDOW)
    # April: nothing, vs 400 in March -> -100 %; active 0 vs 4 -> -100 %
    out = findings(card, previous_month_name="March", max_items=10)
    assert out[0].startswith("Revenue -100% vs March")
    assert "Active customers -100% vs March." in out


def test_findings_unchanged_and_small_changes(tmp_path):
    rows = [
        ("u1", "u", "2026-01-10 10:00", 100, "completed", 0),  # January: 100
        ("u2", "v", "2026-02-10 10:00", 100, "completed", 0),  # February: 100 (v new)
        ("u3", "w", "2026-03-10 10:00", 103, "completed", 0),  # March: 103 (w new)
    ]
    write_table(tmp_path, "orders", STORE, orders_with_discount(rows))
    wh = StoreWarehouse(tmp_path, STORE, TZ)
    # Feb vs Jan: 100 vs 100 -> "unchanged", never "Revenue +0%" or "-0%"; no year-ago month
    # (Feb 2025 ends before the first order: no data, so no sentence)
    out = findings(scorecard(wh, "2026-02", window_days=WINDOW), previous_month_name="January")
    assert out[0] == "Revenue unchanged vs January."
    assert not any("last year" in s for s in out)
    # Mar vs Feb: 103 / 100 - 1 = +3 %: under 10 % it keeps one decimal -> "+3.0%"
    out = findings(scorecard(wh, "2026-03", window_days=WINDOW), previous_month_name="February")
    assert out[0] == "Revenue +3.0% vs February."  # new 1 vs 1, returning 0 vs 0: no driver


def test_trends_blank_before_each_tables_first_row(tmp_path):
    rows = [("t1", "a", "2026-02-10 10:00", 50, "completed", 0)]
    write_table(tmp_path, "orders", STORE, orders_with_discount(rows))
    spend = pd.DataFrame({"date": [d("2026-03-05")], "channel": ["ads"], "spend": [30.0]})
    write_table(tmp_path, "marketing_spend", STORE, spend)
    trends = monthly_trends(StoreWarehouse(tmp_path, STORE, TZ), "2026-03", months=3)
    # Jan: before the first order -> NaN everywhere; Feb: orders but spend starts in March
    # -> spend NaN (not 0); Mar: no orders (0, the store existed) and 30 spent
    assert pd.isna(trends.loc[0, ["revenue", "orders", "new_customers", "spend"]]).all()
    assert trends.loc[1, "revenue"] == 50.0 and pd.isna(trends.loc[1, "spend"])
    assert trends.loc[2, "revenue"] == 0.0 and trends.loc[2, "spend"] == 30.0


def test_optional_table_that_starts_later_is_no_data(tmp_path):
    rows = [
        ("s1", "a", "2026-01-10 10:00", 100, "completed", 0),
        ("s2", "b", "2026-02-10 10:00", 100, "completed", 0),
        ("s3", "c", "2026-03-10 10:00", 100, "completed", 0),
    ]
    write_table(tmp_path, "orders", STORE, orders_with_discount(rows))
    sessions = pd.DataFrame({"date": [d("2026-03-01"), d("2026-03-02")], "sessions": [30, 20]})
    write_table(tmp_path, "sessions", STORE, sessions)
    wh = StoreWarehouse(tmp_path, STORE, TZ)
    starts = table_starts(wh)
    # a session date is a local day: 1 Mar 00:00 Bangkok = 28 Feb 17:00 UTC
    assert starts["sessions"] == dt.datetime(2026, 2, 28, 17, tzinfo=dt.UTC)
    assert starts["orders"] == dt.datetime(2026, 1, 10, 3, tzinfo=dt.UTC)
    card = scorecard(wh, "2026-03", window_days=WINDOW)
    # March: 1 order / 50 sessions; February had orders but no sessions data: "no data",
    # not "0 sessions" (and no change against it); revenue in February is real
    assert cells(card, "conversion_rate") == approx(1 / 50, None, None)
    t = card.table
    assert t.loc["conversion_rate", "previous_status"] == "no data"
    assert t.loc["revenue", "previous_status"] is None
    assert pd.isna(t.loc["conversion_rate", "change_vs_previous"])


def test_findings_rates_move_in_percentage_points():
    from analysis.kpis.assemble import scorecard_table

    periods = report_periods("2026-03", TZ)
    labels = ["current", "previous", "year_ago"]
    series = lambda *v: pd.Series(dict(zip(labels, v, strict=True)), dtype=object)  # noqa: E731
    values = {
        "revenue": series(100.0, 100.0, None),  # unchanged
        "new_customers": series(1, 1, None),
        "returning_customers": series(0, 0, None),
        # conversion 2.53 % vs 2.40 %: +5.4 % relative (a mover), +0.13 pp in the sentence
        "conversion_rate": series(0.0253, 0.0240, None),
        # cart abandonment 66 % vs 60 %: +10 % relative, +6.0 pp (one decimal from 10 %)
        "cart_abandonment_rate": series(0.66, 0.60, None),
    }
    table = scorecard_table(values, periods, [])
    card = type("Card", (), {"table": table, "value": lambda self, k, p="current": (
        None if table.loc[k, p] is None else float(table.loc[k, p]))})()  # fmt: skip
    assert findings(card, previous_month_name="February", max_items=10) == [
        "Revenue unchanged vs February.",
        "Cart abandonment rate +6.0 pp vs February (now 66.0%).",
        "Conversion rate +0.13 pp vs February (now 2.53%).",
    ]
