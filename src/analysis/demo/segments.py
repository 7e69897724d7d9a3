"""Planted segment groups: heroes, detractors, cart abandoners, discount-driven customers, campaign responders.

Each group follows a rule the generator knows, and its members go to the truth
section ``segments`` as a bitmap over customer numbers (:func:`members_bitmap`).
Planting re-labels values that are already drawn, with streams of their own
(:mod:`~analysis.demo.draws`), so the orders, their instants and revenue are the
same as without it, and every store-level rate keeps its realised value:

- **heroes** (labels only): the customers with the highest latent window value,
  expected orders in the last :data:`WINDOW_DAYS` days (purchase rate ``lambda``
  times the days the customer was active in them) times the mean order value
  ``p / nu``; as many as ``ceil(HERO_SHARE * customers with a completed order in
  those days)``;
- **discount-driven**: a share :data:`DISCOUNT_DRIVEN_SHARE` of customers get a
  discount on every completed order; the discount flags already drawn are
  permuted within first and repeat completed orders, so both discount rates keep
  their realised counts;
- **detractors**: the negative survey answers (NPS 0-6 or CSAT 1-2) are handed, as
  whole (NPS, CSAT) pairs, to every answer of customers taken in a random order
  while they fit, the rest to guests' answers; every other answer gets a
  positive pair. The multiset of answers (hence NPS and CSAT) is unchanged;
- **campaign responders**: the (opened, clicked, converted) triples of the sends
  in the last :data:`WINDOW_DAYS` days are permuted so that each converted triple
  goes to one send of a different, randomly chosen, customer sent a campaign in
  those days; no other send in those days converts;
- **cart abandoners** (labels only): the generator's record of the customers
  whose abandoned cart, created in the last :data:`CART_DAYS` days, is after their
  last completed order.

Windows end at the end of the history and match the defaults of
``params/default.yaml`` ``segments:`` (see :data:`WINDOW_DAYS`).
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from analysis.calendar import US_PER_DAY

WINDOW_DAYS = 365
"""Days up to the end of the history of the planted window (``segments.rfm_window_days``)."""
CART_DAYS = 30
"""Days up to the end of the history in which an abandoned cart counts (``segments.cart_days``)."""
HERO_SHARE = 0.05
"""Heroes planted per customer with an order in the window (``segments.hero_top_share``)."""
DISCOUNT_DRIVEN_SHARE = 0.06
"""Share of customers planted as discount-driven."""
ENCODING = (
    "members: base64 of numpy.packbits over customers (bit k, most significant first, "
    "= the customer whose id ends in the number k + 1), n_customers bits"
)


def members_bitmap(mask: np.ndarray) -> str:
    """``mask`` (bool per customer index) as base64 text of its packed bits (:data:`ENCODING`)."""
    return base64.b64encode(np.packbits(np.asarray(mask, dtype=bool)).tobytes()).decode("ascii")


def bitmap_members(text: str, n: int) -> np.ndarray:
    """Inverse of :func:`members_bitmap`: bool per customer index, length ``n``."""
    bits = np.unpackbits(np.frombuffer(base64.b64decode(text), dtype=np.uint8))
    return bits[:n].astype(bool)


def _group(definition: str, mask: np.ndarray, **extra: Any) -> dict[str, Any]:
    return {
        "definition": definition,
        "count": int(mask.sum()),
        "members": members_bitmap(mask),
        **extra,
    }


def plant_heroes(
    lam: np.ndarray,
    nu: np.ndarray,
    alive: np.ndarray,
    t0: np.ndarray,
    reg_cust: np.ndarray,
    reg_t: np.ndarray,
    gg_p: float,
    end_us: int,
) -> dict[str, Any]:
    """Heroes by latent value (labels only): the truth entry ``heroes``.

    Parameters
    ----------
    lam, nu, alive, t0
        Per customer: BG/NBD purchase rate (per day), Gamma-Gamma spend rate,
        still active at the end (otherwise the drop-out follows the last repeat
        order), first order instant (microseconds).
    reg_cust, reg_t
        Registered completed orders: customer index and instant.
    gg_p
        Gamma-Gamma shape ``p`` (mean order value of a customer = ``p / nu``).
    end_us
        End of the history, microseconds.
    """
    n = len(lam)
    start = end_us - WINDOW_DAYS * US_PER_DAY
    in_window = np.zeros(n, dtype=bool)
    in_window[reg_cust[reg_t >= start]] = True
    k = math.ceil(round(HERO_SHARE * int(in_window.sum()), 9))
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, reg_cust, reg_t)
    active_from = np.maximum(t0, start)
    active_to = np.where(alive, end_us, last)  # a drop-out follows the last repeat order
    active_days = np.clip(active_to - active_from, 0, None) / US_PER_DAY
    orders = lam * active_days + (t0 >= start)  # expected window orders (+ a first order in it)
    value = orders * gg_p / nu  # expected window spend, THB
    top = np.argsort(-value, kind="stable")[:k]
    mask = np.zeros(n, dtype=bool)
    mask[top] = True
    return _group(
        "the ceil(hero_share * customers with a completed order in the window) customers with "
        "the highest latent window value: expected window orders (purchase rate lambda x days "
        "active in the window, active until the end or the BG/NBD drop-out after the last "
        "repeat order, plus 1 for a first order in the window) x mean order value p / nu",
        mask,
        hero_share=HERO_SHARE,
    )


def plant_discounts(
    has_disc: np.ndarray,
    o_cust: np.ndarray,
    o_first: np.ndarray,
    o_status: np.ndarray,
    n: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Discount flags with the planted discount-driven customers discounted on every order.

    Flags are permuted within the first orders and within the repeat completed orders
    of registered customers (cancelled, refunded and guest orders keep theirs); a
    stratum with fewer discounts than planted orders discounts a random subset of them
    (``shortfall`` in the truth counts the planted orders left without one).

    Returns
    -------
    tuple
        The new flags (bool per order) and the truth entry ``discount_driven``.
    """
    planted = rng.random(n) < DISCOUNT_DRIVEN_SHARE
    out = has_disc.copy()
    reg = (o_cust >= 0) & (o_status == 0)
    is_planted = np.zeros(len(o_cust), dtype=bool)
    is_planted[reg] = planted[o_cust[reg]]
    shortfall = 0
    for stratum in (reg & o_first, reg & ~o_first):
        idx = np.flatnonzero(stratum)
        k = int(has_disc[idx].sum())
        mine = rng.permutation(idx[is_planted[idx]])
        others = rng.permutation(idx[~is_planted[idx]])
        take = min(k, len(mine))
        shortfall += len(mine) - take
        out[idx] = False
        out[mine[:take]] = True
        out[others[: k - take]] = True
    truth = _group(
        "a share of customers (drawn independently) whose every completed order carries a "
        "discount; discount flags are permuted within first and within repeat completed orders, "
        "so both discount rates keep their realised counts",
        planted,
        share=DISCOUNT_DRIVEN_SHARE,
        shortfall=shortfall,
    )
    return out, truth


def plant_detractors(
    nps: np.ndarray, csat: np.ndarray, cust: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Survey answers re-assigned so that negative answers belong to the planted detractors.

    Parameters
    ----------
    nps, csat
        The drawn answers, one per response.
    cust
        Customer index of each response (-1 = guest).
    n
        Number of customers.
    rng
        The planting stream.

    Returns
    -------
    tuple
        New NPS and CSAT arrays (the same pairs, re-assigned) and the truth entry
        ``detractors``.
    """
    negative = (nps <= 6) | (csat <= 2)
    k = int(negative.sum())
    registered = cust >= 0
    answers = np.bincount(cust[registered], minlength=n)
    order = rng.permutation(np.flatnonzero(answers > 0))
    fits = np.cumsum(answers[order]) <= k
    planted = np.zeros(n, dtype=bool)
    planted[order[fits]] = True
    slot = np.zeros(len(nps), dtype=bool)
    slot[registered] = planted[cust[registered]]
    leftover = k - int(slot.sum())
    spare = rng.permutation(np.flatnonzero(~registered))
    if leftover > len(spare):  # not enough guests' answers: non-planted customers take the rest
        spare = np.concatenate([spare, rng.permutation(np.flatnonzero(registered & ~slot))])
    slot[spare[:leftover]] = True
    neg_rows = rng.permutation(np.flatnonzero(negative))
    pos_rows = rng.permutation(np.flatnonzero(~negative))
    pick = np.empty(len(nps), dtype=np.int64)
    pick[slot] = neg_rows
    pick[~slot] = pos_rows
    truth = _group(
        "customers whose every survey answer is negative (NPS 0-6 or CSAT 1-2): the negative "
        "answers drawn go, as whole pairs, to every answer of customers taken in a random order "
        "while they fit, then to guests' answers; no other customer's answer is negative "
        "(unless spilled > 0)",
        planted,
        spilled=max(0, leftover - int((~registered).sum())),
    )
    return nps[pick], csat[pick], truth


def plant_responders(
    flags: np.ndarray,
    recipient: np.ndarray,
    sent: np.ndarray,
    n: int,
    end_us: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Campaign flags with each converted send of the window given to a planted responder.

    Parameters
    ----------
    flags
        (3, sends) bool: opened, clicked, converted.
    recipient, sent
        Customer index and send instant (microseconds) of each send.
    n
        Number of customers.
    end_us
        End of the history, microseconds.
    rng
        The planting stream.

    Returns
    -------
    tuple
        The new flags and the truth entry ``campaign_responders`` (with the
        ``campaign_non_responders`` count: customers sent at least 3 campaigns in
        the window and not planted).
    """
    window = np.flatnonzero(sent >= end_us - WINDOW_DAYS * US_PER_DAY)
    converted = window[flags[2, window]]
    others = window[~flags[2, window]]
    customers = np.unique(recipient[window])
    chosen = rng.permutation(customers)[: len(converted)]
    planted = np.zeros(n, dtype=bool)
    planted[chosen] = True
    # one send of each chosen customer, at random: shuffle, then keep the first per customer
    shuffled = window[rng.permutation(len(window))]
    shuffled = shuffled[planted[recipient[shuffled]]]
    _, first = np.unique(recipient[shuffled], return_index=True)
    target = shuffled[first]
    is_target = np.zeros(flags.shape[1], dtype=bool)
    is_target[target] = True
    rest = window[~is_target[window]]
    shuffled_conv = rng.permutation(converted)
    out = flags.copy()
    out[:, target] = flags[:, shuffled_conv[: len(target)]]
    out[:, rest] = flags[:, rng.permutation(np.concatenate([others, shuffled_conv[len(target) :]]))]
    sends = np.bincount(recipient[window], minlength=n)
    truth = _group(
        "each converted send of the window goes to one send of a different customer sent a "
        "campaign in the window, chosen at random; no other send of the window converts "
        "(open/click/convert triples permuted within the window's sends)",
        planted,
        non_responders_min_sends=3,
        non_responders=int(((sends >= 3) & ~planted).sum()),
    )
    return out, truth


def abandoner_truth(
    c_t: np.ndarray,
    c_cust: np.ndarray,
    c_order: np.ndarray,
    o_cust: np.ndarray,
    o_t: np.ndarray,
    completed: np.ndarray,
    n: int,
    end_us: int,
) -> dict[str, Any]:
    """Customers whose abandoned cart of the last :data:`CART_DAYS` days follows their last order.

    Labels only: the generator's record over its own arrays (carts, then orders).
    """
    recent = (c_order < 0) & (c_cust >= 0) & (c_t >= end_us - CART_DAYS * US_PER_DAY)
    latest_cart = np.full(n, -1, dtype=np.int64)
    np.maximum.at(latest_cart, c_cust[recent], c_t[recent])
    done = completed & (o_cust >= 0)
    last_order = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_order, o_cust[done], o_t[done])
    mask = (latest_cart >= 0) & (latest_cart > last_order)
    return _group(
        "customers with an abandoned cart created in the last cart_days days of the history "
        "and no completed order at or after it (abandoned carts are drawn after a random order "
        "of the customer; not re-labelled)",
        mask,
        cart_days=CART_DAYS,
    )


def segments_section(groups: dict[str, Any]) -> dict[str, Any]:
    """The truth section ``segments`` (definitions shared by every group, then the groups)."""
    return {
        "segments": {
            "definition": "planted segment groups, each by a rule the generator knows; windows "
            f"end at the end of the history: the last {WINDOW_DAYS} days, or cart_days for "
            "carts; " + ENCODING,
            "window_days": WINDOW_DAYS,
            **groups,
        }
    }
