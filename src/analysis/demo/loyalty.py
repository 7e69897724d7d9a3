"""Loyalty members and their points, and the invitation experiment.

Who joins, and when, is drawn earlier (:mod:`analysis.demo.membership`); here the
members get tiers, their completed orders earn points, some points are redeemed,
and the experiment's assignment is written with its realised lift.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from analysis.demo import draws
from analysis.demo.columns import Stage, const, instants, strings
from analysis.demo.draws import NEVER, Stream, exp_us, rounded
from analysis.demo.membership import Membership
from analysis.demo.orders import Orders
from analysis.demo.purchases import Buyers
from analysis.demo.spec import TIERS, StoreSpec
from analysis.demo.timeline import Timeline

POINTS_PER_THB = 1 / 25
"""Points earned per THB of a completed order (floored per order)."""


def _members(
    store_id: str, lam: np.ndarray, join_t: np.ndarray, mem: np.ndarray, orders: Orders,
    rng: np.random.Generator,
) -> pa.Table:  # fmt: skip
    """Members sorted by join time; tiers by log(lambda) + noise: gold top 10%, silver next 25%."""
    score = np.log(lam[mem]) + rng.normal(0.0, 0.5, len(mem))
    rank = np.empty(len(mem))
    rank[np.argsort(score, kind="stable")] = (np.arange(len(mem)) + 0.5) / max(len(mem), 1)
    tier = np.where(rank >= 0.9, 2, np.where(rank >= 0.65, 1, 0))
    morder = np.argsort(join_t[mem], kind="stable")
    return pa.table(
        {
            "customer_id": orders.cust_ids.take(pa.array(mem[morder].astype(np.int32))),
            "store_id": const(store_id, len(mem)),
            "joined_at": instants(join_t[mem][morder]),
            "tier": strings(TIERS, tier[morder]),
        }
    )


def _points(
    spec: StoreSpec, store_id: str, end_us: int, join_t: np.ndarray, orders: Orders,
    rng: np.random.Generator,
) -> tuple[pa.Table, int, int]:  # fmt: skip
    """Points earned per completed order from joining on, and redeemed later (in full or not).

    Returns the ``loyalty_points`` table and the points earned and redeemed in total.
    """
    o_t, o_cust = orders.t, orders.cust
    earn = np.flatnonzero(orders.completed & ~orders.guest & (o_t >= join_t[orders.cust_safe]))
    pts = np.floor(orders.rev[earn] / 25.0).astype(np.int64)
    earn = earn[pts > 0]
    pts = pts[pts > 0]
    redeem = rng.random(len(earn)) < spec.redemption_probability
    red_t = o_t[earn] + exp_us(rng, spec.redemption_delay_days, len(earn))
    redeem &= red_t < end_us
    lp_cust = np.concatenate([o_cust[earn], o_cust[earn][redeem]])
    lp_t = np.concatenate([o_t[earn], red_t[redeem]])
    lp_earned = np.concatenate([pts, np.zeros(int(redeem.sum()), np.int64)])
    lp_redeemed = np.concatenate([np.zeros(len(earn), np.int64), pts[redeem]])
    lorder = np.lexsort((lp_t, lp_cust))
    table = pa.table(
        {
            "customer_id": orders.cust_ids.take(pa.array(lp_cust[lorder].astype(np.int32))),
            "store_id": const(store_id, len(lorder)),
            "occurred_at": instants(lp_t[lorder]),
            "points_earned": pa.array(lp_earned[lorder]),
            "points_redeemed": pa.array(lp_redeemed[lorder]),
        }
    )
    return table, int(pts.sum()), int(pts[redeem].sum())


def simulate_loyalty(
    spec: StoreSpec,
    store_id: str,
    cal: Timeline,
    buyers: Buyers,
    membership: Membership,
    orders: Orders,
    stream: Stream,
) -> Stage:
    """The loyalty programme's members (with tiers) and points ledger.

    Returns
    -------
    tuple
        The ``loyalty_members`` and ``loyalty_points`` tables and the truth section ``loyalty``.
    """
    rng = stream(draws.POINTS)
    n, lam, join_t = buyers.n, buyers.lam, membership.join_t
    is_member = join_t < cal.end_us
    mem = np.flatnonzero(is_member)
    members = _members(store_id, lam, join_t, mem, orders, rng)
    points, earned_total, redeemed_total = _points(spec, store_id, cal.end_us, join_t, orders, rng)
    reg_completed = orders.completed & ~orders.guest
    active_before = np.bincount(orders.cust_safe[reg_completed], minlength=n)
    truth = {
        "loyalty": {
            "definition": "organic members join Exponential(join_delay_days) after their first "
            "order with probability expit(join_logit + join_slope * log(lambda / "
            "E[lambda])): heavier buyers join more (selection bias), membership itself "
            "changes nothing for them. Points: floor(revenue / 25) per completed order "
            "at or after joining; each earning is redeemed in full with probability "
            "redemption_probability after Exponential(redemption_delay_days); "
            "redemptions after the end are cut off, so the observed redemption rate "
            "(realised) is a bit lower. Tiers: gold top 10%, silver next 25% of "
            "members by log(lambda) + N(0, 0.5) noise.",
            "join_logit": spec.loyalty_join_logit,
            "join_slope": spec.loyalty_join_slope,
            "join_delay_days": spec.loyalty_join_delay_days,
            "redemption_probability": spec.redemption_probability,
            "redemption_delay_days": spec.redemption_delay_days,
            "points_per_thb": POINTS_PER_THB,
            "realised": {
                "members": len(mem),
                "organic_members": int(len(mem) - membership.invited_member.sum()),
                "points_earned": earned_total,
                "points_redeemed": redeemed_total,
                "redemption_rate": rounded(redeemed_total / earned_total) if earned_total else None,
                "mean_lambda_members": rounded(lam[mem].mean()) if len(mem) else None,
                "mean_lambda_non_members": rounded(lam[~is_member].mean())
                if len(mem) < n
                else None,
                "customers_with_completed_orders": int((active_before > 0).sum()),
            },
        },
    }
    return {"loyalty_members": members, "loyalty_points": points}, truth


def _itt_lifts(buyers: Buyers, membership: Membership, orders: Orders) -> tuple[float, float]:
    """Realised and causal intent-to-treat lifts of completed revenue after assignment."""
    ms = membership
    arm = np.full(buyers.n, -1, np.int8)
    arm[ms.eligible] = ms.invite.astype(np.int8)
    assigned_at_c = np.full(buyers.n, NEVER, np.int64)
    assigned_at_c[ms.eligible] = ms.assigned_t
    cust_safe = orders.cust_safe
    win = orders.completed & ~orders.guest & (orders.t >= assigned_at_c[cust_safe])
    win_arm = arm[cust_safe[win]]
    rev_by_arm = np.bincount(win_arm, weights=orders.rev[win], minlength=2)
    base_invited = float(orders.base[win][win_arm == 1].sum())
    n_arm = np.bincount(ms.invite.astype(np.int8), minlength=2)
    per_cust = rev_by_arm / np.maximum(n_arm, 1)
    itt_realised = per_cust[1] / per_cust[0] - 1.0 if per_cust[0] > 0 else float("nan")
    itt_causal = rev_by_arm[1] / base_invited - 1.0 if base_invited > 0 else float("nan")
    return itt_realised, itt_causal


def experiment(
    spec: StoreSpec, store_id: str, buyers: Buyers, membership: Membership, orders: Orders
) -> Stage:
    """The invitation experiment's assignment table and its planted and realised lift.

    Returns
    -------
    tuple
        The ``experiments`` table and the truth section ``experiment``.
    """
    ms = membership
    m = len(ms.eligible)
    table = pa.table(
        {
            "experiment_id": const(ms.experiment_id, m),
            "customer_id": orders.cust_ids.take(pa.array(ms.eligible.astype(np.int32))),
            "store_id": const(store_id, m),
            "variant": strings(("holdout", "invitation"), ms.invite.astype(np.int8)),
            "assigned_at": instants(ms.assigned_t),
        }
    )
    itt_realised, itt_causal = _itt_lifts(buyers, membership, orders)
    n_arm = np.bincount(ms.invite.astype(np.int8), minlength=2)
    truth = {
        "experiment": {
            "definition": "customers acquired before the experiment start and not members then are "
            "split 50/50 (invitation/holdout), assigned_at in the first 7 days; "
            "during the experiment they cannot join organically. Invited customers "
            "join with prob join_rate after Exponential(join_delay_days); their "
            "completed-order revenue after joining is multiplied by 1 + "
            "member_uplift (order counts untouched). ITT lift = completed revenue "
            "per assigned customer from assigned_at to the end, invitation / holdout "
            "- 1. itt_lift_nominal = join_rate * member_uplift (reached only if "
            "invitees joined at assignment); itt_lift_causal = realised extra "
            "revenue / un-uplifted revenue of the invitation arm (no sampling noise "
            "between arms); itt_lift_realised = the between-arm comparison.",
            "experiment_id": ms.experiment_id,
            "start_local": ms.start.isoformat(),
            "join_rate": spec.experiment_join_rate,
            "join_delay_days": spec.experiment_join_delay_days,
            "member_uplift": spec.member_uplift,
            "itt_lift_nominal": rounded(spec.experiment_join_rate * spec.member_uplift),
            "realised": {
                "assigned": m,
                "invitation": int(n_arm[1]),
                "holdout": int(n_arm[0]),
                "joined": int(ms.joined.sum()),
                "itt_lift_causal": rounded(itt_causal),
                "itt_lift_realised": rounded(itt_realised),
            },
        },
    }
    return {"experiments": table}, truth
