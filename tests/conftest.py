"""Shared fixtures: tiny hand-built warehouses whose answers are worked out by hand."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]


def write_table(root: Path, table: str, store: str, frame: pd.DataFrame) -> Path:
    """Write ``frame`` as ``root/<table>/<store>.parquet`` (timestamps as UTC instants)."""
    frame = frame.copy()
    if "store_id" not in frame:
        frame.insert(0, "store_id", store)
    for col in frame.columns:
        if col.endswith("_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[us, UTC]")
    path = root / table / f"{store}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def orders_frame(rows: list[tuple]) -> pd.DataFrame:
    """Orders from ``(order_id, customer_id, ordered_at UTC string, revenue, status)`` tuples."""
    frame = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "ordered_at", "revenue", "status"]
    )
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame["revenue"] = frame["revenue"].astype("float64")
    return frame


@pytest.fixture(autouse=True)
def _restore_matplotlib_settings():
    """Undo a test's global chart settings (``section_context`` applies the report theme)."""
    import matplotlib as mpl

    with mpl.rc_context():
        yield


@pytest.fixture
def warehouse_dir(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse"
    path.mkdir()
    return path
