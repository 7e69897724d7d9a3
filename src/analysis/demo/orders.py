"""Every order of the store, registered and guest, with its details.

Registered completed orders (from :mod:`analysis.demo.purchases`) get their value,
with the membership uplift from the instant a customer (organic or invited) joins; cancelled and
refunded orders are placed shortly after a completed order of the same customer;
guest orders (``customer_id`` null) follow the registered orders' days. Then
every order gets a sales channel, a discount and an item count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from analysis.demo import draws
from analysis.demo.columns import Stage, const, ids, instants, strings, take_ids
from analysis.demo.draws import Stream, before_end, exp_us, pick, rounded
from analysis.demo.membership import Membership
from analysis.demo.purchases import Buyers, Registered
from analysis.demo.segments import plant_discounts
from analysis.demo.spec import StoreSpec
from analysis.demo.timeline import Timeline

STATUSES = ("completed", "cancelled", "refunded")
"""Order statuses by code (0, 1, 2)."""
DISCOUNT_PCTS = ((0.05, 0.10, 0.15, 0.20), (0.35, 0.35, 0.2, 0.1))
"""Discount as a share of the list price, and how often each is given."""


@dataclass(frozen=True)
class Orders:
    """Every order, sorted by time, as the later stages need it.

    Attributes
    ----------
    cust
        Customer index per order; -1 for a guest.
    t
        Order instant, microseconds.
    rev
        Revenue, THB (amount paid, after discount and any membership uplift).
    base
        Revenue without the membership uplift, THB.
    status
        Status code into :data:`STATUSES`.
    day
        Index of the order's local day in the history.
    cust_ids, order_ids
        Customer ids (by customer index) and order ids (by order index).
    """

    cust: np.ndarray
    t: np.ndarray
    rev: np.ndarray
    base: np.ndarray
    status: np.ndarray
    day: np.ndarray
    cust_ids: pa.Array
    order_ids: pa.Array

    @property
    def n(self) -> int:
        """Number of orders, every status."""
        return len(self.t)

    @property
    def guest(self) -> np.ndarray:
        """True for a guest order."""
        return self.cust < 0

    @property
    def cust_safe(self) -> np.ndarray:
        """Customer index with guests mapped to 0 (index arrays; mask with :attr:`guest`)."""
        return np.where(self.guest, 0, self.cust)

    @property
    def completed(self) -> np.ndarray:
        """True for a completed order."""
        return self.status == 0


def _extra_orders(
    spec: StoreSpec, cal: Timeline, reg: Registered, nu: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cancelled and refunded orders of registered customers: customer, instant, value, status."""
    n_reg = reg.n
    n_cancel = int(rng.poisson(spec.cancelled_per_completed * n_reg))
    n_refund = int(rng.poisson(spec.refunded_per_completed * n_reg))
    tmpl = rng.integers(0, n_reg, n_cancel + n_refund)
    x_cust = reg.cust[tmpl]
    x_t = before_end(
        reg.t[tmpl] + exp_us(rng, 1.5, len(tmpl)), reg.t[tmpl], cal.end_us, rng.random(len(tmpl))
    )
    x_rev = np.round(rng.gamma(spec.p, 1.0 / nu[x_cust]), 2)
    x_status = np.concatenate([np.full(n_cancel, 1, np.int8), np.full(n_refund, 2, np.int8)])
    return x_cust, x_t, x_rev, x_status


def _guest_orders(
    spec: StoreSpec, cal: Timeline, reg: Registered, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Guest orders (completed, cancelled, refunded): instant, value, status."""
    n_reg = reg.n
    n_gc = int(rng.poisson(n_reg * spec.guest_share / (1.0 - spec.guest_share)))
    n_gx = int(rng.poisson(spec.cancelled_per_completed * n_gc))
    n_gr = int(rng.poisson(spec.refunded_per_completed * n_gc))
    n_guest = n_gc + n_gx + n_gr
    g_day = cal.day_of(reg.t[rng.integers(0, n_reg, n_guest)])
    g_t = cal.time_in_day(rng, g_day)
    g_nu = rng.gamma(spec.q, 1.0 / spec.gamma, n_guest)
    g_rev = np.round(rng.gamma(spec.p, 1.0 / g_nu), 2)
    g_status = np.concatenate(
        [np.zeros(n_gc, np.int8), np.full(n_gx, 1, np.int8), np.full(n_gr, 2, np.int8)]
    )
    return g_t, g_rev, g_status


def _details(
    spec: StoreSpec,
    n: int,
    o_cust: np.ndarray,
    o_first: np.ndarray,
    o_rev: np.ndarray,
    o_status: np.ndarray,
    rng: np.random.Generator,
    planting: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Sales channel code (a customer keeps a preferred one 80% of the time), discount, items.

    ``planting`` re-labels which completed orders carry a discount (the planted
    discount-driven customers, :func:`analysis.demo.segments.plant_discounts`); the
    last item is its truth entry.
    """
    n_orders = len(o_cust)
    guest = o_cust < 0
    o_cust_safe = np.where(guest, 0, o_cust)
    sales_shares = np.array([s for _, s in spec.sales_channels])
    pref = pick(rng, sales_shares, n)
    any_channel = pick(rng, sales_shares, n_orders)
    o_channel = np.where(~guest & (rng.random(n_orders) < 0.8), pref[o_cust_safe], any_channel)
    disc_p = np.where(o_first, spec.first_order_discount_rate, spec.repeat_order_discount_rate)
    has_disc = rng.random(n_orders) < disc_p
    pct = np.array(DISCOUNT_PCTS[0])[pick(rng, np.array(DISCOUNT_PCTS[1]), n_orders)]
    has_disc, planted = plant_discounts(has_disc, o_cust, o_first, o_status, n, planting)
    o_disc = np.where(has_disc, np.round(o_rev * pct / (1.0 - pct), 2), 0.0)
    o_items = 1 + rng.poisson(o_rev / spec.item_price)
    return o_channel, o_disc, o_items, planted


def simulate_orders(
    spec: StoreSpec,
    store_id: str,
    cal: Timeline,
    buyers: Buyers,
    reg: Registered,
    membership: Membership,
    stream: Stream,
) -> tuple[Orders, Stage]:
    """All orders of the store.

    Parameters
    ----------
    spec, store_id
        The store's planted parameters and id.
    cal
        The store's history.
    buyers, reg
        The customers and their registered completed orders.
    membership
        Loyalty joins (every member's orders at or after joining are uplifted).
    stream
        The store's generator for a stream number.

    Returns
    -------
    tuple
        The :class:`Orders`, and the ``orders`` table with the truth section ``orders``.
    """
    n, n_reg = buyers.n, reg.n
    join_t = membership.join_t
    uplifted = reg.t >= join_t[reg.cust]  # every member, from joining (join_t NEVER otherwise)
    reg_rev = np.round(reg.z * np.where(uplifted, 1.0 + spec.member_uplift, 1.0), 2)
    reg_base = np.round(reg.z, 2)

    rng = stream(draws.EXTRA_ORDERS)
    x_cust, x_t, x_rev, x_status = _extra_orders(spec, cal, reg, buyers.nu, rng)
    g_t, g_rev, g_status = _guest_orders(spec, cal, reg, rng)
    n_extra, n_guest = len(x_t), len(g_t)

    # all orders, sorted by time
    o_cust = np.concatenate([reg.cust, x_cust, np.full(n_guest, -1)])
    o_t = np.concatenate([reg.t, x_t, g_t])
    o_rev = np.concatenate([reg_rev, x_rev, g_rev])
    o_status = np.concatenate([np.zeros(n_reg, np.int8), x_status, g_status])
    o_first = np.concatenate([reg.first, np.zeros(n_extra + n_guest, dtype=bool)])
    o_uplift = np.concatenate([uplifted, np.zeros(n_extra + n_guest, dtype=bool)])
    o_base = np.concatenate([reg_base, x_rev, g_rev])
    del reg_rev, reg_base, x_rev, g_rev, x_cust, x_t, g_t
    order = np.argsort(o_t, kind="stable")
    o_cust, o_t, o_rev, o_status, o_first, o_uplift, o_base = (
        a[order] for a in (o_cust, o_t, o_rev, o_status, o_first, o_uplift, o_base)
    )
    del order
    n_orders = len(o_t)
    o_channel, o_disc, o_items, planted = _details(
        spec,
        n,
        o_cust,
        o_first,
        o_rev,
        o_status,
        stream(draws.ORDER_DETAILS),
        stream(draws.DISCOUNT_DRIVEN),
    )

    cust_ids = ids(f"{spec.prefix}-C", n, 7)
    order_ids = ids(f"{spec.prefix}-", n_orders, 8)
    table = pa.table(
        {
            "order_id": order_ids,
            "store_id": const(store_id, n_orders),
            "customer_id": take_ids(cust_ids, o_cust),
            "ordered_at": instants(o_t),
            "revenue": pa.array(o_rev, pa.float64()),
            "discount": pa.array(o_disc, pa.float64()),
            "items": pa.array(o_items.astype(np.int64)),
            "status": strings(STATUSES, o_status),
            "channel": strings(tuple(c for c, _ in spec.sales_channels), o_channel),
        }
    )
    orders = Orders(o_cust, o_t, o_rev, o_base, o_status, cal.day_of(o_t), cust_ids, order_ids)
    truth = _truth(spec, orders, n, n_reg, int(o_uplift.sum()))
    return orders, ({"orders": table}, {**truth, "segments": {"discount_driven": planted}})


def _truth(spec: StoreSpec, orders: Orders, n: int, n_reg: int, uplifted: int) -> dict[str, Any]:
    n_orders = orders.n
    return {
        "orders": {
            "definition": "cancelled/refunded: expected count per completed order (registered and "
            "guest alike); guest_share: expected guest orders / all orders; "
            "discount rates: share of first (first completed order of a customer) "
            "and of all other orders with discount > 0",
            "cancelled_per_completed": spec.cancelled_per_completed,
            "refunded_per_completed": spec.refunded_per_completed,
            "guest_share": spec.guest_share,
            "first_order_discount_rate": spec.first_order_discount_rate,
            "repeat_order_discount_rate": spec.repeat_order_discount_rate,
            "sales_channel_shares": dict(spec.sales_channels),
            "item_price": spec.item_price,
            "realised": {
                "orders": n_orders,
                "completed": int(orders.completed.sum()),
                "cancelled": int((orders.status == 1).sum()),
                "refunded": int((orders.status == 2).sum()),
                "guest_orders": int(orders.guest.sum()),
                "registered_completed": n_reg,
                "repeat_completed": n_reg - n,
                "uplifted_orders": uplifted,
                "orders_per_customer": rounded(n_orders / n, 4),
            },
        },
    }
