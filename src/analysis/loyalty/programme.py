"""The loyalty programme dashboard: members, participation, points and members vs non-members.

Every figure is computed on the engine from ``loyalty_members`` (``customer_id,
joined_at``, optional ``tier``), the optional ``loyalty_points`` (``customer_id,
occurred_at, points_earned, points_redeemed``) and ``orders``; only small
monthly results are collected. Definitions (also in ``docs/metrics.md``):

- **Months shown**: the report month and the ``kpis.trend_months - 1`` local
  calendar months before it (store zone, :mod:`analysis.calendar`), never
  before the month of the store's first order. Cumulative figures count the
  whole history before each month's end, not only the months shown.
- **Member**: a customer in ``loyalty_members``; a customer with several rows
  counts once, from the earliest ``joined_at``. A member *at a month's end*
  joined before that end.
- **Participation rate** (:func:`participation_by_month`): active customers
  (registered customers with a completed order in the month) who are members
  at the month's end ÷ active customers; the scorecard's
  ``loyalty_participation`` (:func:`analysis.kpis.touchpoints.loyalty_participation`).
- **Points** (:func:`points_by_month`): points earned and redeemed by the
  month of ``occurred_at``; outstanding points (the liability) = earned −
  redeemed, cumulative to the month's end; in money = outstanding ×
  ``loyalty.point_value`` when that param is set. Redemption rate = redeemed ÷
  earned, per month and cumulative.
- **Time to first redemption** (:func:`redemption_timing`): days from a
  member's ``joined_at`` to their first redemption at or after joining
  (median over members who redeemed before the end); the share redeemed
  within *d* days counts only members who joined at least *d* days before
  the end (so every one of them had *d* days to redeem).
- **Member order** (:func:`members_vs_non_members`): a completed order of a
  registered customer placed at or after the customer's ``joined_at``; every
  other completed order of a registered customer is a non-member order
  (guests are neither). A customer who joins during a month can count in both
  groups that month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import narwhals as nw
import pandas as pd

from analysis.calendar import (
    ReportPeriod,
    index_of_instant,
    month_index,
    parse_month,
    period_index,
    period_start,
    period_start_instant,
)
from analysis.config import Params
from analysis.customers import customer_orders
from analysis.errors import SectionUnavailable
from analysis.frames import completed, days_between, time_span
from analysis.kpis.expressions import clean_number
from analysis.narrative import programme as text
from analysis.warehouse import StoreWarehouse

__all__ = [
    "REDEMPTION_WINDOWS",
    "ProgrammePage",
    "RedemptionTiming",
    "first_joins",
    "member_months",
    "members_over_time",
    "members_vs_non_members",
    "participation_by_month",
    "points_by_month",
    "programme_headlines",
    "programme_page",
    "redemption_timing",
    "report_months",
    "tier_summary",
]

REDEMPTION_WINDOWS: tuple[int, ...] = (30, 90, 180)
"""Days after joining of the "redeemed within" shares (:func:`redemption_timing`)."""


# --------------------------------------------------------------------------- months


POINT_COLUMNS = ("points_earned", "points_redeemed")
"""The optional columns of ``loyalty_points``; a table with neither has no points."""


def report_months(month: str, n: int, first: dt.datetime | None, timezone: str) -> list[int]:
    """Month indexes (:func:`analysis.calendar.month_index`) the dashboard shows, oldest first.

    Parameters
    ----------
    month
        Report month, ``YYYY-MM``.
    n
        Months wanted (``kpis.trend_months``), the report month included.
    first
        First instant with data (the store's first order), or None.
    timezone
        Store zone: ``first`` is placed in its local month.
    """
    last = month_index(parse_month(month))
    lo = last - n + 1
    if first is not None:
        lo = max(lo, index_of_instant(first, timezone, "month"))
    return list(range(min(lo, last), last + 1))


def _month_starts(months: list[int]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(period_start(i, "month")) for i in months], name="month")


def _bounds(months: list[int], timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants of the first shown month's start and the last one's end."""
    return (
        period_start_instant(months[0], timezone, "month"),
        period_start_instant(months[-1] + 1, timezone, "month"),
    )


def _month_col(column: str, months: list[int], timezone: str) -> nw.Expr:
    """Local month index of an instant column that lies inside the shown months."""
    start, end = _bounds(months, timezone)
    return period_index(column, timezone, "month", (start, end - dt.timedelta(microseconds=1)))


def _by_month(frame: pd.DataFrame, months: list[int]) -> pd.DataFrame:
    """``frame`` indexed by ``index`` (month index) → every shown month, by month start, 0 filled."""
    out = frame.set_index("index").reindex(months).fillna(0)
    out.index = _month_starts(months)
    return out


# --------------------------------------------------------------------------- members


def first_joins(members: nw.LazyFrame) -> nw.LazyFrame:
    """One row per member: ``customer_id, joined_at`` (the earliest join of the customer)."""
    return members.group_by("customer_id").agg(nw.col("joined_at").min())


def members_over_time(members: nw.LazyFrame, months: list[int], timezone: str) -> pd.DataFrame:
    """Joins per month and cumulative members at each month's end.

    Parameters
    ----------
    members
        ``loyalty_members`` before the last month's end.
    months
        Month indexes shown (:func:`report_months`); the session zone is ``timezone``.

    Returns
    -------
    pandas.DataFrame
        Indexed by month start (naive local first day), one row per month:
        ``joins`` (members whose first join falls in the month, int) and
        ``members`` (members who joined before the month's end, int).
    """
    start, end = _bounds(months, timezone)
    joined = first_joins(members).filter(nw.col("joined_at") < end)
    before = joined.filter(nw.col("joined_at") < start).select(nw.len()).collect().item()
    per = (
        joined.filter(nw.col("joined_at") >= start)
        .group_by(_month_col("joined_at", months, timezone).alias("index"))
        .agg(nw.len().alias("joins"))
        .collect()
        .to_pandas()
    )
    out = _by_month(per, months).astype("int64")
    out["members"] = int(before or 0) + out["joins"].cumsum()
    return out


# --------------------------------------------------------------------------- customers


def member_months(
    orders: nw.LazyFrame, members: nw.LazyFrame, months: list[int], timezone: str
) -> nw.LazyFrame:
    """Completed orders of registered customers in the shown months, one row per customer, month and status.

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id, index`` (local month index), ``member`` (bool: the
        orders were placed at or after the customer's ``joined_at``),
        ``orders`` (count), ``revenue`` (store currency), ``join_index``
        (local month index of the customer's first join; null for
        non-members). Persist it: :func:`participation_by_month` and
        :func:`members_vs_non_members` both read it.
    """
    start, end = _bounds(months, timezone)
    done = customer_orders(orders).filter(nw.col("ordered_at") >= start, nw.col("ordered_at") < end)
    joined = first_joins(members).filter(nw.col("joined_at") < end)
    return (
        done.select("customer_id", "ordered_at", "revenue")
        .join(joined, on="customer_id", how="left")
        .with_columns(
            _month_col("ordered_at", months, timezone).alias("index"),
            (nw.col("ordered_at") >= nw.col("joined_at")).fill_null(False).alias("member"),
        )
        .group_by("customer_id", "index", "member")
        .agg(
            nw.len().alias("orders"),
            nw.col("revenue").sum().alias("revenue"),
            nw.col("joined_at").min().alias("joined_at"),
        )
        .with_columns(
            nw.when(nw.col("joined_at").is_null())
            .then(nw.lit(None))
            .otherwise(period_index("joined_at", timezone, "month"))
            .cast(nw.Int64)
            .alias("join_index")
        )
        .drop("joined_at")
    )


def participation_by_month(base: nw.LazyFrame, months: list[int]) -> pd.DataFrame:
    """Participation rate per month: active members ÷ active customers.

    Parameters
    ----------
    base
        :func:`member_months`.

    Returns
    -------
    pandas.DataFrame
        By month start: ``active_customers`` (registered customers with a
        completed order in the month), ``active_members`` (those of them who
        joined before the month's end), ``participation_rate`` (ratio 0–1,
        None without active customers).
    """
    per = (
        base.group_by("customer_id", "index")
        .agg(nw.col("join_index").min())
        .with_columns((nw.col("join_index") <= nw.col("index")).fill_null(False).alias("m"))
        .group_by("index")
        .agg(
            nw.len().alias("active_customers"),
            nw.col("m").cast(nw.Int64).sum().alias("active_members"),
        )
        .collect()
        .to_pandas()
    )
    out = _by_month(per, months).astype("int64")
    out["participation_rate"] = _ratio(out["active_members"], out["active_customers"])
    return out


def members_vs_non_members(
    base: nw.LazyFrame,
    orders: nw.LazyFrame,
    months: list[int],
    timezone: str,
) -> pd.DataFrame:
    """Members vs non-members month by month: AOV, frequency, repeat rate, revenue per customer.

    Parameters
    ----------
    base
        :func:`member_months`.
    orders
        Orders of the store (any status) before the last shown month's end.

    Returns
    -------
    pandas.DataFrame
        Index (month start, ``group``) with ``group`` ``"member"`` or
        ``"non_member"`` (two rows per month); columns ``customers`` (distinct
        registered customers with an order of the group in the month),
        ``orders``, ``revenue`` (store currency), ``aov`` (revenue ÷ orders),
        ``frequency`` (orders ÷ customers), ``revenue_per_customer``
        (revenue ÷ customers), ``repeat_rate`` (share of the customers with 2 or
        more completed orders up to the month's end, any status as member, as
        the scorecard's repeat purchase rate), ``sales_share`` (the group's
        revenue ÷ revenue of every completed order of the month, guests
        included). Ratios are None when their denominator is 0.
    """
    per = (
        base.with_columns((nw.col("orders") >= 2).alias("rep"))
        .group_by("index", "member")
        .agg(
            nw.len().alias("customers"),
            nw.col("orders").sum().alias("orders"),
            nw.col("revenue").sum().alias("revenue"),
            nw.col("rep").cast(nw.Int64).sum().alias("repeaters"),
        )
        .collect()
        .to_pandas()
    )
    start, end = _bounds(months, timezone)
    sales = (
        completed(orders)
        .filter(nw.col("ordered_at") >= start, nw.col("ordered_at") < end)
        .group_by(_month_col("ordered_at", months, timezone).alias("index"))
        .agg(nw.col("revenue").sum().alias("sales"))
        .collect()
        .to_pandas()
    )
    total = _by_month(sales, months)["sales"].astype("float64")
    parts = []
    for flag, group in ((True, "member"), (False, "non_member")):
        frame = _by_month(per.loc[per["member"] == flag].drop(columns="member"), months)
        frame = frame.astype({"customers": "int64", "orders": "int64", "repeaters": "int64"})
        frame["revenue"] = frame["revenue"].astype("float64")
        frame["aov"] = _ratio(frame["revenue"], frame["orders"])
        frame["frequency"] = _ratio(frame["orders"], frame["customers"])
        frame["revenue_per_customer"] = _ratio(frame["revenue"], frame["customers"])
        frame["repeat_rate"] = _ratio(frame["repeaters"], frame["customers"])
        frame["sales_share"] = _ratio(frame["revenue"], total)
        frame["group"] = group
        parts.append(frame.drop(columns="repeaters"))
    out = pd.concat(parts).set_index("group", append=True).sort_index()
    return out


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num, den = num.astype("float64"), den.astype("float64")
    return (num / den).astype(object).where(den > 0, None)


# --------------------------------------------------------------------------- points


def points_by_month(
    points: nw.LazyFrame, months: list[int], timezone: str, point_value: float | None = None
) -> pd.DataFrame:
    """Points earned, redeemed and outstanding by month, and the redemption rate.

    Parameters
    ----------
    points
        ``loyalty_points`` before the last shown month's end.
    point_value
        Money per point (``loyalty.point_value``), or None.

    Returns
    -------
    pandas.DataFrame
        By month start: ``earned``, ``redeemed`` (points in the month),
        ``redemption_rate`` (redeemed ÷ earned in the month), ``earned_to_date``,
        ``redeemed_to_date`` (cumulative to the month's end, whole history),
        ``outstanding`` (earned_to_date − redeemed_to_date: the liability in
        points), ``redemption_rate_to_date`` and ``outstanding_value``
        (outstanding × point_value in the store's currency; None without a
        point value). Points are floats (the table may hold fractions).
    """
    start, end = _bounds(months, timezone)
    kept = points.filter(nw.col("occurred_at") < end)
    sums = [
        nw.col("points_earned").sum().cast(nw.Float64).alias("earned"),
        nw.col("points_redeemed").sum().cast(nw.Float64).alias("redeemed"),
    ]
    prior = kept.filter(nw.col("occurred_at") < start).select(*sums).collect().row(0)
    per = (
        kept.filter(nw.col("occurred_at") >= start)
        .group_by(_month_col("occurred_at", months, timezone).alias("index"))
        .agg(*sums)
        .collect()
        .to_pandas()
    )
    out = _by_month(per, months).astype("float64")
    out["redemption_rate"] = _ratio(out["redeemed"], out["earned"])
    out["earned_to_date"] = float(prior[0] or 0) + out["earned"].cumsum()
    out["redeemed_to_date"] = float(prior[1] or 0) + out["redeemed"].cumsum()
    out["outstanding"] = out["earned_to_date"] - out["redeemed_to_date"]
    out["redemption_rate_to_date"] = _ratio(out["redeemed_to_date"], out["earned_to_date"])
    out["outstanding_value"] = (
        (out["outstanding"] * point_value).astype(object) if point_value is not None else None
    )
    return out


@dataclass(frozen=True)
class RedemptionTiming:
    """Time from joining to the first redemption, as of ``end``.

    Attributes
    ----------
    members
        Members who joined before ``end``.
    redeemers
        Those with a redemption at or after joining, before ``end``.
    median_days
        Median days from joining to the first redemption among ``redeemers``
        (fractional days), None without redeemers.
    windows
        Indexed by ``days`` (:data:`REDEMPTION_WINDOWS`): ``eligible`` (members
        who joined at least that many days before ``end``), ``redeemed``
        (of them, those whose first redemption came within that many days of
        joining) and ``share`` (redeemed ÷ eligible, None when none is eligible).
    """

    members: int
    redeemers: int
    median_days: float | None
    windows: pd.DataFrame


def redemption_timing(
    members: nw.LazyFrame,
    points: nw.LazyFrame,
    end: dt.datetime,
    windows: tuple[int, ...] = REDEMPTION_WINDOWS,
) -> RedemptionTiming:
    """Days from joining to the first redemption (one engine query, one row collected)."""
    joined = first_joins(members).filter(nw.col("joined_at") < end)
    redemptions = points.filter(nw.col("occurred_at") < end, nw.col("points_redeemed") > 0).select(
        "customer_id", "occurred_at"
    )
    per = (
        joined.join(redemptions, on="customer_id", how="left")
        .group_by("customer_id")
        .agg(
            nw.col("joined_at").min(),
            nw.when(nw.col("occurred_at") >= nw.col("joined_at"))
            .then(nw.col("occurred_at"))
            .min()
            .alias("first_at"),
        )
        .with_columns(days_between("joined_at", "first_at", members.implementation).alias("days"))
    )
    aggs = [
        nw.len().alias("members"),
        nw.col("first_at").count().alias("redeemers"),
        nw.col("days").median().alias("median_days"),
    ]
    for d in windows:
        eligible = nw.col("joined_at") <= end - dt.timedelta(days=d)
        aggs += [
            eligible.cast(nw.Int64).sum().alias(f"e{d}"),
            (eligible & (nw.col("days") <= d).fill_null(False)).cast(nw.Int64).sum().alias(f"r{d}"),
        ]
    values = per.select(*aggs).collect().row(0)
    frame = pd.DataFrame(
        {
            "eligible": [int(values[3 + 2 * k] or 0) for k in range(len(windows))],
            "redeemed": [int(values[4 + 2 * k] or 0) for k in range(len(windows))],
        },
        index=pd.Index(list(windows), name="days"),
    )
    frame["share"] = _ratio(frame["redeemed"], frame["eligible"])
    median = values[2]
    return RedemptionTiming(
        members=int(values[0] or 0),
        redeemers=int(values[1] or 0),
        median_days=None if median is None or pd.isna(median) else float(median),
        windows=frame,
    )


def tier_summary(
    members: nw.LazyFrame, points: nw.LazyFrame | None, end: dt.datetime
) -> pd.DataFrame | None:
    """Members, share and points by tier, or None when there is no tier column or no tier value.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by ``tier`` (the data's values, sorted by members descending;
        a null tier is its own row with a null label): ``members``, ``share``
        (of all members), and with ``points`` also ``earned``, ``redeemed``
        (points to ``end``) and ``redemption_rate`` (redeemed ÷ earned).
        Points of customers outside ``loyalty_members`` are in no tier.
    """
    if "tier" not in members.collect_schema():
        return None
    rows = (
        members.filter(nw.col("joined_at") < end).group_by("customer_id").agg(nw.col("tier").max())
    )
    if rows.select(nw.col("tier").count()).collect().item() == 0:
        return None
    if points is not None:
        sums = (
            points.filter(nw.col("occurred_at") < end)
            .group_by("customer_id")
            .agg(
                nw.col("points_earned").sum().cast(nw.Float64).alias("earned"),
                nw.col("points_redeemed").sum().cast(nw.Float64).alias("redeemed"),
            )
        )
        rows = rows.join(sums, on="customer_id", how="left")
    aggs = [nw.len().alias("members")]
    if points is not None:
        aggs += [nw.col("earned").sum().alias("earned"), nw.col("redeemed").sum().alias("redeemed")]
    out = rows.group_by("tier").agg(*aggs).collect().to_pandas()
    out = out.sort_values(["members", "tier"], ascending=[False, True]).set_index("tier")
    out["members"] = out["members"].astype("int64")
    out["share"] = out["members"] / out["members"].sum()
    if points is not None:
        out[["earned", "redeemed"]] = out[["earned", "redeemed"]].fillna(0).astype("float64")
        out["redemption_rate"] = _ratio(out["redeemed"], out["earned"])
    return out


# --------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class ProgrammePage:
    """Every number of the programme dashboard (small pandas frames and scalars).

    Attributes
    ----------
    month
        Report month, ``YYYY-MM``.
    members
        :func:`members_over_time`.
    participation
        :func:`participation_by_month`.
    comparison
        :func:`members_vs_non_members`.
    points
        :func:`points_by_month`, or None without a ``loyalty_points`` table.
    timing
        :func:`redemption_timing`, or None without a ``loyalty_points`` table.
    tiers
        :func:`tier_summary`, or None without a tier column (or tier values).
    point_value
        ``loyalty.point_value`` (money per point) or None.
    missing
        Parts left out and why, as codes the narrative words
        (:func:`analysis.narrative.programme.page_notes`): ``"points"`` (no
        ``loyalty_points`` table), ``"tier"`` (no tier column or values),
        ``"point_value"`` (no ``loyalty.point_value``: liability in points only).
    """

    month: str
    members: pd.DataFrame
    participation: pd.DataFrame
    comparison: pd.DataFrame
    points: pd.DataFrame | None
    timing: RedemptionTiming | None
    tiers: pd.DataFrame | None
    point_value: float | None
    missing: tuple[str, ...] = field(default=())


def programme_page(wh: StoreWarehouse, period: ReportPeriod, params: Params) -> ProgrammePage:
    """Compute the programme dashboard of one store up to the end of the report month.

    Parameters
    ----------
    wh
        The store's warehouse (its zone is the dashboard's calendar).
    period
        The report month (``analysis.calendar.report_periods(month, zone)[0]``).
    params
        The run's params: ``kpis.trend_months`` (months shown) and
        ``loyalty.point_value``.

    Raises
    ------
    SectionUnavailable
        No ``loyalty_members`` table, or no member joined before the month's end.
    """
    if not wh.has("loyalty_members"):
        raise SectionUnavailable(text.no_members_table())
    end = period.end
    members = wh.table("loyalty_members", end=end)
    if members.select(nw.len()).collect().item() == 0:
        raise SectionUnavailable(
            text.no_members_yet(period.month, buddhist_era=params.buddhist_era)
        )
    orders = wh.table("orders", end=end)
    span = time_span(orders, "ordered_at")
    first_join = time_span(members, "joined_at")
    firsts = [x[0] for x in (span, first_join) if x is not None]
    months = report_months(period.month, params.kpis.trend_months, min(firsts), wh.timezone)
    base = wh.persist(member_months(orders, members, months, wh.timezone))
    missing: list[str] = []
    points_frame = timing = None
    points = wh.table("loyalty_points", end=end) if wh.has("loyalty_points") else None
    if points is not None:
        names = points.collect_schema().names()
        absent = [c for c in POINT_COLUMNS if c not in names]
        # a ledger without one of the two columns records none of that kind (0);
        # without both it says nothing about points
        if len(absent) == len(POINT_COLUMNS):
            points = None
        elif absent:
            points = points.with_columns(*(nw.lit(0, nw.Int64).alias(c) for c in absent))
    point_value = params.loyalty.point_value
    if points is not None:
        points_frame = points_by_month(points, months, wh.timezone, point_value)
        timing = redemption_timing(members, points, end)
        if point_value is None:
            missing.append("point_value")
    else:
        missing.append("points")
    tiers = tier_summary(members, points, end)
    if tiers is None:
        missing.append("tier")
    return ProgrammePage(
        month=period.month,
        members=members_over_time(members, months, wh.timezone),
        participation=participation_by_month(base, months),
        comparison=members_vs_non_members(base, orders, months, wh.timezone),
        points=points_frame,
        timing=timing,
        tiers=tiers,
        point_value=point_value,
        missing=tuple(missing),
    )


def programme_headlines(page: ProgrammePage) -> dict[str, float | None]:
    """Headline values of the report month for the manifest (``loyalty.<key>``).

    Keys: ``members`` (members at the month's end), ``joins`` (joins in the
    month), ``participation_rate``, ``redemption_rate`` (cumulative to the
    month's end), ``points_liability`` (outstanding points), ``points_liability_value``
    (money, None without ``loyalty.point_value``), ``member_sales_share`` (the
    month's member revenue ÷ all completed revenue). Points values are None
    without a points table.
    """
    last = page.members.index[-1]
    points = page.points.loc[last] if page.points is not None else None
    share = page.comparison.loc[(last, "member"), "sales_share"]

    return {
        "members": float(page.members.loc[last, "members"]),
        "joins": float(page.members.loc[last, "joins"]),
        "participation_rate": clean_number(page.participation.loc[last, "participation_rate"]),
        "redemption_rate": None
        if points is None
        else clean_number(points["redemption_rate_to_date"]),
        "points_liability": None if points is None else clean_number(points["outstanding"]),
        "points_liability_value": None
        if points is None
        else clean_number(points["outstanding_value"]),
        "member_sales_share": clean_number(share),
    }
