"""One demo store, stage by stage: each stage returns its tables and its planted truths."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from analysis.demo import draws
from analysis.demo.columns import Stage
from analysis.demo.customers import simulate_customers
from analysis.demo.loyalty import experiment, simulate_loyalty
from analysis.demo.marketing import simulate_campaigns, simulate_spend
from analysis.demo.membership import assign_membership
from analysis.demo.orders import simulate_orders
from analysis.demo.purchases import simulate_purchases
from analysis.demo.segments import plant_heroes, segments_section
from analysis.demo.spec import DEFAULT_END, DEFAULT_MONTHS, DEMO_STORES, TABLE_NAMES, TIMEZONE
from analysis.demo.timeline import Timeline, timeline
from analysis.demo.touchpoints import simulate_carts, simulate_sessions, simulate_surveys
from analysis.errors import ConfigError

Sink = Callable[[str, pa.Table], None]
"""Receives each table (name, table) as soon as it is built."""


def _checked(store_id: str, customers: int | None, months: int) -> int:
    """The number of customers, after checking the arguments."""
    if store_id not in DEMO_STORES:
        raise ConfigError(
            f"unknown demo store {store_id!r}", hint=f"demo stores: {', '.join(DEMO_STORES)}"
        )
    n = DEMO_STORES[store_id].customers if customers is None else int(customers)
    if n < 1:
        raise ConfigError(f"customers must be at least 1, got {customers}")
    if months < 2:
        raise ConfigError(f"months must be at least 2, got {months}")
    return n


def _history(cal: Timeline, months: int) -> dict[str, Any]:
    return {
        "timezone": TIMEZONE,
        "start_local": cal.start.isoformat(),
        "end_local_exclusive": cal.end.isoformat(),
        "months": months,
        "start_utc": dt.datetime.fromtimestamp(cal.start_us / 1e6, dt.UTC).isoformat(),
        "end_utc": dt.datetime.fromtimestamp(cal.end_us / 1e6, dt.UTC).isoformat(),
    }


def simulate(
    store_id: str,
    customers: int | None,
    seed: int,
    end: dt.date,
    months: int,
    sink: Sink,
    shard: int = 0,
) -> dict[str, Any]:
    """Simulate one store; hand each table to ``sink`` as soon as it is built; return the truth.

    Parameters
    ----------
    store_id
        A key of :data:`~analysis.demo.spec.DEMO_STORES`.
    customers
        Number of customers; None = the store's default.
    seed
        Random seed; each model component draws from its own stream of it.
    end
        First local day after the history.
    months
        Length of the history, calendar months (at least 2).
    sink
        Receives every table (name, table).
    shard
        0 for a whole store; ``k > 0`` for the ``k``-th part of a store generated
        in parts (:func:`analysis.demo.write.write_demo`): ids carry the prefix
        ``<prefix><k:02d>`` (so they sort after every earlier part's) and every
        stream draws from ``(seed, store, component, k)``.

    Returns
    -------
    dict
        The store's planted truths (the store's entry of ``_truth.json``, without
        ``parameters``).

    Raises
    ------
    ConfigError
        Unknown store id or sizes out of range.
    """
    n = _checked(store_id, customers, months)
    spec = DEMO_STORES[store_id]
    sidx = list(DEMO_STORES).index(store_id)
    if shard:
        spec = replace(spec, prefix=f"{spec.prefix}{shard:02d}")

    def stream(k: int) -> np.random.Generator:
        return draws.stream(seed, sidx, k, shard)

    cal = timeline(end, months, spec.growth_per_year)
    truth: dict[str, Any] = {
        "store_id": store_id,
        "seed": seed,
        "n_customers": n,
        "id_prefix": spec.prefix,
        "history": _history(cal, months),
    }

    groups: dict[str, Any] = {}  # planted segment groups, gathered from several stages

    def emit(stage: Stage) -> None:
        tables, sections = stage
        for name, table in tables.items():
            sink(name, table)
        groups.update(sections.pop("segments", {}))
        truth.update(sections)

    buyers, registered, sections = simulate_purchases(spec, cal, n, stream)
    truth.update(sections)
    groups["heroes"] = plant_heroes(
        buyers.lam,
        buyers.nu,
        buyers.alive,
        buyers.t0,
        registered.cust,
        registered.t,
        spec.p,
        cal.end_us,
    )
    membership = assign_membership(spec, cal, months, buyers, stream)
    orders, stage = simulate_orders(spec, store_id, cal, buyers, registered, membership, stream)
    del registered  # the largest arrays; every later stage reads the orders
    emit(stage)
    cust_ids = orders.cust_ids
    emit(simulate_customers(spec, store_id, end, buyers, cust_ids, stream))
    emit(simulate_spend(spec, store_id, cal, buyers, stream))
    emit(simulate_sessions(spec, store_id, cal, orders, stream))
    emit(simulate_carts(spec, store_id, cal, orders, stream))
    emit(simulate_surveys(spec, store_id, cal, orders, stream))
    emit(simulate_loyalty(spec, store_id, cal, buyers, membership, orders, stream))
    emit(experiment(spec, store_id, cal, buyers, membership, orders, stream))
    emit(simulate_campaigns(spec, store_id, cal, months, buyers, cust_ids, stream))
    truth.update(segments_section(groups))
    return truth


def generate_store(
    store_id: str,
    *,
    customers: int | None = None,
    seed: int,
    end: dt.date = DEFAULT_END,
    months: int = DEFAULT_MONTHS,
) -> dict[str, pa.Table]:
    """All canonical tables of one demo store.

    Parameters
    ----------
    store_id
        A key of :data:`DEMO_STORES`.
    customers
        Number of customers (each with at least one completed order); None uses
        the store's default (:attr:`StoreSpec.customers`).
    seed
        Random seed; the same seed (and arguments) gives identical tables.
    end
        First local day (Asia/Bangkok) *after* the history.
    months
        Length of the history in calendar months, ending the day before ``end``
        (default: May 2024 .. Oct 2026).

    Returns
    -------
    dict of str to pyarrow.Table
        One table per canonical table name (see :mod:`analysis.schema`).
        Timestamps are ``timestamp[us, tz=UTC]``, dates ``date32`` (local
        Bangkok dates), money THB as float64.

    Raises
    ------
    ConfigError
        Unknown store id or non-positive sizes.
    """
    tables: dict[str, pa.Table] = {}
    simulate(store_id, customers, seed, end, months, tables.__setitem__)
    return {name: tables[name] for name in TABLE_NAMES}
