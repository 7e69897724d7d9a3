"""Arrow columns built without per-row Python work: labels, ids, constants, instants."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP = pa.timestamp("us", tz="UTC")

Stage: TypeAlias = tuple[dict[str, pa.Table], dict[str, Any]]
"""What a stage returns: its tables by name and its ``_truth.json`` sections by key."""


def strings(
    values: tuple[str, ...] | list[str], codes: np.ndarray, mask: np.ndarray | None = None
) -> pa.Array:
    """Plain string array ``values[codes]`` (null where ``mask``), built by arrow ``take``."""
    idx = pa.array(codes.astype(np.int32), mask=mask)
    return pa.array(list(values), type=pa.string()).take(idx)


def ids(prefix: str, n: int, width: int) -> pa.Array:
    """``prefix`` + zero-padded 1..n, built with arrow compute."""
    numbers = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width=width, padding="0"), "")


def const(value: str, n: int) -> pa.Array:
    """String column holding ``value`` ``n`` times (built from buffers, no per-row work)."""
    raw = np.frombuffer(value.encode("utf-8"), dtype=np.uint8)
    if n * len(raw) >= 2**31:
        return pc.cast(pa.repeat(pa.scalar(value), n), pa.string())
    offsets = np.arange(0, (n + 1) * len(raw), len(raw), dtype=np.int32)[: n + 1]
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.tile(raw, n)))


def instants(us: np.ndarray) -> pa.Array:
    """``timestamp[us, tz=UTC]`` column from int64 microseconds since the epoch."""
    return pa.array(np.asarray(us, dtype=np.int64), type=TIMESTAMP)


def take_ids(ids: pa.Array, codes: np.ndarray, *, wide: bool = False) -> pa.Array:
    """``ids[codes]``, null where a code is negative (a guest, an abandoned cart's order).

    ``wide`` takes with int64 indices (order ids: more rows than int32 is sure to hold).
    """
    dtype = np.int64 if wide else np.int32
    return ids.take(pa.array(np.maximum(codes, 0).astype(dtype), mask=codes < 0))
