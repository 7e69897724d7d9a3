"""The demo stores written as a warehouse: one Parquet file per table and store, and ``_truth.json``."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis import DEFAULT_SEED
from analysis.demo.pipeline import simulate
from analysis.demo.spec import DEFAULT_END, DEFAULT_MONTHS, DEMO_STORES
from analysis.errors import ConfigError
from analysis.schema import ROW_GROUP_ROWS, TABLES

TRUTH_FILE = "_truth.json"
"""Name of the planted-truth file written next to the table folders."""

PART_CUSTOMERS = 1_000_000
"""A store with more customers is generated in parts of at most this many (memory)."""

_SUMMED = {"sessions": ("sessions", "visitors"), "marketing_spend": ("spend",)}
"""Daily store-level tables: each part simulates its own; the file holds their sums."""


def _write_parquet(table: pa.Table, path: Path, order: tuple[str, ...] = ()) -> None:
    """Write ``table`` sorted by ``order`` (the warehouse layout, ``schema.Table.row_order``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    sorting = None
    if order:
        table = table.sort_by([(c, "ascending", "at_end") for c in order])
        sorting = pq.SortingColumn.from_ordering(
            table.schema, [(c, "ascending") for c in order], null_placement="at_end"
        )
    pq.write_table(
        table, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS, sorting_columns=sorting
    )
    os.replace(tmp, path)


def _sort_keys(order: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(c, "ascending") for c in order]


class _PartWriter:
    """Append a store's parts to one Parquet file per table, keeping the warehouse layout.

    Part ``k``'s customer ids sort after part ``k-1``'s, so a table ordered by
    customer (after the constant ``store_id``) stays sorted when the parts are
    appended; its rows without a customer (guest orders), which sort last, are
    held and written at the end. Tables ordered by time are sorted within each
    part only and declare no sort order. Daily store tables (sessions, marketing
    spend) are held and summed per key over the parts.
    """

    def __init__(self, out_dir: Path, store_id: str) -> None:
        self.out_dir, self.store_id = out_dir, store_id
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.held: dict[str, list[pa.Table]] = {}

    @staticmethod
    def by_customer(name: str) -> bool:
        lead = [c for c in TABLES[name].row_order if c != "store_id"]
        return bool(lead) and lead[0] == "customer_id"

    def _tmp(self, name: str) -> Path:
        return self.out_dir / name / f".{self.store_id}.parquet.tmp"

    def _write(self, name: str, table: pa.Table) -> None:
        writer = self.writers.get(name)
        if writer is None:
            self._tmp(name).parent.mkdir(parents=True, exist_ok=True)
            sorting = None
            if self.by_customer(name):
                sorting = pq.SortingColumn.from_ordering(
                    table.schema, _sort_keys(TABLES[name].row_order), null_placement="at_end"
                )
            writer = pq.ParquetWriter(
                self._tmp(name), table.schema, compression="zstd", sorting_columns=sorting
            )
            self.writers[name] = writer
        writer.write_table(table.cast(writer.schema), row_group_size=ROW_GROUP_ROWS)

    def __call__(self, name: str, table: pa.Table) -> None:
        order = TABLES[name].row_order
        if name in _SUMMED:
            self.held.setdefault(name, []).append(table)
            return
        table = table.sort_by([(c, "ascending", "at_end") for c in order])
        if self.by_customer(name):
            guests = pc.is_null(table["customer_id"])
            self.held.setdefault(name, []).append(table.filter(guests))
            table = table.filter(pc.invert(guests))
        self._write(name, table)

    def close(self) -> None:
        """Write what was held, close the files and move them into place."""
        for name, parts in self.held.items():
            table = pa.concat_tables(parts)
            if name in _SUMMED:
                key = [c for c in TABLES[name].key if c in table.column_names]
                sums = [(c, "sum") for c in _SUMMED[name] if c in table.column_names]
                summed = table.group_by(key, use_threads=False).aggregate(sums)
                table = (
                    summed.rename_columns([c.removesuffix("_sum") for c in summed.column_names])
                    .select(table.column_names)
                    .cast(table.schema)
                )
            order = TABLES[name].row_order
            self._write(name, table.sort_by([(c, "ascending", "at_end") for c in order]))
        for name, writer in self.writers.items():
            writer.close()
            os.replace(self._tmp(name), self.out_dir / name / f"{self.store_id}.parquet")


def _jsonable(obj: Any) -> Any:
    """``obj`` with numpy numbers as Python numbers, tuples as lists and NaN as None."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return None if math.isnan(value) else value
    return obj


def _write_in_parts(out_dir: Path, store_id: str, customers: int, seed: int) -> dict[str, Any]:
    """A large store simulated in parts of at most :data:`PART_CUSTOMERS` customers.

    Memory stays that of one part (about 4 GiB at a million customers). The
    truth is the first part's, with the store's total ``n_customers`` and the
    size of each part: planted rates hold in every part alike, realised counts
    are the first part's.
    """
    parts = -(-customers // PART_CUSTOMERS)
    sizes = [customers // parts + (1 if k < customers % parts else 0) for k in range(parts)]
    writer = _PartWriter(out_dir, store_id)
    truth: dict[str, Any] = {}
    for k, size in enumerate(sizes):
        part = simulate(store_id, size, seed, DEFAULT_END, DEFAULT_MONTHS, writer, shard=k)
        truth = truth or part
    writer.close()
    truth.update(n_customers=customers, part_customers=sizes)
    return truth


def write_demo(
    out_dir: Path,
    *,
    stores: list[str] | None = None,
    customers: int | None = None,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Generate demo stores and write them as a warehouse, plus their planted truths.

    Every table goes to ``out_dir/<table>/<store_id>.parquet`` (zstd), written
    to ``.<store_id>.parquet.tmp`` in the same folder and moved into place. The
    planted parameters and realised values go to ``out_dir/_truth.json``, keyed
    by store id and merged with the stores already in that file; keys are
    sorted, so the same arguments give byte-identical files.

    Parameters
    ----------
    out_dir
        Warehouse folder (``data/warehouse``).
    stores
        Store ids to generate; None = every store of :data:`DEMO_STORES`.
    customers
        Customers PER STORE; None = each store's default. Above
        :data:`PART_CUSTOMERS` a store is simulated in parts and appended part
        by part, so memory stays that of one part.
    seed
        Random seed (the project's ``params/default.yaml`` seed by default).

    Returns
    -------
    dict
        The whole truth file after the merge: ``{store_id: truth}``.
    """
    out_dir = Path(out_dir)
    chosen = list(DEMO_STORES) if stores is None else list(stores)
    unknown = [s for s in chosen if s not in DEMO_STORES]
    if unknown:
        raise ConfigError(
            f"unknown demo store(s) {', '.join(unknown)}",
            hint=f"demo stores: {', '.join(DEMO_STORES)}",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    truths: dict[str, Any] = {}
    for store_id in chosen:
        n = DEMO_STORES[store_id].customers if customers is None else int(customers)
        if n > PART_CUSTOMERS:
            truth = _write_in_parts(out_dir, store_id, n, seed)
        else:

            def sink(name: str, table: pa.Table, store_id: str = store_id) -> None:
                path = out_dir / name / f"{store_id}.parquet"
                _write_parquet(table, path, TABLES[name].row_order)

            truth = simulate(store_id, customers, seed, DEFAULT_END, DEFAULT_MONTHS, sink)
        truth["parameters"] = _jsonable(asdict(DEMO_STORES[store_id]))
        truths[store_id] = _jsonable(truth)
    path = out_dir / TRUTH_FILE
    merged: dict[str, Any] = {}
    if path.is_file():
        try:
            merged = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            merged = {}
    merged.update(truths)
    tmp = out_dir / f".{TRUTH_FILE}.tmp"
    tmp.write_text(
        json.dumps(merged, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    return merged
