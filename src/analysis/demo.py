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

Command-line use goes through ``analysis demo-data`` (see :mod:`analysis.cli`);
from Python::

    from analysis.demo import write_demo
    truth = write_demo(Path("data/warehouse"), stores=["demo-bangkok"], customers=5000)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.errors import ConfigError
from analysis.schema import ROW_GROUP_ROWS, TABLES

__all__ = ["DEMO_STORES", "StoreSpec", "TRUTH_FILE", "generate_store", "write_demo"]

TRUTH_FILE = "_truth.json"
"""Name of the planted-truth file written next to the table folders."""

TIMEZONE = "Asia/Bangkok"
DEFAULT_END = dt.date(2026, 11, 1)
DEFAULT_MONTHS = 30
DEFAULT_SEED = 20261124

_US_PER_DAY = 86_400_000_000
_US_PER_HOUR = 3_600_000_000
_US_PER_MIN = 60_000_000
_TS = pa.timestamp("us", tz="UTC")

# Relative daily acquisition intensity (multiplies the growth trend). Sale
# multipliers do not stack (the largest applies); the weekend factor multiplies.
SALE_DAY_MULTIPLIERS: dict[str, float] = {
    "11.11": 4.0,
    "12.12": 3.0,
    "double_day": 2.0,  # 1.1, 2.2, ..., 10.10 (not 11.11/12.12)
    "payday": 1.5,  # the last two days of every month
    "mid_month": 1.25,  # the 15th
    "weekend": 1.1,  # Saturday and Sunday, multiplies the above
}

# fmt: off
# Orders by hour of local day (acquisitions, guest orders): evening peak.
_HOUR_PROFILE = np.array(
    [1.0, 0.6, 0.3, 0.2, 0.2, 0.3, 0.6, 1.0, 1.4, 1.6, 1.7, 1.9,
     2.2, 2.0, 1.8, 1.7, 1.7, 1.8, 2.1, 2.6, 3.0, 3.1, 2.6, 1.7]
)

ACQUISITION_CHANNELS = ("facebook_ads", "google_ads", "line_oa", "tiktok_ads", "organic", "referral")
PAID_CHANNELS = ("facebook_ads", "google_ads", "line_oa", "tiktok_ads")
SALES_CHANNELS = ("web", "app", "line_shopping", "marketplace")
REGIONS = ("Bangkok", "Central", "North", "Northeast", "East", "West", "South")
GENDERS = ("female", "male", "unspecified")
TIERS = ("bronze", "silver", "gold")

# Fake names (Thai script, with the romanisation used for e-mail handles).
_MALE_FIRST = (
    ("สมชาย", "somchai"), ("วิชัย", "wichai"), ("ประเสริฐ", "prasert"), ("ธนพล", "thanaphon"),
    ("กิตติ", "kitti"), ("ณัฐวุฒิ", "nattawut"), ("สุรชัย", "surachai"), ("ชัยวัฒน์", "chaiwat"),
    ("อนุชา", "anucha"), ("ธีรวัฒน์", "theerawat"), ("พงศกร", "phongsakon"), ("ภานุวัฒน์", "phanuwat"),
)
_FEMALE_FIRST = (
    ("สมศรี", "somsri"), ("สุดา", "suda"), ("มาลี", "malee"), ("อนงค์", "anong"),
    ("พิมพ์ชนก", "phimchanok"), ("ศิริพร", "siriporn"), ("วรรณา", "wanna"), ("จันทร์เพ็ญ", "chanpen"),
    ("กัญญา", "kanya"), ("นภา", "napha"), ("ปิยะนุช", "piyanut"), ("ธิดารัตน์", "thidarat"),
)
_LAST = (
    ("ศรีสุข", "srisuk"), ("วงศ์ใหญ่", "wongyai"), ("แก้วมณี", "kaewmanee"), ("บุญมา", "boonma"),
    ("ทองดี", "thongdee"), ("สุขสวัสดิ์", "suksawat"), ("รัตนพันธ์", "rattanaphan"),
    ("จันทร์แก้ว", "jankaew"), ("พรหมมา", "promma"), ("ใจดี", "jaidee"), ("ศรีวงศ์", "sriwong"),
    ("มั่นคง", "mankong"), ("เพชรรัตน์", "phetcharat"), ("สายทอง", "saithong"),
)

# NPS score distribution inside each group, CSAT distribution inside top-2 / bottom-3.
_PROMOTER_SCORES = ((9, 10), (0.45, 0.55))
_PASSIVE_SCORES = ((7, 8), (0.5, 0.5))
_DETRACTOR_SCORES = ((0, 1, 2, 3, 4, 5, 6), (0.04, 0.03, 0.05, 0.08, 0.12, 0.28, 0.40))
_CSAT_TOP = ((4, 5), (0.5, 0.5))
_CSAT_BOTTOM = ((1, 2, 3), (0.15, 0.25, 0.60))
_DISCOUNT_PCTS = ((0.05, 0.10, 0.15, 0.20), (0.35, 0.35, 0.2, 0.1))

TABLE_NAMES = (
    "orders", "customers", "loyalty_members", "loyalty_points", "experiments",
    "sessions", "carts", "marketing_spend", "surveys", "campaigns",
)

# fmt: on


@dataclass(frozen=True)
class StoreSpec:
    """Planted parameters of one demo store.

    Shares are fractions in [0, 1]; money is THB; times are days unless named
    otherwise. Mappings are tuples of ``(name, value)`` pairs so the spec is
    immutable and hashable.

    Attributes
    ----------
    store_id
        Store id (``[a-z0-9][a-z0-9_-]*``).
    prefix
        Id prefix: orders ``<prefix>-00000001``, customers ``<prefix>-C0000001``,
        carts ``<prefix>-K00000001``.
    customers
        Default number of customers (each has at least one completed order).
    growth_per_year
        Log-growth of daily acquisitions per year (0.4 = x e^0.4 a year).
    acquisition_channels
        Share of new customers per acquisition channel (sums to 1).
    cac
        Planted customer acquisition cost per paid channel, THB per new customer.
    sales_channels
        Share of orders per sales channel (sums to 1).
    regions
        Share of customers per region (sums to 1).
    r, alpha, a, b
        BG/NBD parameters, time unit days: purchase rate ``lambda ~ Gamma(r,
        rate=alpha)`` (per day), drop-out ``p ~ Beta(a, b)``.
    p, q, gamma
        Gamma-Gamma spend parameters (THB): ``nu ~ Gamma(q, rate=gamma)``,
        order value ``z ~ Gamma(p, rate=nu)``; mean order value ``p gamma / (q - 1)``.
    cancelled_per_completed, refunded_per_completed
        Expected cancelled (refunded) orders per completed order, registered
        and guest alike.
    guest_share
        Expected share of guest orders among all orders.
    first_order_discount_rate, repeat_order_discount_rate
        Probability that a first (any other) order carries a discount.
    item_price
        Mean price of one item, THB: ``items = 1 + Poisson(revenue / item_price)``.
    signup_at_checkout_share
        Share of customers who sign up at their first order (gap 0).
    signup_gap_days
        Mean gap, days, between sign-up and first order for the others
        (exponential).
    conversion_rate
        Orders (all statuses, guests included) per session.
    visitors_per_session
        Visitors / sessions.
    abandonment_rate
        Abandoned carts / all carts.
    survey_response_rate
        Share of completed orders (guests included) answered by a survey.
    nps_mix
        Share of promoters, passives, detractors among responses.
    csat_top2
        P(CSAT in 4-5) for promoters, passives, detractors.
    loyalty_join_logit, loyalty_join_slope
        Organic join probability ``expit(logit + slope * log(lambda / E[lambda]))``.
    loyalty_join_delay_days
        Mean delay (exponential) from first order to an organic join.
    redemption_probability
        Probability that the points of one earning event are later redeemed.
    redemption_delay_days
        Mean delay (exponential) from earning to redeeming.
    experiment_join_rate
        Share of invited customers who join (before the end of the history).
    experiment_join_delay_days
        Mean delay (exponential) from invitation to joining.
    member_uplift
        Relative revenue uplift per completed order of an invited joiner after joining.
    campaign_reach
        Share of acquired customers sent each monthly campaign.
    open_rate, click_rate, convert_rate
        P(open), P(click | open), P(convert | click).
    """

    store_id: str
    prefix: str
    customers: int
    growth_per_year: float
    acquisition_channels: tuple[tuple[str, float], ...]
    cac: tuple[tuple[str, float], ...]
    sales_channels: tuple[tuple[str, float], ...]
    regions: tuple[tuple[str, float], ...]
    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float
    cancelled_per_completed: float
    refunded_per_completed: float
    guest_share: float
    first_order_discount_rate: float
    repeat_order_discount_rate: float
    item_price: float
    signup_at_checkout_share: float
    signup_gap_days: float
    conversion_rate: float
    visitors_per_session: float
    abandonment_rate: float
    survey_response_rate: float
    nps_mix: tuple[float, float, float]
    csat_top2: tuple[float, float, float]
    loyalty_join_logit: float
    loyalty_join_slope: float
    loyalty_join_delay_days: float
    redemption_probability: float
    redemption_delay_days: float
    experiment_join_rate: float
    experiment_join_delay_days: float
    member_uplift: float
    campaign_reach: float
    open_rate: float
    click_rate: float
    convert_rate: float

    @property
    def mean_order_value(self) -> float:
        """Expected Gamma-Gamma order value, THB: ``p * gamma / (q - 1)``."""
        return self.p * self.gamma / (self.q - 1)

    @property
    def nps(self) -> float:
        """Planted NPS in points: 100 * (share of promoters - share of detractors)."""
        return 100.0 * (self.nps_mix[0] - self.nps_mix[2])

    @property
    def csat(self) -> float:
        """Planted CSAT in percent: share of 4-5 answers."""
        return 100.0 * float(np.dot(self.nps_mix, self.csat_top2))


# fmt: off
DEMO_STORES: dict[str, StoreSpec] = {
    s.store_id: s
    for s in (
        StoreSpec(
            store_id="demo-bangkok", prefix="BKK", customers=6000, growth_per_year=0.35,
            acquisition_channels=(("facebook_ads", 0.28), ("google_ads", 0.18), ("line_oa", 0.16),
                                  ("tiktok_ads", 0.10), ("organic", 0.18), ("referral", 0.10)),
            cac=(("facebook_ads", 180.0), ("google_ads", 260.0), ("line_oa", 120.0),
                 ("tiktok_ads", 150.0)),
            sales_channels=(("web", 0.35), ("app", 0.30), ("line_shopping", 0.15),
                            ("marketplace", 0.20)),
            regions=(("Bangkok", 0.55), ("Central", 0.15), ("North", 0.06), ("Northeast", 0.09),
                     ("East", 0.07), ("West", 0.03), ("South", 0.05)),
            r=0.9, alpha=20.0, a=0.8, b=6.0,
            p=6.0, q=4.0, gamma=320.0,
            cancelled_per_completed=0.04, refunded_per_completed=0.02, guest_share=0.08,
            first_order_discount_rate=0.55, repeat_order_discount_rate=0.18, item_price=420.0,
            signup_at_checkout_share=0.35, signup_gap_days=6.0,
            conversion_rate=0.025, visitors_per_session=0.72, abandonment_rate=0.62,
            survey_response_rate=0.12, nps_mix=(0.48, 0.30, 0.22), csat_top2=(0.95, 0.70, 0.25),
            loyalty_join_logit=-1.5, loyalty_join_slope=0.9, loyalty_join_delay_days=45.0,
            redemption_probability=0.35, redemption_delay_days=60.0,
            experiment_join_rate=0.30, experiment_join_delay_days=14.0, member_uplift=0.15,
            campaign_reach=0.15, open_rate=0.32, click_rate=0.18, convert_rate=0.12,
        ),
        StoreSpec(
            store_id="demo-chiangmai", prefix="CNX", customers=3000, growth_per_year=0.20,
            acquisition_channels=(("facebook_ads", 0.30), ("google_ads", 0.10), ("line_oa", 0.25),
                                  ("tiktok_ads", 0.05), ("organic", 0.20), ("referral", 0.10)),
            cac=(("facebook_ads", 140.0), ("google_ads", 210.0), ("line_oa", 90.0),
                 ("tiktok_ads", 170.0)),
            sales_channels=(("web", 0.30), ("app", 0.15), ("line_shopping", 0.35),
                            ("marketplace", 0.20)),
            regions=(("Bangkok", 0.12), ("Central", 0.08), ("North", 0.55), ("Northeast", 0.12),
                     ("East", 0.04), ("West", 0.03), ("South", 0.06)),
            r=1.1, alpha=30.0, a=0.9, b=7.0,
            p=4.5, q=3.5, gamma=250.0,
            cancelled_per_completed=0.03, refunded_per_completed=0.015, guest_share=0.12,
            first_order_discount_rate=0.45, repeat_order_discount_rate=0.12, item_price=300.0,
            signup_at_checkout_share=0.50, signup_gap_days=4.0,
            conversion_rate=0.032, visitors_per_session=0.78, abandonment_rate=0.55,
            survey_response_rate=0.15, nps_mix=(0.55, 0.28, 0.17), csat_top2=(0.96, 0.75, 0.30),
            loyalty_join_logit=-1.2, loyalty_join_slope=0.7, loyalty_join_delay_days=30.0,
            redemption_probability=0.45, redemption_delay_days=45.0,
            experiment_join_rate=0.35, experiment_join_delay_days=10.0, member_uplift=0.12,
            campaign_reach=0.20, open_rate=0.40, click_rate=0.20, convert_rate=0.15,
        ),
        StoreSpec(
            store_id="demo-online", prefix="ONL", customers=8000, growth_per_year=0.60,
            acquisition_channels=(("facebook_ads", 0.22), ("google_ads", 0.22), ("line_oa", 0.08),
                                  ("tiktok_ads", 0.22), ("organic", 0.16), ("referral", 0.10)),
            cac=(("facebook_ads", 220.0), ("google_ads", 300.0), ("line_oa", 150.0),
                 ("tiktok_ads", 190.0)),
            sales_channels=(("web", 0.25), ("app", 0.35), ("line_shopping", 0.10),
                            ("marketplace", 0.30)),
            regions=(("Bangkok", 0.30), ("Central", 0.16), ("North", 0.12), ("Northeast", 0.20),
                     ("East", 0.08), ("West", 0.04), ("South", 0.10)),
            r=0.75, alpha=16.0, a=0.7, b=5.0,
            p=5.0, q=3.0, gamma=240.0,
            cancelled_per_completed=0.05, refunded_per_completed=0.025, guest_share=0.06,
            first_order_discount_rate=0.65, repeat_order_discount_rate=0.22, item_price=380.0,
            signup_at_checkout_share=0.25, signup_gap_days=8.0,
            conversion_rate=0.018, visitors_per_session=0.68, abandonment_rate=0.68,
            survey_response_rate=0.10, nps_mix=(0.40, 0.32, 0.28), csat_top2=(0.93, 0.65, 0.22),
            loyalty_join_logit=-1.8, loyalty_join_slope=1.1, loyalty_join_delay_days=60.0,
            redemption_probability=0.28, redemption_delay_days=75.0,
            experiment_join_rate=0.25, experiment_join_delay_days=18.0, member_uplift=0.20,
            campaign_reach=0.12, open_rate=0.25, click_rate=0.15, convert_rate=0.10,
        ),
    )
}
"""The three demo stores and their planted parameters."""
# fmt: on


# --------------------------------------------------------------------------- helpers


def _shift_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (day clamped to the month's length)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first_next = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last = (first_next - dt.timedelta(days=1)).day
    return dt.date(year, month + 1, min(day.day, last))


def _local_midnight_us(day: dt.date, tz: ZoneInfo) -> int:
    """UTC instant (microseconds since the epoch) of local midnight starting ``day``."""
    instant = dt.datetime.combine(day, dt.time(), tz)
    return int(instant.timestamp()) * 1_000_000


def _rng(seed: int, store_index: int, stream: int) -> np.random.Generator:
    """Independent generator per (seed, store, model component)."""
    return np.random.default_rng(np.random.SeedSequence([seed, store_index, stream]))


def _pick(rng: np.random.Generator, shares: np.ndarray, size: int) -> np.ndarray:
    """Category codes 0..len(shares)-1 drawn with probabilities ``shares``."""
    cdf = np.cumsum(shares / shares.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int32)


def _strings(
    values: tuple[str, ...] | list[str], codes: np.ndarray, mask: np.ndarray | None = None
) -> pa.Array:
    """Plain string array ``values[codes]`` (null where ``mask``), built by arrow ``take``."""
    idx = pa.array(codes.astype(np.int32), mask=mask)
    return pa.array(list(values), type=pa.string()).take(idx)


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` + zero-padded 1..n, built with arrow compute."""
    numbers = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width=width, padding="0"), "")


def _const(value: str, n: int) -> pa.Array:
    """String column holding ``value`` ``n`` times (built from buffers, no per-row work)."""
    raw = np.frombuffer(value.encode("utf-8"), dtype=np.uint8)
    if n * len(raw) >= 2**31:
        return pc.cast(pa.repeat(pa.scalar(value), n), pa.string())
    offsets = np.arange(0, (n + 1) * len(raw), len(raw), dtype=np.int32)[: n + 1]
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.tile(raw, n)))


def _ts(us: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(us, dtype=np.int64), type=_TS)


def _lognormal_mean1(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    return rng.lognormal(-0.5 * sigma * sigma, sigma, size)


def _exp_us(rng: np.random.Generator, mean_days: float, size: int) -> np.ndarray:
    return (rng.standard_exponential(size) * mean_days * _US_PER_DAY).astype(np.int64)


def _before_end(t: np.ndarray, anchor: np.ndarray, end_us: int, u: np.ndarray) -> np.ndarray:
    """``t`` where it is before ``end_us``; otherwise a uniform point between anchor and end."""
    fallback = anchor + ((end_us - anchor) * u).astype(np.int64)
    return np.where(t < end_us, t, np.minimum(fallback, end_us - 1))


def _r(x: float, digits: int = 6) -> float:
    return round(float(x), digits)


@dataclass
class _Calendar:
    start: dt.date
    end: dt.date
    start_us: int
    end_us: int
    day_start_us: np.ndarray  # D + 1 local-midnight instants (last = end)
    dates: np.ndarray  # datetime64[D], D local dates
    weights: np.ndarray  # acquisition intensity per day (unnormalised)

    @property
    def days(self) -> int:
        return len(self.dates)

    def day_of(self, us: np.ndarray) -> np.ndarray:
        """Index of the local date of each instant."""
        return np.searchsorted(self.day_start_us, us, side="right") - 1

    def time_in_day(self, rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
        """Instants on the given local days with the hour-of-day profile."""
        hours = _pick(rng, _HOUR_PROFILE, len(day)).astype(np.int64)
        within = (rng.random(len(day)) * _US_PER_HOUR).astype(np.int64)
        t = self.day_start_us[day] + hours * _US_PER_HOUR + within
        return np.minimum(t, self.day_start_us[day + 1] - 1)


def _calendar(end: dt.date, months: int, growth: float) -> _Calendar:
    tz = ZoneInfo(TIMEZONE)
    start = _shift_months(end, -months)
    n = (end - start).days
    day_start = np.array(
        [_local_midnight_us(start + dt.timedelta(days=i), tz) for i in range(n + 1)], dtype=np.int64
    )
    dates = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    month_start = dates.astype("datetime64[M]")
    dom = (dates - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    mon = month_start.astype(np.int64) % 12 + 1
    month_len = (
        (month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]")
    ).astype(np.int64)
    weekday = (dates.astype(np.int64) + 3) % 7  # Monday = 0
    m = SALE_DAY_MULTIPLIERS
    sale = np.ones(n)
    sale = np.where(dom == 15, m["mid_month"], sale)
    sale = np.where(dom >= month_len - 1, np.maximum(sale, m["payday"]), sale)
    sale = np.where(dom == mon, np.maximum(sale, m["double_day"]), sale)
    sale = np.where((dom == 11) & (mon == 11), m["11.11"], sale)
    sale = np.where((dom == 12) & (mon == 12), m["12.12"], sale)
    sale = sale * np.where(weekday >= 5, m["weekend"], 1.0)
    trend = np.exp(growth * np.arange(n) / 365.25)
    return _Calendar(
        start, end, int(day_start[0]), int(day_start[-1]), day_start, dates, trend * sale
    )


# --------------------------------------------------------------------------- simulation


def _simulate(
    store_id: str,
    customers: int | None,
    seed: int,
    end: dt.date,
    months: int,
    sink: Callable[[str, pa.Table], None],
) -> dict[str, Any]:
    """Simulate one store; hand each table to ``sink`` as soon as it is built; return the truth."""
    if store_id not in DEMO_STORES:
        raise ConfigError(
            f"unknown demo store {store_id!r}", hint=f"demo stores: {', '.join(DEMO_STORES)}"
        )
    spec = DEMO_STORES[store_id]
    n = spec.customers if customers is None else int(customers)
    if n < 1:
        raise ConfigError(f"customers must be at least 1, got {customers}")
    if months < 2:
        raise ConfigError(f"months must be at least 2, got {months}")
    sidx = list(DEMO_STORES).index(store_id)
    cal = _calendar(end, months, spec.growth_per_year)
    start_us, end_us = cal.start_us, cal.end_us
    P = spec.prefix

    def stream(k: int) -> np.random.Generator:
        return _rng(seed, sidx, k)

    # 1. acquisition ------------------------------------------------------
    rng = stream(1)
    acq_day = _pick(rng, cal.weights, n).astype(np.int64)
    t0 = np.sort(cal.time_in_day(rng, acq_day))  # customer k = k-th acquired
    acq_day = cal.day_of(t0)
    acq_shares = np.array([s for _, s in spec.acquisition_channels])
    acq_names = tuple(c for c, _ in spec.acquisition_channels)
    acq_channel = _pick(rng, acq_shares, n)

    # 2. BG/NBD purchases -------------------------------------------------
    rng = stream(2)
    lam = rng.gamma(spec.r, 1.0 / spec.alpha, n)  # per day
    p_drop = rng.beta(spec.a, spec.b, n)
    T_us = end_us - t0
    T_days = T_us / _US_PER_DAY
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
    del spacing, cums, S, U, offset

    # registered completed orders: first orders then repeats
    reg_cust = np.concatenate([np.arange(n), rep_cust])
    reg_t = np.concatenate([t0, rep_t])
    reg_first = np.zeros(len(reg_cust), dtype=bool)
    reg_first[:n] = True
    n_reg = len(reg_cust)
    del rep_cust, rep_t

    # 3. Gamma-Gamma spend --------------------------------------------------
    rng = stream(3)
    nu = rng.gamma(spec.q, 1.0 / spec.gamma, n)
    reg_z = rng.gamma(spec.p, 1.0 / nu[reg_cust])

    # 10/11. loyalty membership and the invitation experiment ---------------
    rng = stream(10)
    mean_lam = spec.r / spec.alpha
    logit = spec.loyalty_join_logit + spec.loyalty_join_slope * np.log(lam / mean_lam)
    organic = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    never = np.iinfo(np.int64).max
    join_t = np.where(organic, t0 + _exp_us(rng, spec.loyalty_join_delay_days, n), never)
    exp_months = min(9, max(1, months // 2))
    exp_start_date = _shift_months(end, -exp_months)
    exp_start_us = _local_midnight_us(exp_start_date, ZoneInfo(TIMEZONE))
    experiment_id = f"loyalty-invite-{exp_start_date.year}"
    eligible = (t0 < exp_start_us) & (join_t >= exp_start_us)
    # the programme is invitation-only for assigned customers during the experiment
    join_t = np.where(eligible, never, join_t)
    rng = stream(11)
    elig_idx = np.flatnonzero(eligible)
    m = len(elig_idx)
    invite = np.zeros(m, dtype=bool)
    invite[rng.permutation(m)[: m // 2]] = True
    assigned_t = exp_start_us + (rng.random(m) * 7 * _US_PER_DAY).astype(np.int64)
    accept = rng.random(m) < spec.experiment_join_rate
    inv_join = assigned_t + _exp_us(rng, spec.experiment_join_delay_days, m)
    inv_joined = invite & accept & (inv_join < end_us)
    join_t[elig_idx[inv_joined]] = inv_join[inv_joined]
    is_member = join_t < end_us
    invited_member = np.zeros(n, dtype=bool)
    invited_member[elig_idx[inv_joined]] = True

    uplifted = invited_member[reg_cust] & (reg_t >= join_t[reg_cust])
    reg_rev = np.round(reg_z * np.where(uplifted, 1.0 + spec.member_uplift, 1.0), 2)
    reg_base = np.round(reg_z, 2)
    del reg_z

    # 4. extra orders: cancelled/refunded (registered), guests --------------
    rng = stream(4)
    n_cancel = int(rng.poisson(spec.cancelled_per_completed * n_reg))
    n_refund = int(rng.poisson(spec.refunded_per_completed * n_reg))
    tmpl = rng.integers(0, n_reg, n_cancel + n_refund)
    x_cust = reg_cust[tmpl]
    x_t = _before_end(
        reg_t[tmpl] + _exp_us(rng, 1.5, len(tmpl)), reg_t[tmpl], end_us, rng.random(len(tmpl))
    )
    x_rev = np.round(rng.gamma(spec.p, 1.0 / nu[x_cust]), 2)
    x_status = np.concatenate([np.full(n_cancel, 1, np.int8), np.full(n_refund, 2, np.int8)])

    n_gc = int(rng.poisson(n_reg * spec.guest_share / (1.0 - spec.guest_share)))
    n_gx = int(rng.poisson(spec.cancelled_per_completed * n_gc))
    n_gr = int(rng.poisson(spec.refunded_per_completed * n_gc))
    n_guest = n_gc + n_gx + n_gr
    g_day = cal.day_of(reg_t[rng.integers(0, n_reg, n_guest)])
    g_t = cal.time_in_day(rng, g_day)
    g_nu = rng.gamma(spec.q, 1.0 / spec.gamma, n_guest)
    g_rev = np.round(rng.gamma(spec.p, 1.0 / g_nu), 2)
    g_status = np.concatenate(
        [np.zeros(n_gc, np.int8), np.full(n_gx, 1, np.int8), np.full(n_gr, 2, np.int8)]
    )

    # all orders, sorted by time -------------------------------------------
    o_cust = np.concatenate([reg_cust, x_cust, np.full(n_guest, -1)])
    o_t = np.concatenate([reg_t, x_t, g_t])
    o_rev = np.concatenate([reg_rev, x_rev, g_rev])
    o_status = np.concatenate([np.zeros(n_reg, np.int8), x_status, g_status])
    o_first = np.concatenate([reg_first, np.zeros(len(x_t) + n_guest, dtype=bool)])
    o_uplift = np.concatenate([uplifted, np.zeros(len(x_t) + n_guest, dtype=bool)])
    o_base = np.concatenate([reg_base, x_rev, g_rev])
    del reg_rev, reg_base, x_rev, g_rev, x_cust, x_t, g_t
    order = np.argsort(o_t, kind="stable")
    o_cust, o_t, o_rev, o_status, o_first, o_uplift, o_base = (
        a[order] for a in (o_cust, o_t, o_rev, o_status, o_first, o_uplift, o_base)
    )
    del order
    n_orders = len(o_t)
    guest = o_cust < 0
    o_cust_safe = np.where(guest, 0, o_cust)

    rng = stream(13)
    sales_shares = np.array([s for _, s in spec.sales_channels])
    pref = _pick(rng, sales_shares, n)
    any_channel = _pick(rng, sales_shares, n_orders)
    o_channel = np.where(~guest & (rng.random(n_orders) < 0.8), pref[o_cust_safe], any_channel)
    disc_p = np.where(o_first, spec.first_order_discount_rate, spec.repeat_order_discount_rate)
    has_disc = rng.random(n_orders) < disc_p
    pct = np.array(_DISCOUNT_PCTS[0])[_pick(rng, np.array(_DISCOUNT_PCTS[1]), n_orders)]
    o_disc = np.where(has_disc, np.round(o_rev * pct / (1.0 - pct), 2), 0.0)
    o_items = 1 + rng.poisson(o_rev / spec.item_price)

    cust_ids = _ids(f"{P}-C", n, 7)
    order_ids = _ids(f"{P}-", n_orders, 8)
    o_cust_ids = cust_ids.take(pa.array(o_cust_safe.astype(np.int32), mask=guest))
    sink(
        "orders",
        pa.table(
            {
                "order_id": order_ids,
                "store_id": _const(store_id, n_orders),
                "customer_id": o_cust_ids,
                "ordered_at": _ts(o_t),
                "revenue": pa.array(o_rev, pa.float64()),
                "discount": pa.array(o_disc, pa.float64()),
                "items": pa.array(o_items.astype(np.int64)),
                "status": _strings(("completed", "cancelled", "refunded"), o_status),
                "channel": _strings(tuple(c for c, _ in spec.sales_channels), o_channel),
            }
        ),
    )
    o_day = cal.day_of(o_t)
    completed = o_status == 0
    del any_channel, o_channel, disc_p, pct, o_items

    # 5. customers -------------------------------------------------------------
    rng = stream(5)
    at_checkout = rng.random(n) < spec.signup_at_checkout_share
    gap = np.where(at_checkout, 0, _exp_us(rng, spec.signup_gap_days, n))
    signed_up = t0 - gap
    age = np.clip(18 + rng.gamma(3.0, 5.0, n), 18, 75)
    birth_year = (end.year - np.floor(age)).astype(np.int64)
    gender = _pick(rng, np.array([0.56, 0.40, 0.04]), n)
    region = _pick(rng, np.array([s for _, s in spec.regions]), n)
    female = (gender == 0) | ((gender == 2) & (rng.random(n) < 0.5))
    first_k = rng.integers(0, len(_MALE_FIRST), n)
    last_k = rng.integers(0, len(_LAST), n)
    first_all = _MALE_FIRST + _FEMALE_FIRST
    first_code = np.where(female, first_k + len(_MALE_FIRST), first_k)
    first_th = _strings([f for f, _ in first_all], first_code)
    first_en = _strings([e for _, e in first_all], first_code)
    last_th = _strings([f for f, _ in _LAST], last_k)
    last_en = _strings([e for _, e in _LAST], last_k)
    number = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    email = pc.binary_join_element_wise(
        first_en, ".", pc.utf8_slice_codeunits(last_en, 0, 1), number, "@example.com", ""
    )
    phone_num = 800_000_000 + rng.integers(1, 10, n) * 10_000_000 + rng.integers(0, 10_000_000, n)
    phone = pc.binary_join_element_wise("0", pc.cast(pa.array(phone_num), pa.string()), "")
    name = pc.binary_join_element_wise(first_th, last_th, " ")
    sink(
        "customers",
        pa.table(
            {
                "customer_id": cust_ids,
                "store_id": _const(store_id, n),
                "signed_up_at": _ts(signed_up),
                "acquisition_channel": _strings(acq_names, acq_channel),
                "birth_year": pa.array(birth_year),
                "gender": _strings(GENDERS, gender),
                "region": _strings(REGIONS, region),
                "email": email,
                "phone": phone,
                "name": name,
            }
        ),
    )
    del first_th, first_en, last_th, last_en, number, email, phone, name

    # 6. marketing spend -------------------------------------------------------
    rng = stream(6)
    D = cal.days
    cac = dict(spec.cac)
    ms_dates, ms_spend, ms_chan, realised_cac = [], [], [], {}
    for ch in PAID_CHANNELS:
        code = acq_names.index(ch)
        new = np.bincount(acq_day[acq_channel == code], minlength=D)
        spend = np.round(new * cac[ch] * _lognormal_mean1(rng, 0.2, D), 2)
        ms_dates.append(cal.dates)
        ms_spend.append(spend)
        ms_chan.append(np.full(D, PAID_CHANNELS.index(ch)))
        realised_cac[ch] = _r(spend.sum() / max(new.sum(), 1), 4)
    sink(
        "marketing_spend",
        pa.table(
            {
                "store_id": _const(store_id, D * len(PAID_CHANNELS)),
                "date": pa.array(np.concatenate(ms_dates)),
                "spend": pa.array(np.concatenate(ms_spend), pa.float64()),
                "channel": _strings(PAID_CHANNELS, np.concatenate(ms_chan)),
            }
        ),
    )

    # 7. sessions ----------------------------------------------------------------
    rng = stream(7)
    per_day = np.bincount(o_day, minlength=D)
    sessions = np.round(per_day / spec.conversion_rate * _lognormal_mean1(rng, 0.05, D)).astype(
        np.int64
    )
    visitors = np.minimum(
        np.round(sessions * spec.visitors_per_session * _lognormal_mean1(rng, 0.02, D)).astype(
            np.int64
        ),
        sessions,
    )
    sink(
        "sessions",
        pa.table(
            {
                "store_id": _const(store_id, D),
                "date": pa.array(cal.dates),
                "sessions": pa.array(sessions),
                "visitors": pa.array(visitors),
            }
        ),
    )

    # 8. carts -------------------------------------------------------------------
    rng = stream(8)
    conv_t = np.maximum(o_t - _US_PER_MIN - _exp_us(rng, 7 / 1440, n_orders), start_us)
    n_ab = int(rng.poisson(n_orders * spec.abandonment_rate / (1.0 - spec.abandonment_rate)))
    ab_tmpl = rng.integers(0, n_orders, n_ab)
    ab_t = _before_end(
        o_t[ab_tmpl] + _exp_us(rng, 2.0, n_ab), o_t[ab_tmpl], end_us, rng.random(n_ab)
    )
    c_t = np.concatenate([conv_t, ab_t])
    c_cust = np.concatenate([o_cust, o_cust[ab_tmpl]])
    c_order = np.concatenate([np.arange(n_orders), np.full(n_ab, -1)])
    del conv_t, ab_t, ab_tmpl
    corder = np.argsort(c_t, kind="stable")
    c_t, c_cust, c_order = c_t[corder], c_cust[corder], c_order[corder]
    del corder
    sink(
        "carts",
        pa.table(
            {
                "cart_id": _ids(f"{P}-K", len(c_t), 8),
                "store_id": _const(store_id, len(c_t)),
                "created_at": _ts(c_t),
                "customer_id": cust_ids.take(
                    pa.array(np.maximum(c_cust, 0).astype(np.int32), mask=c_cust < 0)
                ),
                "order_id": order_ids.take(
                    pa.array(np.maximum(c_order, 0).astype(np.int64), mask=c_order < 0)
                ),
            }
        ),
    )
    del c_t, c_cust, c_order

    # 9. surveys -----------------------------------------------------------------
    rng = stream(9)
    comp_idx = np.flatnonzero(completed)
    answered = comp_idx[rng.random(len(comp_idx)) < spec.survey_response_rate]
    s_t = o_t[answered] + _US_PER_HOUR + _exp_us(rng, 1.5, len(answered))
    keep = s_t < end_us
    answered, s_t = answered[keep], s_t[keep]
    ns = len(answered)
    group = _pick(rng, np.array(spec.nps_mix), ns)  # 0 promoter, 1 passive, 2 detractor
    nps = np.empty(ns, dtype=np.int64)
    for g, (scores, probs) in enumerate((_PROMOTER_SCORES, _PASSIVE_SCORES, _DETRACTOR_SCORES)):
        sel = group == g
        nps[sel] = np.array(scores)[_pick(rng, np.array(probs), int(sel.sum()))]
    top = rng.random(ns) < np.array(spec.csat_top2)[group]
    csat = np.where(
        top,
        np.array(_CSAT_TOP[0])[_pick(rng, np.array(_CSAT_TOP[1]), ns)],
        np.array(_CSAT_BOTTOM[0])[_pick(rng, np.array(_CSAT_BOTTOM[1]), ns)],
    ).astype(np.int64)
    s_order = np.argsort(s_t, kind="stable")
    s_cust = o_cust[answered][s_order]
    sink(
        "surveys",
        pa.table(
            {
                "store_id": _const(store_id, ns),
                "responded_at": _ts(s_t[s_order]),
                "customer_id": cust_ids.take(
                    pa.array(np.maximum(s_cust, 0).astype(np.int32), mask=s_cust < 0)
                ),
                "nps": pa.array(nps[s_order]),
                "csat": pa.array(csat[s_order]),
            }
        ),
    )

    # 10. loyalty members and points ---------------------------------------------
    rng = stream(12)
    mem = np.flatnonzero(is_member)
    score = np.log(lam[mem]) + rng.normal(0.0, 0.5, len(mem))
    rank = np.empty(len(mem))
    rank[np.argsort(score, kind="stable")] = (np.arange(len(mem)) + 0.5) / max(len(mem), 1)
    tier = np.where(rank >= 0.9, 2, np.where(rank >= 0.65, 1, 0))
    morder = np.argsort(join_t[mem], kind="stable")
    sink(
        "loyalty_members",
        pa.table(
            {
                "customer_id": cust_ids.take(pa.array(mem[morder].astype(np.int32))),
                "store_id": _const(store_id, len(mem)),
                "joined_at": _ts(join_t[mem][morder]),
                "tier": _strings(TIERS, tier[morder]),
            }
        ),
    )
    earn = np.flatnonzero(completed & ~guest & (o_t >= join_t[o_cust_safe]))
    pts = np.floor(o_rev[earn] / 25.0).astype(np.int64)
    earn = earn[pts > 0]
    pts = pts[pts > 0]
    redeem = rng.random(len(earn)) < spec.redemption_probability
    red_t = o_t[earn] + _exp_us(rng, spec.redemption_delay_days, len(earn))
    redeem &= red_t < end_us
    lp_cust = np.concatenate([o_cust[earn], o_cust[earn][redeem]])
    lp_t = np.concatenate([o_t[earn], red_t[redeem]])
    lp_earned = np.concatenate([pts, np.zeros(int(redeem.sum()), np.int64)])
    lp_redeemed = np.concatenate([np.zeros(len(earn), np.int64), pts[redeem]])
    lorder = np.lexsort((lp_t, lp_cust))
    sink(
        "loyalty_points",
        pa.table(
            {
                "customer_id": cust_ids.take(pa.array(lp_cust[lorder].astype(np.int32))),
                "store_id": _const(store_id, len(lorder)),
                "occurred_at": _ts(lp_t[lorder]),
                "points_earned": pa.array(lp_earned[lorder]),
                "points_redeemed": pa.array(lp_redeemed[lorder]),
            }
        ),
    )

    # 11. experiment table -------------------------------------------------------
    sink(
        "experiments",
        pa.table(
            {
                "experiment_id": _const(experiment_id, m),
                "customer_id": cust_ids.take(pa.array(elig_idx.astype(np.int32))),
                "store_id": _const(store_id, m),
                "variant": _strings(("holdout", "invitation"), invite.astype(np.int8)),
                "assigned_at": _ts(assigned_t),
            }
        ),
    )
    # realised intent-to-treat lift: completed revenue per assigned customer after assignment
    arm = np.full(n, -1, np.int8)
    arm[elig_idx] = invite.astype(np.int8)
    assigned_at_c = np.full(n, never, np.int64)
    assigned_at_c[elig_idx] = assigned_t
    win = completed & ~guest & (o_t >= assigned_at_c[o_cust_safe])
    win_arm = arm[o_cust_safe[win]]
    rev_by_arm = np.bincount(win_arm, weights=o_rev[win], minlength=2)
    base_invited = float(o_base[win][win_arm == 1].sum())
    n_arm = np.bincount(invite.astype(np.int8), minlength=2)
    per_cust = rev_by_arm / np.maximum(n_arm, 1)
    itt_realised = per_cust[1] / per_cust[0] - 1.0 if per_cust[0] > 0 else float("nan")
    itt_causal = rev_by_arm[1] / base_invited - 1.0 if base_invited > 0 else float("nan")

    # 12. campaigns --------------------------------------------------------------
    rng = stream(14)
    tz = ZoneInfo(TIMEZONE)
    names: list[str] = []
    cp_code, cp_cust, cp_t, cp_flags = [], [], [], []
    first_month = cal.start.replace(day=1)
    for k in range(months + 1):
        month = _shift_months(first_month, k)
        base = _local_midnight_us(month.replace(day=5), tz) + 10 * _US_PER_HOUR
        if base < start_us or base >= end_us:
            continue
        acquired = int(np.searchsorted(t0, base))  # customers are sorted by acquisition
        rec = np.flatnonzero(rng.random(acquired) < spec.campaign_reach)
        opened = rng.random(len(rec)) < spec.open_rate
        clicked = opened & (rng.random(len(rec)) < spec.click_rate)
        converted = clicked & (rng.random(len(rec)) < spec.convert_rate)
        cp_code.append(np.full(len(rec), len(names)))
        names.append(f"{P.lower()}-newsletter-{month:%Y-%m}")
        cp_cust.append(rec)
        cp_t.append(base + (rng.random(len(rec)) * 2 * _US_PER_HOUR).astype(np.int64))
        cp_flags.append(np.stack([opened, clicked, converted]))
    empty = np.zeros(0, np.int64)
    cp_rec = np.concatenate(cp_cust) if cp_cust else empty
    flags = np.concatenate(cp_flags, axis=1) if cp_flags else np.zeros((3, 0), bool)
    sink(
        "campaigns",
        pa.table(
            {
                "campaign_id": _strings(names, np.concatenate(cp_code) if cp_code else empty),
                "store_id": _const(store_id, len(cp_rec)),
                "customer_id": cust_ids.take(pa.array(cp_rec.astype(np.int32))),
                "sent_at": _ts(np.concatenate(cp_t) if cp_t else empty),
                "opened": pa.array(flags[0]),
                "clicked": pa.array(flags[1]),
                "converted": pa.array(flags[2]),
            }
        ),
    )

    # truth ------------------------------------------------------------------------
    n_completed = int(completed.sum())
    n_cancelled = int((o_status == 1).sum())
    n_refunded = int((o_status == 2).sum())
    promoters = float(np.mean(nps >= 9)) if ns else float("nan")
    detractors = float(np.mean(nps <= 6)) if ns else float("nan")
    earned_total = int(pts.sum())
    redeemed_total = int(pts[redeem].sum())
    reg_completed = completed & ~guest
    active_before = np.bincount(o_cust_safe[reg_completed], minlength=n)
    truth: dict[str, Any] = {
        "store_id": store_id,
        "seed": seed,
        "n_customers": n,
        "id_prefix": P,
        "history": {
            "timezone": TIMEZONE,
            "start_local": cal.start.isoformat(),
            "end_local_exclusive": end.isoformat(),
            "months": months,
            "start_utc": dt.datetime.fromtimestamp(start_us / 1e6, dt.UTC).isoformat(),
            "end_utc": dt.datetime.fromtimestamp(end_us / 1e6, dt.UTC).isoformat(),
        },
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
            "mean_order_value": _r(spec.mean_order_value, 4),
        },
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
                "completed": n_completed,
                "cancelled": n_cancelled,
                "refunded": n_refunded,
                "guest_orders": int(guest.sum()),
                "registered_completed": n_reg,
                "repeat_completed": n_reg - n,
                "uplifted_orders": int(o_uplift.sum()),
                "orders_per_customer": _r(n_orders / n, 4),
            },
        },
        "customers": {
            "definition": "signed_up_at = first order time minus a gap: 0 for a share "
            "signup_at_checkout_share, else Exponential(signup_gap_days); "
            "signup_gap_mean_days = the mean gap over all customers",
            "signup_at_checkout_share": spec.signup_at_checkout_share,
            "signup_gap_days": spec.signup_gap_days,
            "signup_gap_mean_days": _r(
                (1 - spec.signup_at_checkout_share) * spec.signup_gap_days, 4
            ),
            "region_shares": dict(spec.regions),
            "gender_shares": dict(zip(GENDERS, (0.56, 0.40, 0.04), strict=True)),
        },
        "cac": {
            "definition": "daily spend per paid channel = new customers acquired that local day "
            "through it * CAC * lognormal noise (mean 1, sigma 0.2); organic and "
            "referral have no spend; CAC = spend / new customers of the channel",
            "planted": dict(spec.cac),
            "noise_sigma": 0.2,
            "realised": realised_cac,
        },
        "conversion": {
            "definition": "sessions per local day = round(orders placed that day (every status, "
            "guests included) / conversion_rate * lognormal noise (mean 1, sigma "
            "0.05)); conversion rate = orders / sessions",
            "conversion_rate": spec.conversion_rate,
            "visitors_per_session": spec.visitors_per_session,
            "realised": _r(n_orders / max(int(sessions.sum()), 1)),
        },
        "carts": {
            "definition": "every order has one converted cart created 1 minute + Exponential(7 "
            "minutes) before it; "
            "abandoned carts (order_id null) belong to the customer (or guest) of a "
            "random order and are created after it; abandonment = abandoned / all carts",
            "abandonment_rate": spec.abandonment_rate,
            "realised": _r(n_ab / (n_ab + n_orders)),
        },
        "surveys": {
            "definition": "a share survey_response_rate of completed orders (guests included) is "
            "answered 1 hour + Exponential(1.5 days) after the order (answers falling "
            "after the end are dropped); NPS = 100 * (%promoters 9-10 - %detractors "
            "0-6); CSAT = 100 * share of 4-5 answers",
            "response_rate": spec.survey_response_rate,
            "nps_mix": dict(zip(("promoter", "passive", "detractor"), spec.nps_mix, strict=True)),
            "csat_top2_by_group": dict(
                zip(("promoter", "passive", "detractor"), spec.csat_top2, strict=True)
            ),
            "nps": _r(spec.nps, 4),
            "csat": _r(spec.csat, 4),
            "realised": {
                "responses": ns,
                "nps": _r(100 * (promoters - detractors), 4) if ns else None,
                "csat": _r(100 * float(np.mean(csat >= 4)), 4) if ns else None,
            },
        },
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
            "points_per_thb": 1 / 25,
            "realised": {
                "members": len(mem),
                "organic_members": int(len(mem) - invited_member.sum()),
                "points_earned": earned_total,
                "points_redeemed": redeemed_total,
                "redemption_rate": _r(redeemed_total / earned_total) if earned_total else None,
                "mean_lambda_members": _r(lam[mem].mean()) if len(mem) else None,
                "mean_lambda_non_members": _r(lam[~is_member].mean()) if len(mem) < n else None,
                "customers_with_completed_orders": int((active_before > 0).sum()),
            },
        },
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
            "experiment_id": experiment_id,
            "start_local": exp_start_date.isoformat(),
            "join_rate": spec.experiment_join_rate,
            "join_delay_days": spec.experiment_join_delay_days,
            "member_uplift": spec.member_uplift,
            "itt_lift_nominal": _r(spec.experiment_join_rate * spec.member_uplift),
            "realised": {
                "assigned": m,
                "invitation": int(n_arm[1]),
                "holdout": int(n_arm[0]),
                "joined": int(inv_joined.sum()),
                "itt_lift_causal": _r(itt_causal),
                "itt_lift_realised": _r(itt_realised),
            },
        },
        "campaigns": {
            "definition": "one campaign a month, sent on the 5th from 10:00 local to a random "
            "share reach of the customers acquired before it; opened, clicked | "
            "opened, converted | clicked are Bernoulli draws (not linked to orders)",
            "reach": spec.campaign_reach,
            "open_rate": spec.open_rate,
            "click_rate": spec.click_rate,
            "convert_rate": spec.convert_rate,
        },
    }
    return truth


# --------------------------------------------------------------------------- public API


def generate_store(
    store_id: str,
    *,
    customers: int | None = None,
    seed: int,
    end: dt.date = DEFAULT_END,
    months: int = DEFAULT_MONTHS,
) -> dict[str, pa.Table]:
    """All canonical tables of one demo store.

    Parameters
    ----------
    store_id
        A key of :data:`DEMO_STORES`.
    customers
        Number of customers (each with at least one completed order); None uses
        the store's default (:attr:`StoreSpec.customers`).
    seed
        Random seed; the same seed (and arguments) gives identical tables.
    end
        First local day (Asia/Bangkok) *after* the history.
    months
        Length of the history in calendar months, ending the day before ``end``
        (default: May 2024 .. Oct 2026).

    Returns
    -------
    dict of str to pyarrow.Table
        One table per canonical table name (see :mod:`analysis.schema`).
        Timestamps are ``timestamp[us, tz=UTC]``, dates ``date32`` (local
        Bangkok dates), money THB as float64.

    Raises
    ------
    ConfigError
        Unknown store id or non-positive sizes.
    """
    tables: dict[str, pa.Table] = {}
    _simulate(store_id, customers, seed, end, months, tables.__setitem__)
    return {name: tables[name] for name in TABLE_NAMES}


def _write_parquet(table: pa.Table, path: Path, order: tuple[str, ...] = ()) -> None:
    """Write ``table`` sorted by ``order`` (the warehouse layout, ``schema.Table.row_order``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    sorting = None
    if order:
        table = table.sort_by([(c, "ascending", "at_end") for c in order])
        sorting = pq.SortingColumn.from_ordering(
            table.schema, [(c, "ascending") for c in order], null_placement="at_end"
        )
    pq.write_table(
        table, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS, sorting_columns=sorting
    )
    os.replace(tmp, path)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return None if math.isnan(value) else value
    return obj


def write_demo(
    out_dir: Path,
    *,
    stores: list[str] | None = None,
    customers: int | None = None,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Generate demo stores and write them as a warehouse, plus their planted truths.

    Every table goes to ``out_dir/<table>/<store_id>.parquet`` (zstd), written
    to ``.<store_id>.parquet.tmp`` in the same folder and moved into place. The
    planted parameters and realised values go to ``out_dir/_truth.json``, keyed
    by store id and merged with the stores already in that file; keys are
    sorted, so the same arguments give byte-identical files.

    Parameters
    ----------
    out_dir
        Warehouse folder (``data/warehouse``).
    stores
        Store ids to generate; None = every store of :data:`DEMO_STORES`.
    customers
        Customers PER STORE; None = each store's default.
    seed
        Random seed (the project's ``params/default.yaml`` seed by default).

    Returns
    -------
    dict
        The whole truth file after the merge: ``{store_id: truth}``.
    """
    out_dir = Path(out_dir)
    chosen = list(DEMO_STORES) if stores is None else list(stores)
    unknown = [s for s in chosen if s not in DEMO_STORES]
    if unknown:
        raise ConfigError(
            f"unknown demo store(s) {', '.join(unknown)}",
            hint=f"demo stores: {', '.join(DEMO_STORES)}",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    truths: dict[str, Any] = {}
    for store_id in chosen:

        def sink(name: str, table: pa.Table, store_id: str = store_id) -> None:
            _write_parquet(table, out_dir / name / f"{store_id}.parquet", TABLES[name].row_order)

        truth = _simulate(store_id, customers, seed, DEFAULT_END, DEFAULT_MONTHS, sink)
        truth["parameters"] = _jsonable(asdict(DEMO_STORES[store_id]))
        truths[store_id] = _jsonable(truth)
    path = out_dir / TRUTH_FILE
    merged: dict[str, Any] = {}
    if path.is_file():
        try:
            merged = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            merged = {}
    merged.update(truths)
    tmp = out_dir / f".{TRUTH_FILE}.tmp"
    tmp.write_text(
        json.dumps(merged, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    return merged
