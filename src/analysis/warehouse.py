"""Open the canonical tables of one store as narwhals lazy frames on DuckDB.

This is the only module that reads warehouse files. Layout (a local folder, or on
the Spark engine any URI Spark reads: ``s3a://``, ``abfss://``, ``gs://``, ``hdfs://``)::

    data/warehouse/<table>/<store_id>.parquet   one file per store (what demo-data and ingest write)
    data/warehouse/<table>.parquet              or one file for all stores (filtered on store_id)

Files whose name is not a store id (temporary ``.x.tmp`` files, ``_truth.json``)
are ignored.

Every frame handed out is filtered to one store, optionally to a time window,
and stripped of PII columns (``schema.Table.pii``). Each :class:`StoreWarehouse`
owns a DuckDB connection whose session time zone is the store's, so that
:func:`analysis.calendar.local_time` and :func:`~analysis.calendar.local_month`
give the store's calendar.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import narwhals as nw
import pandas as pd

from analysis.calendar import (
    last_complete_month,
    local_date,
    local_midnight,
    local_month,
    local_time,
    parse_month,
)
from analysis.config import STORE_PATTERN, validate_store_name
from analysis.errors import ConfigError, DataError
from analysis.frames import count_distinct, materialize
from analysis.schema import TABLES
from analysis.spark import StoredFile, is_uri, list_files, stat_file

ENGINES: tuple[str, ...] = ("duckdb", "spark")
"""Engines a warehouse can open its tables on."""

__all__ = [
    "ENV_MEMORY_LIMIT",
    "ENV_SPILL_DIR",
    "StoreWarehouse",
    "check_memory_limit",
    "duckdb_connection",
    "table_files",
    "file_sha256",
    "list_stores",
]


ENV_MEMORY_LIMIT = "ANALYSIS_MEMORY_LIMIT"
"""Environment variable: DuckDB's memory limit for each warehouse connection
(``"6GiB"``, ``"9830MiB"``); unset = DuckDB's own default, 80% of the machine's memory.
A report run of several stores at once sets it to each one's share."""

ENV_SPILL_DIR = "ANALYSIS_SPILL_DIR"
"""Environment variable: an existing folder under which each warehouse connection
spills what does not fit its memory limit, in a folder of its own; unset = DuckDB's
default, ``.tmp`` under the working directory. A report run sets it to its private
folder, so spilled data goes away with the run, even a killed one."""

_MEMORY_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
MIN_MEMORY_LIMIT = 128 * 2**20
"""The smallest memory limit taken (128 MiB): below it DuckDB cannot even read a file."""
_connections = itertools.count()


def check_memory_limit(value: str) -> str:
    """``value`` if DuckDB takes it as a memory limit: a number and a unit (``"6GiB"``,
    ``"800MB"``), at least :data:`MIN_MEMORY_LIMIT`.

    Raises
    ------
    ConfigError
        Anything else (a percentage too: DuckDB would read ``"50%"`` as 100 bytes),
        naming :data:`ENV_MEMORY_LIMIT` and the value.
    """
    match = _MEMORY_LIMIT.match(value)
    unit = match and _UNITS.get(match[2].lower())
    if not match or not unit:
        raise ConfigError(
            f"{ENV_MEMORY_LIMIT}={value!r} is not a memory size",
            hint="a number and a unit, such as 6GiB or 800MB; unset it for DuckDB's "
            "default (80% of the machine's memory)",
        )
    if float(match[1]) * unit < MIN_MEMORY_LIMIT:
        raise ConfigError(
            f"{ENV_MEMORY_LIMIT}={value!r} is too small for DuckDB to work in",
            hint="give at least 128MiB; unset it for DuckDB's default (80% of the "
            "machine's memory)",
        )
    return value.strip()


def duckdb_connection() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection, bounded as the environment asks.

    :data:`ENV_MEMORY_LIMIT` becomes its ``memory_limit``; under :data:`ENV_SPILL_DIR`
    it spills into ``duckdb-<pid>-<n>``, a folder of its own that DuckDB creates at
    the first spill and removes when the connection closes. Without them DuckDB's
    defaults hold.

    Raises
    ------
    ConfigError
        :data:`ENV_MEMORY_LIMIT` is not a memory size.
    """
    limit = os.environ.get(ENV_MEMORY_LIMIT)
    spill = os.environ.get(ENV_SPILL_DIR)
    con = duckdb.connect()
    if limit:
        con.execute(f"SET memory_limit = '{check_memory_limit(limit)}'")
    if spill:
        folder = Path(spill) / f"duckdb-{os.getpid()}-{next(_connections)}"
        con.execute("SET temp_directory = '" + str(folder).replace("'", "''") + "'")
    return con


Location = Path | str
"""A warehouse folder: a local path, or a URI (``s3a://bucket/warehouse``) on Spark."""

WarehouseFile = Path | StoredFile
"""A table file: a local path, or a file listed by Spark's file systems."""


def table_files(root: Location, table: str, spark: Any = None) -> list[WarehouseFile]:
    """Parquet files of a table, in a stable order (empty if the table is absent).

    A URI ``root`` is listed through ``spark`` (a Spark session).
    """
    if is_uri(root):
        if spark is None:
            raise DataError(f"{root}: a warehouse at a URI is read on the Spark engine only")
        base = str(root).rstrip("/")
        listed: list[WarehouseFile] = [
            f
            for f in list_files(spark, f"{base}/{table}")
            if f.name.endswith(".parquet") and STORE_PATTERN.fullmatch(f.stem)
        ]
        shared = stat_file(spark, f"{base}/{table}.parquet")
        return listed + ([shared] if shared is not None else [])
    root = Path(root)
    folder = root / table
    single = root / f"{table}.parquet"
    files: list[WarehouseFile] = []
    if folder.is_dir():
        files.extend(sorted(f for f in folder.glob("*.parquet") if STORE_PATTERN.fullmatch(f.stem)))
    if single.is_file():
        files.append(single)
    return files


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (fingerprints, the ingest log)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class StoreWarehouse:
    """The warehouse as one store sees it.

    Parameters
    ----------
    root
        Warehouse folder (``data/warehouse``), or on the Spark engine a URI
        (``s3a://bucket/warehouse``) listed through Spark's file systems.
    store
        Store id; validated.
    timezone
        IANA zone of the store; becomes the engine session's zone.
    engine
        ``"duckdb"`` (embedded, the default) or ``"spark"``: the tables are then
        PySpark DataFrames of ``spark`` (default: :func:`analysis.spark.spark_session`),
        whose session zone is set to ``timezone``.
    """

    root: Location
    store: str
    timezone: str = "UTC"
    connection: duckdb.DuckDBPyConnection = field(default=None, repr=False)  # type: ignore[assignment]
    engine: str = "duckdb"
    spark: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        validate_store_name(self.store)
        zone = ZoneInfo(self.timezone).key
        if self.engine not in ENGINES:
            raise DataError(
                f"unknown engine {self.engine!r}", hint=f"engines: {', '.join(ENGINES)}"
            )
        if not is_uri(self.root):
            self.root = Path(self.root)
        elif self.engine != "spark":
            raise DataError(
                f"warehouse {self.root} is a URI: only the Spark engine reads it",
                hint="set engine: spark in params, or point data_dir at a local folder",
            )
        if self.connection is None:
            self.connection = duckdb_connection()
        self.connection.execute(f"SET TimeZone = '{zone}'")
        if self.engine == "spark":
            if self.spark is None:
                from analysis.spark import spark_session

                self.spark = spark_session()
            self.spark.conf.set("spark.sql.session.timeZone", zone)

    def _read(self, files: list[WarehouseFile]) -> tuple[nw.LazyFrame, list[str]]:
        """The files as one lazy frame on the engine (columns united by name), and its columns."""
        paths = [str(f) for f in files]
        if self.engine == "spark":
            df = self.spark.read.option("mergeSchema", "true").parquet(*paths)
            return nw.from_native(df), list(df.columns)
        rel = self.connection.read_parquet(paths, union_by_name=True)
        return nw.from_native(rel), list(rel.columns)

    # -- discovery -----------------------------------------------------------
    def _files(self, table: str) -> list[WarehouseFile]:
        if table not in TABLES:
            raise DataError(f"unknown table {table!r}", hint=f"tables: {', '.join(TABLES)}")
        # Per-store files of other stores are skipped unread; shared files are filtered.
        return [
            f
            for f in table_files(self.root, table, self.spark)
            if not (_looks_per_store(f) and f.stem != self.store)
        ]

    def has(self, table: str) -> bool:
        """True if ``table`` has at least one file that may hold this store's rows."""
        return bool(self._files(table))

    def tables(self) -> list[str]:
        """Canonical tables present for this store (``orders`` first)."""
        return [t for t in TABLES if self.has(t)]

    def columns(self, table: str) -> list[str]:
        """Columns of ``table`` as a metric sees them (PII removed); [] when absent."""
        if not self.has(table):
            return []
        return list(self.table(table).collect_schema())

    # -- reading -------------------------------------------------------------
    def table(
        self,
        name: str,
        *,
        start: dt.datetime | dt.date | str | None = None,
        end: dt.datetime | dt.date | str | None = None,
    ) -> nw.LazyFrame:
        """One store's rows of a table as a narwhals LazyFrame (PII columns removed).

        Parameters
        ----------
        name
            Canonical table name.
        start, end
            Optional window on the table's time column, start inclusive and end
            exclusive. A ``date`` or ``"YYYY-MM"`` is local midnight in the
            store's zone; a datetime must be timezone-aware.

        Raises
        ------
        DataError
            The table is absent (check :meth:`has` first for optional tables).
        """
        files = self._files(name)
        if not files:
            raise DataError(
                f"table {name} not found for store {self.store} under {self.root}",
                hint=f"add {store_file(self.root, name, self.store)}",
            )
        table = TABLES[name]
        lf, columns = self._read(files)
        keep = [c for c in columns if c not in table.pii]
        lf = lf.select(keep)
        if name == "orders" and "status" not in columns:
            # The contract reads an orders table without status as completed orders;
            # a real column keeps every metric on one code path.
            lf = lf.with_columns(nw.lit("completed").alias("status"))
        if any(not _looks_per_store(f) for f in files):
            # Shared files hold several stores; a per-store file holds only its own store
            # (the contract, checked by `analysis validate` and by ingest), so it needs no filter.
            lf = lf.filter(nw.col("store_id") == self.store)
        tc = table.time_column
        if tc and (start is not None or end is not None):
            is_date = table.column(tc).kind == "date"
            if start is not None:
                lf = lf.filter(nw.col(tc) >= self._instant(start, is_date))
            if end is not None:
                lf = lf.filter(nw.col(tc) < self._instant(end, is_date))
        return lf

    def contacts(self, columns: tuple[str, ...] = ("email", "phone")) -> pd.DataFrame:
        """The customers' contact columns (PII), for ``analysis segments export --with-contacts`` only.

        The one way PII leaves the warehouse layer: metric code never calls it
        (:meth:`table` strips PII), and the campaign lists add it only when
        the analyst asks for it.

        Returns
        -------
        pandas.DataFrame
            Index ``customer_id`` (string), one column per name in ``columns``
            (None where the table lacks the column or the value); empty without
            a ``customers`` table.
        """
        unknown = [c for c in columns if c not in TABLES["customers"].pii]
        if unknown:
            raise DataError(f"not a contact column of customers: {', '.join(unknown)}")
        index = pd.Index([], name="customer_id", dtype=object)
        files = self._files("customers")
        if not files:
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}, index=index)
        lf, names = self._read(files)
        if "store_id" in names:
            lf = lf.filter(nw.col("store_id") == self.store)
        present = [c for c in columns if c in names]
        frame = lf.select("customer_id", *present).collect().to_pandas()
        frame["customer_id"] = frame["customer_id"].astype(str)
        frame = frame.drop_duplicates("customer_id").set_index("customer_id")
        return pd.DataFrame(
            {
                c: pd.Series(
                    [None if pd.isna(v) else str(v) for v in frame[c]]
                    if c in present
                    else [None] * len(frame),
                    index=frame.index,
                    dtype=object,
                )
                for c in columns
            },
            index=frame.index,
        )

    def _instant(self, value: dt.datetime | dt.date | str, as_date: bool):
        if isinstance(value, str):
            value = parse_month(value)
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise DataError(f"naive datetime {value} in a time filter: add a time zone")
            # a date column: the local calendar day of that instant
            return local_date(value, self.timezone) if as_date else value.astimezone(dt.UTC)
        return value if as_date else local_midnight(value, self.timezone)

    def local_time(self, column: str) -> nw.Expr:
        """:func:`local_time` in this store's zone."""
        return local_time(column, self.timezone)

    def local_month(self, column: str) -> nw.Expr:
        """:func:`local_month` in this store's zone."""
        return local_month(column, self.timezone)

    def persist(self, frame: nw.LazyFrame) -> nw.LazyFrame:
        """Materialise a lazy frame that several metrics share (:func:`analysis.frames.materialize`).

        On DuckDB a temp table; on Spark a local checkpoint (computed now, kept
        on the executors, its lineage cut so later plans stay small).
        """
        return materialize(frame)

    # -- summaries -----------------------------------------------------------
    def order_span(self) -> tuple[dt.datetime, dt.datetime] | None:
        """First and last ``ordered_at`` as local wall-clock times, or None with no orders."""
        row = (
            self.table("orders")
            .select(
                self.local_time("ordered_at").min().alias("first"),
                self.local_time("ordered_at").max().alias("last"),
            )
            .collect()
            .row(0)
        )
        if row[0] is None:
            return None
        return pd.Timestamp(row[0]).to_pydatetime(), pd.Timestamp(row[1]).to_pydatetime()

    def orders_by_month(self, end: dt.datetime | None = None) -> pd.Series:
        """Orders (any status, guests included) per local calendar month before ``end``.

        Returns
        -------
        pandas.Series
            int64, indexed by ``YYYY-MM`` strings in order, only months with orders.
        """
        frame = self.table("orders", end=end)
        counts = (
            frame.select(self.local_month("ordered_at").alias("month"))
            .group_by("month")
            .agg(nw.len().alias("orders"))
            .collect()
            .to_pandas()
        )
        if counts.empty:
            return pd.Series(dtype="int64", name="orders")
        counts["month"] = pd.to_datetime(counts["month"]).dt.strftime("%Y-%m")
        return counts.set_index("month")["orders"].sort_index().astype("int64")

    def last_complete_month(self) -> str:
        """Latest calendar month (store zone) that the orders cover to its last day.

        A month counts as complete when the last order falls on its last local
        day or later; otherwise the month before it is the last complete one.
        """
        span = self.order_span()
        if span is None:
            raise DataError(f"store {self.store} has no orders under {self.root}")
        return last_complete_month(span[1].date())

    def fingerprint(self) -> dict[str, dict[str, object]]:
        """SHA-256 and size of every file this store reads, keyed by path relative to root.

        A file at a URI is not read for this: its size and modification time
        (UTC, ISO 8601) stand in for the hash.
        """
        out: dict[str, dict[str, object]] = {}
        for table in self.tables():
            for f in self._files(table):
                key = f"{f.parent.name}/{f.name}" if _looks_per_store(f) else f.name
                if isinstance(f, StoredFile):
                    modified = dt.datetime.fromtimestamp(f.modified_ms / 1000, dt.UTC)
                    out[key] = {"bytes": f.bytes, "modified": modified.isoformat()}
                else:
                    out[key] = {"sha256": file_sha256(f), "bytes": f.stat().st_size}
        return out


def store_file(root: Location, table: str, store: str) -> str:
    """Where a store's file of ``table`` goes: ``<root>/<table>/<store>.parquet``."""
    if is_uri(root):
        return f"{str(root).rstrip('/')}/{table}/{store}.parquet"
    return str(Path(root) / table / f"{store}.parquet")


def _looks_per_store(path: WarehouseFile) -> bool:
    """``<table>/<store>.parquet`` files hold one store each; ``<table>.parquet`` is shared."""
    return path.parent.name in TABLES


def list_stores(root: Location, spark: Any = None) -> pd.DataFrame:
    """Stores found in the orders table, with row counts and first/last order (UTC).

    A URI ``root`` is read through ``spark`` (a Spark session).

    Returns
    -------
    pandas.DataFrame
        One row per store: ``store_id, orders, customers, first_order, last_order``
        (distinct registered customers in orders) plus ``<table>_rows`` per optional
        table (0 when absent).
    """
    if not is_uri(root):
        root = Path(root)
    files = table_files(root, "orders", spark)
    if not files:
        return pd.DataFrame(
            columns=["store_id", "orders", "customers", "first_order", "last_order"]
        )
    con = duckdb_connection()
    con.execute("SET TimeZone = 'UTC'")

    def read(files: list[WarehouseFile]) -> nw.LazyFrame:
        paths = [str(f) for f in files]
        if is_uri(root):
            return nw.from_native(spark.read.option("mergeSchema", "true").parquet(*paths))
        return nw.from_native(con.read_parquet(paths, union_by_name=True))

    summary = (
        read(files)
        .group_by("store_id")
        .agg(
            nw.len().alias("orders"),
            count_distinct(nw.col("customer_id")).alias("customers"),
            nw.col("ordered_at").min().alias("first_order"),
            nw.col("ordered_at").max().alias("last_order"),
        )
        .sort("store_id")
        .collect()
        .to_pandas()
    )
    for table in TABLES:
        if table == "orders":
            continue
        tfiles = table_files(root, table, spark)
        if not tfiles:
            summary[f"{table}_rows"] = 0
            continue
        counts = (
            read(tfiles)
            .group_by("store_id")
            .agg(nw.len().alias(f"{table}_rows"))
            .collect()
            .to_pandas()
        )
        summary = summary.merge(counts, on="store_id", how="left")
        summary[f"{table}_rows"] = summary[f"{table}_rows"].fillna(0).astype("int64")
    return summary


@dataclass(frozen=True)
class TableCheck:
    """One validated (store, table) pair and its row count."""

    store: str
    table: str
    rows: int


def validate_warehouse(root: Path, *, store: str | None = None) -> list[TableCheck]:
    """Validate every table file of the warehouse (or one store's) against the contract.

    Per-store files must hold only their own store's rows. Raises
    :class:`~analysis.errors.DataError` on the first problem (file, column,
    sample rows); returns the checks that passed.
    """
    from analysis.schema import validate_table

    root = Path(root)
    if store is not None:
        validate_store_name(store)
    if not table_files(root, "orders"):
        raise DataError(
            f"{root}: no orders table", hint="run `analysis demo-data` or ingest a store"
        )
    con = duckdb_connection()
    con.execute("SET TimeZone = 'UTC'")
    checks: list[TableCheck] = []
    for table in TABLES:
        for path in table_files(root, table):
            per_store = _looks_per_store(path)
            if store is not None and per_store and path.stem != store:
                continue
            lf = nw.from_native(con.read_parquet(str(path)))
            if store is not None and not per_store:
                lf = lf.filter(nw.col("store_id") == store)
            if per_store and "store_id" in lf.collect_schema():
                stray = (
                    lf.filter(nw.col("store_id") != path.stem).select("store_id").head(5).collect()
                )
                if len(stray):
                    raise DataError(
                        f"{path}: store_id: rows of another store in a per-store file, "
                        f"e.g. {stray['store_id'].to_list()}",
                        hint=f"a file named {path.name} holds only store {path.stem}",
                    )
            rows = validate_table(table, lf, source=str(path))
            label = path.stem if per_store else (store or "(all)")
            checks.append(TableCheck(label, table, rows))
    return checks
