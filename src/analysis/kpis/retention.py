"""Retention metrics from the per-customer base: retention and churn, repeat ladder, hero multiplier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import narwhals as nw
import pandas as pd

from analysis.calendar import ReportPeriod
from analysis.kpis.expressions import ratio

__all__ = ["hero_multiplier", "hero_multipliers", "repeat_ladder", "retention_metrics"]


def retention_metrics(
    base: nw.LazyFrame,
    periods: Sequence[ReportPeriod],
    window_days: int,
    history_start: dt.datetime | None,
) -> pd.DataFrame:
    """Customer retention rate and churn per period: the share of last window's customers kept.

    For a period ending at ``end`` and a window of ``w`` days, S = registered
    customers with a completed order in ``[end − 2w, end − w)`` (the window
    before the last one) and E = those with one in ``[end − w, end)`` (the
    last window). The retention rate is |S ∩ E| ÷ |S|: the share of the
    previous window's customers who bought again in the last window; churn is
    1 − retention. Equivalently (E − N) ÷ S with N = E's customers not in S
    (new customers and customers back after a longer gap), so that E − N is a
    subset of S.

    Parameters
    ----------
    base
        :func:`customer_base` for the same periods and ``window_days``.
    window_days
        Length of each window, days (365: the last 12 months against the 12 before).
    history_start
        The store's first order (any status, UTC); None when it has none.

    Returns
    -------
    pandas.DataFrame
        Indexed by period label: ``prior_customers`` (|S|), ``recent_customers``
        (|E|), ``retained_customers`` (|S ∩ E|), ``reactivated_customers``
        (in E, not in S, with an order before E's window),
        ``enough_history`` (the store's first order is at or before S's
        start, i.e. both windows lie inside the store's history),
        ``retention_rate`` and ``churn_rate`` (None without enough history or
        when S is empty).
    """
    window = dt.timedelta(days=window_days)
    aggs = []
    for i, p in enumerate(periods):
        prior, recent = nw.col(f"active_prior_{i}"), nw.col(f"active_end_{i}")
        before = nw.col("first_at") < p.end - window
        aggs += [
            prior.cast(nw.Int64).sum().alias(f"s{i}"),
            recent.cast(nw.Int64).sum().alias(f"e{i}"),
            (prior & recent).cast(nw.Int64).sum().alias(f"r{i}"),
            (~prior & recent & before).cast(nw.Int64).sum().alias(f"b{i}"),
        ]
    counts = base.select(*aggs).collect().row(0)
    rows = []
    for i, p in enumerate(periods):
        s, e, kept, back = (int(v or 0) for v in counts[4 * i : 4 * i + 4])
        enough = history_start is not None and history_start <= p.end - 2 * window
        crr = kept / s if enough and s else None
        rows.append((p.label, s, e, kept, back, enough, crr, None if crr is None else 1 - crr))
    columns = [
        "period", "prior_customers", "recent_customers", "retained_customers",
        "reactivated_customers", "enough_history", "retention_rate", "churn_rate",
    ]  # fmt: skip
    out = pd.DataFrame(rows, columns=columns).set_index("period")
    rates = out[["retention_rate", "churn_rate"]].astype(object)
    out[["retention_rate", "churn_rate"]] = rates.where(rates.notna(), None)
    return out


def repeat_ladder(base: nw.LazyFrame, period_index: int = 0, max_k: int = 5) -> pd.DataFrame:
    """P(order k+1 | k orders) for k = 1..max_k, counting completed orders before a period's end.

    Returns
    -------
    pandas.DataFrame
        ``k, customers`` (with at least k orders), ``next`` (with at least
        k+1), ``probability`` = next ÷ customers (None when no customer has k).
    """
    n = nw.col(f"n_orders_{period_index}")
    row = (
        base.select(*[(n >= k).cast(nw.Int64).sum().alias(f"k{k}") for k in range(1, max_k + 2)])
        .collect()
        .row(0)
    )
    at_least = [int(v or 0) for v in row]
    ladder = pd.DataFrame(
        {"k": range(1, max_k + 1), "customers": at_least[:-1], "next": at_least[1:]}
    )
    ladder["probability"] = ratio(ladder["next"], ladder["customers"])
    return ladder


def hero_multiplier(base: nw.LazyFrame, period_index: int) -> float | None:
    """Mean trailing-window spend of the top decile of customers ÷ mean spend of all.

    Customers are ranked by spend in integer satang, highest first (ties broken
    by customer id); the top decile is the first tile of NTILE(10) in that
    order, i.e. the top ceil(n / 10) customers (one customer when fewer than
    ten spent). Computed as a top-k, not a window over every customer.
    None when nobody spent.
    """
    return hero_multipliers(base, [period_index])[0]


def hero_multipliers(base: nw.LazyFrame, period_indexes: Sequence[int]) -> list[float | None]:
    """:func:`hero_multiplier` of several periods: one query for the spenders, one top-k each."""
    spends = [f"spend_{i}" for i in period_indexes]
    row = (
        base.select(
            *[(nw.col(c) > 0).cast(nw.Int64).sum().alias(f"n{j}") for j, c in enumerate(spends)],
            *[
                nw.when(nw.col(c) > 0).then(nw.col(c)).sum().alias(f"t{j}")
                for j, c in enumerate(spends)
            ],
        )
        .collect()
        .row(0)
    )
    out: list[float | None] = []
    for j, spend in enumerate(spends):
        n, total = int(row[j] or 0), row[len(spends) + j]
        if not n:
            out.append(None)
            continue
        k = -(-n // 10)
        top = (
            base.filter(nw.col(spend) > 0)
            .select("customer_id", spend)
            .sort(spend, "customer_id", descending=[True, False])
            .head(k)
            .select(nw.col(spend).sum())
            .collect()
            .item()
        )
        out.append((float(top) / k) / (float(total) / n))
    return out
