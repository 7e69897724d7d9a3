"""Words of the lifecycle buckets: names, rules with their parameters, reasons, table labels.

The numbers come from :mod:`analysis.segments.buckets` (catalogue block
``segments buckets``). Bucket keys are the strings of
:data:`analysis.segments.buckets.BUCKETS`.
"""

from __future__ import annotations

import pandas as pd

from analysis.config import SegmentParams
from analysis.formats import format_count, format_number, format_percent
from analysis.i18n import N_, _, ngettext

__all__ = [
    "bucket_labels",
    "BUCKET_NAMES",
    "at_risk_without_p_alive",
    "bucket_name",
    "bucket_rule",
    "bucket_rules_table",
    "combinations_table",
    "negative_without_statuses",
    "negative_without_surveys",
    "no_campaigns",
    "no_carts",
    "no_discount_column",
    "no_negative_experience_data",
    "overlap_sentence",
    "overlaps_table",
]

BUCKET_NAMES: dict[str, str] = {
    "heroes": N_("Heroes"),
    "regulars": N_("Regulars"),
    "at_risk": N_("At risk"),
    "inactive": N_("Inactive"),
    "negative_experience": N_("Negative experience"),
    "cart_abandoners": N_("Cart abandoners"),
    "discount_driven": N_("Discount-driven"),
    "new": N_("New customers"),
    "campaign_responders": N_("Campaign responders"),
    "campaign_non_responders": N_("Campaign non-responders"),
}
"""Display name of each bucket (English source; translated where shown)."""

BUCKET = N_("Bucket")
RULE = N_("Rule")
CUSTOMERS = N_("Customers")
BUCKETS_IN_COMBINATION = N_("Buckets")
NUMBER_OF_BUCKETS = N_("Number of buckets")
NO_BUCKET = N_("(in no bucket)")


def bucket_name(bucket: str) -> str:
    """Display name of ``bucket`` in the current language."""
    return _(BUCKET_NAMES[bucket])


def bucket_rule(bucket: str, params: SegmentParams) -> str:
    """The rule of ``bucket`` in words, with its parameter values filled in."""
    window = format_count(params.rfm_window_days)
    rules = {
        "heroes": lambda: _(
            "The top {share} of the customers with an order in the last {window} days by their "
            "spend in those days (everyone tied with the customer at the cut included), who also "
            "placed at least {orders} completed orders in them."
        ).format(
            share=format_percent(params.hero_top_share),
            window=window,
            orders=format_count(params.hero_min_orders),
        ),
        "regulars": lambda: _(
            "At least {orders} completed orders in the last {window} days, the latest within "
            "the last {days} days."
        ).format(
            orders=format_count(params.regular_min_orders),
            window=window,
            days=format_count(params.regular_active_days),
        ),
        "at_risk": lambda: _(
            "Not inactive, and either no order for more than {multiple} times the customer's own "
            "mean gap between orders (customers with two or more orders), or a probability of "
            "still being active below {p_alive} from the CLV model."
        ).format(
            multiple=format_number(params.at_risk_gap_multiple, 1),
            p_alive=format_percent(params.at_risk_p_alive, 0),
        ),
        "inactive": lambda: _("No completed order in the last {days} days.").format(
            days=format_count(params.inactive_days)
        ),
        "negative_experience": lambda: _(
            "In the last {window} days: a survey answer with NPS 0–6 (a detractor) or CSAT 1–2, "
            "or a refunded or cancelled order."
        ).format(window=window),
        "cart_abandoners": lambda: _(
            "An abandoned cart in the last {days} days with no completed order since it was "
            "created."
        ).format(days=format_count(params.cart_days)),
        "discount_driven": lambda: _(
            "At least {orders} completed orders in the last {window} days and more than {share} "
            "of them discounted."
        ).format(
            orders=format_count(params.discount_min_orders),
            window=window,
            share=format_percent(params.discount_share, 0),
        ),
        "new": lambda: _("First completed order within the last {days} days.").format(
            days=format_count(params.new_days)
        ),
        "campaign_responders": lambda: _(
            "Converted in at least one campaign sent in the last {window} days."
        ).format(window=window),
        "campaign_non_responders": lambda: _(
            "Sent at least {sends} campaigns in the last {window} days and converted in none."
        ).format(sends=format_count(params.campaign_min_sends), window=window),
    }
    return rules[bucket]()


def bucket_rules_table(
    params: SegmentParams, unavailable: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per bucket: its display name and its rule (and why not, when unavailable).

    Parameters
    ----------
    params
        The store's ``segments`` parameters (filled into the rules).
    unavailable
        :attr:`analysis.segments.buckets.BucketFlags.unavailable`; a bucket in it
        has its reason appended to its rule.

    Returns
    -------
    pandas.DataFrame
        Columns "Bucket" and "Rule" (translated), buckets in page order.
    """
    unavailable = unavailable or {}
    rows = []
    for bucket in BUCKET_NAMES:
        rule = bucket_rule(bucket, params)
        if bucket in unavailable:
            rule = _("{rule} Not available: {reason}").format(rule=rule, reason=unavailable[bucket])
        rows.append((bucket_name(bucket), rule))
    return pd.DataFrame(rows, columns=[_(BUCKET), _(RULE)])


def no_negative_experience_data() -> str:
    """Why negative experience is unavailable: no surveys and no order statuses."""
    return _(
        "the store has no survey answers and its orders carry no status, so neither detractors "
        "nor refunds and cancellations can be seen."
    )


def negative_without_surveys() -> str:
    """Caveat: negative experience from refunds and cancellations only."""
    return _(
        "without survey answers, negative experience counts refunded and cancelled orders only."
    )


def negative_without_statuses() -> str:
    """Caveat: negative experience from surveys only."""
    return _(
        "the orders carry no status, so negative experience counts survey answers only "
        "(no refunds or cancellations)."
    )


def no_carts() -> str:
    """Why cart abandoners are unavailable."""
    return _(
        "the store has no carts table (with customer and order ids), so abandoned carts "
        "cannot be seen."
    )


def no_discount_column() -> str:
    """Why discount-driven customers are unavailable."""
    return _("the orders have no discount column, so discounted orders cannot be told apart.")


def no_campaigns() -> str:
    """Why the campaign buckets are unavailable."""
    return _(
        "the store has no campaigns table with conversions, so campaign response cannot be seen."
    )


def at_risk_without_p_alive() -> str:
    """Caveat: at risk by the gap rule alone (no CLV model)."""
    return _(
        "no P(alive) from the CLV model was available, so at risk uses the gap between orders "
        "alone (customers with a single order are never at risk by that rule)."
    )


def overlap_sentence(in_two_or_more: int) -> str:
    """How totals count customers in several buckets (Markdown sentence)."""
    return ngettext(
        "A customer may sit in several buckets; totals of the bucket table count such a "
        "customer once per bucket; {n} customer sits in two or more.",
        "A customer may sit in several buckets; totals of the bucket table count such a "
        "customer once per bucket; {n} customers sit in two or more.",
        in_two_or_more,
    ).format(n=format_count(in_two_or_more))


def overlaps_table(overlaps: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.segments.buckets.bucket_overlaps` with bucket names for the reader.

    Returns
    -------
    pandas.DataFrame
        The same counts, formatted with digit grouping; index and columns are
        the buckets' display names, both axes named "Bucket".
    """
    shown = overlaps.map(format_count)
    shown.index = [bucket_name(b) for b in overlaps.index]
    shown.columns = [bucket_name(b) for b in overlaps.columns]
    shown.index.name = _(BUCKET)
    return shown


def combinations_table(combinations: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.segments.buckets.bucket_combinations` labelled for the reader.

    Returns
    -------
    pandas.DataFrame
        Columns "Buckets" (display names joined with " + "; the customers in no
        bucket last), "Number of buckets" and "Customers" (formatted counts).
    """
    names = [
        " + ".join(bucket_name(b) for b in combo) if combo else _(NO_BUCKET)
        for combo in combinations["buckets"]
    ]
    return pd.DataFrame(
        {
            _(BUCKETS_IN_COMBINATION): names,
            _(NUMBER_OF_BUCKETS): [format_count(n) for n in combinations["n_buckets"]],
            _(CUSTOMERS): [format_count(n) for n in combinations["customers"]],
        }
    )


def bucket_labels() -> dict[str, str]:
    """Bucket key → display name, in page order and the current language."""
    return {key: bucket_name(key) for key in BUCKET_NAMES}
