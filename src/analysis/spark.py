"""The Spark engine's session: one per process, local by default, a cluster from params.

``engine: spark`` in params makes :class:`analysis.warehouse.StoreWarehouse` open
the warehouse tables as PySpark DataFrames (through narwhals, like DuckDB
relations). The session is built once per process by :func:`spark_session`
(``spark.master`` and ``spark.conf`` from params), or handed in by a notebook
that already has one (:func:`use_session`).

Settings that the analyses rely on, whatever the params say:

- ``spark.sql.session.timeZone`` is the store's zone (set by the warehouse for
  each store it opens: local months and days are computed in the session zone);
- ``spark.sql.parquet.outputTimestampType = TIMESTAMP_MICROS`` (Spark would write
  INT96 timestamps otherwise, which other readers misread).

PySpark is the optional ``spark`` extra (``pip install -e '.[spark]'``; ``make
setup`` installs it) and needs Java 17.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_CONF", "java_missing", "spark_session", "use_session"]

DEFAULT_CONF: dict[str, str] = {
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "4g",
}
"""Settings of a session built here; ``spark.conf`` in params overrides them."""

_handed_in: Any = None


def java_missing() -> str | None:
    """Why the Spark engine cannot start here (no PySpark, or no Java), else None."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (install the 'spark' extra: pip install -e '.[spark]')"
    if shutil.which("java") is None:
        return "Java is not installed (the Spark engine needs Java 17)"
    return None


def use_session(session: Any) -> None:
    """Make every Spark warehouse of this process use ``session`` (a notebook's own)."""
    global _handed_in
    _handed_in = session


def spark_session(master: str = "local[2]", conf: Mapping[str, str] | None = None) -> Any:
    """The process's Spark session: the one handed in, else one built (or reused) here.

    Parameters
    ----------
    master
        ``spark.master``: ``local[2]`` on one machine, a cluster URL otherwise.
    conf
        Further settings; they override :data:`DEFAULT_CONF`.

    Raises
    ------
    RuntimeError
        PySpark or Java is missing (:func:`java_missing` says which).
    """
    if _handed_in is not None:
        return _handed_in
    missing = java_missing()
    if missing is not None:
        raise RuntimeError(f"engine spark: {missing}")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("crm-analytics")
    for key, value in {**DEFAULT_CONF, **dict(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
