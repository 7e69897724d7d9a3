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

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_CONF",
    "StoredFile",
    "is_uri",
    "java_missing",
    "list_files",
    "spark_session",
    "stat_file",
    "use_session",
]

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


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")


def is_uri(location: object) -> bool:
    """True for a location with a scheme (``s3a://``, ``abfss://``, ``hdfs://``, ``file:/``).

    Such a warehouse is read through Spark's file systems (``engine: spark``
    only); anything else is a local path. One-letter schemes are Windows drives.
    """
    return isinstance(location, str) and _SCHEME.match(location) is not None


@dataclass(frozen=True)
class StoredFile:
    """A file as a Spark (Hadoop) file system lists it: its URI, size and modification time.

    ``name``, ``stem`` and ``parent`` read like :class:`pathlib.PurePosixPath`'s.
    """

    uri: str
    bytes: int
    modified_ms: int
    """Modification time, milliseconds since 1970-01-01 UTC."""

    @property
    def _path(self) -> PurePosixPath:
        return PurePosixPath(urlsplit(self.uri).path)

    @property
    def name(self) -> str:
        return self._path.name

    @property
    def stem(self) -> str:
        return self._path.stem

    @property
    def parent(self) -> PurePosixPath:
        return self._path.parent

    def __str__(self) -> str:
        return self.uri


def _file_system(session: Any, uri: str) -> tuple[Any, Any]:
    """The Hadoop ``FileSystem`` of ``uri`` and its ``Path`` (a classic, not Connect, session)."""
    jvm = session.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(session.sparkContext._jsc.hadoopConfiguration()), path


def _stored(status: Any) -> StoredFile:
    return StoredFile(
        str(status.getPath().toString()), int(status.getLen()), int(status.getModificationTime())
    )


def list_files(session: Any, folder: str, suffix: str = ".parquet") -> list[StoredFile]:
    """Entries of ``folder`` (a URI) named ``*<suffix>``, sorted by URI; [] when it is absent.

    A folder so named (``orders/my-shop.parquet/``, the part files Spark
    writes) is listed as one file: its total size, its own modification time.
    """
    fs, path = _file_system(session, folder)
    if not fs.exists(path) or not fs.getFileStatus(path).isDirectory():
        return []
    out = []
    for status in fs.listStatus(path):
        if not status.getPath().getName().endswith(suffix):
            continue
        stored = _stored(status)
        if status.isDirectory():
            size = int(fs.getContentSummary(status.getPath()).getLength())
            stored = StoredFile(stored.uri, size, stored.modified_ms)
        out.append(stored)
    return sorted(out, key=lambda f: f.uri)


def stat_file(session: Any, uri: str) -> StoredFile | None:
    """The file (or part-file folder) at ``uri``, or None when there is nothing there."""
    fs, path = _file_system(session, uri)
    if not fs.exists(path):
        return None
    status = fs.getFileStatus(path)
    if status.isFile():
        return _stored(status)
    size = int(fs.getContentSummary(path).getLength())
    return StoredFile(_stored(status).uri, size, int(status.getModificationTime()))
