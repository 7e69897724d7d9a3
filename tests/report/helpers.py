"""Helpers for report tests: tiny warehouse, params tree and section notebooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import pyarrow as pa
import pyarrow.parquet as pq
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PROJECT = Path(__file__).resolve().parents[2]
KERNEL = "python3"  # the venv's ipykernel; tests register no kernelspec
THAI = "ยอดขายรวมประจำเดือน"
STORES = ("shop-a", "shop-b")
MONTH = "2026-03"  # last complete month of the orders below

PARAMETERS = 'store = "demo-bangkok"\nmonth = None\noverrides = {}\ndata_dir = None\n'


def write_orders(warehouse: Path, store: str, n: int = 30) -> Path:
    """``orders/<store>.parquet``: n orders from January to 31 March 2026 (Bangkok)."""
    start = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)
    times = [start + dt.timedelta(days=i * 3) for i in range(n - 1)]
    times.append(dt.datetime(2026, 3, 31, 10, 0, tzinfo=dt.UTC))  # 17:00 local, 31 March
    table = pa.table(
        {
            "order_id": pa.array([f"{store}-{i:04d}" for i in range(n)], pa.string()),
            "store_id": pa.array([store] * n, pa.string()),
            "customer_id": pa.array([f"c{i % 7}" for i in range(n)], pa.string()),
            "ordered_at": pa.array(times, pa.timestamp("us", tz="UTC")),
            "revenue": pa.array([100.0 + i for i in range(n)], pa.float64()),
            "status": pa.array(["completed"] * n, pa.string()),
        }
    )
    path = warehouse / "orders" / f"{store}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def section_notebook(
    section: str, *, fail: bool = False, raise_code: str | None = None
) -> nbformat.NotebookNode:
    """A section notebook: parameters, Thai markdown and print, stderr noise, a figure, headlines."""
    params = new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    cells = [
        new_markdown_cell(f"# {THAI}\n\nSee [the docs](https://example.com/docs)."),
        params,
        new_code_cell(
            "import sys, warnings\n"
            "SOURCE_CODE_MARKER = 1\n"
            f"print('{THAI}', store, month)\n"
            "print('STDERR_MARKER', file=sys.stderr)\n"
            "warnings.warn('WARNING_MARKER')\n"
        ),
    ]
    if fail:
        cells.append(new_code_cell("raise ValueError('planted failure')"))
    if raise_code:
        cells.append(new_code_cell(raise_code))
    cells += [
        new_code_cell(
            "import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(figsize=(3, 2))\n"
            "ax.bar(['a', 'b'], [1, 2])\n"
            "plt.show()\n"
        ),
        new_code_cell(
            "from analysis.report.headlines import record_headlines\n"
            f"record_headlines({section!r}, {{\n"
            "    'orders': 30, 'revenue': 1234.5, 'store': store, 'month': month,\n"
            "    'data_dir_given': data_dir is not None,\n"
            "    'override': overrides.get('kpis', {}).get('trend_months'),\n"
            "})\n"
        ),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
