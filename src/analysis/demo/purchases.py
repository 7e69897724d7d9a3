"""Acquisition, BG/NBD repeat purchases and Gamma-Gamma order values.

These are the completed orders of registered customers, the part of the orders
table that the CLV models describe; everything else is drawn around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.calendar import US_PER_DAY
from analysis.demo import draws
from analysis.demo.draws import Stream, pick, rounded
from analysis.demo.spec import SALE_DAY_MULTIPLIERS, StoreSpec
from analysis.demo.timeline import Timeline


@dataclass(frozen=True)
class Buyers:
    """Per customer (index k = k-th acquired): acquisition and the latent BG/NBD/GG draws.

    Attributes
    ----------
    t0
        First completed order (= acquisition) instant, microseconds, ascending.
    day
        Index of its local day in the :class:`~analysis.demo.timeline.Timeline`.
    channel
        Acquisition channel code into ``channel_names``.
    channel_names
        The store's acquisition channels, in :attr:`StoreSpec.acquisition_channels` order.
    lam
        BG/NBD purchase rate, orders per day.
    nu
        Gamma-Gamma spend rate, 1 / THB.
    alive
        Still active at the end of the history (no BG/NBD drop-out before it).
    """

    t0: np.ndarray
    day: np.ndarray
    channel: np.ndarray
    channel_names: tuple[str, ...]
    lam: np.ndarray
    nu: np.ndarray
    alive: np.ndarray

    @property
    def n(self) -> int:
        """Number of customers."""
        return len(self.t0)


@dataclass(frozen=True)
class Registered:
    """Completed orders of registered customers: the n first orders, then the repeats.

    Attributes
    ----------
    cust
        Customer index of each order.
    t
        Order instant, microseconds.
    first
        True for a customer's first order.
    z
        Gamma-Gamma order value, THB (not rounded, before any experiment uplift).
    """

    cust: np.ndarray
    t: np.ndarray
    first: np.ndarray
    z: np.ndarray

    @property
    def n(self) -> int:
        """Number of registered completed orders."""
        return len(self.t)


def _acquire(
    spec: StoreSpec, cal: Timeline, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-order instants (sorted), their local day index and acquisition channel codes."""
    acq_day = pick(rng, cal.weights, n).astype(np.int64)
    t0 = np.sort(cal.time_in_day(rng, acq_day))  # customer k = k-th acquired
    acq_day = cal.day_of(t0)
    acq_shares = np.array([s for _, s in spec.acquisition_channels])
    return t0, acq_day, pick(rng, acq_shares, n)


def _repeat_orders(
    spec: StoreSpec, t0: np.ndarray, end_us: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD: purchase rates (per day), customer index and instant of each repeat order, alive.

    Repeat orders kept = ``min(N, J)`` with ``N ~ Poisson(lambda T)`` and ``J ~
    Geometric(p)``, at the first ``min(N, J)`` of ``N`` sorted uniform times.
    """
    n = len(t0)
    lam = rng.gamma(spec.r, 1.0 / spec.alpha, n)  # per day
    p_drop = rng.beta(spec.a, spec.b, n)
    T_us = end_us - t0
    T_days = T_us / US_PER_DAY
    N = rng.poisson(lam * T_days)
    J = rng.geometric(p_drop)  # repeat orders before drop-out: 1, 2, ... (BG/NBD)
    K = np.minimum(N, J)
    total_rep = int(K.sum())
    rep_cust = np.repeat(np.arange(n), K)
    # first K of N sorted uniforms: U_(k) = S_k / S_(N+1) with S the cumsum of Exp(1)
    spacing = rng.standard_exponential(total_rep)
    cums = np.cumsum(spacing)
    seg_end = np.cumsum(K)
    seg_start = seg_end - K
    offset = np.concatenate([[0.0], cums])[seg_start]
    S = cums - np.repeat(offset, K)
    S_K = np.zeros(n)
    has = K > 0
    S_K[has] = S[seg_end[has] - 1]
    tail = rng.standard_gamma((N - K + 1).astype(np.float64))
    U = S / np.repeat(S_K + tail, K)
    rep_t = t0[rep_cust] + (U * T_us[rep_cust]).astype(np.int64)
    rep_t = np.clip(rep_t, t0[rep_cust] + 1, end_us - 1)
    return lam, rep_cust, rep_t, N < J  # drop-out follows the J-th repeat: alive when N < J


def simulate_purchases(
    spec: StoreSpec, cal: Timeline, n: int, stream: Stream
) -> tuple[Buyers, Registered, dict[str, Any]]:
    """Draw ``n`` customers' acquisition and their registered completed orders.

    Parameters
    ----------
    spec
        The store's planted parameters.
    cal
        The store's history.
    n
        Number of customers (each gets one first order).
    stream
        The store's generator for a stream number.

    Returns
    -------
    tuple
        The :class:`Buyers`, their :class:`Registered` orders and the truth sections
        ``acquisition``, ``bgnbd`` and ``gamma_gamma``.
    """
    t0, acq_day, acq_channel = _acquire(spec, cal, n, stream(draws.ACQUISITION))
    lam, rep_cust, rep_t, alive = _repeat_orders(spec, t0, cal.end_us, stream(draws.BGNBD))
    reg_cust = np.concatenate([np.arange(n), rep_cust])
    reg_t = np.concatenate([t0, rep_t])
    reg_first = np.zeros(len(reg_cust), dtype=bool)
    reg_first[:n] = True
    del rep_cust, rep_t
    rng = stream(draws.SPEND)
    nu = rng.gamma(spec.q, 1.0 / spec.gamma, n)
    reg_z = rng.gamma(spec.p, 1.0 / nu[reg_cust])
    names = tuple(c for c, _ in spec.acquisition_channels)
    buyers = Buyers(t0, acq_day, acq_channel, names, lam, nu, alive)
    return buyers, Registered(reg_cust, reg_t, reg_first, reg_z), _truth(spec)


def _truth(spec: StoreSpec) -> dict[str, Any]:
    return {
        "acquisition": {
            "definition": "each customer's first completed order (= acquisition) is drawn over the "
            "history with daily intensity exp(growth_per_year * days / 365.25) times "
            "sale-day multipliers, hour of day from a fixed evening-peaked profile; "
            "acquisition channel drawn from channel_shares",
            "growth_per_year": spec.growth_per_year,
            "sale_day_multipliers": SALE_DAY_MULTIPLIERS,
            "channel_shares": dict(spec.acquisition_channels),
        },
        "bgnbd": {
            "definition": "BG/NBD (Fader-Hardie-Lee 2005) for COMPLETED orders of REGISTERED "
            "customers only (cancelled, refunded and guest orders are outside it), "
            "continuous time in days: lambda ~ Gamma(shape=r, rate=alpha), "
            "p ~ Beta(a, b); first order at acquisition, repeat orders Poisson(lambda) "
            "on (first order, end); drop-out with prob p after each repeat order. "
            "frequency = repeat completed orders, T = days from first order to end.",
            "time_unit": "days",
            "r": spec.r,
            "alpha": spec.alpha,
            "a": spec.a,
            "b": spec.b,
        },
        "gamma_gamma": {
            "definition": "value of each registered completed order z ~ Gamma(shape=p, rate=nu), "
            "nu ~ Gamma(shape=q, rate=gamma) per customer, THB rounded to satang; "
            "exact except for the completed orders of invited experiment joiners "
            "after joining (multiplied by 1 + member_uplift)",
            "p": spec.p,
            "q": spec.q,
            "gamma": spec.gamma,
            "mean_order_value": rounded(spec.mean_order_value, 4),
        },
    }
