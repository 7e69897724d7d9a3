"""What every ours-vs-pandas benchmark shares: the cached warehouse and child processes.

Each way runs in a fresh child process (``python -m benchmarks.<name> --child
<way>``) so that its peak resident memory is its own; the child prints one JSON
line with its result, wall time, import time and peak resident memory (its own
``VmHWM``: ``ru_maxrss`` would hold the parent's peak, see ``limits/measure.py``).
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from analysis import DEFAULT_SEED
from analysis.schema import ROW_GROUP_ROWS, TABLES
from benchmarks.limits.measure import own_peak_kib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


CACHE = HERE / ".cache"
STORE = "demo-bangkok"
TIMEZONE = "Asia/Bangkok"
SEED = DEFAULT_SEED
_ORDERS_LAYOUT = (TABLES["orders"].row_order, ROW_GROUP_ROWS)

_GENERATE = """
import sys
from pathlib import Path
from analysis.demo import write_demo
write_demo(Path(sys.argv[1]), stores=[sys.argv[2]], customers=int(sys.argv[3]), seed=int(sys.argv[4]))
"""


def warehouse(customers: int) -> Path:
    """The cached demo warehouse with ``customers`` customers, generated if absent.

    ``write_demo`` writes ``_truth.json`` last, so a warehouse whose truth file
    names the store is complete; a warehouse written in another layout (the
    orders file's Parquet ``sorting_columns`` or row group size differ from
    ``schema.TABLES["orders"].row_order`` and ``schema.ROW_GROUP_ROWS``) is
    stale; both are regenerated.
    """
    root = CACHE / f"warehouse-{customers}"
    try:
        complete = STORE in json.loads((root / "_truth.json").read_text(encoding="utf-8"))
        complete = complete and _layout(root / "orders" / f"{STORE}.parquet") == _ORDERS_LAYOUT
    except (OSError, json.JSONDecodeError):
        complete = False
    if not complete:
        print(f"benchmarks: generating {customers:,} customers into {root} ...", flush=True)
        subprocess.run(
            [sys.executable, "-c", _GENERATE, str(root), STORE, str(customers), str(SEED)],
            check=True,
        )
    return root


def _layout(path: Path) -> tuple[tuple[str, ...], int]:
    """Sort columns a Parquet file declares (first row group) and its row group size.

    The size is reported as ``ROW_GROUP_ROWS`` when the file fits in one row group.
    """
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    meta = file.metadata
    if not meta.num_row_groups:
        return (), 0
    group = meta.row_group(0)
    size = ROW_GROUP_ROWS if group.num_rows == meta.num_rows else group.num_rows
    if not group.sorting_columns:
        return (), size
    ordering, _nulls = pq.SortingColumn.to_ordering(file.schema_arrow, group.sorting_columns)
    return tuple(name for name, _direction in ordering), size


def warm(root: Path) -> None:
    """Read every file once so that neither way pays for a cold disk."""
    for path in root.rglob("*.parquet"):
        with path.open("rb") as fh:
            while fh.read(1 << 24):
                pass


def as_float(value: object) -> float | None:
    """A JSON-safe number: None for None and NaN."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def child(
    fn: Callable[[Path, str], Any],
    root: Path,
    month: str,
    started: float,
    *,
    wrap: bool = False,
    preload: Sequence[str] = (),
) -> None:
    """Run ``fn(root, month)`` in this (fresh) process; print its result, time and peak memory.

    The result (a dict) is printed with ``seconds``, ``import_seconds`` and
    ``peak_kib`` added; ``wrap=True`` nests it under ``values`` instead. The
    modules in ``preload`` are imported first and counted in ``import_seconds``,
    so that ``seconds`` is the computation alone.
    """
    for module in preload:
        importlib.import_module(module)
    t0 = time.perf_counter()
    result = fn(root, month)
    seconds = time.perf_counter() - t0
    peak_kib = own_peak_kib()
    payload = {"values": result} if wrap else result
    payload.update(seconds=seconds, import_seconds=t0 - started, peak_kib=peak_kib)
    print(json.dumps(payload))


def run_child(module: str, way: str, root: Path, month: str) -> dict:
    """Run ``python -m <module> --child <way>`` and return its JSON line plus process time."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", module, "--child", way, "--root", str(root), "--month", month],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    process_seconds = time.perf_counter() - started
    if out.returncode:
        raise RuntimeError(f"{module}: the {way} child failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = process_seconds
    return result


def write_results(path: Path, result: dict) -> dict:
    """Add the machine facts and write ``result`` as sorted JSON to ``path``."""
    import os
    import platform

    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return result


def entry_point(
    description: str,
    ours: Callable[[Path, str], Any],
    plain_pandas: Callable[[Path, str], Any],
    main: Callable[[int, str], Any],
    *,
    wrap: bool = False,
    preload: dict[str, Sequence[str]] | None = None,
) -> None:
    """The command line of an ours-vs-pandas benchmark (``--customers``, ``--month``; children).

    ``preload`` maps a way (``"ours"``, ``"pandas"``) to the modules its child
    imports before the clock starts.
    """
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--child", choices=("ours", "pandas"), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fn = ours if args.child == "ours" else plain_pandas
        modules = (preload or {}).get(args.child, ())
        child(fn, args.root, args.month, time.perf_counter(), wrap=wrap, preload=modules)
    else:
        main(args.customers, args.month)
