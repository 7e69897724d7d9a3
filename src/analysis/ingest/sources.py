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
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analysis.errors import DataError

Progress = Callable[[str], None]

_HEADER_BYTES = 1 << 20
_OTHER_DELIMITERS = (";", "\t", "|", ",")


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
    """

    path: Path
    table: str
    columns: list[str]
    rows: int
    where: str = "line"
    structural: list[StructuralReject] = field(default_factory=list)

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


def quote_literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def read_source(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    scratch: Path,
    progress: Progress | None = None,
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

    Raises
    ------
    DataError
        Missing, empty or header-only file, unreadable header, unknown type.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        source = _read_parquet(con, path, name)
    elif suffix in (".xlsx", ".xlsm"):
        source = _read_excel(con, path, name)
    elif suffix in (".csv", ".txt", ".tsv", ""):
        source = _read_csv(con, path, name, encoding, delimiter, scratch, progress)
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
        f"columns = {{{columns}}}, store_rejects = true, "
        f"rejects_table = '{name}__rej', rejects_scan = '{name}__scan')"
    )
    rejects = con.execute(
        f"SELECT line, error_type, error_message, csv_line FROM {name}__rej ORDER BY line"
    ).fetchall()
    structural = [
        StructuralReject(int(line), _why_structural(kind, message, encoding), str(text or ""))
        for line, kind, message, text in rejects
    ]
    rows = con.execute(f"SELECT count(*) FROM {raw}").fetchone()[0]
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
        head = fh.read(_HEADER_BYTES)
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
    blank = [str(i + 1) for i, h in enumerate(header) if not h]
    if blank and len(header) > 1:
        raise DataError(
            f"{original}: header: column(s) {', '.join(blank)} have no name", hint=f"header: {text}"
        )
    doubled = sorted({h for h in header if header.count(h) > 1})
    if doubled:
        raise DataError(f"{original}: header: column name(s) {doubled} appear more than once")
    if len(header) == 1:
        guess = next((d for d in _OTHER_DELIMITERS if d != delimiter and d in text), None)
        if guess is not None:
            raise DataError(
                f"{original}: header has one column {header[0]!r} with the delimiter "
                f"{delimiter!r}; the file looks {guess!r}-delimited",
                hint=f"set ingest.delimiter: {guess!r} in params/stores/<store>.yaml",
            )
    return header


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


# --------------------------------------------------------------------------- Excel, Parquet


def _read_excel(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> Source:
    """First sheet of an .xlsx file; cells become text (dates as ISO ``YYYY-MM-DD HH:MM:SS``)."""
    import datetime as dt

    import pyarrow as pa

    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - declared dependency
        raise DataError("reading .xlsx needs openpyxl", hint="run make setup") from None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise DataError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None or all(v is None for v in header_row):
            raise DataError(f"{path}: empty workbook (no header row)")
        header = [str(v).strip() if v is not None else "" for v in header_row]
        while header and not header[-1]:
            header.pop()
        doubled = sorted({h for h in header if h and header.count(h) > 1})
        if doubled:
            raise DataError(f"{path}: header: column name(s) {doubled} appear more than once")

        def text(value: object) -> str | None:
            if value is None:
                return None
            if isinstance(value, dt.datetime):
                return value.isoformat(sep=" ")
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            out = str(value)
            return out if out.strip() else None

        width = len(header)
        cells: list[list[str | None]] = [[] for _ in range(width)]
        lines: list[int] = []
        for number, row in enumerate(rows, start=2):
            values = list(row[:width]) + [None] * (width - len(row))
            if all(v is None for v in values):
                continue
            for i, value in enumerate(values):
                cells[i].append(text(value))
            lines.append(number)
    finally:
        book.close()
    arrow = pa.table(
        {**{f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(cells)}, "__line": lines}
    )
    con.register(f"{name}__arrow", arrow)
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}__arrow")
    con.unregister(f"{name}__arrow")
    return Source(path, name, header, len(lines), "row")


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> Source:
    try:
        rel = con.read_parquet(str(path), file_row_number=True)
    except duckdb.Error as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    header = [c for c in rel.columns if c != "file_row_number"]
    select = ", ".join(f"CAST({_ident(c)} AS VARCHAR) AS c{i}" for i, c in enumerate(header))
    con.execute(
        f"CREATE TEMP TABLE {name} AS SELECT {select}, file_row_number + 1 AS __line "
        f"FROM read_parquet({quote_literal(str(path))}, file_row_number = true)"
    )
    rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    return Source(path, name, header, rows, "row")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
