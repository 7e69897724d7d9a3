"""What each segment and bucket is worth: size, revenue, order value, predictions, profile.

A **group** is any set of customers: an RFM segment (each scored customer is in
exactly one) or a lifecycle bucket (a customer may be in several). Every figure
is per group, over the RFM window (``segments.rfm_window_days`` up to the end of
the report month):

- **customers** and **share of customers**: members ÷ customers of the
  population the groups are drawn from (scored customers for segments; every
  customer with a completed order for buckets);
- **revenue** and **share of revenue**: the members' completed revenue in the
  window ÷ the revenue of every scored customer in the window (a member with
  no order in the window adds 0);
- **AOV**: revenue ÷ completed orders in the window; **frequency**: completed
  orders in the window per member;
- **mean CLV** and **mean P(alive)**: means over the members the CLV model
  scored (predicted CLV over ``clv.horizon_months``);
- **campaign rates**: opened, clicked and converted sends ÷ sends to members
  in the window (``campaigns`` table);
- **mix** (:func:`group_mix`): the share of a group's members in each
  acquisition channel, age band, gender or region of the ``customers`` table.

The per-customer inputs (one row per customer: small results) come from
:func:`customer_profile` (engine side: the ``customers`` table without its
personal columns, campaign sends aggregated per customer) and from the RFM
scores and the CLV outlook; this module only combines them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

__all__ = [
    "AGE_BANDS",
    "PROFILE_COLUMNS",
    "CustomerProfile",
    "age_band",
    "churn_by_group",
    "customer_profile",
    "group_mix",
    "group_value",
    "membership_from_labels",
]

AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under_25", 0, 25),
    ("25_34", 25, 35),
    ("35_44", 35, 45),
    ("45_54", 45, 55),
    ("55_plus", 55, None),
)
"""Age bands (key, lowest age, first age above the band), age in whole years at the window's end."""

PROFILE_COLUMNS: tuple[str, ...] = ("acquisition_channel", "age_band", "gender", "region")
"""Columns of :attr:`CustomerProfile.frame` a group's mix can be shown by."""

UNKNOWN = "unknown"
"""Category of a customer whose attribute is missing (null, or no ``customers`` row)."""

_CAMPAIGN_FLAGS = ("opened", "clicked", "converted")


@dataclass(frozen=True)
class CustomerProfile:
    """Per-customer attributes that groups are described by (no personal data).

    Attributes
    ----------
    frame
        Index ``customer_id``; the :data:`PROFILE_COLUMNS` the ``customers``
        table has (strings; age as its band key) and, with ``campaigns``, the
        customer's ``sends, opened, clicked, converted`` counts in the window.
    mix_columns
        The profile columns with at least one known value, in
        :data:`PROFILE_COLUMNS` order.
    has_campaigns
        Whether campaign counts are present.
    """

    frame: pd.DataFrame
    mix_columns: tuple[str, ...]
    has_campaigns: bool


def age_band(birth_year: nw.Expr, year: int) -> nw.Expr:
    """Expression: the :data:`AGE_BANDS` key of a customer born in ``birth_year``, in ``year``.

    Age is ``year - birth_year`` (whole years, the birthday ignored); a missing,
    negative or implausible age (over 120) gives null.
    """
    age = nw.lit(year) - birth_year
    expr: nw.Expr = nw.lit(None, nw.String)
    for key, low, high in reversed(AGE_BANDS):
        cond = age >= low if high is None else (age >= low) & (age < high)
        expr = nw.when(cond).then(nw.lit(key)).otherwise(expr)
    return (
        nw.when(age.is_null() | (age < 0) | (age > 120))
        .then(nw.lit(None, nw.String))
        .otherwise(expr)
    )


def customer_profile(
    customers: nw.LazyFrame | None,
    campaigns: nw.LazyFrame | None,
    as_of: dt.datetime,
    window_days: int,
    year: int,
) -> CustomerProfile:
    """Acquisition channel, age band, gender, region and campaign counts per customer.

    Parameters
    ----------
    customers
        The store's ``customers`` table, or None when it has none. Only the
        attribute columns are read: never e-mail, phone or name.
    campaigns
        The store's ``campaigns`` table, or None; sends with ``sent_at`` in the
        window count.
    as_of
        End of the window (exclusive, timezone-aware).
    window_days
        Length of the window in days.
    year
        Local calendar year at the window's end (for ages).

    Returns
    -------
    CustomerProfile
        One row per customer present in either table.
    """
    parts: list[pd.DataFrame] = []
    if customers is not None:
        names = customers.collect_schema().names()
        exprs = [nw.col("customer_id").cast(nw.String)]
        for column in ("acquisition_channel", "gender", "region"):
            if column in names:
                exprs.append(nw.col(column).cast(nw.String))
        if "birth_year" in names:
            exprs.append(age_band(nw.col("birth_year").cast(nw.Int64), year).alias("age_band"))
        frame = customers.select(exprs).unique("customer_id", keep="any").collect().to_pandas()
        parts.append(frame.set_index("customer_id"))
    has_campaigns = campaigns is not None
    if campaigns is not None:
        start = as_of - dt.timedelta(days=window_days)
        names = campaigns.collect_schema().names()
        flags = [
            nw.col(f).fill_null(False).cast(nw.Int64).sum().alias(f)
            for f in _CAMPAIGN_FLAGS
            if f in names
        ]
        sends = (
            campaigns.filter(nw.col("sent_at") >= start, nw.col("sent_at") < as_of)
            .with_columns(nw.col("customer_id").cast(nw.String))
            .group_by("customer_id")
            .agg(nw.len().alias("sends"), *flags)
            .collect()
            .to_pandas()
            .set_index("customer_id")
        )
        parts.append(sends)
    frame = (
        pd.concat(parts, axis=1) if parts else pd.DataFrame(index=pd.Index([], name="customer_id"))
    )
    frame.index.name = "customer_id"
    mix = tuple(c for c in PROFILE_COLUMNS if c in frame and frame[c].notna().any())
    return CustomerProfile(frame=frame.sort_index(), mix_columns=mix, has_campaigns=has_campaigns)


def membership_from_labels(labels: pd.Series, groups: Sequence[str]) -> pd.DataFrame:
    """One-hot membership of a partition: a bool column per group, in ``groups`` order.

    Parameters
    ----------
    labels
        Index customer_id, each customer's group key (e.g. the RFM segment).
    groups
        Every group key to show (a group without members gets a column of False).
    """
    return pd.DataFrame({g: (labels == g).to_numpy() for g in groups}, index=labels.index)


def _mean(values: np.ndarray | None, mask: np.ndarray) -> float:
    """Mean of ``values`` over ``mask`` ignoring NaN (NaN when none is left, or no values)."""
    if values is None:
        return float("nan")
    chosen = values[mask]
    chosen = chosen[~np.isnan(chosen)]
    return float(chosen.mean()) if len(chosen) else float("nan")


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _aligned(column: pd.Series, index: pd.Index) -> np.ndarray:
    """``column`` reindexed to ``index`` as float64 (NaN where missing)."""
    return column.reindex(index).to_numpy(dtype=float)


def _prediction(outlook: pd.DataFrame | None, column: str, index: pd.Index) -> np.ndarray | None:
    """An outlook column aligned to ``index``, or None without it."""
    if outlook is None or column not in outlook:
        return None
    return _aligned(outlook[column], index)


def group_value(
    membership: pd.DataFrame,
    rfm: pd.DataFrame,
    outlook: pd.DataFrame | None = None,
    profile: CustomerProfile | None = None,
) -> pd.DataFrame:
    """Size, revenue, order value, predictions and campaign response of each group.

    Parameters
    ----------
    membership
        Index customer_id (the population), one bool column per group.
    rfm
        RFM scores (:func:`analysis.segments.rfm.rfm_scores`): ``customer_id,
        frequency, monetary`` of the window (store currency).
    outlook
        Per-customer predictions indexed by customer_id (``p_alive``, ``clv``),
        or None when the CLV model could not be fitted.
    profile
        Campaign counts per customer, or None.

    Returns
    -------
    pandas.DataFrame
        Index group key (``membership`` column order); columns ``customers``
        (int), ``customer_share`` (0–1), ``revenue`` (store currency),
        ``revenue_share`` (0–1), ``orders`` (int), ``aov``, ``frequency``,
        ``mean_clv``, ``mean_p_alive`` and, with campaigns, ``open_rate``,
        ``click_rate``, ``convert_rate`` (0–1). NaN where undefined.
    """
    index = membership.index
    window = rfm.set_index("customer_id")
    revenue_of = np.nan_to_num(_aligned(window["monetary"], index))  # 0 outside the window
    orders_of = np.nan_to_num(_aligned(window["frequency"], index))
    total_revenue = float(rfm["monetary"].sum())
    population = len(membership)
    clv, p_alive = _prediction(outlook, "clv", index), _prediction(outlook, "p_alive", index)
    sends: dict[str, np.ndarray] | None = None
    if profile is not None and profile.has_campaigns:
        counts = profile.frame
        sends = {
            c: np.nan_to_num(_aligned(counts[c], index))
            for c in ("sends", *_CAMPAIGN_FLAGS)
            if c in counts
        }
    rows = []
    for group in membership.columns:
        mask = membership[group].to_numpy(dtype=bool)
        size = int(mask.sum())
        revenue, orders = float(revenue_of[mask].sum()), int(round(orders_of[mask].sum()))
        row = {
            "customers": size,
            "customer_share": _ratio(size, population),
            "revenue": revenue,
            "revenue_share": _ratio(revenue, total_revenue),
            "orders": orders,
            "aov": _ratio(revenue, orders),
            "frequency": _ratio(orders, size),
            "mean_clv": _mean(clv, mask),
            "mean_p_alive": _mean(p_alive, mask),
        }
        if sends is not None:
            total = float(sends["sends"][mask].sum())
            for flag, key in zip(_CAMPAIGN_FLAGS, ("open", "click", "convert"), strict=True):
                got = float(sends[flag][mask].sum()) if flag in sends else float("nan")
                row[f"{key}_rate"] = _ratio(got, total)
        rows.append(row)
    out = pd.DataFrame(rows, index=pd.Index(membership.columns, name="group"))
    return out.astype({"customers": np.int64, "orders": np.int64})


def group_mix(
    membership: pd.DataFrame, profile: CustomerProfile, column: str, top: int = 6
) -> pd.DataFrame:
    """Share of each group's members in each category of a profile column.

    Parameters
    ----------
    membership
        Index customer_id, one bool column per group.
    profile
        From :func:`customer_profile`.
    column
        One of ``profile.mix_columns``.
    top
        Categories shown by name: the ``top`` most common over the whole
        population (age bands: all, in age order); the rest are summed as
        ``"other"``, missing values as :data:`UNKNOWN`.

    Returns
    -------
    pandas.DataFrame
        Index group key, columns categories, values shares 0–1 (each row sums
        to 1; a group without members is a row of NaN).
    """
    values = profile.frame[column].reindex(membership.index).fillna(UNKNOWN).astype(str)
    if column == "age_band":
        named = [key for key, _, _ in AGE_BANDS if (values == key).any()]
    else:
        known = values[values != UNKNOWN]
        named = list(
            known.value_counts()
            .sort_index()
            .sort_values(ascending=False, kind="stable")
            .index[:top]
        )
    category = values.where(values.isin(named) | (values == UNKNOWN), "other")
    order = named + [c for c in ("other", UNKNOWN) if (category == c).any()]
    codes = pd.Categorical(category, categories=order).codes
    rows = {}
    for group in membership.columns:
        mask = membership[group].to_numpy(dtype=bool)
        counts = np.bincount(codes[mask], minlength=len(order)).astype(float)
        rows[group] = counts / mask.sum() if mask.any() else counts * np.nan
    out = pd.DataFrame.from_dict(rows, orient="index", columns=order)
    out.index.name = "group"
    return out


def churn_by_group(membership: pd.DataFrame, outlook: pd.DataFrame | None) -> pd.DataFrame:
    """Customers of each group per churn-risk band of the CLV outlook.

    Returns
    -------
    pandas.DataFrame
        Index group key, columns ``high, medium, low, not_modelled`` (customers
        the CLV model gave no prediction, or every member without an outlook),
        int counts; each row sums to the group's size.
    """
    bands = ("high", "medium", "low")
    if outlook is None:
        risk = pd.Series("not_modelled", index=membership.index)
    else:
        risk = outlook["churn_risk"].reindex(membership.index).fillna("not_modelled")
    rows = {}
    for group in membership.columns:
        mine = risk[membership[group].to_numpy(dtype=bool)]
        rows[group] = mine.value_counts().reindex([*bands, "not_modelled"], fill_value=0)
    out = pd.DataFrame(rows).T.astype(np.int64)
    out.index.name = "group"
    return out
