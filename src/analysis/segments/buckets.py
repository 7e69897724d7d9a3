"""Lifecycle buckets: heroes, regulars, at risk, inactive, ... computed on the engine.

A customer may sit in several buckets (or in none). Every rule reads the
completed orders of registered customers placed before ``as_of``
(:func:`analysis.customers.customer_orders`); the parameters are
:class:`analysis.config.SegmentParams` (``params/default.yaml`` ``segments:``).
"Window" is the ``rfm_window_days`` days up to ``as_of``: instants ``t`` with
``as_of - rfm_window_days <= t < as_of``. "Within D days" means at or after
``as_of - D days``; "D days before" means at or before ``as_of - D days``.
Day counts are fractional days between instants (to the microsecond).

- **heroes**: rank the customers with an order in the window by window spend
  (integer satang); the cut is the spend of the customer at rank
  ``k = ceil(hero_top_share * customers)``; every customer spending at least
  that much (ties at the cut included) with ``>= hero_min_orders`` window orders;
- **regulars**: ``>= regular_min_orders`` window orders, the last within
  ``regular_active_days``;
- **inactive**: last order ``inactive_days`` or more before ``as_of``;
- **at_risk**: not inactive, and either (two or more orders ever, a mean gap
  ``(last - first) / (n - 1)`` above 0 and days since the last order above
  ``at_risk_gap_multiple`` times that gap) or P(alive) below
  ``at_risk_p_alive`` when ``p_alive`` is given (otherwise the gap rule alone,
  said in :attr:`BucketFlags.notes`);
- **negative_experience**: in the window, a survey answer with NPS <= 6 or
  CSAT <= 2, or an order of the customer with status
  ``refunded`` or ``cancelled``;
- **cart_abandoners**: an abandoned cart (``order_id`` null) of the customer
  created within ``cart_days`` (and before ``as_of``) with no completed order
  of the customer at or after the cart's creation (up to ``as_of``);
- **discount_driven**: ``>= discount_min_orders`` window orders and more than
  ``discount_share`` of them with ``discount > 0``;
- **new**: first completed order ever within ``new_days``;
- **campaign_responders**: converted in a campaign sent in the window;
  **campaign_non_responders**: ``>= campaign_min_sends`` campaigns sent in the
  window and none converted.

A bucket whose table or column is missing is left out of the flags and its
reason (from the catalogue, :mod:`analysis.narrative.buckets`) is in
:attr:`BucketFlags.unavailable`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import narwhals as nw
import numpy as np
import pandas as pd

from analysis.config import SegmentParams
from analysis.customers import registered
from analysis.frames import MICROSECONDS_PER_DAY, epoch_microseconds, epoch_microseconds_of
from analysis.narrative import buckets as words
from analysis.segments.base import customer_base, in_window

__all__ = [
    "BUCKETS",
    "BucketFlags",
    "BucketRules",
    "bucket_combinations",
    "bucket_flags",
    "bucket_headlines",
    "bucket_overlaps",
    "bucket_rules",
    "flag_low_p_alive",
]

BUCKETS: tuple[str, ...] = (
    "heroes",
    "regulars",
    "at_risk",
    "inactive",
    "negative_experience",
    "cart_abandoners",
    "discount_driven",
    "new",
    "campaign_responders",
    "campaign_non_responders",
)
"""Lifecycle buckets, in the order of every table of the page."""


@dataclass(frozen=True)
class BucketFlags:
    """Bucket membership of every customer with a completed order before ``as_of``.

    Attributes
    ----------
    flags
        Index ``customer_id`` (every registered customer with a completed order
        before ``as_of``, ascending); one bool column per available bucket, in
        :data:`BUCKETS` order.
    unavailable
        Bucket -> reason it is not computed (the store lacks the table or column
        it needs), translated.
    as_of
        End of the window (exclusive), timezone-aware.
    notes
        Bucket -> a caveat on how it was computed with the data at hand
        (e.g. ``at_risk`` without P(alive), ``negative_experience`` without
        surveys), translated.
    """

    flags: pd.DataFrame
    unavailable: dict[str, str]
    as_of: dt.datetime
    notes: dict[str, str] = field(default_factory=dict)


def _cols(frame: nw.LazyFrame | None) -> set[str]:
    return set() if frame is None else set(frame.collect_schema().names())


def _heroes(params: SegmentParams) -> nw.Expr:
    """Top ``hero_top_share`` by window spend (ties at the cut in), with enough window orders.

    The customer at rank ``k = ceil(share * customers with a window order)`` sets the
    cut; ``rank(method="min")`` by descending spend is at most ``k`` exactly for the
    customers spending at least as much as that one. ``rank <= ceil(x)`` is written
    ``rank - 1 < x`` (less 1e-9, so that ``0.1 * 20`` reads 2, not 2.0000000000000004).
    Customers without a window order spend 0 and rank last; they are never heroes.
    """
    active = nw.col("n_window") > 0
    customers = active.cast(nw.Int64).sum()  # broadcast over the per-customer frame
    rank = nw.col("satang_window").rank(method="min", descending=True)
    return (
        active
        & (rank - 1 < params.hero_top_share * customers - 1e-9)
        & (nw.col("n_window") >= params.hero_min_orders)
    )


def _negative(
    orders: nw.LazyFrame,
    surveys: nw.LazyFrame | None,
    as_of: dt.datetime,
    window: int,
    has_status: bool,
) -> nw.LazyFrame | None:
    """Customers with a negative survey answer or a refunded/cancelled order in the window."""
    parts: list[nw.LazyFrame] = []
    cols = _cols(surveys)
    if surveys is not None and {"customer_id", "responded_at"} <= cols and cols & {"nps", "csat"}:
        bad = nw.lit(False)
        if "nps" in cols:
            bad = bad | (nw.col("nps") <= 6).fill_null(False)
        if "csat" in cols:
            bad = bad | (nw.col("csat") <= 2).fill_null(False)
        parts.append(
            surveys.filter(
                ~nw.col("customer_id").is_null(), in_window("responded_at", as_of, window), bad
            ).select("customer_id")
        )
    if has_status:
        parts.append(
            orders.filter(
                registered(),
                nw.col("status").is_in(["refunded", "cancelled"]),
                in_window("ordered_at", as_of, window),
            ).select("customer_id")
        )
    if not parts:
        return None
    both = parts[0] if len(parts) == 1 else nw.concat(parts, how="vertical")
    # group_by, not unique(): narwhals spells unique() with a window, which costs more
    return (
        both.group_by("customer_id").agg().with_columns(nw.lit(True).alias("negative_experience"))
    )


def _carts(carts: nw.LazyFrame, as_of: dt.datetime, days: int) -> nw.LazyFrame:
    """Per customer: the latest abandoned cart created within ``days`` before ``as_of``."""
    return (
        carts.filter(
            ~nw.col("customer_id").is_null(),
            nw.col("order_id").is_null(),
            in_window("created_at", as_of, days),
        )
        .group_by("customer_id")
        .agg(epoch_microseconds("created_at", carts.implementation).max().alias("cart_us"))
    )


def _campaigns(campaigns: nw.LazyFrame, as_of: dt.datetime, window: int) -> nw.LazyFrame:
    """Per customer: campaigns sent in the window and how many converted."""
    return (
        campaigns.filter(in_window("sent_at", as_of, window))
        .group_by("customer_id")
        .agg(
            nw.len().alias("sends"),
            nw.col("converted").fill_null(False).cast(nw.Int64).sum().alias("conversions"),
        )
    )


def _availability(
    schema: set[str],
    surveys: nw.LazyFrame | None,
    carts: nw.LazyFrame | None,
    campaigns: nw.LazyFrame | None,
    with_p_alive: bool,
) -> tuple[dict[str, str], dict[str, str]]:
    """Unavailable buckets and notes, with their reasons from the catalogue."""
    unavailable: dict[str, str] = {}
    notes: dict[str, str] = {}
    s_cols = _cols(surveys)
    has_surveys = {"customer_id", "responded_at"} <= s_cols and bool(s_cols & {"nps", "csat"})
    if not has_surveys and "status" not in schema:
        unavailable["negative_experience"] = words.no_negative_experience_data()
    elif not has_surveys:
        notes["negative_experience"] = words.negative_without_surveys()
    elif "status" not in schema:
        notes["negative_experience"] = words.negative_without_statuses()
    if not {"customer_id", "order_id", "created_at"} <= _cols(carts):
        unavailable["cart_abandoners"] = words.no_carts()
    if "discount" not in schema:
        unavailable["discount_driven"] = words.no_discount_column()
    if not {"customer_id", "sent_at", "converted"} <= _cols(campaigns):
        unavailable["campaign_responders"] = words.no_campaigns()
        unavailable["campaign_non_responders"] = words.no_campaigns()
    if not with_p_alive:
        notes["at_risk"] = words.at_risk_without_p_alive()
    return unavailable, notes


@dataclass(frozen=True)
class BucketRules:
    """The bucket flags of every customer, still on the engine, and what could not be computed.

    Attributes
    ----------
    frame
        ``customer_id`` (every registered customer with a completed order before
        ``as_of``, in no particular order) and one bool column per available
        bucket, in :data:`BUCKETS` order; ``at_risk`` by the gap rule alone.
    unavailable, notes
        As in :class:`BucketFlags`.
    """

    frame: nw.LazyFrame
    unavailable: dict[str, str]
    notes: dict[str, str]


def bucket_rules(
    orders: nw.LazyFrame,
    as_of: dt.datetime,
    params: SegmentParams,
    *,
    surveys: nw.LazyFrame | None = None,
    carts: nw.LazyFrame | None = None,
    campaigns: nw.LazyFrame | None = None,
    with_p_alive: bool = False,
    base: nw.LazyFrame | None = None,
) -> BucketRules:
    """:func:`bucket_flags` before collecting: the flags as a lazy frame (parameters there).

    ``with_p_alive`` only sets the at-risk note: P(alive) is applied after
    collecting, by :func:`flag_low_p_alive`.
    """
    schema = set(orders.collect_schema().names())
    unavailable, notes = _availability(schema, surveys, carts, campaigns, with_p_alive)
    window = params.rfm_window_days
    if base is None:
        base = customer_base(orders, as_of, window)
    first, last = nw.col("first_us"), nw.col("last_us")  # microseconds since the epoch

    def days_before(days: float) -> int:
        return epoch_microseconds_of(as_of - dt.timedelta(days=days))

    since_last = (epoch_microseconds_of(as_of) - last) / MICROSECONDS_PER_DAY
    gap = (last - first) / MICROSECONDS_PER_DAY / (nw.col("n_orders") - 1)
    inactive = last <= days_before(params.inactive_days)
    exprs: dict[str, nw.Expr] = {
        "heroes": _heroes(params),
        "regulars": (nw.col("n_window") >= params.regular_min_orders)
        & (last >= days_before(params.regular_active_days)),
        "at_risk": ~inactive
        & (nw.col("n_orders") >= 2)
        & (last > first)
        & (since_last > params.at_risk_gap_multiple * gap),
        "inactive": inactive,
        "new": first >= days_before(params.new_days),
    }
    if "discount_driven" not in unavailable:
        exprs["discount_driven"] = (nw.col("n_window") >= params.discount_min_orders) & (
            nw.col("discounted") > params.discount_share * nw.col("n_window")
        )
    frame = base
    negative = _negative(orders, surveys, as_of, window, "status" in schema)
    if negative is not None:
        frame = frame.join(negative, on="customer_id", how="left")
        exprs["negative_experience"] = nw.col("negative_experience").fill_null(False)
    if carts is not None and "cart_abandoners" not in unavailable:
        frame = frame.join(_carts(carts, as_of, params.cart_days), on="customer_id", how="left")
        exprs["cart_abandoners"] = (~nw.col("cart_us").is_null()) & (
            last < nw.col("cart_us")
        ).fill_null(False)
    if campaigns is not None and "campaign_responders" not in unavailable:
        frame = frame.join(_campaigns(campaigns, as_of, window), on="customer_id", how="left")
        sends = nw.col("sends").fill_null(0)
        conversions = nw.col("conversions").fill_null(0)
        exprs["campaign_responders"] = conversions > 0
        exprs["campaign_non_responders"] = (sends >= params.campaign_min_sends) & (conversions == 0)
    order = [b for b in BUCKETS if b in exprs]
    flags = frame.select("customer_id", *[exprs[b].fill_null(False).alias(b) for b in order])
    return BucketRules(frame=flags, unavailable=unavailable, notes=notes)


def flag_low_p_alive(
    flags: pd.DataFrame, p_alive: pd.Series | None, params: SegmentParams
) -> pd.DataFrame:
    """``flags`` with the P(alive) half of the at-risk rule applied (a copy; unchanged without).

    A customer not inactive with P(alive) below ``params.at_risk_p_alive`` is
    at risk; a customer missing from ``p_alive`` keeps the gap rule's answer.
    """
    if p_alive is None:
        return flags
    low = p_alive.reindex(flags.index) < params.at_risk_p_alive
    out = flags.copy()
    out["at_risk"] = out["at_risk"] | (low.fillna(False).astype(bool) & ~out["inactive"])
    return out


def bucket_flags(
    orders: nw.LazyFrame,
    as_of: dt.datetime,
    params: SegmentParams,
    *,
    surveys: nw.LazyFrame | None = None,
    carts: nw.LazyFrame | None = None,
    campaigns: nw.LazyFrame | None = None,
    p_alive: pd.Series | None = None,
    base: nw.LazyFrame | None = None,
) -> BucketFlags:
    """Lifecycle bucket flags per customer (rules in the module docstring and docs/metrics.md).

    Parameters
    ----------
    orders
        Orders of one store (any status), as the warehouse returns them.
    as_of
        Timezone-aware end of the window (exclusive), e.g. the end of the report month.
    params
        The store's ``segments`` parameters.
    surveys, carts, campaigns
        The store's tables, None when it has none (their buckets become unavailable).
    p_alive
        P(alive) at ``as_of`` (0-1) indexed by ``customer_id``, from the CLV
        model; a customer missing from it is judged by the gap rule alone.
    base
        :func:`analysis.segments.base.customer_base` of ``orders`` at ``as_of``
        (``params.rfm_window_days``) when the caller has persisted it; built
        here otherwise.

    Returns
    -------
    BucketFlags
        One row per customer with a completed order before ``as_of`` (a small
        result); the orders stay on the engine.
    """
    rules = bucket_rules(
        orders, as_of, params, surveys=surveys, carts=carts, campaigns=campaigns,
        with_p_alive=p_alive is not None, base=base,
    )  # fmt: skip
    flags = (
        rules.frame.sort("customer_id").collect().to_pandas().set_index("customer_id").astype(bool)
    )
    return BucketFlags(
        flags=flag_low_p_alive(flags, p_alive, params),
        unavailable=rules.unavailable,
        as_of=as_of,
        notes=rules.notes,
    )


def bucket_overlaps(flags: pd.DataFrame) -> pd.DataFrame:
    """Customers in both buckets, for every pair of buckets of ``flags``.

    Returns
    -------
    pandas.DataFrame
        Buckets × buckets (the columns of ``flags``, in order), int counts;
        the diagonal is each bucket's size. Symmetric.
    """
    # float64 products are exact for counts below 2**53; BLAS makes it one pass.
    member = flags.to_numpy(dtype=np.float64)
    counts = np.rint(member.T @ member).astype(np.int64)
    return pd.DataFrame(counts, index=flags.columns, columns=flags.columns)


def bucket_combinations(flags: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """Customers per exact combination of buckets (UpSet-style), largest first.

    Parameters
    ----------
    flags
        :attr:`BucketFlags.flags`.
    top
        Number of combinations kept (the customers in no bucket are always added).

    Returns
    -------
    pandas.DataFrame
        Columns ``buckets`` (tuple of bucket names, in the order of ``flags``'
        columns; the empty tuple = customers in no bucket), ``n_buckets``
        (int), ``customers`` (int). The ``top`` largest non-empty combinations
        (ties by fewer buckets, then by name), then one row for no bucket.
    """
    names = list(flags.columns)
    # Each customer's combination as a bit mask (bit j = column j), counted without a Python loop.
    bits = flags.to_numpy(dtype=np.int64) @ (np.int64(1) << np.arange(len(names), dtype=np.int64))
    masks, sizes = np.unique(bits, return_counts=True)
    counts = {
        tuple(n for j, n in enumerate(names) if int(mask) >> j & 1): int(size)
        for mask, size in zip(masks, sizes, strict=True)
    }
    none = counts.pop((), 0)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[:top]
    rows = [(k, len(k), v) for k, v in ranked] + [((), 0, none)]
    return pd.DataFrame(rows, columns=["buckets", "n_buckets", "customers"])


def bucket_headlines(flags: pd.DataFrame) -> dict[str, int]:
    """Bucket sizes and overlap counts for the manifest.

    Returns
    -------
    dict
        ``<bucket>`` -> customers in it, for each column of ``flags``;
        ``customers`` (rows of ``flags``), ``in_any`` (customers in at least
        one bucket) and ``in_two_or_more``.
    """
    per_customer = flags.sum(axis=1) if len(flags.columns) else pd.Series(0, index=flags.index)
    out = {b: int(flags[b].sum()) for b in flags.columns}
    out["customers"] = int(len(flags))
    out["in_any"] = int((per_customer >= 1).sum())
    out["in_two_or_more"] = int((per_customer >= 2).sum())
    return out
