"""Frames one section of a report run hands to a later section of the same run.

Each section notebook runs in its own kernel, so a result that two sections
need would otherwise be computed twice. The CLV page's fitted model gives the
segments page its per-customer outlook (P(alive), expected purchases, CLV):
at 10M orders the fit takes about 25 s, and most of the segments page's time
was spent fitting the same model again.

The report run (:func:`analysis.report.build_report`) makes a private folder
inside its temporary report folder and names it to every kernel in the
environment variable :data:`ENV_HANDOVER`; a frame is kept there as Parquet
under a name and a key of everything that determines it (store, month and all
params), and the folder goes away with the temporary folder before the report
is published. Outside a report run (a notebook in JupyterLab, the segments
export) the variable is unset: nothing is kept and every caller computes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ENV_HANDOVER", "hand_over", "handed_over", "handover_key"]

ENV_HANDOVER = "ANALYSIS_HANDOVER_DIR"
"""Environment variable naming the run's hand-over folder (set by the report run only)."""

_DTYPES = b"analysis.handover.datetime_dtypes"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def handover_key(store: str, month: str, params: dict[str, Any]) -> str:
    """A short hash of what a handed-over frame depends on: store, month and params.

    ``params`` is the run's whole validated params (``Params.as_dict()``), so a
    notebook run with other overrides never reads another run's frame.
    """
    text = json.dumps([store, month, params], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _path(name: str, key: str) -> Path | None:
    folder = os.environ.get(ENV_HANDOVER)
    if not folder:
        return None
    if not _NAME.match(name):
        raise ValueError(f"hand-over name {name!r}: lower-case letters, digits and _ only")
    return Path(folder) / f"{name}-{key}.parquet"


def hand_over(name: str, key: str, frame: pd.DataFrame) -> bool:
    """Keep ``frame`` for later sections of this report run; False outside a run.

    Written to a temporary file and renamed, so a reader never sees half a file.
    The index and dtypes come back as they were (:func:`handed_over`).
    """
    path = _path(name, key)
    if path is None or not path.parent.is_dir():
        return False
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=True)
    # Parquet has no seconds unit: datetime64[s] would come back as [ms] without this.
    units = {str(c): str(t) for c, t in frame.dtypes.items() if str(t).startswith("datetime64")}
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), _DTYPES: json.dumps(units).encode("utf-8")}
    )
    partial = path.with_suffix(f".{os.getpid()}.partial")
    pq.write_table(table, partial)
    partial.replace(path)
    return True


def handed_over(name: str, key: str) -> pd.DataFrame | None:
    """The frame an earlier section of this run kept under ``name`` and ``key``, else None."""
    path = _path(name, key)
    if path is None or not path.is_file():
        return None
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    frame = table.to_pandas()
    units = json.loads((table.schema.metadata or {}).get(_DTYPES, b"{}"))
    return frame.astype(units) if units else frame
