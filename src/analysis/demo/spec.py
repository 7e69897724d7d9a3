"""The demo stores' planted parameters (:class:`StoreSpec`, :data:`DEMO_STORES`) and the
fixed vocabularies every stage draws from (channels, regions, tiers, the history)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

TIMEZONE = "Asia/Bangkok"
"""Local time zone of every demo store."""
DEFAULT_END = dt.date(2026, 11, 1)
"""First local day after the default history."""
DEFAULT_MONTHS = 30
"""Length of the default history, calendar months (May 2024 .. Oct 2026)."""

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
HOUR_PROFILE = np.array(
    [1.0, 0.6, 0.3, 0.2, 0.2, 0.3, 0.6, 1.0, 1.4, 1.6, 1.7, 1.9,
     2.2, 2.0, 1.8, 1.7, 1.7, 1.8, 2.1, 2.6, 3.0, 3.1, 2.6, 1.7]
)

ACQUISITION_CHANNELS = ("facebook_ads", "google_ads", "line_oa", "tiktok_ads", "organic", "referral")
PAID_CHANNELS = ("facebook_ads", "google_ads", "line_oa", "tiktok_ads")
SALES_CHANNELS = ("web", "app", "line_shopping", "marketplace")
REGIONS = ("Bangkok", "Central", "North", "Northeast", "East", "West", "South")
GENDERS = ("female", "male", "unspecified")
TIERS = ("bronze", "silver", "gold")

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
        Relative revenue uplift per completed order of a member (organic or invited)
        at or after joining (membership's planted post-join effect; order counts untouched).
    campaign_reach
        Share of acquired customers sent each monthly campaign.
    open_rate, click_rate, convert_rate
        P(open), P(click | open), P(convert | click).
    srm_drop_share
        Share of the experiment's holdout assignment rows dropped from the
        ``experiments`` table (a planted tracking bug: a sample-ratio mismatch);
        0 = a clean split.
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
    srm_drop_share: float = 0.0

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
            srm_drop_share=0.15,
        ),
    )
}
"""The three demo stores and their planted parameters."""
# fmt: on
