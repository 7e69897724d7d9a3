"""The one source of KPI definitions: every KPI's key, label, unit, definition and code.

The KPI page's scorecard and Definitions table print these labels and
definitions, the executive-summary cards and the trend charts take their
labels and units from here, and the KPI tables of ``docs/metrics.md`` are
generated from here (:mod:`analysis.kpis.docs`, ``python -m analysis.kpis.docs``).
A definition is changed here, then the docs regenerated; never in the docs alone
(``tests/test_kpis_catalogue.py`` fails when they differ).
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.i18n import N_

__all__ = [
    "HEADLINE_METRICS",
    "LIFECYCLE_METRICS",
    "METRICS",
    "METRIC_BY_KEY",
    "ONBOARDING_VALUES",
    "RETENTION_VALUES",
    "TREND_METRICS",
    "Metric",
    "metric",
]


@dataclass(frozen=True)
class Metric:
    """A KPI: its key, label, unit and definition (as the report prints them) and its code.

    Attributes
    ----------
    key
        Column and manifest key (``kpis.<key>``).
    label
        Name a reader sees (English; the message id of its translation).
    unit
        ``money`` (store currency), ``count``, ``ratio`` (a share 0–1),
        ``number``, ``days`` or ``points`` (NPS, −100..100).
    definition
        One or two sentences, as the report's Definitions table prints them.
    table
        The table it needs; without it (an optional table) the metric is
        "not available".
    higher_is_better
        Whether a rise is welcome (None: no preferred direction).
    source
        The function(s) that compute it, relative to ``analysis.kpis``.
    details
        What ``docs/metrics.md`` adds to the definition (edge cases, windows);
        not printed in the report.
    short_label
        Title of its trend chart when shorter than ``label``.
    """

    key: str
    label: str
    unit: str
    definition: str
    table: str = "orders"
    higher_is_better: bool | None = True
    source: str = ""
    details: str = ""
    short_label: str | None = None

    @property
    def chart_title(self) -> str:
        """The trend chart's title: :attr:`short_label`, else :attr:`label`."""
        return self.short_label or self.label


_ORDERS = "orders.period_order_metrics"

METRICS: tuple[Metric, ...] = (
    Metric(
        "revenue", N_("Revenue"), "money", N_("Sum of revenue of completed orders."),
        source=_ORDERS, details="Guest orders included.",
    ),
    Metric(
        "orders", N_("Orders"), "count", N_("Completed orders, guest orders included."), source=_ORDERS,
    ),
    Metric("aov", N_("Average order value"), "money", N_("Revenue ÷ orders."), source=_ORDERS),
    Metric(
        "active_customers", N_("Active customers"), "count",
        N_("Registered customers with a completed order in the month."),
        source=_ORDERS, details="Distinct customers; guests never count as customers.",
    ),
    Metric(
        "new_customers", N_("New customers"), "count",
        N_("Customers whose first completed order ever falls in the month."), source=_ORDERS,
    ),
    Metric(
        "returning_customers", N_("Returning customers"), "count",
        N_("Active customers with a completed order before the month."),
        source=_ORDERS, details="= active − new customers.",
    ),
    Metric(
        "purchase_frequency", N_("Purchase frequency"), "number",
        N_("Completed orders of registered customers ÷ active customers."), source=_ORDERS,
    ),
    Metric(
        "retention_rate", N_("Customer retention rate"), "ratio",
        N_("Share of the customers who bought in the year before the last year (S) who bought "
        "again in the last year, ending with the month (E): |S ∩ E| ÷ |S| (windows of "
        "kpis.retention_window_days, 365 days). Not enough history: under two windows of orders."),
        source="retention.retention_metrics",
        details="E = registered customers with a completed order in the 365 days ending at the "
        "month's end; S = those with one in the 365 days before E's window. \"Not enough "
        "history\" (no value) when the store's first order is later than S's start (about 24 "
        "months of history needed). See [Customer retention rate](#customer-retention-rate).",
    ),
    Metric(
        "churn_rate", N_("Churn rate"), "ratio",
        N_("1 − customer retention rate: the share of S with no completed order in the last year."),
        higher_is_better=False, source="retention.retention_metrics",
    ),
    Metric(
        "repeat_purchase_rate", N_("Repeat purchase rate"), "ratio",
        N_("Share of customers (with a completed order up to the month's end) who have 2 or more."),
        source="retention.repeat_ladder", details="The repeat ladder's first step (k = 1).",
    ),
    Metric(
        "repeat_revenue_share", N_("Revenue from repeat orders"), "ratio",
        N_("Share of the month's revenue from customers' second and later completed orders."),
        source=_ORDERS, details="Guest orders count as not repeat.",
    ),
    Metric(
        "hero_multiplier", N_("Hero multiplier"), "number",
        N_("Mean spend of the top 10% of customers ÷ mean spend of all customers, over the "
        "trailing window ending at the month's end."), higher_is_better=None,
        source="retention.hero_multipliers",
        details="Window: kpis.retention_window_days (365). Customers ranked by spend in integer "
        "satang, highest first (ties broken by customer id); the top decile is the first "
        "NTILE(10) tile, ceil(n ÷ 10) customers.",
    ),
    Metric(
        "conversion_rate", N_("Conversion rate"), "ratio",
        N_("Orders placed (any status, guests included) ÷ sessions."), table="sessions",
        source="touchpoints.conversion_metrics",
        details="Sessions on the month's local dates.",
    ),
    Metric(
        "cart_abandonment_rate", N_("Cart abandonment rate"), "ratio",
        N_("1 − carts that became an order ÷ carts created."), table="carts", higher_is_better=False,
        source="touchpoints.cart_metrics",
        details="A cart became an order when it has an `order_id`; carts by `created_at`.",
        short_label=N_("Cart abandonment"),
    ),
    Metric(
        "cac", N_("Customer acquisition cost"), "money",
        N_("Marketing spend ÷ new customers."), table="marketing_spend", higher_is_better=False,
        source="acquisition.acquisition_metrics",
        details="Spend on the month's local dates. Per channel with the "
        "`customers.acquisition_channel` of each new customer (channels with no spend, such as "
        "organic, have CAC 0; customers without a row are \"unknown\").",
    ),
    Metric(
        "ltv_cac", N_("LTV : CAC"), "number",
        N_("Historical 12-month revenue per customer (revenue of the trailing 365 days ÷ customers "
        "who bought in them) ÷ CAC over the same 365 days."),
        table="marketing_spend", source="acquisition.historical_ltv, acquisition.cac_by_period",
        details="Completed revenue of registered customers; a stand-in until model-based CLV "
        "feeds it. CAC over the 365 days = spend ÷ customers acquired in them.",
    ),
    Metric(
        "nps", N_("Net Promoter Score"), "points", N_("% promoters (9–10) − % detractors (0–6)."),
        table="surveys", source="touchpoints.survey_metrics",
        details="Answers with `responded_at` in the month.", short_label=N_("NPS"),
    ),
    Metric(
        "csat", N_("Customer satisfaction"), "ratio", N_("Share of CSAT answers that are 4 or 5."),
        table="surveys", source="touchpoints.survey_metrics",
    ),
    Metric(
        "discount_order_share", N_("Orders with a discount"), "ratio",
        N_("Share of completed orders with a discount above 0."), higher_is_better=None,
        source=_ORDERS, details="None without a `discount` column.",
    ),
    Metric(
        "cancelled_orders", N_("Cancelled orders"), "count", N_("Orders with status cancelled."),
        higher_is_better=False, source=_ORDERS,
    ),
    Metric(
        "cancelled_value", N_("Cancelled value"), "money", N_("Revenue of cancelled orders."),
        higher_is_better=False, source=_ORDERS,
    ),
    Metric(
        "refunded_orders", N_("Refunded orders"), "count", N_("Orders with status refunded."),
        higher_is_better=False, source=_ORDERS,
    ),
    Metric(
        "refunded_value", N_("Refunded value"), "money", N_("Revenue of refunded orders."),
        higher_is_better=False, source=_ORDERS,
    ),
    Metric(
        "loyalty_participation", N_("Loyalty participation"), "ratio",
        N_("Loyalty members among active customers ÷ active customers."), table="loyalty_members",
        source="touchpoints.loyalty_participation",
        details="Members who joined the programme before the month's end.",
    ),
)  # fmt: skip
"""The scorecard's rows, in the order it shows them."""

LIFECYCLE_METRICS: tuple[Metric, ...] = (
    Metric(
        "median_days_signup_to_first_order", N_("Days from sign-up to first order (median)"), "days",
        N_("Median of (first completed order − sign-up) over the month's new customers with a "
        "sign-up date."), table="customers", higher_is_better=False,
        source="acquisition.onboarding_metrics", details="`customers.signed_up_at`.",
    ),
    Metric(
        "first_order_discount_share", N_("First orders with a discount"), "ratio",
        N_("Share of the month's new customers whose first order had a discount above 0."),
        higher_is_better=None, source="acquisition.onboarding_metrics",
        details="\"–\" without a `discount` column.",
    ),
    Metric(
        "median_days_first_to_second", N_("Days from first to second order (median)"), "days",
        N_("Median over every customer whose second completed order came before the month's end."),
        higher_is_better=False, source="acquisition.onboarding_metrics",
        details="Same definition as the cohort page's time to second order.",
    ),
)  # fmt: skip
"""Values of the KPI page's onboarding and retention lists beside the scorecard
(``Scorecard.onboarding``)."""

METRIC_BY_KEY = {m.key: m for m in METRICS + LIFECYCLE_METRICS}
"""Every catalogue entry by key."""

HEADLINE_METRICS = (
    "revenue", "orders", "aov", "active_customers", "new_customers",
    "retention_rate", "conversion_rate", "nps",
)  # fmt: skip
"""Metrics shown as cards in the executive summary (when available)."""

TREND_METRICS = (
    "revenue", "orders", "aov", "active_customers", "new_customers", "returning_customers",
    "conversion_rate", "cart_abandonment_rate", "nps",
)  # fmt: skip
"""Metrics of the KPI page's trend charts (``monthly_trends`` columns), in order."""

ONBOARDING_VALUES = (
    "conversion_rate", "median_days_signup_to_first_order", "first_order_discount_share",
)  # fmt: skip
"""The KPI page's onboarding list."""

RETENTION_VALUES = (
    "retention_rate", "churn_rate", "median_days_first_to_second", "loyalty_participation",
)  # fmt: skip
"""The KPI page's retention and loyalty list."""


def metric(key: str) -> Metric:
    """The catalogue entry of a metric key (KeyError for an unknown key)."""
    return METRIC_BY_KEY[key]
