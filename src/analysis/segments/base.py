"""The per-customer base every part of the segments page reads: one pass over the orders.

RFM scores (:mod:`analysis.segments.rfm`), segment migration
(:mod:`analysis.segments.migration`) and the lifecycle buckets
(:mod:`analysis.segments.buckets`) all reduce the same customer orders
(:func:`analysis.customers.customer_orders`) to one row per customer. The
segments page computes that reduction once with :func:`customer_base`, persists
it on the engine, and hands it to each of them; called on their own they build
it themselves.

For the instant ``as_of`` and any ``earlier`` instants (each the exclusive end
of a window of ``window_days`` days), the base has one row per registered
customer with a completed order before ``as_of``:

- ``customer_id``;
- ``first_us``, ``last_us``: first and last completed order before ``as_of``,
  in microseconds since 1970-01-01 UTC (:func:`analysis.frames.epoch_microseconds`:
  differences of integers, never of timestamps, which DuckDB computes 70 times slower);
- ``n_orders``: completed orders before ``as_of``;
- per window (key ``window`` for ``as_of``'s, ``0``, ``1``, ... for the earlier
  instants in order; names from :func:`window_columns`): the recency (whole
  days from the last order in the window to the window's end, floored; null
  without one), the orders in it, and their revenue in integer minor units
  (satang, each order rounded half away from zero; 0 without one), all three
  64-bit integers;
- ``discounted``: orders in ``as_of``'s window with ``discount > 0`` (only when
  the orders have a ``discount`` column).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import narwhals as nw

from analysis.customers import customer_orders
from analysis.frames import MICROSECONDS_PER_DAY, epoch_microseconds, epoch_microseconds_of

__all__ = ["customer_base", "in_window", "minor_units", "window_base", "window_columns"]


def minor_units() -> nw.Expr:
    """An order's revenue in integer minor units (satang), rounded half away from zero."""
    return (nw.col("revenue") * 100).round(0).cast(nw.Int64)


def in_window(column: str, as_of: dt.datetime, days: float) -> nw.Expr:
    """``column`` at or after ``as_of - days`` and before ``as_of``."""
    return (nw.col(column) >= as_of - dt.timedelta(days=days)) & (nw.col(column) < as_of)


def window_columns(key: str | int) -> tuple[str, str, str]:
    """Names of a window's recency (days), order count and revenue (satang) in the base."""
    return f"recency_{key}", f"n_{key}", f"satang_{key}"


def customer_base(
    orders: nw.LazyFrame,
    as_of: dt.datetime,
    window_days: int,
    earlier: Sequence[dt.datetime] = (),
) -> nw.LazyFrame:
    """One row per customer with a completed order before ``as_of`` (columns above).

    Parameters
    ----------
    orders
        Orders of one store (any status), as the warehouse returns them.
    as_of
        Timezone-aware end (exclusive) of the main window, e.g. the report month's end.
    window_days
        Length of every window in days (``segments.rfm_window_days``).
    earlier
        Earlier timezone-aware instants whose windows the base also covers
        (e.g. the previous month's end, for migration).

    Returns
    -------
    narwhals.LazyFrame
        Lazy: the caller persists it when several steps read it.

    Raises
    ------
    ValueError
        An ``earlier`` instant after ``as_of``.
    """
    if any(d > as_of for d in earlier):
        raise ValueError("customer_base: every earlier instant must be at or before as_of")
    ends: dict[str | int, dt.datetime] = dict(enumerate(earlier))
    ends["window"] = as_of
    span = dt.timedelta(days=window_days)
    us = nw.col("_us")
    windows = {
        key: (us >= epoch_microseconds_of(end - span)) & (us < epoch_microseconds_of(end))
        for key, end in ends.items()
    }
    aggs = [us.min().alias("first_us"), us.max().alias("last_us"), nw.len().alias("n_orders")]
    for key, w in windows.items():
        _recency, n, satang = window_columns(key)
        aggs += [
            nw.when(w).then(us).max().alias(f"_last_{key}"),
            w.cast(nw.Int64).sum().cast(nw.Int64).alias(n),
            nw.when(w).then(nw.col("_satang")).otherwise(0).sum().cast(nw.Int64).alias(satang),
        ]
    if "discount" in orders.collect_schema().names():
        discounted = windows["window"] & (nw.col("discount").fill_null(0) > 0)
        aggs.append(discounted.cast(nw.Int64).sum().cast(nw.Int64).alias("discounted"))
    rows = _customer_rows(orders, nw.col("ordered_at") < as_of)
    per_customer = rows.group_by("customer_id").agg(*aggs)
    recency = {
        window_columns(key)[0]: _days_before(end, f"_last_{key}") for key, end in ends.items()
    }
    return per_customer.with_columns(**recency).drop(*(f"_last_{key}" for key in ends))


def window_base(orders: nw.LazyFrame, as_of: dt.datetime, window_days: int) -> nw.LazyFrame:
    """The window columns of :func:`customer_base` at ``as_of``, from the window's orders only.

    One row per registered customer with a completed order in the ``window_days``
    days before ``as_of``: ``customer_id`` and the window's ``recency_window``,
    ``n_window`` and ``satang_window`` (:func:`window_columns`), equal to those of
    ``customer_base(orders, as_of, window_days)`` for the same customers. The
    orders outside the window are filtered out before the reduction, which is then
    one max, one count and one sum per customer: at 10M orders (772,306 customers)
    0.66–0.81 s on DuckDB, materialised, against 0.86–0.99 s for the whole base of
    the same orders, whose other columns scoring does not read.
    """
    recency, n, satang = window_columns("window")
    return (
        _customer_rows(orders, in_window("ordered_at", as_of, window_days))
        .group_by("customer_id")
        .agg(
            nw.col("_us").max().alias("_last"),
            nw.len().cast(nw.Int64).alias(n),
            nw.col("_satang").sum().cast(nw.Int64).alias(satang),
        )
        .select("customer_id", _days_before(as_of, "_last").alias(recency), n, satang)
    )


def _customer_rows(orders: nw.LazyFrame, when: nw.Expr) -> nw.LazyFrame:
    """The customer orders (:func:`analysis.customers.customer_orders`) matching ``when``,
    with ``_us`` (the order's instant in epoch microseconds) and ``_satang``
    (:func:`minor_units`)."""
    return (
        customer_orders(orders)
        .filter(when)
        .with_columns(
            epoch_microseconds("ordered_at", orders.implementation).alias("_us"),
            minor_units().alias("_satang"),
        )
    )


def _days_before(end: dt.datetime, last_us: str) -> nw.Expr:
    """Whole days from the instant in column ``last_us`` (microseconds) to ``end``, floored.

    A float quotient is exact here: below 2**53 microseconds, and a quotient that
    is not whole is at least 1/86400e6 away from one.
    """
    return (
        ((epoch_microseconds_of(end) - nw.col(last_us)) / MICROSECONDS_PER_DAY)
        .floor()
        .cast(nw.Int64)
    )
