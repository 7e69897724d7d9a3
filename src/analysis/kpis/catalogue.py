"""The one source of KPI definitions: every scorecard row's key, label, unit and definition.

The KPI page's scorecard and Definitions table print these labels and
definitions, the executive-summary cards take their labels from here, the
notebook's trend charts take their titles and units from here, and
``docs/metrics.md`` holds the same definitions (see :func:`metrics_table`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HEADLINE_METRICS", "METRICS", "METRIC_BY_KEY", "Metric", "metric"]


@dataclass(frozen=True)
class Metric:
    """A scorecard row: its key, label, unit and definition (as the report prints it)."""

    key: str
    label: str
    unit: str  # money, count, ratio, number, days, points
    definition: str
    table: str = "orders"  # the optional table it needs
    higher_is_better: bool | None = True


METRICS: tuple[Metric, ...] = (
    Metric("revenue", "Revenue", "money", "Sum of revenue of completed orders."),
    Metric("orders", "Orders", "count", "Completed orders, guest orders included."),
    Metric("aov", "Average order value", "money", "Revenue ÷ orders."),
    Metric(
        "active_customers", "Active customers", "count",
        "Registered customers with a completed order in the month.",
    ),
    Metric(
        "new_customers", "New customers", "count",
        "Customers whose first completed order ever falls in the month.",
    ),
    Metric(
        "returning_customers", "Returning customers", "count",
        "Active customers with a completed order before the month.",
    ),
    Metric(
        "purchase_frequency", "Purchase frequency", "number",
        "Completed orders of registered customers ÷ active customers.",
    ),
    Metric(
        "retention_rate", "Customer retention rate", "ratio",
        "Share of the customers who bought in the year before the last year (S) who bought "
        "again in the last year, ending with the month (E): |S ∩ E| ÷ |S| (windows of "
        "kpis.retention_window_days, 365 days). Not enough history: under two windows of orders.",
    ),
    Metric(
        "churn_rate", "Churn rate", "ratio",
        "1 − customer retention rate: the share of S with no completed order in the last year.",
        higher_is_better=False,
    ),
    Metric(
        "repeat_purchase_rate", "Repeat purchase rate", "ratio",
        "Share of customers (with a completed order up to the month's end) who have 2 or more.",
    ),
    Metric(
        "repeat_revenue_share", "Revenue from repeat orders", "ratio",
        "Share of the month's revenue from customers' second and later completed orders.",
    ),
    Metric(
        "hero_multiplier", "Hero multiplier", "number",
        "Mean spend of the top 10% of customers ÷ mean spend of all customers, over the "
        "trailing window ending at the month's end.", higher_is_better=None,
    ),
    Metric(
        "conversion_rate", "Conversion rate", "ratio",
        "Orders placed (any status, guests included) ÷ sessions.", table="sessions",
    ),
    Metric(
        "cart_abandonment_rate", "Cart abandonment rate", "ratio",
        "1 − carts that became an order ÷ carts created.", table="carts", higher_is_better=False,
    ),
    Metric(
        "cac", "Customer acquisition cost", "money",
        "Marketing spend ÷ new customers.", table="marketing_spend", higher_is_better=False,
    ),
    Metric(
        "ltv_cac", "LTV : CAC", "number",
        "Historical 12-month revenue per customer (revenue of the trailing 365 days ÷ customers "
        "who bought in them) ÷ CAC over the same 365 days.",
        table="marketing_spend",
    ),
    Metric("nps", "Net Promoter Score", "points", "% promoters (9–10) − % detractors (0–6).", table="surveys"),
    Metric("csat", "Customer satisfaction", "ratio", "Share of CSAT answers that are 4 or 5.", table="surveys"),
    Metric(
        "discount_order_share", "Orders with a discount", "ratio",
        "Share of completed orders with a discount above 0.", higher_is_better=None,
    ),
    Metric(
        "cancelled_orders", "Cancelled orders", "count", "Orders with status cancelled.",
        higher_is_better=False,
    ),
    Metric(
        "cancelled_value", "Cancelled value", "money", "Revenue of cancelled orders.",
        higher_is_better=False,
    ),
    Metric(
        "refunded_orders", "Refunded orders", "count", "Orders with status refunded.",
        higher_is_better=False,
    ),
    Metric(
        "refunded_value", "Refunded value", "money", "Revenue of refunded orders.",
        higher_is_better=False,
    ),
    Metric(
        "loyalty_participation", "Loyalty participation", "ratio",
        "Loyalty members among active customers ÷ active customers.", table="loyalty_members",
    ),
)  # fmt: skip


METRIC_BY_KEY = {m.key: m for m in METRICS}
"""The catalogue by key."""


def metric(key: str) -> Metric:
    """The catalogue entry of a metric key (KeyError for an unknown key)."""
    return METRIC_BY_KEY[key]


HEADLINE_METRICS = (
    "revenue", "orders", "aov", "active_customers", "new_customers",
    "retention_rate", "conversion_rate", "nps",
)  # fmt: skip
"""Metrics shown as cards in the executive summary (when available)."""
