"""Synthetic demo stores drawn from a known generative model.

Three Thai online stores (:data:`DEMO_STORES`) are simulated customer by
customer, fully vectorised with numpy, deterministic for a seed. Every number
that the model plants (BG/NBD and Gamma-Gamma parameters, CAC per channel,
conversion rate, NPS, ...) is written to ``_truth.json`` next to the tables,
so that every metric of the package can be tested against a known answer.

The model, per store
--------------------
1. **Acquisition.** ``customers`` first orders are spread over the history
   with a log-linear growth trend and Thai sale-day peaks (11.11, 12.12, other
   double days, payday at month end, the 15th, weekends) and an hour-of-day
   profile (Bangkok local time). The acquisition channel is drawn from the
   store's channel shares.
2. **Purchases** (completed orders of registered customers) follow BG/NBD
   (Fader, Hardie & Lee 2005) with time in **days**: ``lambda ~ Gamma(r,
   rate=alpha)``, ``p ~ Beta(a, b)``. The first order is at acquisition time
   ``t0``; repeat orders form a Poisson process of rate ``lambda`` on ``(t0,
   end)``; after each *repeat* order the customer drops out with probability
   ``p`` (BG/NBD has no drop-out at the first order: that variant is MBG/NBD).
   Hence repeat orders kept = ``min(N, J)`` with ``N ~ Poisson(lambda T)`` and
   ``J ~ Geometric(p)`` on ``{1, 2, ...}``, at the first ``min(N, J)`` of ``N``
   sorted uniform times (drawn with exponential spacings: no loop).
3. **Spend** follows Gamma-Gamma (Fader & Hardie 2013): ``nu ~ Gamma(q,
   rate=gamma)`` per customer, each order value ``z ~ Gamma(p, rate=nu)`` THB,
   rounded to satang. ``revenue`` is the amount paid (net of ``discount``).
4. **Extra orders** outside the BG/NBD process: cancelled and refunded orders
   (a fixed number per completed order, placed shortly after a completed order
   of the same customer) and guest orders (``customer_id`` null).
5. - 12. customers (with fake PII), marketing spend with a planted CAC per
   paid channel, daily sessions with a planted conversion rate, carts with a
   planted abandonment rate, surveys with a planted NPS/CSAT, a loyalty
   programme whose organic members are selected on purchase rate, a randomised
   loyalty-invitation experiment with a planted uplift, and monthly campaigns
   with planted open/click/convert rates.

One stage per module, each returning its tables and its planted truths:
:mod:`~analysis.demo.spec` (the stores' parameters), :mod:`~analysis.demo.timeline`
(the local days), :mod:`~analysis.demo.purchases` (1-3 above),
:mod:`~analysis.demo.membership` (who joins the programme, the experiment's arms),
:mod:`~analysis.demo.orders` (4 and the orders table), :mod:`~analysis.demo.customers`,
:mod:`~analysis.demo.marketing` (spend, campaigns), :mod:`~analysis.demo.touchpoints`
(sessions, carts, surveys), :mod:`~analysis.demo.loyalty` (members, points,
experiment); :mod:`~analysis.demo.segments` plants the segment groups (heroes,
detractors, cart abandoners, discount-driven customers, campaign responders) by
re-labelling values the stages drew, on streams of its own, and gathers them in the
truth section ``segments``; :mod:`~analysis.demo.pipeline` runs them in order and
:mod:`~analysis.demo.write` writes the warehouse. Each model component draws from
its own random stream (:mod:`~analysis.demo.draws`), so the same seed gives the
same bytes.

Command-line use goes through ``analysis demo-data`` (see :mod:`analysis.cli`);
from Python::

    from analysis.demo import write_demo
    truth = write_demo(Path("data/warehouse"), stores=["demo-bangkok"], customers=5000)
"""

from analysis import DEFAULT_SEED
from analysis.demo.pipeline import generate_store
from analysis.demo.spec import (
    ACQUISITION_CHANNELS,
    DEFAULT_END,
    DEFAULT_MONTHS,
    DEMO_STORES,
    PAID_CHANNELS,
    SALE_DAY_MULTIPLIERS,
    SALES_CHANNELS,
    TABLE_NAMES,
    TIMEZONE,
    StoreSpec,
)
from analysis.demo.write import TRUTH_FILE, write_demo

__all__ = [
    "ACQUISITION_CHANNELS",
    "DEFAULT_END",
    "DEFAULT_MONTHS",
    "DEFAULT_SEED",
    "DEMO_STORES",
    "PAID_CHANNELS",
    "SALES_CHANNELS",
    "SALE_DAY_MULTIPLIERS",
    "TABLE_NAMES",
    "TIMEZONE",
    "TRUTH_FILE",
    "StoreSpec",
    "generate_store",
    "write_demo",
]
