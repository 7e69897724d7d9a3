"""Parse text columns into canonical types and check every row, in DuckDB SQL.

A *stage* takes a relation (text values plus ``__line``), a list of
:class:`Field` (what each output column is, and the SQL that gives its raw
value) and produces a typed temp table. Every rule — a value that does not
parse, a required value that is missing, a date in the future, a duplicate
key — is a :class:`Check`: a SQL condition on that table. :func:`split` counts
all checks in one pass and then either

- raises a :class:`~analysis.errors.DataError` naming the file, each failing
  column, how many rows fail and the first few lines with their values
  (strict, the default), or
- keeps the valid rows and returns the rejected ones with a ``reason``
  (``--quarantine``).

Nothing here writes to the warehouse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from analysis.errors import DataError
from analysis.ingest.sources import one_row, quote_literal
from analysis.schema import TABLES, Kind

MAX_AMOUNT = 1e12
"""Largest magnitude accepted for a money or count value (a trillion in the store's currency)."""
EARLIEST = "1970-01-01"
"""Dates before this are taken as a broken export (Excel's day zero is 1899/1900)."""
SAMPLE = 5
"""Offending lines quoted per failing check."""

FORMULA_START = r"^[=+\-@\t\r]"
"""Text a spreadsheet may run as a formula starts with one of ``= + - @``, tab or CR (OWASP's
CSV-injection list)."""
PLAIN_NUMBER = r"^[+-][0-9.][0-9 .,()/-]*$"
"""A sign followed only by digits, spaces and ``. , ( ) / -`` (``-5``, ``+66 81 234 5678``,
``-1,234.50``): no letter, ``|`` or ``!``, so no function, DDE call or reference can run."""


def formula_sql(expr: str) -> str:
    """SQL: true when the text ``expr`` would be a live spreadsheet formula.

    OWASP's guidance (CSV injection) is that no cell may start with ``= + - @``, tab
    or CR. The one exception kept is a sign before a plain number or phone number
    (:data:`PLAIN_NUMBER`), which a spreadsheet can only read as arithmetic on
    digits: ``-1+1+cmd|' /C calc'!A0`` and ``-1+HYPERLINK(…)`` are formulas.
    """
    return (
        f"(regexp_matches({expr}, {quote_literal(FORMULA_START)}) "
        f"AND NOT regexp_matches({expr}, {quote_literal(PLAIN_NUMBER)}))"
    )


def inert_sql(expr: str) -> str:
    """SQL: the text ``expr`` made inert for a CSV opened in a spreadsheet (``'`` prefixed)."""
    return f"CASE WHEN {formula_sql(expr)} THEN chr(39) || {expr} ELSE {expr} END"


def inert_text(text: str) -> str:
    """``text`` (a header, a reason) with ``'`` prefixed when a spreadsheet would run it."""
    if re.match(FORMULA_START, text) and not re.match(PLAIN_NUMBER, text):
        return "'" + text
    return text


MAX_STORE_CHARS = 64
"""Longest store id ingest creates (it becomes file names: ``<table>/<store>.parquet``)."""
RESERVED_NAMES = r"(con|prn|aux|nul|com[0-9]|lpt[0-9])"
"""Windows device names: a file called ``con.parquet`` cannot be created or copied there."""


def store_id_problems_sql(expr: str) -> list[tuple[str, str]]:
    """(why, SQL condition) pairs that make the text ``expr`` unusable as a store id."""
    return [
        ("not a valid store id ([a-z0-9][a-z0-9_-]*)",
         f"NOT regexp_full_match({expr}, '[a-z0-9][a-z0-9_-]*')"),
        (f"a store id longer than {MAX_STORE_CHARS} characters",
         f"length({expr}) > {MAX_STORE_CHARS}"),
        ("a reserved device name (CON, NUL, COM1, …) as a store id",
         f"regexp_full_match({expr}, {quote_literal(RESERVED_NAMES)})"),
    ]  # fmt: skip


ISO_NAIVE = r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
"""An ISO 8601 date or date-time without an offset, as exports write it."""
MAX_OFFSET_MINUTES = 14 * 60
"""The largest UTC offset in use (Kiribati, +14:00); ``+25:00`` shifts a date by days."""

_OFFSET = (
    r"^(\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*"
    r"(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
)
"""An ISO date-time followed by a UTC offset (``+07:00``, ``+0700``, ``+07``, ``Z``)."""


@dataclass(frozen=True)
class Field:
    """One output column of a stage.

    Attributes
    ----------
    name
        Output column name (canonical name in a contract stage).
    kind
        Target kind (:data:`analysis.schema.Kind`).
    raw
        SQL expression over the input giving the raw value (VARCHAR), or the
        typed value when ``typed`` is true.
    label
        What messages call the column (the source column's own name).
    formats
        strptime formats for dates/timestamps; empty means ISO 8601.
    typed
        ``raw`` already has the target type (aggregated values): no parsing.
    """

    name: str
    kind: Kind
    raw: str
    label: str
    formats: tuple[str, ...] = ()
    typed: bool = False


@dataclass(frozen=True)
class Check:
    """A rule: rows where ``condition`` (SQL over the stage table) holds are bad."""

    label: str
    why: str
    condition: str
    value: str


@dataclass
class Stage:
    """A typed stage table and the checks that apply to it."""

    table: str
    fields: list[Field]
    checks: list[Check] = field(default_factory=list)


@dataclass
class Outcome:
    """What :func:`split` kept and rejected."""

    valid: str
    rows_in: int
    rejected: int
    rejected_table: str | None
    summary: list[tuple[str, str, int]]


SQL_TYPE: dict[str, str] = {
    "id": "VARCHAR",
    "string": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}


def ident(name: str) -> str:
    """Quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _raw(f: Field) -> str:
    return ident(f"{f.name}__raw")


def _typed_sql(f: Field, timezone: str) -> tuple[str, str | None]:
    """SQL giving the typed value from the ``__raw`` column, and for timestamps the offset flag."""
    r = _raw(f)
    zone = quote_literal(timezone)
    if f.kind == "id":
        # 7, 7.0 and 7.00 are one id, whatever format wrote it (Excel, pandas, Parquet doubles)
        return (
            f"CASE WHEN ends_with({r}, '0') AND contains({r}, '.') "
            f"THEN regexp_replace({r}, '^([0-9]+)\\.0+$', '\\1') ELSE {r} END",
            None,
        )
    if f.kind == "string":
        return r, None
    if f.kind == "number":
        return f"TRY_CAST({r} AS DOUBLE)", None
    if f.kind == "integer":
        d = f"TRY_CAST({r} AS DOUBLE)"
        return (
            f"CASE WHEN isfinite({d}) AND {d} = floor({d}) AND abs({d}) <= 9e15 "
            f"THEN CAST({d} AS BIGINT) END",
            None,
        )
    if f.kind == "boolean":
        low = f"lower({r})"
        return (
            f"CASE WHEN {low} IN ('true','t','yes','y','1') THEN true "
            f"WHEN {low} IN ('false','f','no','n','0') THEN false END",
            None,
        )
    if f.kind == "date":
        if f.formats:
            return f"CAST(try_strptime({r}, {_fmt_list(f.formats)}) AS DATE)", None
        return (
            f"CASE WHEN regexp_full_match({r}, {quote_literal(ISO_NAIVE)}) "
            f"THEN TRY_CAST({r} AS DATE) END",
            None,
        )
    # timestamp
    if f.formats:
        aware = [x for x in f.formats if "%z" in x or "%Z" in x]
        naive = [x for x in f.formats if x not in aware]
        parts = []
        if aware:
            parts.append(f"try_strptime({r}, {_fmt_list(aware)})")
        if naive:
            parts.append(f"timezone({zone}, {local_sql(f)})")
        flag = (
            f"CASE WHEN {r} IS NULL THEN NULL ELSE {parts[0]} IS NOT NULL END"
            if aware
            else (f"CASE WHEN {r} IS NULL THEN NULL ELSE false END")
        )
        return (parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"), flag
    pattern, norm = _offset_sql(r)
    has_off = f"regexp_full_match({r}, {pattern})"
    value = (
        f"CASE WHEN {has_off} THEN CASE WHEN {offset_ok_sql(norm)} THEN "
        f"TRY_CAST(regexp_extract({r}, {pattern}, 1) || {norm} AS TIMESTAMPTZ) END "
        f"ELSE timezone({zone}, {local_sql(f)}) END"
    )
    return value, f"CASE WHEN {r} IS NULL THEN NULL ELSE {has_off} END"


def _offset_sql(r: str) -> tuple[str, str]:
    """SQL for the raw text ``r``: the offset pattern literal, and its offset written
    as ``+HH:MM`` (``Z``/``UTC``/``GMT`` → ``+00:00``, ``+07`` → ``+07:00``, ``+0700`` →
    ``+07:00``)."""
    pattern = quote_literal(_OFFSET)
    off = f"regexp_extract({r}, {pattern}, 2)"
    norm = (
        f"CASE WHEN {off} IN ('Z','UTC','GMT') THEN '+00:00' "
        f"WHEN length({off}) = 3 THEN {off} || ':00' "
        f"WHEN length({off}) = 5 THEN left({off}, 3) || ':' || right({off}, 2) "
        f"ELSE {off} END"
    )
    return pattern, norm


def offset_ok_sql(norm: str) -> str:
    """SQL: the ``+HH:MM`` offset ``norm`` is a real one (minutes < 60, at most ±14:00)."""
    hours = f"TRY_CAST(substr({norm}, 2, 2) AS INTEGER)"
    minutes = f"TRY_CAST(substr({norm}, 5, 2) AS INTEGER)"
    return f"({minutes} < 60 AND {hours} * 60 + {minutes} <= {MAX_OFFSET_MINUTES})"


def bad_offset_sql(f: Field) -> str | None:
    """SQL: the raw timestamp carries an offset outside ±14:00 (``+25:00``, ``+99:99``)."""
    if f.kind != "timestamp" or f.formats or f.typed:
        return None
    r = _raw(f)
    pattern, norm = _offset_sql(r)
    return f"(regexp_full_match({r}, {pattern}) AND NOT {offset_ok_sql(norm)})"


def local_sql(f: Field) -> str:
    """SQL: the local wall time of a timestamp written without an offset (NULL otherwise).

    ISO values must look like ISO (:data:`ISO_NAIVE`): DuckDB's own parser also takes
    ``2024-01-05 10:00 BC`` (a year BC) and other forms an export does not mean.
    """
    r = _raw(f)
    if f.formats:
        naive = [x for x in f.formats if "%z" not in x and "%Z" not in x]
        return f"try_strptime({r}, {_fmt_list(naive)})" if naive else "CAST(NULL AS TIMESTAMP)"
    return (
        f"CASE WHEN regexp_full_match({r}, {quote_literal(ISO_NAIVE)}) "
        f"THEN TRY_CAST({r} AS TIMESTAMP) END"
    )


def _fmt_list(formats: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(quote_literal(x) for x in formats) + "]"


def build_stage(
    con: duckdb.DuckDBPyConnection,
    source: str,
    fields: list[Field],
    out: str,
    *,
    timezone: str,
    key: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
) -> Stage:
    """Create temp table ``out`` from relation ``source`` and return it with its parse checks.

    The table holds ``__line``, each field's typed value under its name, its
    raw text under ``<name>__raw``, for timestamps ``<name>__off`` (true when
    the value carried a UTC offset) and, with ``key``, ``__dups`` (rows sharing
    the key). ``extra`` columns of the source are carried along unchanged.
    """
    raw_cols = []
    for f in fields:
        expr = f"CAST({f.raw} AS VARCHAR)" if f.typed else f"nullif(trim({f.raw}), '')"
        raw_cols.append(f"{expr} AS {_raw(f)}")
        if f.typed:
            raw_cols.append(f"{f.raw} AS {ident(f.name + '__typed')}")
    inner = ", ".join(["__line", *raw_cols, *[ident(e) for e in extra]])
    typed_cols = []
    for f in fields:
        if f.typed:
            typed_cols.append(f"{ident(f.name + '__typed')} AS {ident(f.name)}")
            continue
        value, flag = _typed_sql(f, timezone)
        typed_cols.append(f"{value} AS {ident(f.name)}")
        if flag is not None:
            typed_cols.append(f"{flag} AS {ident(f.name + '__off')}")
            bad = bad_offset_sql(f)
            typed_cols.append(f"{bad or 'false'} AS {ident(f.name + '__badoff')}")
            typed_cols.append(f"{local_sql(f)} AS {ident(f.name + '__local')}")
    raws = [_raw(f) for f in fields]
    middle = ", ".join(["__line", *typed_cols, *raws, *[ident(e) for e in extra]])
    dups = ""
    if key:
        keys = ", ".join(ident(k) for k in key)
        not_null = " AND ".join(f"{ident(k)} IS NOT NULL" for k in key)
        dups = f", CASE WHEN {not_null} THEN count(*) OVER (PARTITION BY {keys}) END AS __dups"
    con.execute(
        f"CREATE TEMP TABLE {out} AS SELECT *{dups} FROM "
        f"(SELECT {middle} FROM (SELECT {inner} FROM {source}))"
    )
    checks: list[Check] = []
    for f in fields:
        if f.typed:
            continue
        n, r = ident(f.name), _raw(f)
        why = {
            "number": "not a number",
            "integer": "not a whole number",
            "boolean": "not true/false",
            "date": "not a date"
            + (f" in format {list(f.formats)}" if f.formats else " (YYYY-MM-DD)"),
            "timestamp": "not a date/time"
            + (f" in format {list(f.formats)}" if f.formats else " (ISO 8601)"),
        }.get(f.kind)
        if f.kind == "timestamp":
            badoff, local = ident(f.name + "__badoff"), ident(f.name + "__local")
            checks.append(
                Check(f.label, "a UTC offset outside ±14:00 (no zone is that far from UTC)",
                      badoff, r)
            )  # fmt: skip
            checks.append(
                Check(f.label, f"a local time that does not exist in {timezone} "
                      "(skipped by a daylight-saving change)",
                      f"{local} IS NOT NULL AND {n} IS NOT NULL "
                      f"AND timezone({quote_literal(timezone)}, {n}) <> {local}", r)
            )  # fmt: skip
        if why is not None:
            cond = f"{r} IS NOT NULL AND {n} IS NULL"
            if f.kind == "timestamp":
                cond += f" AND NOT {ident(f.name + '__badoff')}"
            checks.append(Check(f.label, why, cond, r))
        if f.kind == "timestamp":
            off = ident(f.name + "__off")
            checks.append(
                Check(
                    f.label,
                    "no UTC offset while other rows of the column have one (mixed time zones)",
                    f"{off} = false AND (SELECT bool_or({off}) FROM {out})",
                    r,
                )
            )
    return Stage(out, fields, checks)


def value_checks(stage: Stage, *, now_zone: str) -> list[Check]:
    """Checks every typed value must pass, whatever its table: plausible numbers, dates, text."""
    out: list[Check] = []
    for f in stage.fields:
        n, r = ident(f.name), _raw(f)
        if f.kind == "number":
            out.append(Check(f.label, "not a finite number", f"NOT isfinite({n})", r))
            out.append(
                Check(f.label, f"implausibly large (beyond ±{MAX_AMOUNT:.0e})",
                      f"isfinite({n}) AND abs({n}) > {MAX_AMOUNT}", r)
            )  # fmt: skip
        elif f.kind == "integer":
            out.append(
                Check(f.label, f"implausibly large (beyond ±{MAX_AMOUNT:.0e})",
                      f"abs({n}) > {MAX_AMOUNT}", r)
            )  # fmt: skip
        elif f.kind in ("timestamp", "date"):
            if f.kind == "timestamp":
                future = f"{n} > now()"
                early = f"{n} < TIMESTAMPTZ '{EARLIEST} 00:00:00+00'"
            else:
                future = f"{n} > CAST(timezone({quote_literal(now_zone)}, now()) AS DATE)"
                early = f"{n} < DATE '{EARLIEST}'"
            out.append(Check(f.label, "in the future", future, r))
            short = "false"
            if any("%Y" in x for x in f.formats) and not f.typed:
                # '1/12/10' read with %Y is the year 10, not 2010
                short = f"(year({n}) < 100)"
                out.append(
                    Check(f.label, "a two-digit year read with %Y (use %y in ingest.date_format)",
                          short, r)
                )  # fmt: skip
            out.append(Check(f.label, f"before {EARLIEST}", f"{early} AND NOT {short}", r))
        elif f.kind in ("id", "string"):
            if f.kind == "id":
                out.append(
                    Check(f.label, "a control character (NUL byte, tab, line break …) in an id",
                          f"regexp_matches({n}, '[\\x00-\\x1f\\x7f]')", r)
                )  # fmt: skip
            else:
                out.append(Check(f.label, "a NUL byte in the text", f"contains({n}, chr(0))", r))
            out.append(
                Check(
                    f.label,
                    "looks like a spreadsheet formula (starts with = + - @ tab CR, "
                    "not a plain number)",
                    formula_sql(n),
                    r,
                )
            )
    return out


def contract_checks(stage: Stage, table: str) -> list[Check]:
    """The rules of ``table`` in the data contract (``schema.TABLES``) on a contract stage."""
    spec = TABLES[table]
    names = {f.name: f for f in stage.fields}
    out: list[Check] = []
    for col in spec.columns:
        f = names.get(col.name)
        if f is None:
            continue
        n, r = ident(f.name), _raw(f)
        if col.required and not col.nullable:
            out.append(Check(f.label, "missing (required)", f"{r} IS NULL", r))
        if col.values is not None:
            out.append(
                Check(f.label, f"not one of {list(col.values)}",
                      f"{n} IS NOT NULL AND {n} NOT IN ({', '.join(map(quote_literal, col.values))})",
                      r)
            )  # fmt: skip
        if col.minimum is not None:
            out.append(Check(f.label, f"below {col.minimum:g}", f"{n} < {col.minimum}", r))
    maxima = {("surveys", "nps"): 10, ("surveys", "csat"): 5}
    for (t, c), top in maxima.items():
        if t == table and c in names:
            out.append(Check(names[c].label, f"above {top}", f"{ident(c)} > {top}", _raw(names[c])))
    if "store_id" in names:
        f = names["store_id"]
        for why, cond in store_id_problems_sql("store_id"):
            out.append(Check(f.label, why, cond, _raw(f)))
    if table == "orders" and "revenue" in names:
        rev = names["revenue"]
        cond = "revenue < 0" + (" AND status = 'completed'" if "status" in names else "")
        out.append(Check(rev.label, "negative revenue on a completed order", cond, _raw(rev)))
    key = [k for k in spec.key if k in names]  # as build_stage counted __dups
    if any(k != "store_id" for k in key):
        shown = [k for k in key if k != "store_id"]
        value = " || ' / ' || ".join(f"coalesce(CAST({ident(k)} AS VARCHAR), '')" for k in shown)
        out.append(
            Check(
                ", ".join(names[k].label for k in shown),
                f"duplicate key ({', '.join(key)}) in the file",
                "__dups > 1",
                value,
            )
        )
    return out


def status_sql(raw: str, completed: list[str], cancelled: list[str], refunded: list[str]) -> str:
    """SQL mapping a source status (trimmed, case-insensitive) to a canonical status.

    Canonical names map to themselves; a value in none of the lists stays as
    it is and fails the contract's ``status`` check, which names it.
    """
    low = f"lower(trim({raw}))"
    arms = []
    for canonical, values in (
        ("completed", completed),
        ("cancelled", cancelled),
        ("refunded", refunded),
    ):
        words = sorted({canonical, *(v.strip().lower() for v in values)})
        arms.append(f"WHEN {low} IN ({', '.join(map(quote_literal, words))}) THEN '{canonical}'")
    return (
        f"CASE WHEN nullif(trim({raw}), '') IS NULL THEN NULL {' '.join(arms)} ELSE trim({raw}) END"
    )


def split(
    con: duckdb.DuckDBPyConnection,
    stage: Stage,
    *,
    source: str,
    where: str,
    quarantine: bool,
    what: str = "rows",
    locate: Callable[[int], str] | None = None,
) -> Outcome:
    """Apply ``stage.checks``; raise (strict) or set the bad rows aside (quarantine).

    Parameters
    ----------
    source
        The file, quoted first in messages.
    where
        ``line`` or ``row``: what a row's ``__line`` is called.
    what
        What a row is (``rows``, ``orders``) in messages.
    locate
        Turns a ``__line`` into the words a person finds it by (a workbook's
        sheet and row); default ``f"{where} {line}"``.

    Raises
    ------
    DataError
        Strict mode and at least one row fails a check: names the file, each
        failing column and rule with its count, and the first lines and values.
    """
    checks = stage.checks
    conds = [f"coalesce({c.condition}, false)" for c in checks]
    counts = one_row(
        con, f"SELECT count(*){''.join(f', count_if({c})' for c in conds)} FROM {stage.table}"
    )
    rows_in = int(counts[0])
    failing = [(c, int(n)) for c, n in zip(checks, counts[1:], strict=True) if n]
    if not failing:
        return Outcome(stage.table, rows_in, 0, None, [])
    any_bad = " OR ".join(conds)
    bad_rows = one_row(con, f"SELECT count(*) FROM {stage.table} WHERE {any_bad}")[0]
    summary = [(c.label, c.why, n) for c, n in failing]
    if not quarantine:
        parts = []
        for check, n in failing[:6]:
            sample = con.execute(
                f"SELECT __line, {check.value} FROM {stage.table} "
                f"WHERE coalesce({check.condition}, false) ORDER BY __line LIMIT {SAMPLE}"
            ).fetchall()
            place = locate or (lambda line: f"{where} {line}")
            shown = ", ".join(f"{place(line)}: {_show(v)}" for line, v in sample)
            parts.append(f"column {check.label!r}: {check.why} in {n:,} {what} ({shown})")
        more = f"; and {len(failing) - 6} more rule(s)" if len(failing) > 6 else ""
        raise DataError(
            f"{source}: {bad_rows:,} of {rows_in:,} {what} rejected, nothing written — "
            + "; ".join(parts)
            + more,
            hint="fix the file, or load the valid rows with --quarantine "
            "(the rejected ones go to data/rejected/ with a reason)",
        )
    reason = ", ".join(
        f"CASE WHEN {cond} THEN {quote_literal(f'{c.label}: {c.why}')} END"
        for c, cond in zip(checks, conds, strict=True)
    )
    con.execute(
        f"CREATE TEMP TABLE {stage.table}__bad AS SELECT *, concat_ws('; ', {reason}) AS __reason "
        f"FROM {stage.table} WHERE {any_bad}"
    )
    con.execute(
        f"CREATE TEMP TABLE {stage.table}__ok AS SELECT * FROM {stage.table} WHERE NOT ({any_bad})"
    )
    return Outcome(f"{stage.table}__ok", rows_in, int(bad_rows), f"{stage.table}__bad", summary)


def _show(value: object, limit: int = 40) -> str:
    text = "NULL" if value is None else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if value is not None else text


def slug_sql(raw: str) -> str:
    """SQL turning free text (``United Kingdom``) into a store-id part (``united-kingdom``).

    Text holding a path (``/``, ``\\``, ``..``) or control characters is refused by a
    check on :func:`slug_refused_sql`, never taken as another store (``../../etc`` is
    not store ``etc``); ids too long or reserved fail the contract's store id checks.
    """
    return f"trim(regexp_replace(lower(trim({raw})), '[^a-z0-9]+', '-', 'g'), '-')"


def slug_refused_sql(raw: str) -> str:
    """SQL: true when free text must not become a store id part (a path, control characters)."""
    return (
        f"(contains({raw}, '/') OR contains({raw}, '\\') OR contains({raw}, '..') "
        f"OR regexp_matches({raw}, '[\\x00-\\x1f\\x7f]'))"
    )


def parse_formats(value: str | list[str] | None) -> tuple[str, ...]:
    """Params' ``date_format`` (one format or a list) as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
