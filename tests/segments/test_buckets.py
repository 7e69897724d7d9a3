"""Lifecycle buckets on hand-built tables: each rule's boundaries, worked out by hand.

Every table puts customers exactly at a cut and one second / one order / one
satang / one share point either side of it. ``AS_OF`` is 2026-02-01 00:00 UTC;
``ago(d)`` is ``d`` days before it.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import narwhals as nw
import pandas as pd

from analysis.config import SegmentParams
from analysis.i18n import use_language
from analysis.narrative.buckets import (
    bucket_rules_table,
    combinations_table,
    overlap_sentence,
    overlaps_table,
)
from analysis.segments.buckets import (
    BUCKETS,
    bucket_combinations,
    bucket_flags,
    bucket_headlines,
    bucket_overlaps,
)

AS_OF = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
P = SegmentParams(
    rfm_window_days=100,
    hero_top_share=0.25,
    hero_min_orders=2,
    regular_min_orders=2,
    regular_active_days=30,
    at_risk_gap_multiple=2.0,
    at_risk_p_alive=0.3,
    inactive_days=60,
    new_days=10,
    cart_days=7,
    discount_min_orders=2,
    discount_share=0.5,
    campaign_min_sends=2,
    churn_risk_bands=(0.3, 0.7),
)


def ago(days: float, seconds: float = 0) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days, seconds=seconds)


def lazy(df: pd.DataFrame) -> nw.LazyFrame:
    return nw.from_native(duckdb.from_df(df))


def orders(rows: list[tuple], discount: bool = True, status: bool = True) -> nw.LazyFrame:
    """Orders from ``(customer_id, ordered_at, revenue[, status[, discount]])`` tuples."""
    full = [tuple(r) + ("completed", 0.0)[len(r) - 3 :] for r in rows]
    df = pd.DataFrame(full, columns=["customer_id", "ordered_at", "revenue", "status", "discount"])
    df.insert(0, "order_id", [f"o{i}" for i in range(len(df))])
    df["customer_id"] = df["customer_id"].astype("string")
    df["ordered_at"] = pd.to_datetime(df["ordered_at"], utc=True)
    df["discount"] = df["discount"].astype("float64")
    if not discount:
        df = df.drop(columns="discount")
    if not status:
        df = df.drop(columns="status")
    return lazy(df)


def members(result, bucket: str) -> set[str]:
    flags = result.flags
    return set(flags.index[flags[bucket]])


def test_index_is_every_customer_with_a_completed_order_before_as_of():
    out = bucket_flags(
        orders(
            [
                ("a", ago(500), 10.0),  # long ago, still a customer
                ("b", AS_OF, 10.0),  # at as_of: after the window
                ("c", ago(1), 10.0, "cancelled"),  # no completed order
                (None, ago(1), 10.0),  # guest
                ("d", ago(1), 10.0),
            ]
        ),
        AS_OF,
        P,
    )
    assert list(out.flags.index) == ["a", "d"]
    assert list(out.flags.columns) == [
        "heroes",
        "regulars",
        "at_risk",
        "inactive",
        "negative_experience",
        "discount_driven",
        "new",
    ]
    assert set(out.unavailable) == {
        "cart_abandoners",
        "campaign_responders",
        "campaign_non_responders",
    }
    assert (out.flags.dtypes == "bool").all()
    assert out.as_of == AS_OF and "at_risk" in out.notes


def test_heroes_cut_ties_and_minimum_orders():
    # 8 customers with an order in the window -> k = ceil(0.25 * 8) = 2; ranked by window
    # spend: e 1000 (one order), a 300, b 300, c 299.99, then four at 20. The cut is the
    # spend at rank 2 = 300: a and b (tied) are heroes, c one satang below is not, e has
    # too few orders (it still counts for the rank). c's old 5000 is outside the window
    # (100 days + 1 s); f's order exactly 100 days ago is inside it.
    rows = [
        ("e", ago(5), 1000.0),
        ("a", ago(5), 100.0),
        ("a", ago(6), 200.0),
        ("b", ago(5), 150.0),
        ("b", ago(7), 150.0),
        ("b", ago(8), 999.0, "refunded"),
        ("c", ago(5), 149.99),
        ("c", ago(9), 150.0),
        ("c", ago(100, 1), 5000.0),
        ("f", ago(100), 10.0),
        ("f", ago(3), 10.0),
        ("g", ago(3), 10.0),
        ("g", ago(4), 10.0),
        ("h", ago(3), 10.0),
        ("h", ago(4), 10.0),
        ("i", ago(3), 10.0),
        ("i", ago(4), 10.0),
        ("z", ago(200), 99999.0),  # outside the window: not in the ranking
    ]
    out = bucket_flags(orders(rows), AS_OF, P)
    assert members(out, "heroes") == {"a", "b"}


def test_heroes_cut_moves_with_the_count_of_customers_in_the_window():
    # 9 customers in the window -> k = ceil(2.25) = 3: the cut falls to the third spend.
    rows = [
        (c, ago(d), v)
        for c, v in zip("abcdefghi", range(900, 0, -100), strict=True)
        for d in (1, 2)
    ]
    out = bucket_flags(orders(rows), AS_OF, P)
    assert members(out, "heroes") == {"a", "b", "c"}


def test_regulars():
    rows = [
        ("r1", ago(40), 10.0),
        ("r1", ago(30), 10.0),  # last exactly 30 days ago: regular
        ("r2", ago(40), 10.0),
        ("r2", ago(30, 1), 10.0),  # one second too early
        ("r3", ago(101), 10.0),  # outside the window: one window order only
        ("r3", ago(1), 10.0),
        ("r4", ago(2), 10.0),
        ("r4", ago(1), 10.0, "cancelled"),  # not completed
    ]
    out = bucket_flags(orders(rows), AS_OF, P)
    assert members(out, "regulars") == {"r1"}


def test_inactive_and_new():
    rows = [
        ("i1", ago(60), 10.0),  # exactly 60 days: inactive
        ("i2", ago(60) + SECOND, 10.0),  # one second short
        ("n1", ago(10), 10.0),  # first order exactly 10 days ago: new
        ("n2", ago(10, 1), 10.0),
        ("n3", ago(20), 10.0, "cancelled"),  # a cancelled order does not start a customer
        ("n3", ago(5), 10.0),
    ]
    out = bucket_flags(orders(rows), AS_OF, P)
    assert members(out, "inactive") == {"i1"}
    assert members(out, "new") == {"n1", "n3"}


def test_at_risk_gap_rule_and_p_alive():
    rows = [
        # a1: orders 90, 70, 50 days ago: mean gap 20, 50 days since > 2 x 20
        ("a1", ago(90), 10.0),
        ("a1", ago(70), 10.0),
        ("a1", ago(50), 10.0),
        ("a2", ago(60), 10.0),  # gap 20, 40 days since = exactly 2 x 20: not at risk
        ("a2", ago(40), 10.0),
        ("a3", ago(60, 1), 10.0),  # gap 20 days + 1 s, 40 days since: not at risk
        ("a3", ago(40), 10.0),
        ("a5", ago(200), 10.0),  # inactive: never at risk
        ("a5", ago(190), 10.0),
        ("a6", ago(50), 10.0),  # one order: gap rule cannot apply
        ("a7", ago(30), 10.0),  # one order, P(alive) exactly at the threshold
        ("a8", ago(30), 10.0),
        ("a8", ago(30), 10.0),  # two orders at one instant: no gap
    ]
    out = bucket_flags(orders(rows), AS_OF, P)
    assert members(out, "at_risk") == {"a1"}
    assert "at_risk" in out.notes
    p_alive = pd.Series({"a5": 0.01, "a6": 0.29, "a7": 0.3, "a2": 0.9})
    out = bucket_flags(orders(rows), AS_OF, P, p_alive=p_alive)
    assert members(out, "at_risk") == {"a1", "a6"}
    assert "at_risk" not in out.notes


def test_at_risk_gap_boundary_one_second():
    # Orders 60 and 40 days ago give exactly 2 x gap (a2 above: not at risk). x's last
    # order one second later: gap 20 d + 1 s, since 40 d - 1 s < 40 d + 2 s (not at risk);
    # y's one second earlier: gap 20 d - 1 s, since 40 d + 1 s > 40 d - 2 s (at risk).
    rows = [
        ("x", ago(60), 10.0),
        ("x", ago(40) + SECOND, 10.0),
        ("y", ago(60), 10.0),
        ("y", ago(40) - SECOND, 10.0),
    ]
    out = bucket_flags(orders(rows), AS_OF, P)
    assert members(out, "at_risk") == {"y"}


def test_negative_experience_surveys_and_statuses():
    rows = [(c, ago(20), 10.0) for c in ("n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8")]
    rows += [("n6", ago(10), 10.0, "refunded"), ("n7", ago(100, 1), 10.0, "cancelled")]
    surveys = pd.DataFrame(
        [
            ("n1", ago(5), 6, 5),  # detractor
            ("n2", ago(5), 7, 3),  # passive, CSAT 3: fine
            ("n3", ago(5), 9, 2),  # CSAT 2
            ("n4", ago(100, 1), 0, 1),  # outside the window
            ("n5", ago(100), 0, 5),  # exactly at the window's start: inside
            ("n8", ago(5), None, 1),  # no NPS answer, CSAT 1
            (None, ago(5), 0, 1),  # a guest's answer
            ("n2", AS_OF, 0, 1),  # at as_of: after the window
        ],
        columns=["customer_id", "responded_at", "nps", "csat"],
    ).astype({"customer_id": "string", "nps": "Int64", "csat": "Int64"})
    surveys["responded_at"] = pd.to_datetime(surveys["responded_at"], utc=True)
    out = bucket_flags(orders(rows), AS_OF, P, surveys=lazy(surveys))
    # n6 by its refund in the window; n7's cancellation is one second too old
    assert members(out, "negative_experience") == {"n1", "n3", "n5", "n6", "n8"}
    assert "negative_experience" not in out.notes
    # without surveys: refunds and cancellations only, said in a note
    out = bucket_flags(orders(rows), AS_OF, P)
    assert members(out, "negative_experience") == {"n6"}
    assert "negative_experience" in out.notes
    # without a status column: surveys only, said in a note
    plain = [r[:3] for r in rows if len(r) == 3]
    out = bucket_flags(orders(plain, status=False), AS_OF, P, surveys=lazy(surveys))
    assert members(out, "negative_experience") == {"n1", "n3", "n5", "n8"}
    assert "negative_experience" in out.notes
    # neither: unavailable, with a reason
    out = bucket_flags(orders(plain, status=False), AS_OF, P)
    assert "negative_experience" not in out.flags
    assert "negative_experience" in out.unavailable


def test_cart_abandoners():
    rows = [
        ("c1", ago(10), 10.0),
        ("c2", ago(10), 10.0),
        ("c2", ago(3), 10.0),  # ordered after the cart
        ("c3", ago(10), 10.0),
        ("c4", ago(10), 10.0),
        ("c5", ago(10), 10.0),
        ("c6", ago(10), 10.0),
        ("c6", ago(5), 10.0),  # an order at the cart's very instant: not abandoned
        ("c7", ago(10), 10.0),
        ("c7", ago(3), 10.0, "cancelled"),  # not a completed order
        ("c8", ago(10), 10.0),
    ]
    carts = pd.DataFrame(
        [
            ("k1", ago(5), "c1", None),
            ("k2", ago(5), "c2", None),
            ("k3", ago(7), "c3", None),  # exactly 7 days ago: counts
            ("k4", ago(7, 1), "c4", None),  # one second too old
            ("k5", ago(5), "c5", "o99"),  # converted
            ("k6", ago(5), "c6", None),
            ("k7", ago(5), "c7", None),
            ("k8", AS_OF, "c8", None),  # at as_of: after the window
            ("k9", ago(5), None, None),  # a guest's cart
        ],
        columns=["cart_id", "created_at", "customer_id", "order_id"],
    ).astype({"customer_id": "string", "order_id": "string"})
    carts["created_at"] = pd.to_datetime(carts["created_at"], utc=True)
    out = bucket_flags(orders(rows), AS_OF, P, carts=lazy(carts))
    assert members(out, "cart_abandoners") == {"c1", "c3", "c7"}
    out = bucket_flags(orders(rows), AS_OF, P, carts=lazy(carts.drop(columns="order_id")))
    assert "cart_abandoners" in out.unavailable and "cart_abandoners" not in out.flags


def test_discount_driven():
    rows = [
        ("d1", ago(1), 10.0, "completed", 1.0),  # 2 of 3 discounted: yes
        ("d1", ago(2), 10.0, "completed", 1.0),
        ("d1", ago(3), 10.0, "completed", 0.0),
        ("d2", ago(1), 10.0, "completed", 1.0),  # 1 of 2 = exactly half: no
        ("d2", ago(2), 10.0, "completed", 0.0),
        ("d3", ago(1), 10.0, "completed", 0.01),  # 2 of 2: yes
        ("d3", ago(2), 10.0, "completed", 0.01),
        ("d4", ago(1), 10.0, "completed", 5.0),  # one order only
        ("d5", ago(1), 10.0, "completed", 1.0),  # 2 of 2 in the window, old ones don't count
        ("d5", ago(2), 10.0, "completed", 1.0),
        ("d5", ago(101), 10.0, "completed", 0.0),
        ("d5", ago(102), 10.0, "completed", 0.0),
        ("d6", ago(1), 10.0, "completed", 1.0),  # a cancelled discounted order doesn't count
        ("d6", ago(2), 10.0, "completed", 0.0),
        ("d6", ago(3), 10.0, "cancelled", 1.0),
    ]
    out = bucket_flags(orders(rows), AS_OF, P)
    assert members(out, "discount_driven") == {"d1", "d3", "d5"}
    out = bucket_flags(orders(rows, discount=False), AS_OF, P)
    assert "discount_driven" in out.unavailable and "discount_driven" not in out.flags


def test_campaign_responders_and_non_responders():
    rows = [(c, ago(20), 10.0) for c in ("p1", "p2", "p3", "p4", "p5", "p6")]
    sends = pd.DataFrame(
        [
            ("m1", "p1", ago(10), True),  # converted in the window
            ("m1", "p2", ago(10), False),  # two sends, none converted
            ("m2", "p2", ago(100), False),  # exactly at the window's start: inside
            ("m1", "p3", ago(10), False),  # one send only
            ("m3", "p4", ago(100, 1), True),  # converted before the window
            ("m1", "p4", ago(10), False),
            ("m2", "p4", ago(20), False),
            ("m1", "p5", ago(10), False),
            ("m2", "p5", ago(20), True),
            ("m4", "p5", ago(30), False),
            ("m1", "p6", ago(10), None),  # unknown conversion reads as no conversion
            ("m2", "p6", AS_OF, True),  # at as_of: after the window
        ],
        columns=["campaign_id", "customer_id", "sent_at", "converted"],
    ).astype({"customer_id": "string", "converted": "boolean"})
    sends["sent_at"] = pd.to_datetime(sends["sent_at"], utc=True)
    out = bucket_flags(orders(rows), AS_OF, P, campaigns=lazy(sends))
    assert members(out, "campaign_responders") == {"p1", "p5"}
    assert members(out, "campaign_non_responders") == {"p2", "p4"}
    out = bucket_flags(orders(rows), AS_OF, P, campaigns=lazy(sends.drop(columns="converted")))
    assert {"campaign_responders", "campaign_non_responders"} <= set(out.unavailable)


FLAGS = pd.DataFrame(
    {
        "heroes": [True, True, False, False, False],
        "regulars": [True, True, True, False, False],
        "at_risk": [False, False, False, True, False],
    },
    index=pd.Index(["a", "b", "c", "d", "e"], name="customer_id"),
)


def test_overlaps_combinations_headlines():
    overlaps = bucket_overlaps(FLAGS)
    assert overlaps.loc["heroes", "heroes"] == 2 and overlaps.loc["regulars", "regulars"] == 3
    assert overlaps.loc["heroes", "regulars"] == overlaps.loc["regulars", "heroes"] == 2
    assert overlaps.loc["at_risk", "heroes"] == 0 and overlaps.loc["at_risk", "at_risk"] == 1
    combos = bucket_combinations(FLAGS)
    assert combos.to_dict("records") == [
        {"buckets": ("heroes", "regulars"), "n_buckets": 2, "customers": 2},
        {"buckets": ("at_risk",), "n_buckets": 1, "customers": 1},
        {"buckets": ("regulars",), "n_buckets": 1, "customers": 1},
        {"buckets": (), "n_buckets": 0, "customers": 1},
    ]
    assert len(bucket_combinations(FLAGS, top=1)) == 2
    assert bucket_headlines(FLAGS) == {
        "heroes": 2,
        "regulars": 3,
        "at_risk": 1,
        "customers": 5,
        "in_any": 4,
        "in_two_or_more": 2,
    }


def test_words_in_english_and_thai():
    rules = bucket_rules_table(P, {"cart_abandoners": "no carts."})
    assert list(rules.columns) == ["Bucket", "Rule"] and len(rules) == len(BUCKETS)
    assert "25.0%" in rules.iloc[0, 1] and "100 days" in rules.iloc[0, 1]
    assert rules.iloc[5, 1].endswith("Not available: no carts.")
    assert overlap_sentence(2).endswith("2 customers sit in two or more.")
    shown = overlaps_table(bucket_overlaps(FLAGS))
    assert list(shown.index) == ["Heroes", "Regulars", "At risk"]
    table = combinations_table(bucket_combinations(FLAGS))
    assert table.iloc[0, 0] == "Heroes + Regulars" and table.iloc[-1, 0] == "(in no bucket)"
    with use_language("th"):
        rules = bucket_rules_table(P)
        assert rules.columns[0] != "Bucket"
        assert combinations_table(bucket_combinations(FLAGS)).iloc[0, 0] != "Heroes + Regulars"


def test_heroes_share_times_customers_read_exactly():
    # 0.28 * 25 is 7.000000000000001 in floating point: k must be 7, not 8.
    assert 0.28 * 25 > 7
    spends = range(2500, 0, -100)
    rows = [(f"c{i:02d}", ago(d), float(v)) for i, v in enumerate(spends) for d in (1, 2)]
    out = bucket_flags(orders(rows), AS_OF, P.model_copy(update={"hero_top_share": 0.28}))
    assert members(out, "heroes") == {f"c{i:02d}" for i in range(7)}


def test_no_customer_before_as_of_gives_empty_flags():
    out = bucket_flags(orders([("a", AS_OF, 10.0), (None, ago(1), 10.0)]), AS_OF, P)
    assert out.flags.empty and "heroes" in out.flags.columns
    assert bucket_headlines(out.flags)["in_any"] == 0
    assert bucket_combinations(out.flags).to_dict("records") == [
        {"buckets": (), "n_buckets": 0, "customers": 0}
    ]
