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
scores and the CLV outlook; this module only combines them. The segments page
collects them together (:mod:`analysis.segments.customer_table`), all indexed
by one index object, so that no customer id is looked up here.
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
    "group_mixes",
    "group_value",
    "membership_from_labels",
    "profile_frame",
    "profile_from_frame",
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


def profile_frame(
    customers: nw.LazyFrame | None,
    campaigns: nw.LazyFrame | None,
    as_of: dt.datetime,
    window_days: int,
    year: int,
) -> nw.LazyFrame | None:
    """:func:`customer_profile` before collecting: one lazy row per customer of either table.

    ``customer_id`` (string), the :data:`PROFILE_COLUMNS` the ``customers``
    table has, and with ``campaigns`` the ``sends`` and flag counts of the
    window (null for a customer without a send). None without either table.
    """
    frames: list[nw.LazyFrame] = []
    if customers is not None:
        names = customers.collect_schema().names()
        exprs = [nw.col("customer_id").cast(nw.String)]
        for column in ("acquisition_channel", "gender", "region"):
            if column in names:
                exprs.append(nw.col(column).cast(nw.String))
        if "birth_year" in names:
            exprs.append(age_band(nw.col("birth_year").cast(nw.Int64), year).alias("age_band"))
        # one row per customer_id: the key of the customers table, checked at ingest
        frames.append(customers.select(exprs))
    if campaigns is not None:
        start = as_of - dt.timedelta(days=window_days)
        names = campaigns.collect_schema().names()
        flags = [
            nw.col(f).fill_null(False).cast(nw.Int64).sum().alias(f)
            for f in _CAMPAIGN_FLAGS
            if f in names
        ]
        frames.append(
            campaigns.filter(nw.col("sent_at") >= start, nw.col("sent_at") < as_of)
            .with_columns(nw.col("customer_id").cast(nw.String))
            .group_by("customer_id")
            .agg(nw.len().alias("sends"), *flags)
        )
    if not frames:
        return None
    joined = frames[0]
    if len(frames) == 2:  # every customer of either table, joined on the engine
        joined = joined.join(frames[1], on="customer_id", how="full").select(
            nw.coalesce("customer_id", "customer_id_right").alias("customer_id"),
            nw.exclude("customer_id", "customer_id_right"),
        )
    return joined


def profile_from_frame(frame: pd.DataFrame, has_campaigns: bool) -> CustomerProfile:
    """A :class:`CustomerProfile` from a collected :func:`profile_frame` indexed by customer_id.

    Missing campaign counts become 0; the frame may carry other columns (they are kept).
    """
    if has_campaigns:
        counts = [c for c in ("sends", *_CAMPAIGN_FLAGS) if c in frame]
        if any(frame[c].dtype != np.int64 for c in counts):
            frame[counts] = frame[counts].fillna(0).astype(np.int64)
    mix = tuple(c for c in PROFILE_COLUMNS if c in frame and frame[c].notna().any())
    return CustomerProfile(frame=frame, mix_columns=mix, has_campaigns=has_campaigns)


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
    joined = profile_frame(customers, campaigns, as_of, window_days, year)
    if joined is None:
        empty = pd.DataFrame(index=pd.Index([], name="customer_id", dtype=object))
        return CustomerProfile(frame=empty, mix_columns=(), has_campaigns=False)
    frame = joined.collect().to_pandas().set_index("customer_id")
    return profile_from_frame(frame, has_campaigns=campaigns is not None)


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


def _positions(source: pd.Index, target: pd.Index) -> np.ndarray:
    """Position in ``source`` of each label of ``target`` (-1 where missing): one lookup."""
    if source is target or source.equals(target):
        return np.arange(len(target))
    return source.get_indexer(target)


def _take(values: np.ndarray, positions: np.ndarray, missing: float = np.nan) -> np.ndarray:
    """``values`` at ``positions`` as float64, ``missing`` where the position is -1."""
    out = (
        np.asarray(values, dtype=float)[np.maximum(positions, 0)]
        if len(values)
        else np.full(len(positions), missing)
    )
    out[positions < 0] = missing
    return out


def group_value(
    membership: pd.DataFrame,
    rfm: pd.DataFrame,
    outlook: pd.DataFrame | None = None,
    profile: CustomerProfile | None = None,
    population: int | None = None,
) -> pd.DataFrame:
    """Size, revenue, order value, predictions and campaign response of each group.

    Parameters
    ----------
    membership
        Index customer_id (the population), one bool column per group.
    rfm
        Window orders and revenue per customer: ``frequency, monetary`` (store
        currency) with a ``customer_id`` column (as
        :func:`analysis.segments.rfm.rfm_scores` gives them) or indexed by
        customer id (0 or NaN for a customer without an order in the window).
    outlook
        Per-customer predictions indexed by customer_id (``p_alive``, ``clv``),
        or None when the CLV model could not be fitted.
    profile
        Campaign counts per customer, or None.
    population
        Customers the shares are of; ``len(membership)`` when None (pass the
        number of scored customers when ``membership`` also has rows for
        customers in no group).

    Inputs indexed by the very same ``pandas.Index`` object as ``membership``
    are taken as they are; others are aligned by customer id (one lookup each,
    about 0.3 s per million string ids).

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
    ids = pd.Index(rfm["customer_id"]) if "customer_id" in rfm.columns else rfm.index
    at = _positions(ids, index)
    revenue_of = np.nan_to_num(_take(rfm["monetary"].to_numpy(), at, 0.0))  # 0 outside the window
    orders_of = np.nan_to_num(_take(rfm["frequency"].to_numpy(), at, 0.0))
    total_revenue = float(rfm["monetary"].sum())
    population = len(membership) if population is None else population
    clv = p_alive = None
    if outlook is not None:
        at = _positions(outlook.index, index)
        clv = _take(outlook["clv"].to_numpy(), at) if "clv" in outlook else None
        p_alive = _take(outlook["p_alive"].to_numpy(), at) if "p_alive" in outlook else None
    sends: dict[str, np.ndarray] | None = None
    if profile is not None and profile.has_campaigns:
        counts = profile.frame
        at = _positions(counts.index, index)
        sends = {
            c: _take(counts[c].to_numpy(), at, 0.0)
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


def group_mixes(
    membership: pd.DataFrame, profile: CustomerProfile, top: int = 6
) -> dict[str, pd.DataFrame]:
    """:func:`group_mix` of every column in ``profile.mix_columns`` (one id lookup for all)."""
    at = _positions(profile.frame.index, membership.index)
    return {c: _mix(membership, profile.frame[c], at, c, top) for c in profile.mix_columns}


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
    at = _positions(profile.frame.index, membership.index)
    return _mix(membership, profile.frame[column], at, column, top)


def _mix(
    membership: pd.DataFrame, values: pd.Series, at: np.ndarray, column: str, top: int
) -> pd.DataFrame:
    codes, names = pd.factorize(values, use_na_sentinel=True)
    member_codes = np.where(at >= 0, codes[np.maximum(at, 0)] if len(codes) else -1, -1)
    counts = np.bincount(member_codes[member_codes >= 0], minlength=len(names))
    if column == "age_band":
        named = [key for key, _, _ in AGE_BANDS if key in set(names[counts > 0])]
    else:
        ranked = sorted((-int(n), str(c)) for c, n in zip(names, counts, strict=True) if n > 0)
        named = [c for _, c in ranked[:top]]
    slot = {c: i for i, c in enumerate(named)}
    has_other = any(str(c) not in slot and n > 0 for c, n in zip(names, counts, strict=True))
    order = named + (["other"] if has_other else [])
    lookup = np.array([slot.get(str(c), len(named)) for c in names] + [len(order)], dtype=np.int64)
    category = lookup[member_codes]  # -1 (unknown) picks the last entry: the unknown slot
    if (category == len(order)).any():
        order.append(UNKNOWN)
    rows = {}
    for group in membership.columns:
        mask = membership[group].to_numpy(dtype=bool)
        tally = np.bincount(category[mask], minlength=len(order)).astype(float)[: len(order)]
        rows[group] = tally / mask.sum() if mask.any() else tally * np.nan
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
