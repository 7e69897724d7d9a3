"""Who joins the loyalty programme, and when; the invitation experiment's arms.

Drawn before the order values because every member's orders from joining on carry
the planted membership uplift. The member, points and experiment tables are written by
:mod:`analysis.demo.loyalty` once the orders exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from analysis.calendar import US_PER_DAY, shift_date
from analysis.demo import draws
from analysis.demo.draws import NEVER, Stream, exp_us
from analysis.demo.purchases import Buyers
from analysis.demo.spec import StoreSpec
from analysis.demo.timeline import Timeline, local_midnight_us


@dataclass(frozen=True)
class Membership:
    """Loyalty joins per customer and the experiment's assignment.

    Attributes
    ----------
    join_t
        Join instant per customer, microseconds; :data:`~analysis.demo.draws.NEVER`
        for customers who never join (``>= end`` also means not a member).
    invited_member
        Per customer: joined through the experiment's invitation.
    experiment_id, start
        The experiment's id and its first local day.
    eligible
        Customer indices in the experiment (acquired before its start, not members then).
    invite
        Per eligible customer: True in the invitation arm, False in the holdout.
    assigned_t
        Per eligible customer: assignment instant, microseconds.
    joined
        Per eligible customer: invited and joined before the end.
    """

    join_t: np.ndarray
    invited_member: np.ndarray
    experiment_id: str
    start: dt.date
    eligible: np.ndarray
    invite: np.ndarray
    assigned_t: np.ndarray
    joined: np.ndarray


def assign_membership(
    spec: StoreSpec, cal: Timeline, months: int, buyers: Buyers, stream: Stream
) -> Membership:
    """Organic joins (selected on purchase rate), then the randomised invitation experiment.

    Parameters
    ----------
    spec
        The store's planted parameters.
    cal
        The store's history.
    months
        Length of the history, calendar months (the experiment runs its last
        ``min(9, max(1, months // 2))`` months).
    buyers
        The customers' acquisition instants and purchase rates.
    stream
        The store's generator for a stream number.
    """
    n, t0, end_us = buyers.n, buyers.t0, cal.end_us
    rng = stream(draws.MEMBERSHIP)
    mean_lam = spec.r / spec.alpha
    logit = spec.loyalty_join_logit + spec.loyalty_join_slope * np.log(buyers.lam / mean_lam)
    organic = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    join_t = np.where(organic, t0 + exp_us(rng, spec.loyalty_join_delay_days, n), NEVER)
    exp_months = min(9, max(1, months // 2))
    exp_start_date = shift_date(cal.end, -exp_months)
    exp_start_us = local_midnight_us(exp_start_date)
    eligible = (t0 < exp_start_us) & (join_t >= exp_start_us)
    # the programme is invitation-only for assigned customers during the experiment
    join_t = np.where(eligible, NEVER, join_t)
    rng = stream(draws.EXPERIMENT)
    elig_idx = np.flatnonzero(eligible)
    m = len(elig_idx)
    invite = np.zeros(m, dtype=bool)
    invite[rng.permutation(m)[: m // 2]] = True
    assigned_t = exp_start_us + (rng.random(m) * 7 * US_PER_DAY).astype(np.int64)
    accept = rng.random(m) < spec.experiment_join_rate
    inv_join = assigned_t + exp_us(rng, spec.experiment_join_delay_days, m)
    inv_joined = invite & accept & (inv_join < end_us)
    join_t[elig_idx[inv_joined]] = inv_join[inv_joined]
    invited_member = np.zeros(n, dtype=bool)
    invited_member[elig_idx[inv_joined]] = True
    return Membership(
        join_t=join_t,
        invited_member=invited_member,
        experiment_id=f"loyalty-invite-{exp_start_date.year}",
        start=exp_start_date,
        eligible=elig_idx,
        invite=invite,
        assigned_t=assigned_t,
        joined=inv_joined,
    )
