"""Daily sessions (planted conversion rate), carts (planted abandonment rate)
and post-order surveys (planted NPS and CSAT)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from analysis.demo import draws
from analysis.demo.columns import Stage, const, ids, instants, take_ids
from analysis.demo.draws import (
    US_PER_HOUR,
    US_PER_MIN,
    Stream,
    before_end,
    exp_us,
    lognormal_mean1,
    pick,
    rounded,
)
from analysis.demo.orders import Orders
from analysis.demo.segments import abandoner_truth, plant_detractors
from analysis.demo.spec import StoreSpec
from analysis.demo.timeline import Timeline

# NPS score distribution inside each group, CSAT distribution inside top-2 / bottom-3.
PROMOTER_SCORES = ((9, 10), (0.45, 0.55))
PASSIVE_SCORES = ((7, 8), (0.5, 0.5))
DETRACTOR_SCORES = ((0, 1, 2, 3, 4, 5, 6), (0.04, 0.03, 0.05, 0.08, 0.12, 0.28, 0.40))
CSAT_TOP = ((4, 5), (0.5, 0.5))
CSAT_BOTTOM = ((1, 2, 3), (0.15, 0.25, 0.60))
GROUPS = ("promoter", "passive", "detractor")


def simulate_sessions(
    spec: StoreSpec, store_id: str, cal: Timeline, orders: Orders, stream: Stream
) -> Stage:
    """Sessions and visitors per local day, from the day's orders and the conversion rate.

    Returns
    -------
    tuple
        The ``sessions`` table and the truth section ``conversion`` (orders per session).
    """
    rng = stream(draws.SESSIONS)
    D = cal.days
    per_day = np.bincount(orders.day, minlength=D)
    sessions = np.round(per_day / spec.conversion_rate * lognormal_mean1(rng, 0.05, D)).astype(
        np.int64
    )
    visitors = np.minimum(
        np.round(sessions * spec.visitors_per_session * lognormal_mean1(rng, 0.02, D)).astype(
            np.int64
        ),
        sessions,
    )
    table = pa.table(
        {
            "store_id": const(store_id, D),
            "date": pa.array(cal.dates),
            "sessions": pa.array(sessions),
            "visitors": pa.array(visitors),
        }
    )
    truth = {
        "conversion": {
            "definition": "sessions per local day = round(orders placed that day (every status, "
            "guests included) / conversion_rate * lognormal noise (mean 1, sigma "
            "0.05)); conversion rate = orders / sessions",
            "conversion_rate": spec.conversion_rate,
            "visitors_per_session": spec.visitors_per_session,
            "realised": rounded(orders.n / max(int(sessions.sum()), 1)),
        },
    }
    return {"sessions": table}, truth


def simulate_carts(
    spec: StoreSpec, store_id: str, cal: Timeline, orders: Orders, stream: Stream
) -> Stage:
    """One converted cart per order, plus abandoned carts after random orders.

    Returns
    -------
    tuple
        The ``carts`` table and the truth section ``carts`` (abandoned / all carts).
    """
    rng = stream(draws.CARTS)
    o_t, n_orders = orders.t, orders.n
    conv_t = np.maximum(o_t - US_PER_MIN - exp_us(rng, 7 / 1440, n_orders), cal.start_us)
    n_ab = int(rng.poisson(n_orders * spec.abandonment_rate / (1.0 - spec.abandonment_rate)))
    ab_tmpl = rng.integers(0, n_orders, n_ab)
    ab_t = before_end(
        o_t[ab_tmpl] + exp_us(rng, 2.0, n_ab), o_t[ab_tmpl], cal.end_us, rng.random(n_ab)
    )
    c_t = np.concatenate([conv_t, ab_t])
    c_cust = np.concatenate([orders.cust, orders.cust[ab_tmpl]])
    c_order = np.concatenate([np.arange(n_orders), np.full(n_ab, -1)])
    del conv_t, ab_t, ab_tmpl
    corder = np.argsort(c_t, kind="stable")
    c_t, c_cust, c_order = c_t[corder], c_cust[corder], c_order[corder]
    del corder
    abandoners = abandoner_truth(
        c_t,
        c_cust,
        c_order,
        orders.cust,
        orders.t,
        orders.completed,
        len(orders.cust_ids),
        cal.end_us,
    )
    table = pa.table(
        {
            "cart_id": ids(f"{spec.prefix}-K", len(c_t), 8),
            "store_id": const(store_id, len(c_t)),
            "created_at": instants(c_t),
            "customer_id": take_ids(orders.cust_ids, c_cust),
            "order_id": take_ids(orders.order_ids, c_order, wide=True),
        }
    )
    truth = {
        "carts": {
            "definition": "every order has one converted cart created 1 minute + Exponential(7 "
            "minutes) before it; "
            "abandoned carts (order_id null) belong to the customer (or guest) of a "
            "random order and are created after it; abandonment = abandoned / all carts",
            "abandonment_rate": spec.abandonment_rate,
            "realised": rounded(n_ab / (n_ab + n_orders)),
        },
        "segments": {"cart_abandoners": abandoners},
    }
    return {"carts": table}, truth


def _scores(spec: StoreSpec, ns: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """NPS (0-10) and CSAT (1-5) answers of ``ns`` responses."""
    group = pick(rng, np.array(spec.nps_mix), ns)  # 0 promoter, 1 passive, 2 detractor
    nps = np.empty(ns, dtype=np.int64)
    for g, (scores, probs) in enumerate((PROMOTER_SCORES, PASSIVE_SCORES, DETRACTOR_SCORES)):
        sel = group == g
        nps[sel] = np.array(scores)[pick(rng, np.array(probs), int(sel.sum()))]
    top = rng.random(ns) < np.array(spec.csat_top2)[group]
    csat = np.where(
        top,
        np.array(CSAT_TOP[0])[pick(rng, np.array(CSAT_TOP[1]), ns)],
        np.array(CSAT_BOTTOM[0])[pick(rng, np.array(CSAT_BOTTOM[1]), ns)],
    ).astype(np.int64)
    return nps, csat


def simulate_surveys(
    spec: StoreSpec, store_id: str, cal: Timeline, orders: Orders, stream: Stream
) -> Stage:
    """Survey answers to a share of completed orders (guests included), after the order.

    Returns
    -------
    tuple
        The ``surveys`` table and the truth section ``surveys`` (NPS in points, CSAT in %).
    """
    rng = stream(draws.SURVEYS)
    comp_idx = np.flatnonzero(orders.completed)
    answered = comp_idx[rng.random(len(comp_idx)) < spec.survey_response_rate]
    s_t = orders.t[answered] + US_PER_HOUR + exp_us(rng, 1.5, len(answered))
    keep = s_t < cal.end_us
    answered, s_t = answered[keep], s_t[keep]
    ns = len(answered)
    nps, csat = _scores(spec, ns, rng)
    nps, csat, planted = plant_detractors(
        nps, csat, orders.cust[answered], len(orders.cust_ids), stream(draws.DETRACTORS)
    )
    s_order = np.argsort(s_t, kind="stable")
    s_cust = orders.cust[answered][s_order]
    table = pa.table(
        {
            "store_id": const(store_id, ns),
            "responded_at": instants(s_t[s_order]),
            "customer_id": take_ids(orders.cust_ids, s_cust),
            "nps": pa.array(nps[s_order]),
            "csat": pa.array(csat[s_order]),
        }
    )
    promoters = float(np.mean(nps >= 9)) if ns else float("nan")
    detractors = float(np.mean(nps <= 6)) if ns else float("nan")
    truth = {
        "surveys": {
            "definition": "a share survey_response_rate of completed orders (guests included) is "
            "answered 1 hour + Exponential(1.5 days) after the order (answers falling "
            "after the end are dropped); NPS = 100 * (%promoters 9-10 - %detractors "
            "0-6); CSAT = 100 * share of 4-5 answers",
            "response_rate": spec.survey_response_rate,
            "nps_mix": dict(zip(GROUPS, spec.nps_mix, strict=True)),
            "csat_top2_by_group": dict(zip(GROUPS, spec.csat_top2, strict=True)),
            "nps": rounded(spec.nps, 4),
            "csat": rounded(spec.csat, 4),
            "realised": {
                "responses": ns,
                "nps": rounded(100 * (promoters - detractors), 4) if ns else None,
                "csat": rounded(100 * float(np.mean(csat >= 4)), 4) if ns else None,
            },
        },
        "segments": {"detractors": planted},
    }
    return {"surveys": table}, truth
