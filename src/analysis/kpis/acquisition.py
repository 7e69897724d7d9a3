"""Acquisition and onboarding: new customers by channel, CAC, LTV : CAC, first steps.

Marketing spend (``marketing_spend``, local dates) is set against the new
customers of the same period; the ``customers`` table says which channel
brought each one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import narwhals as nw
import pandas as pd

from analysis.calendar import ReportPeriod, local_date, month_dates
from analysis.customers import customer_firsts
from analysis.frames import days_between
from analysis.kpis.expressions import any_of, clean_number, ratio, within
from analysis.warehouse import StoreWarehouse

__all__ = [
    "acquisition_metrics",
    "cac_by_period",
    "historical_ltv",
    "new_customer_channels",
    "onboarding_metrics",
]


def new_customer_channels(
    base: nw.LazyFrame, customers: nw.LazyFrame | None, start: dt.datetime, end: dt.datetime
) -> nw.LazyFrame:
    if "channel" in base.collect_schema():  # already joined with customers
        return base.filter(within("first_at", start, end)).select(
            "customer_id", "first_at", "channel"
        )
    new = base.filter(within("first_at", start, end)).select("customer_id", "first_at")
    if customers is None or "acquisition_channel" not in customers.collect_schema():
        return new.with_columns(nw.lit(None).cast(nw.String).alias("channel"))
    return new.join(
        customers.select("customer_id", nw.col("acquisition_channel").alias("channel")),
        on="customer_id",
        how="left",
    )


def acquisition_metrics(
    spend: nw.LazyFrame,
    base: nw.LazyFrame,
    customers: nw.LazyFrame | None,
    start: dt.datetime,
    end: dt.datetime,
    first_day: dt.date,
    end_day: dt.date,
) -> pd.DataFrame:
    """New customers, spend and CAC by acquisition channel for one period.

    Parameters
    ----------
    spend
        ``marketing_spend`` rows; ``date`` is a local date.
    base
        Customers with ``customer_id, first_at`` (:func:`customer_base`), or
        new customers already joined with their ``channel``.
    customers
        The ``customers`` table for ``acquisition_channel`` (None: unknown).
    start, end
        The period as UTC instants (for first orders).
    first_day, end_day
        The same period as local dates, end exclusive (for spend).

    Returns
    -------
    pandas.DataFrame
        One row per channel plus ``"all"``: ``new_customers, spend, cac``
        (None where a channel has no new customers). Channels without a
        ``customers`` table row are reported as ``"unknown"``.
    """
    has_channel = "channel" in spend.collect_schema()
    spent = (
        spend.filter((nw.col("date") >= first_day) & (nw.col("date") < end_day))
        .with_columns(
            (nw.col("channel") if has_channel else nw.lit("unknown"))
            .fill_null("unknown")
            .alias("channel")
        )
        .group_by("channel")
        .agg(nw.col("spend").sum().cast(nw.Float64).alias("spend"))
        .collect()
        .to_pandas()
        .set_index("channel")
    )
    new = (
        new_customer_channels(base, customers, start, end)
        .with_columns(nw.col("channel").fill_null("unknown"))
        .group_by("channel")
        .agg(nw.len().alias("new_customers"))
        .collect()
        .to_pandas()
        .set_index("channel")
    )
    out = new.join(spent, how="outer").sort_index()
    out["new_customers"] = out["new_customers"].fillna(0).astype("int64")
    out["spend"] = out["spend"].fillna(0.0)
    total = pd.DataFrame(
        {"new_customers": [int(out["new_customers"].sum())], "spend": [float(out["spend"].sum())]},
        index=["all"],
    )
    out = pd.concat([out, total])
    out.index.name = "channel"
    out["cac"] = ratio(out["spend"], out["new_customers"])
    return out


def historical_ltv(base: nw.LazyFrame, n_periods: int) -> list[float | None]:
    """Historical 12-month revenue per customer at each period's end.

    Revenue of completed orders in the :data:`LTV_DAYS` (365) days ending at
    the period's end ÷ registered customers with a completed order in them.
    None when nobody bought. A stand-in for CLV until model-based CLV is
    available (``analysis.clv``).
    """
    names = base.collect_schema().names()
    spend = "ltv_spend_{}" if "ltv_spend_0" in names else "spend_{}"
    active = "ltv_active_{}" if "ltv_active_0" in names else "active_end_{}"
    row = (
        base.select(
            *[
                nw.col(spend.format(i)).sum().cast(nw.Float64).alias(f"s{i}")
                for i in range(n_periods)
            ],
            *[
                nw.col(active.format(i)).cast(nw.Int64).sum().cast(nw.Int64).alias(f"n{i}")
                for i in range(n_periods)
            ],
        )
        .collect()
        .row(0)
    )
    return [
        (float(row[i] or 0) / 100) / row[n_periods + i] if row[n_periods + i] else None
        for i in range(n_periods)
    ]


def onboarding_metrics(
    orders: nw.LazyFrame,
    base: nw.LazyFrame,
    customers: nw.LazyFrame | None,
    period: ReportPeriod,
) -> dict[str, float | None]:
    """Onboarding of the period's new customers.

    Returns
    -------
    dict
        ``median_days_signup_to_first_order`` (customers with ``signed_up_at``;
        None without it), ``first_order_discount_share`` (share of first orders
        with a discount; None without ``discount``), ``median_days_first_to_second``
        (all customers whose second order falls before the period's end).
        ``base`` must be :func:`customer_base` with ``period`` as its first period.
    """
    out: dict[str, float | None] = {
        "median_days_signup_to_first_order": None,
        "first_order_discount_share": None,
    }
    new = base.filter(within("first_at", period.start, period.end)).select(
        "customer_id", "first_at"
    )
    if customers is not None and "signed_up_at" in customers.collect_schema():
        value = (
            new.join(customers.select("customer_id", "signed_up_at"), on="customer_id")
            .filter(~nw.col("signed_up_at").is_null())
            .select(
                days_between("signed_up_at", "first_at", new.implementation).median().alias("d")
            )
            .collect()
            .item()
        )
        out["median_days_signup_to_first_order"] = None if value is None else float(value)
    # One per-customer pass answers both: the new customers' first-order discounts and
    # the gap to the second order of everybody who ordered twice before the period's end.
    firsts = customer_firsts(orders.filter(nw.col("ordered_at") < period.end))
    has_discount = "discount" in orders.collect_schema()
    share, value = (
        firsts.select(
            nw.when(within("first_at", period.start, period.end))
            .then(nw.col("first_discount").cast(nw.Int64))
            .mean()
            .alias("share"),
            nw.col("days_to_second").median().alias("days"),
        )
        .collect()
        .row(0)
    )
    if has_discount:
        out["first_order_discount_share"] = None if share is None else float(share)
    out["median_days_first_to_second"] = None if value is None else float(value)
    return out


def cac_by_period(
    wh: StoreWarehouse,
    base: nw.LazyFrame,
    customers: nw.LazyFrame | None,
    periods: Sequence[ReportPeriod],
    ltvs: Mapping[str, float | None],
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """CAC and LTV : CAC per period, and the report month's acquisition by channel.

    Parameters
    ----------
    wh
        The store's warehouse, with a ``marketing_spend`` table.
    base
        :func:`~analysis.kpis.base.customer_base` for ``periods``.
    customers
        The ``customers`` table (``acquisition_channel``), or None.
    periods
        The scorecard's periods, the report month first.
    ltvs
        Historical 12-month revenue per customer by period label
        (:func:`historical_ltv`, store currency), or None.

    Returns
    -------
    tuple
        :func:`acquisition_metrics` of the first period (by channel); CAC
        (store currency) and LTV : CAC per period label (object Series,
        None where there is no value). LTV : CAC divides the period's LTV by
        the CAC of the 365 days ending at the period's end.
    """
    spend = wh.table("marketing_spend")
    current = periods[0]
    # The periods' new customers with their channel, joined with `customers` once.
    newcomers = base.filter(any_of([within("first_at", p.start, p.end) for p in periods]))
    channels = wh.persist(
        new_customer_channels(newcomers, customers, min(p.start for p in periods), current.end)
    )
    acquisition = None
    cac, ltv_cac = {}, {}
    for p in periods:
        first_day, end_day = month_dates(p.month)
        acq = acquisition_metrics(spend, channels, None, p.start, p.end, first_day, end_day)
        if acquisition is None:
            acquisition = acq
        cac[p.label] = acq.loc["all", "cac"]
        year_start = p.end - dt.timedelta(days=365)
        yearly = acquisition_metrics(
            spend, base, None, year_start, p.end, local_date(year_start, wh.timezone), end_day
        )
        p_ltv = ltvs[p.label]
        yearly_cac = clean_number(yearly.loc["all", "cac"])
        ltv_cac[p.label] = p_ltv / yearly_cac if p_ltv is not None and yearly_cac else None
    assert acquisition is not None  # periods is never empty
    return acquisition, pd.Series(cac, dtype=object), pd.Series(ltv_cac, dtype=object)
