"""Read one export file into a DuckDB temp table of text columns, with line numbers.

Every reader ends in the same shape: a table whose columns are ``c0, c1, …``
(all ``VARCHAR``, empty cells are NULL) plus ``__line``, the place of the row
in the file as a person would find it (CSV: the text line, the header being
line 1; Excel: the spreadsheet row, the header being row 1; Parquet: the row,
counting from 1). Values are parsed later, by :mod:`analysis.ingest.checks`,
so that a bad value becomes a row-level error with its line and not a reader
crash.

CSV files are read by DuckDB's ``read_csv`` with everything declared (header,
delimiter, quote, column names and types) and no sniffing; lines DuckDB cannot
split (wrong number of fields, unterminated quotes, invalid UTF-8) are caught
with ``store_rejects`` and reported with their line numbers. Encodings other
than UTF-8 are transcoded to a temporary UTF-8 copy first (DuckDB's own
``encodings`` extension is downloaded at run time, which this project avoids).

Missing values: an empty cell, and a cell whose text is exactly one of
``ingest.null_values`` (``NA``, ``NULL``, ``None``, ``nan``, ``#N/A`` by
default; CSV: DuckDB's ``nullstr``, free while parsing), is NULL in every format. A workbook is read sheet
by sheet (every visible sheet with the first one's header, or the one named);
a row's ``__line`` is then ``sheet index × SHEET_STRIDE + row`` (:mod:`analysis.ingest.workbooks`).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from analysis.config import NULL_VALUES
from analysis.errors import DataError

Progress = Callable[[str], None]

_HEADER_BYTES = 1 << 20
_OTHER_DELIMITERS = (";", "\t", "|", ",")

MAX_HEADER_CHARS = 256
"""Longest column name accepted (a 2 MB "name" is a broken file, not a header)."""

SHEET_STRIDE = 10_000_000
"""``__line`` of a workbook row = sheet index × this + row (a sheet has at most 1,048,576 rows)."""
ROW_NAMES = "(row names)"
"""Name given to an unnamed first CSV column (R's ``write.csv`` row numbers); never read."""


@dataclass(frozen=True)
class WorkbookLimits:
    """Caps on what an .xlsx file may unpack to (``ingest.max_*`` params).

    Attributes
    ----------
    max_mib
        Uncompressed size of the workbook's contents, MiB: the sizes the zip declares
        and the bytes actually unpacked.
    max_rows
        Data rows read from the workbook, all sheets together.
    max_cell_chars
        Characters in one cell's text.
    """

    max_mib: int = 1024
    max_rows: int = 2_000_000
    max_cell_chars: int = 32_767


EXCEL_MAX_ROW = 1_048_576
"""The last row a worksheet can have; a row number beyond it is not Excel's."""


@dataclass(frozen=True)
class StructuralReject:
    """A line the CSV reader could not split into the header's columns."""

    line: int
    why: str
    text: str


@dataclass
class Source:
    """One file, read into a DuckDB temp table of text columns.

    Attributes
    ----------
    path
        The file as given.
    table
        Temp table holding ``c0 … cN`` (VARCHAR) and ``__line``.
    columns
        Source column names in file order; ``columns[i]`` is held in ``c{i}``.
    rows
        Rows read (without structural rejects).
    where
        What a row's place is called in messages: ``line`` or ``row``.
    structural
        Lines the CSV reader rejected (wrong field count, bad quoting, bad bytes).
    sheets
        Workbook only: the sheets read, in order, with their data rows.
    """

    path: Path
    table: str
    columns: list[str]
    rows: int
    where: str = "line"
    structural: list[StructuralReject] = field(default_factory=list)
    sheets: list[tuple[str, int]] = field(default_factory=list)

    def locate(self, line: int) -> str:
        """How a person finds ``__line``: ``line 3``, ``row 3``, or ``sheet 'X' row 3``."""
        if len(self.sheets) > 1:
            index, row = divmod(int(line), SHEET_STRIDE)
            return f"sheet {self.sheets[index][0]!r} row {row}"
        return f"{self.where} {line}"

    def locate_sql(self, line: str) -> list[tuple[str, str]]:
        """SQL columns (name, expression) placing ``line`` in the file, for rejected-row files."""
        if len(self.sheets) > 1:
            names = ", ".join(quote_literal(n) for n, _ in self.sheets)
            return [
                ("sheet", f"[{names}][CAST({line} // {SHEET_STRIDE} AS BIGINT) + 1]"),
                ("row", f"{line} % {SHEET_STRIDE}"),
            ]
        return [(self.where, line)]

    def column(self, name: str) -> str:
        """SQL name (``c3``) of a source column."""
        return f"c{self.columns.index(name)}"

    def find(self, name: str) -> str | None:
        """The source column whose trimmed, case-folded name equals ``name``'s, if any."""
        wanted = name.strip().casefold()
        for col in self.columns:
            if col.strip().casefold() == wanted:
                return col
        return None


def check_regular_file(path: Path) -> None:
    """Raise unless ``path`` is a regular file (a directory or FIFO is not "no such file").

    Raises
    ------
    DataError
        ``path`` does not exist, or is a directory, FIFO, socket or device.
    """
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a socket or device"
        )
        raise DataError(f"{path}: not a regular file ({kind})", hint="give the export file itself")


def quote_literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def one_row(
    con: duckdb.DuckDBPyConnection, sql: str, parameters: list[object] | None = None
) -> tuple[Any, ...]:
    """The first row of ``sql``: an aggregate's, or the row count of INSERT/UPDATE/DELETE.

    Raises
    ------
    RuntimeError
        The statement returned no row (never for an aggregate or a DuckDB DML statement).
    """
    row = con.execute(sql, parameters).fetchone()
    if row is None:
        raise RuntimeError(f"no row from {sql!r}")
    return row


def count_rows(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """Number of rows of a table, view or subquery ``relation``."""
    return int(one_row(con, f"SELECT count(*) FROM {relation}")[0])


def _cleaned(expr: str, alias: str, nulls: tuple[str, ...]) -> str:
    """``expr`` as text, NULL when it is one of ``nulls`` (exactly, as a CSV's ``nullstr``)."""
    words = ", ".join(quote_literal(n) for n in nulls)
    return f"CASE WHEN {expr} IN ({words}) THEN NULL ELSE {expr} END AS {alias}"


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    scratch: Path,
    progress: Progress | None = None,
    null_values: tuple[str, ...] | list[str] = NULL_VALUES,
    sheet: str | None = None,
    limits: WorkbookLimits | None = None,
) -> Source:
    """Read ``path`` (``.csv``/``.txt``/``.tsv``, ``.xlsx``, ``.parquet``) into temp table ``name``.

    Parameters
    ----------
    con
        DuckDB connection that will own the temp table.
    path
        The export file.
    name
        Name of the temp table to create.
    encoding
        Text encoding of a CSV file (Python codec name; ``utf-8`` accepts a BOM).
    delimiter
        CSV field separator; never guessed.
    scratch
        Folder for a transcoded copy (non-UTF-8 CSV).
    progress
        Called with one-line status messages.
    null_values
        Cell texts (trimmed, compared exactly) that mean "missing"; empty is always missing.
    sheet
        Workbook only: read this sheet; default every visible sheet whose header
        equals the first visible sheet's.
    limits
        Workbook only: caps on unpacked size, rows and cell length (defaults:
        :class:`WorkbookLimits`).

    Raises
    ------
    DataError
        Missing, empty or header-only file, unreadable header, unknown type,
        merged cells in a workbook's data, nested Parquet columns.
    """
    path = Path(path)
    check_regular_file(path)
    suffix = path.suffix.lower()
    nulls = tuple(dict.fromkeys(("", *null_values)))
    if sheet is not None and suffix not in (".xlsx", ".xlsm"):
        raise DataError(f"{path}: --sheet applies to .xlsx workbooks only")
    if suffix in (".parquet", ".pq"):
        source = _read_parquet(con, path, name, nulls)
    elif suffix in (".xlsx", ".xlsm"):
        from analysis.ingest.workbooks import read_excel

        source = read_excel(con, path, name, nulls, sheet, progress, limits or WorkbookLimits())
    elif suffix in (".csv", ".txt", ".tsv", ""):
        source = _read_csv(con, path, name, encoding, delimiter, scratch, progress, nulls)
    else:
        raise DataError(
            f"{path}: unsupported file type {suffix!r}",
            hint="ingest reads .csv, .xlsx and .parquet files",
        )
    if source.rows == 0 and not source.structural:
        raise DataError(
            f"{path}: header only, no data rows", hint="export again with the rows included"
        )
    return source


# --------------------------------------------------------------------------- CSV


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    encoding: str,
    delimiter: str,
    scratch: Path,
    progress: Progress | None,
    nulls: tuple[str, ...],
) -> Source:
    if path.stat().st_size == 0:
        raise DataError(
            f"{path}: empty file (0 bytes)", hint="export again; the file has no header"
        )
    utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    readable = path if utf8 else _transcode(path, encoding, scratch, progress)
    header = _read_header(readable, path, delimiter, encoding if not utf8 else "utf-8")
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header)))
    raw = f"{name}__raw"
    quote = quote_literal(delimiter)
    con.execute(
        f"CREATE TEMP TABLE {raw} AS SELECT * FROM read_csv({quote_literal(str(readable))}, "
        f"header = true, auto_detect = false, delim = {quote}, quote = '\"', escape = '\"', "
        f"columns = {{{columns}}}, nullstr = [{', '.join(map(quote_literal, nulls))}], "
        f"store_rejects = true, "
        f"rejects_table = '{name}__rej', rejects_scan = '{name}__scan')"
    )
    rejects = con.execute(
        f"SELECT line, error_type, error_message, csv_line FROM {name}__rej ORDER BY line"
    ).fetchall()
    structural = [
        StructuralReject(int(line), _why_structural(kind, message, encoding), str(text or ""))
        for line, kind, message, text in rejects
    ]
    rows = count_rows(con, raw)
    if not structural:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT *, rowid + 2 AS __line FROM {raw}")
    else:
        # Accepted rows are the lines 2.. that were not rejected, in order
        # (one line per record; a quoted cell spanning lines shifts later numbers).
        last = rows + len({r.line for r in structural}) + 1
        con.execute(
            f"CREATE TEMP TABLE {name} AS "
            f"WITH good AS (SELECT range AS line, row_number() OVER (ORDER BY range) - 1 AS rid "
            f"FROM range(2, {last + 1}) WHERE range NOT IN (SELECT line FROM {name}__rej)) "
            f"SELECT r.*, good.line AS __line FROM (SELECT *, rowid AS __rid FROM {raw}) r "
            f"JOIN good ON good.rid = r.__rid"
        )
        con.execute(f"ALTER TABLE {name} DROP COLUMN __rid")
    con.execute(f"DROP TABLE {raw}")
    return Source(path, name, header, rows, "line", structural)


def _why_structural(kind: str, message: str, encoding: str) -> str:
    if kind == "INVALID ENCODING":
        return f"bytes that are not valid {encoding}"
    if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        return f"wrong number of fields ({message})"
    if kind == "UNQUOTED VALUE":
        return "unterminated or stray quote"
    return f"{kind.lower()}: {message}"


def _read_header(readable: Path, original: Path, delimiter: str, encoding: str) -> list[str]:
    with readable.open("rb") as fh:
        head = fh.read(_HEADER_BYTES + 1)
    if len(head) > _HEADER_BYTES and b"\n" not in head[:_HEADER_BYTES]:
        raise DataError(
            f"{original}: line 1 (header) is longer than {_HEADER_BYTES // 2**20} MiB: "
            f"not an export's header ({head[:40]!r}…)",
            hint="check that this is the export file, with one header line of column names",
        )
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{original}: line 1 (header): bytes that are not valid {encoding} "
            f"at byte {exc.start}: {first[max(0, exc.start - 10) : exc.start + 10]!r}",
            hint="declare the file's encoding with ingest.encoding (e.g. cp874 for Thai Windows)",
        ) from None
    if not text.strip():
        raise DataError(f"{original}: empty file (no header line)")
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [h.strip() for h in header]
    if len(header) > 1 and not header[0] and all(header[1:]):
        header[0] = ROW_NAMES  # R's write.csv: an unnamed first column of row numbers
    blank = [str(i + 1) for i, h in enumerate(header) if not h]
    if blank and len(header) > 1:
        raise DataError(
            f"{original}: header: column(s) {', '.join(blank)} have no name", hint=f"header: {text}"
        )
    check_header_names(original, header)
    if len(header) == 1:
        guess = next((d for d in _OTHER_DELIMITERS if d != delimiter and d in text), None)
        if guess is not None:
            raise DataError(
                f"{original}: header has one column {header[0]!r} with the delimiter "
                f"{delimiter!r}; the file looks {guess!r}-delimited",
                hint=f"set ingest.delimiter: {guess!r} in params/stores/<store>.yaml",
            )
    return header


def check_header_names(path: Path | str, header: list[str], where: str = "") -> None:
    """Refuse column names longer than :data:`MAX_HEADER_CHARS` and names given twice.

    Names are compared as they are matched (trimmed, case-insensitively), so a header
    with both ``Revenue`` and ``revenue `` is refused instead of the first one silently
    being taken.
    """
    long = [(i + 1, h) for i, h in enumerate(header) if len(h) > MAX_HEADER_CHARS]
    if long:
        shown = ", ".join(f"column {i} ({len(h):,} characters, {h[:20]!r}…)" for i, h in long[:3])
        raise DataError(
            f"{path}: {where}header: column name(s) longer than {MAX_HEADER_CHARS} "
            f"characters — {shown}",
            hint="check that the first line is the header of the export",
        )
    seen: dict[str, list[str]] = {}
    for h in header:
        if h.strip():
            seen.setdefault(h.strip().casefold(), []).append(h)
    doubled = sorted({names[0] for names in seen.values() if len(names) > 1})
    if doubled:
        spelled = [names for names in seen.values() if len(names) > 1 and len(set(names)) > 1]
        also = (
            " (as "
            + "; ".join(", ".join(repr(n) for n in names) for names in spelled)
            + ": names are matched trimmed and case-insensitively)"
            if spelled
            else ""
        )
        raise DataError(
            f"{path}: {where}header: column name(s) {doubled} appear more than once{also}",
            hint="rename or drop the extra column so each name says which one to read",
        )


def _transcode(path: Path, encoding: str, scratch: Path, progress: Progress | None) -> Path:
    """Stream ``path`` from ``encoding`` into a UTF-8 copy; a bad byte names its line."""
    if progress:
        progress(f"transcoding {path.name} from {encoding} to UTF-8")
    target = scratch / f"{path.stem}.utf8.csv"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 1
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as out:
        while chunk := src.read(1 << 20):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines + chunk[: exc.start].count(b"\n")
                raise DataError(
                    f"{path}: line {line}: bytes that are not valid {encoding}: "
                    f"{chunk[max(0, exc.start - 10) : exc.start + 10]!r}",
                    hint="check ingest.encoding in params/stores/<store>.yaml",
                ) from None
            lines += chunk.count(b"\n")
            out.write(text)
        out.write(decoder.decode(b"", final=True))
    return target


# --------------------------------------------------------------------------- Parquet

_NESTED = ("STRUCT", "MAP", "UNION", "[]", "LIST", "ARRAY")


def _read_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, nulls: tuple[str, ...]
) -> Source:
    try:
        rel = con.read_parquet(str(path), file_row_number=True)
    except duckdb.Error as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    types = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
    header = [c for c in rel.columns if c != "file_row_number"]
    check_header_names(path, header)
    nested = [c for c in header if any(k in types[c].upper() for k in _NESTED)]
    if nested:
        raise DataError(
            f"{path}: nested column(s) {', '.join(f'{c!r} ({types[c]})' for c in nested)}: "
            f"a list or struct is not one value, and its text would be read as one",
            hint="flatten the file (one column per field, one row per item) or drop those columns",
        )
    select = ", ".join(
        _cleaned(f"CAST({_ident(c)} AS VARCHAR)", f"c{i}", nulls) for i, c in enumerate(header)
    )
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT {select}, file_row_number + 1 AS __line "
        f"FROM read_parquet({quote_literal(str(path))}, file_row_number = true)"
    )
    rows = count_rows(con, name)
    return Source(path, name, header, rows, "row")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
