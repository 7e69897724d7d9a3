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
import pyarrow.parquet as pq

from analysis import DEFAULT_SEED
from analysis.demo.pipeline import simulate
from analysis.demo.spec import DEFAULT_END, DEFAULT_MONTHS, DEMO_STORES
from analysis.errors import ConfigError
from analysis.schema import ROW_GROUP_ROWS, TABLES

TRUTH_FILE = "_truth.json"
"""Name of the planted-truth file written next to the table folders."""


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
        Customers PER STORE; None = each store's default.
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

        def sink(name: str, table: pa.Table, store_id: str = store_id) -> None:
            _write_parquet(table, out_dir / name / f"{store_id}.parquet", TABLES[name].row_order)

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
