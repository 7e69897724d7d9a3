"""Excel workbooks read as one :class:`~analysis.ingest.sources.Source`: every visible sheet.

The workbook is checked first (:func:`check_workbook`: zip size, text runs,
rows, merged cells) so a hostile or oversized file is refused before openpyxl
expands it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from analysis.errors import DataError
from analysis.ingest.sources import (
    EXCEL_MAX_ROW,
    SHEET_STRIDE,
    Progress,
    Source,
    WorkbookLimits,
    check_header_names,
)

if TYPE_CHECKING:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet


_MERGE = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?ref="([A-Za-z]+[0-9]+:[A-Za-z]+[0-9]+)"'
)


def read_excel(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    nulls: tuple[str, ...],
    wanted: str | None,
    progress: Progress | None,
    limits: WorkbookLimits,
) -> Source:
    """Visible sheets of an .xlsx file with the first one's header (or the sheet named).

    Cells become text (dates as ISO ``YYYY-MM-DD HH:MM:SS``, whole floats
    without ``.0``). Hidden sheets, and visible sheets whose header differs, are
    skipped and named in a status line. A merged range in the data rows is
    refused: its value sits in its first cell only and the other rows would
    read as empty.
    """
    import pyarrow as pa

    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - declared dependency
        raise DataError("reading .xlsx needs openpyxl", hint="run make setup") from None
    say = progress or (lambda _m: None)
    check_workbook(path, limits)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise DataError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        names = [ws.title for ws in book.worksheets]
        if wanted is not None:
            if wanted not in names:
                raise DataError(
                    f"{path}: no sheet {wanted!r}",
                    hint=f"the workbook's sheets: {', '.join(map(repr, names))}",
                )
            chosen = [book.worksheets[names.index(wanted)]]
        else:
            hidden = [ws.title for ws in book.worksheets if ws.sheet_state != "visible"]
            if hidden:
                say(f"skipped hidden sheet(s): {', '.join(map(repr, hidden))}")
            chosen = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
        header: list[str] | None = None
        cells: list[list[str | None]] = []
        lines: list[int] = []
        sheets: list[tuple[str, int]] = []
        for sheet in chosen:
            rows = sheet.iter_rows(values_only=True)
            first = next(rows, None)
            if first is None or all(v is None for v in first):
                say(f"skipped sheet {sheet.title!r}: empty")
                continue
            this = _excel_header(path, sheet.title, first)
            if header is None:
                header = this
                cells = [[] for _ in header]
            elif [h.casefold() for h in this] != [h.casefold() for h in header]:
                say(f"skipped sheet {sheet.title!r}: its header differs from {sheets[0][0]!r}'s")
                continue
            _refuse_merged(path, sheet, header)
            base = len(sheets) * SHEET_STRIDE
            n = _excel_rows(
                rows, len(header), nulls, cells, lines, base,
                _Place(path, sheet.title, header), limits, len(lines),
            )  # fmt: skip
            sheets.append((sheet.title, n))
            say(f"sheet {sheet.title!r}: {n:,} rows")
        if header is None:
            raise DataError(f"{path}: empty workbook (no header row)")
    finally:
        book.close()
    arrow = pa.table(
        {**{f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(cells)}, "__line": lines}
    )
    con.register(f"{name}__arrow", arrow)
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}__arrow")
    con.unregister(f"{name}__arrow")
    return Source(path, name, header, len(lines), "row", sheets=sheets)


def _excel_header(path: Path, sheet: str, row: tuple) -> list[str]:
    header = [str(v).strip() if v is not None else "" for v in row]
    while header and not header[-1]:
        header.pop()
    check_header_names(path, header, f"sheet {sheet!r}: ")
    return header


def _excel_rows(
    rows: Iterator[tuple],
    width: int,
    nulls: tuple[str, ...],
    cells: list[list[str | None]],
    lines: list[int],
    base: int,
    place: _Place,
    limits: WorkbookLimits,
    before: int,
) -> int:
    """Append a sheet's data rows (as text) to ``cells``; returns how many.

    ``before`` rows of earlier sheets count towards ``limits.max_rows``.
    """
    import datetime as dt

    skip = set(nulls)
    longest = limits.max_cell_chars

    def text(value: object, number: int, i: int) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.isoformat(sep=" ")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        out = str(value)
        if len(out) > longest:
            place.refuse_cell(number, i, len(out), longest)
        return None if out in skip or not out.strip() else out

    n = 0
    for number, row in enumerate(rows, start=2):
        if number > EXCEL_MAX_ROW:
            raise DataError(
                f"{place.path}: sheet {place.sheet!r}: a row numbered beyond {EXCEL_MAX_ROW:,}, "
                f"the last row a worksheet has: not a workbook Excel wrote, nothing written",
                hint="open the file in a spreadsheet and save it again, or export CSV",
            )
        values = list(row[:width]) + [None] * (width - len(row))
        if all(v is None for v in values):
            continue
        if before + n >= limits.max_rows:
            raise DataError(
                f"{place.path}: more than {limits.max_rows:,} data rows (at sheet "
                f"{place.sheet!r} row {number:,}), above ingest.max_rows, nothing written",
                hint="export CSV for files this large (read without this cap), or raise "
                "ingest.max_rows (rows of a workbook are held in memory while read)",
            )
        for i, value in enumerate(values):
            cells[i].append(text(value, number, i))
        lines.append(base + number)
        n += 1
    return n


@dataclass(frozen=True)
class _Place:
    """Where a workbook's cells come from, for messages."""

    path: Path
    sheet: str
    header: list[str]

    def refuse_cell(self, row: int, index: int, length: int, limit: int) -> None:
        from openpyxl.utils.cell import get_column_letter

        raise DataError(
            f"{self.path}: sheet {self.sheet!r} row {row:,} column {self.header[index]!r} "
            f"({get_column_letter(index + 1)}): a cell of {length:,} characters, above "
            f"ingest.max_cell_chars ({limit:,}), nothing written",
            hint="no export field is that long; check the file, or raise ingest.max_cell_chars",
        )


_TEXT_RUN_BYTES_PER_CHAR = 6
"""Most bytes one character of cell text takes in the sheet XML (``&quot;`` is 6)."""
_ZIP_CHUNK = 1 << 20


def check_workbook(path: Path, limits: WorkbookLimits) -> None:
    """Refuse a workbook that would unpack to more than the limits allow, before opening it.

    A 400 KB .xlsx can hold a 400 MiB cell (zip compresses repeated text ~1000:1) and
    openpyxl would build it in memory (4.3 GB measured). So the zip's declared
    uncompressed sizes are checked first, then every part is streamed once, in 1 MiB
    chunks, counting the bytes really unpacked (a zip may lie about sizes) and looking
    for a text run longer than ``max_cell_chars`` × 6 bytes (the longest a cell's text
    can be in XML). Cells under that but over ``max_cell_chars`` characters are caught
    while reading, with their sheet, row and column.

    Raises
    ------
    DataError
        Not a zip file, contents above ``max_mib``, or a cell's text too long.
    """
    import zipfile

    cap = limits.max_mib * 2**20
    run = limits.max_cell_chars * _TEXT_RUN_BYTES_PER_CHAR
    hint = (
        "raise ingest.max_workbook_mib / ingest.max_cell_chars if the file is real, or export CSV"
    )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    with archive:
        infos = archive.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > cap:
            raise DataError(
                f"{path}: unpacks to {declared / 2**20:,.0f} MiB ({path.stat().st_size:,} bytes "
                f"packed), above ingest.max_workbook_mib ({limits.max_mib:,} MiB), nothing written",
                hint=hint,
            )
        # cell text sits in the sheets and the shared strings; any other part (properties,
        # theme, media) may not hold a run over 1 MiB either, as openpyxl parses some of them
        cell_run = re.compile(rb"<[^<]{%d}" % run)
        other_run = re.compile(rb"<[^<]{%d}" % max(run, _ZIP_CHUNK))
        total = 0
        for info in infos:
            tail = b""
            holds_cells = info.filename.startswith("xl/worksheets/") or (
                info.filename == "xl/sharedStrings.xml"
            )
            long_run = cell_run if holds_cells else other_run
            keep = (run if holds_cells else max(run, _ZIP_CHUNK)) + 1  # a run across chunks
            try:
                with archive.open(info) as part:
                    while chunk := part.read(_ZIP_CHUNK):
                        total += len(chunk)
                        if total > cap:
                            raise DataError(
                                f"{path}: unpacks to more than {limits.max_mib:,} MiB (the "
                                f"zip declares {declared / 2**20:,.1f} MiB), above "
                                f"ingest.max_workbook_mib, nothing written",
                                hint=hint,
                            )
                        block = tail + chunk
                        found = long_run.search(block)
                        if found and holds_cells:
                            _refuse_run(path, info.filename, block, found.start(), limits)
                        if found:
                            raise DataError(
                                f"{path}: part {info.filename} holds a text run over "
                                f"{max(run, _ZIP_CHUNK) // 2**20:,} MiB: not a workbook an "
                                f"export wrote, nothing written",
                                hint=hint,
                            )
                        tail = block[-keep:]
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise DataError(f"{path}: not a readable .xlsx workbook ({exc})") from None


def _refuse_run(path: Path, part: str, block: bytes, start: int, limits: WorkbookLimits) -> None:
    """Raise for a text run of over ``max_cell_chars`` × 6 bytes in ``part`` at ``start``."""
    cell = block.rfind(b"<c ", 0, start)
    ref = re.search(rb'\br="([A-Z]+[0-9]+)"', block[cell : start + 1]) if cell >= 0 else None
    where = (
        f"cell {ref.group(1).decode()} of {part}"
        if ref is not None and "worksheets" in part
        else f"a text of {part}"
    )
    raise DataError(
        f"{path}: {where} is longer than {limits.max_cell_chars:,} characters, above "
        f"ingest.max_cell_chars, nothing written (a workbook bomb, or not an export)",
        hint="no export field is that long; check the file, or raise ingest.max_cell_chars",
    )


def _refuse_merged(path: Path, sheet: ReadOnlyWorksheet, header: list[str]) -> None:
    """Raise if a merged range covers data cells of the header's columns.

    openpyxl's read-only mode does not report merged cells; they are listed at
    the end of the sheet's XML (``<mergeCells>`` follows ``<sheetData>``), so
    the sheet is streamed once more and only that list is matched.
    """
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    found: list[str] = []
    tail = b""
    # _get_source (the sheet's XML stream) is private to openpyxl, so its stubs omit it
    with sheet._get_source() as src:  # type: ignore[attr-defined]
        while chunk := src.read(1 << 20):
            block = tail + chunk
            found += [m.decode() for m in _MERGE.findall(block)]
            tail = block[-256:]
            # a match inside the overlap is found twice; dedupe below
    bad = []
    for ref in dict.fromkeys(found):
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_col is None or min_row is None or max_col is None or max_row is None:
            continue  # a merged range names cells ("A2:A9"), never whole rows or columns
        if max_row >= 2 and min_col <= len(header) and (max_row > min_row or max_col > min_col):
            bad.append((ref, header[min_col - 1] or get_column_letter(min_col)))
    if bad:
        shown = ", ".join(f"{ref} (column {col!r})" for ref, col in bad[:5])
        raise DataError(
            f"{path}: sheet {sheet.title!r}: {len(bad)} merged cell range(s) in the data, "
            f"nothing written — {shown}: a merged range keeps its value in its first cell "
            f"only, so the other rows would read as empty",
            hint="unmerge the cells and fill every row (Excel: Home → Merge & Center off, "
            "then Go To Special → Blanks, =cell above)",
        )
