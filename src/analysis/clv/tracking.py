"""Tracking: a fitted model's expected repeat purchases against the actual ones, over time.

The tracking plot of Fader, Hardie and Lee (2005, "A Note on Implementing the
Pareto/NBD Model in MATLAB", and lifetimes' ``expected_cumulative_transactions``):
every customer acquired up to the calibration end is followed over the
calibration and holdout periods; the expected cumulative repeat purchases at
day ``t`` are ``sum over acquisition days d < t of n_d * E[X(t - d)]``, with
``n_d`` the customers whose first purchase day is ``d`` and ``E[X(s)]`` the
model's unconditional expected number of repeat purchases in ``s`` days after
the first (``expected_number_of_purchases_up_to_time``). The actual count uses
the same unit as the summary the model was fitted on: a repeat purchase is a
local calendar day with a completed order after the customer's first day.

:func:`daily_purchases` is the engine part (one small row per local day);
:func:`tracking_curve` is plain numpy on that small result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import narwhals as nw
import numpy as np
import pandas as pd

from analysis.calendar import local_time
from analysis.frames import completed

__all__ = ["daily_purchases", "tracking_curve"]


def daily_purchases(
    orders: nw.LazyFrame, timezone: str, acquired_until: dt.date, end: dt.date
) -> pd.DataFrame:
    """First and repeat purchase days per local day, for customers acquired up to a day.

    Parameters
    ----------
    orders
        Orders of one store (completed orders of registered customers count).
    timezone
        Store zone (the engine session must be in it).
    acquired_until
        Last local day on which a followed customer may have made their first
        purchase (the calibration end).
    end
        Last local day observed (inclusive).

    Returns
    -------
    pandas.DataFrame
        Indexed by local ``day`` (every day from the first acquisition to
        ``end``), columns ``first`` (customers whose first purchase day it is)
        and ``repeat`` (followed customers with a repeat purchase that day).
        Small: one row per day.
    """
    days = (
        completed(orders)
        .filter(~nw.col("customer_id").is_null())
        .select("customer_id", local_time("ordered_at", timezone).dt.date().alias("day"))
        .filter(nw.col("day") <= end)
        .group_by("customer_id", "day")
        .agg()
    )
    first = days.group_by("customer_id").agg(nw.col("day").min().alias("first_day"))
    counted = (
        days.join(first.filter(nw.col("first_day") <= acquired_until), on="customer_id")
        .group_by("day")
        .agg(
            nw.when(nw.col("day") == nw.col("first_day")).then(nw.lit(1)).count().alias("first"),
            nw.when(nw.col("day") > nw.col("first_day")).then(nw.lit(1)).count().alias("repeat"),
        )
        .sort("day")
        .collect()
        .to_pandas()
    )
    if counted.empty:
        return pd.DataFrame({"first": [], "repeat": []}, index=pd.DatetimeIndex([], name="day"))
    counted["day"] = pd.to_datetime(counted["day"])
    full = pd.date_range(counted["day"].min(), pd.Timestamp(end), freq="D", name="day")
    return counted.set_index("day").reindex(full, fill_value=0).astype("int64")


def tracking_curve(
    daily: pd.DataFrame,
    expected_up_to: Callable[[np.ndarray], np.ndarray],
    *,
    step_days: int = 7,
    time_unit: float = 1.0,
    calibration_end: dt.date | None = None,
) -> pd.DataFrame:
    """Expected and actual repeat purchases, cumulative and per step (e.g. per week).

    Parameters
    ----------
    daily
        :func:`daily_purchases` output.
    expected_up_to
        The fitted model's ``expected_number_of_purchases_up_to_time``:
        maps durations (in ``time_unit`` days) to expected repeat purchases
        of one newly acquired customer.
    step_days
        Days per point of the curve (7 = weekly).
    time_unit
        Days per model time unit (the ``time_unit`` of the summary it was fitted on).
    calibration_end
        Optional: marks each row as calibration or holdout.

    Returns
    -------
    pandas.DataFrame
        One row per whole step from the first acquisition day: ``start``
        (first local day of the step), ``actual`` and ``expected`` (repeat
        purchases in the step), ``actual_cumulative`` and
        ``expected_cumulative`` (from the start to the step's end), and
        ``holdout`` (True when the step starts after ``calibration_end``).
    """
    n_days = len(daily)
    steps = n_days // step_days
    columns = [
        "start",
        "actual",
        "expected",
        "actual_cumulative",
        "expected_cumulative",
        "holdout",
    ]
    if steps == 0:
        return pd.DataFrame(columns=columns)
    births = daily["first"].to_numpy(dtype="float64")
    born = np.flatnonzero(births)
    ends = np.arange(1, steps + 1) * step_days  # day offsets at which each step ends
    # E[X(t - d)] for every (step end t, acquisition day d < t): steps x acquisition days.
    elapsed = ends[:, None] - born[None, :]
    valid = elapsed > 0
    durations = np.where(valid, elapsed, 0).astype("float64") / time_unit
    unique, inverse = np.unique(durations[valid], return_inverse=True)
    expected_each = np.zeros_like(durations)
    expected_each[valid] = np.asarray(expected_up_to(unique), dtype="float64")[inverse]
    expected_cumulative = (expected_each * births[born][None, :]).sum(axis=1)
    actual_cumulative = np.cumsum(daily["repeat"].to_numpy(dtype="float64"))[ends - 1]
    starts = daily.index[ends - step_days]
    out = pd.DataFrame(
        {
            "start": starts,
            "actual": np.diff(actual_cumulative, prepend=0.0),
            "expected": np.diff(expected_cumulative, prepend=0.0),
            "actual_cumulative": actual_cumulative,
            "expected_cumulative": expected_cumulative,
        }
    )
    out["holdout"] = (
        out["start"] > pd.Timestamp(calibration_end) if calibration_end is not None else False
    )
    return out
