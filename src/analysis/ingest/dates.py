"""Which order a column's ``a/b/yyyy`` dates are written in, decided from all its values.

``1/12/2010 8:26`` is 1 December in a UK or Thai export and 12 January in a US
one. With no ``ingest.date_format``, :func:`infer_formats` looks at every value
of the column in one SQL query (on the engine, never row by row in Python):

- ISO values (``2010-12-01 08:26``) parse as ISO, as always;
- among ``a/b/yyyy`` values (separator ``/``, ``.`` or ``-``; time ``H:MM``,
  ``H:MM:SS``, optionally with AM/PM), a first field above 12 proves
  day-first, a second field above 12 proves month-first;
- both proven: the column mixes two orders and is refused, naming a value of each;
- neither: the column is ambiguous and refused, naming two values and the two
  formats to choose from in ``ingest.date_format``;
- ``a/b/yy`` values (two-digit years) are refused likewise: their order
  cannot be proven and the century has to be chosen (``%y``).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from analysis.errors import DataError
from analysis.ingest.sources import one_row, quote_literal

_SLASH = (
    r"^([0-9]{1,2})([/.-])([0-9]{1,2})[/.-]([0-9]{4})"
    r"(?:[ T]+([0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)\s*([AaPp][Mm])?)?$"
)
_SHORT = r"^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2}([ T].*)?$"
ISO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
"""Naive ISO spellings kept beside inferred formats (a column may hold both)."""
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
ORDERS = ("day-first", "month-first")


@dataclass(frozen=True)
class DateOrder:
    """What :func:`infer_formats` decided for one column."""

    order: str
    """``day-first`` or ``month-first``."""
    formats: tuple[str, ...]
    """strptime formats to read the column with (inferred ones, then ISO)."""
    proof: str
    """A value that proves the order (``13/1/2011 9:00``)."""


def formats_for(order: str, separators: list[str]) -> tuple[str, ...]:
    """strptime formats of ``day-first``/``month-first`` values with the given separators."""
    out: list[str] = []
    for sep in separators:
        day = f"%d{sep}%m{sep}%Y" if order == "day-first" else f"%m{sep}%d{sep}%Y"
        out += [day + t for t in _TIMES]
    return tuple(out) + ISO_FORMATS


def example_format(order: str, value: str) -> str:
    """The one format a person would set for ``value`` in ``order`` (for messages)."""
    sep = next((c for c in value if c in "/.-"), "/")
    body = f"%d{sep}%m{sep}%Y" if order == "day-first" else f"%m{sep}%d{sep}%Y"
    parts = value.strip().split()
    if len(parts) > 1:
        body += " %H:%M:%S" if parts[1].count(":") == 2 else " %H:%M"
        if len(parts) > 2:
            body = body.replace("%H", "%I") + " %p"
    return body


def infer_formats(
    con: duckdb.DuckDBPyConnection, relation: str, raw: str, *, path: object, label: str
) -> DateOrder | None:
    """Decide the order of a column's ``a/b/yyyy`` values; None when it has none.

    Parameters
    ----------
    con
        Connection holding ``relation``.
    relation
        Table or subquery with the column.
    raw
        SQL expression of the column's text.
    path, label
        The file and the column's own name, for messages.

    Raises
    ------
    DataError
        Ambiguous values (no field above 12), two orders in one column, or
        two-digit years: names the column, example values and the formats.
    """
    pat, short = quote_literal(_SLASH), quote_literal(_SHORT)
    # only values with a separator as 2nd or 3rd character can be a/b/yyyy: ISO values
    # ('2010-12-01 …') are passed over without running a regular expression
    v = f"CAST({raw} AS VARCHAR)"
    seps = "('/', '.', '-')"
    candidates = (
        f"(SELECT trim({v}) AS __t FROM {relation} WHERE {v}[2] IN {seps} "
        f"OR {v}[3] IN {seps} OR {v}[1] IN (' ', '\t'))"
    )
    # one regular expression a value (its groups as a struct; '' when it does not match),
    # the two-digit-year one only for values the first did not match; the proofs are the
    # values with the largest field, ties broken by the text (same file, same message)
    row = one_row(
        con,
        f"SELECT count(*) FILTER (WHERE m), max(a), max(b), "
        f"max((a, __t)) FILTER (WHERE a IS NOT NULL)[2], "
        f"max((b, __t)) FILTER (WHERE b IS NOT NULL)[2], "
        f"min(__t) FILTER (WHERE m), max(__t) FILTER (WHERE m), "
        f"list(DISTINCT p.sep) FILTER (WHERE m), count(*) FILTER (WHERE s), "
        f"min(__t) FILTER (WHERE s), max(__t) FILTER (WHERE s) FROM ("
        f"SELECT __t, p, p.a <> '' AS m, TRY_CAST(nullif(p.a, '') AS INTEGER) AS a, "
        f"TRY_CAST(nullif(p.b, '') AS INTEGER) AS b, "
        f"CASE WHEN p.a = '' THEN regexp_full_match(__t, {short}) ELSE false END AS s "
        f"FROM (SELECT __t, regexp_extract(__t, {pat}, ['a', 'sep', 'b']) AS p "
        f"FROM {candidates}))",
    )
    n, max_a, max_b, proof_a, proof_b, low, high, seps, n_short, short_low, short_high = row
    if n_short:
        examples = sorted({short_low, short_high})
        day, month = (example_format(o, short_low).replace("%Y", "%y") for o in ORDERS)
        raise DataError(
            f"{path}: column {label!r}: {n_short:,} date(s) with a two-digit year "
            f"({', '.join(map(repr, examples))}) and no ingest.date_format: the order and the "
            f"century cannot be told from the values",
            hint=f'set ingest.date_format, e.g. --set "ingest.date_format={day}" or "{month}" '
            f"(%y: 00–68 → 2000–2068, 69–99 → 1969–1999)",
        )
    if not n:
        return None
    if max_a > 12 and max_b > 12:
        raise DataError(
            f"{path}: column {label!r}: dates in two orders — {proof_a!r} is day-first "
            f"(first field {max_a}) and {proof_b!r} is month-first (second field {max_b})",
            hint="export the column again in one order; ingest will not guess row by row",
        )
    if max_a <= 12 and max_b <= 12:
        examples = sorted({low, high})
        raise DataError(
            f"{path}: column {label!r}: the dates ({', '.join(map(repr, examples))}) read "
            f"both day-first and month-first (no field above 12), so the order cannot be told",
            hint=f"set ingest.date_format to {example_format('day-first', low)!r} (day/month) "
            f"or {example_format('month-first', low)!r} (month/day) in "
            f'params/stores/<store>.yaml, or --set "ingest.date_format=…"',
        )
    order = "day-first" if max_a > 12 else "month-first"
    return DateOrder(order, formats_for(order, sorted(seps)), proof_a if max_a > 12 else proof_b)
