"""The bad-input corpus: every file gets its documented error, exit code 2, and no write.

Each case names fragments the message must contain (the column, the line, the
value), so a message that stops naming them fails here. Before each case the
warehouse holds two stores; its bytes (every file, the ingest log included)
must be identical afterwards. docs/ingest.md lists the same cases.
"""

from __future__ import annotations

import pytest

from .helpers import BAD, Project, write

GOOD = (
    "order_id,customer_id,ordered_at,revenue,status\n"
    "1001,c1,2024-01-05 10:00,120,completed\n"
    "1002,,2024-01-06 11:00,90,cancelled\n"
)

# (case id, file, extra arguments, params of store "shop", fragments of the error)
CASES = [
    ("missing column", "missing_column.csv", [], None,
     ["missing_column.csv", "needs column(s) revenue", "order_id, customer_id, ordered_at"]),
    ("wrong type", "wrong_type.csv", [], None,
     ["wrong_type.csv", "1 of 3 rows rejected", "column 'revenue': not a number", "line 3: 'abc'"]),
    ("unparseable date", "unparseable_date.csv", [], None,
     ["column 'ordered_at': not a date/time", "line 2: '31/02/2024 10:00'"]),
    ("future date", "future_date.csv", [], None,
     ["column 'ordered_at': in the future", "line 4: '2099-01-01 09:00'"]),
    ("negative revenue", "negative_revenue.csv", [], None,
     ["1 of 2 rows", "column 'revenue': negative revenue on a completed order", "line 2: '-50'"]),
    ("duplicate order ids", "duplicate_ids.csv", [], None,
     ["2 of 3 rows", "duplicate key (store_id, order_id)", "line 2: '1001'", "line 4: '1001'"]),
    ("empty file", "empty.csv", [], None, ["empty.csv", "empty file (0 bytes)"]),
    ("header only", "header_only.csv", [], None, ["header_only.csv", "header only, no data rows"]),
    ("wrong delimiter ;", "semicolon.csv", [], None, ["looks ';'-delimited", "ingest.delimiter"]),
    ("wrong delimiter tab", "tab_delimited.csv", [], None, ["looks '\\t'-delimited"]),
    ("non-UTF-8 bytes", "latin1_bytes.csv", [], None,
     ["1 line(s) cannot be read", "line 3: bytes that are not valid utf-8"]),
    ("undefined cp874 byte", "undefined_cp874_byte.csv", [], "ingest:\n  encoding: cp874\n",
     ["undefined_cp874_byte.csv", "line 3: bytes that are not valid cp874"]),
    ("formula injection", "formula_injection.csv", [], None,
     ["column 'customer_id': looks like a spreadsheet formula", "line 2: '=HYPERLINK("]),
    ("huge number", "huge_number.csv", [], None,
     ["column 'revenue': implausibly large", "line 3: '99999999999999999999'"]),
    ("inf and NaN", "not_finite.csv", [], None,
     ["2 of 2 rows", "column 'revenue': not a finite number", "line 2: 'inf'", "line 3: 'NaN'"]),
    ("mixed time zones", "mixed_timezones.csv", [], None,
     ["column 'ordered_at': no UTC offset while other rows of the column have one",
      "line 3: '2024-01-06 11:00'"]),
    ("unknown status", "unknown_status.csv", [], None,
     ["column 'status': not one of ['completed', 'cancelled', 'refunded']", "line 3: 'pending'"]),
    ("empty status", "empty_status.csv", [], None,
     ["column 'status': missing (the file has a status column)", "line 2"]),
    ("missing order id", "missing_order_id.csv", [], None,
     ["column 'order_id': missing (required)", "line 3: NULL"]),
    ("ragged row", "ragged_row.csv", [], None,
     ["line 3: wrong number of fields", "--quarantine"]),
    ("unterminated quote", "unterminated_quote.csv", [], None,
     ["line 2: unterminated or stray quote"]),
    ("rows of another store", "other_store_rows.csv", [], None,
     ["column 'store_id': differs from --store shop", "line 3: 'other-shop'"]),
    ("date before 1970", "before_1970.csv", [], None,
     ["column 'ordered_at': before 1970-01-01", "line 2: '1899-12-30 00:00'"]),
    ("fractional items", "fractional_items.csv", [], None,
     ["column 'items': not a whole number", "line 2: '2.5'"]),
    ("negative discount", "negative_discount.csv", [], None,
     ["column 'discount': below 0", "line 2: '-5'"]),
    ("unsupported type", "orders.json", [], None, ["unsupported file type '.json'"]),
    ("duplicate header", "duplicate_header.csv", [], None,
     ["column name(s) ['order_id'] appear more than once"]),
    ("blank header", "blank_header.csv", [], None, ["column(s) 2 have no name"]),
    ("nps out of range", "surveys_nps_out_of_range.csv", ["--table", "surveys"], None,
     ["column 'nps': above 10", "line 3: '11'"]),
    ("mapping names an absent column", "mapping_names_absent_column.csv", [],
     "ingest:\n  tables:\n    orders:\n      columns: {Order No: order_id}\n",
     ["column 'Order No' (params ingest.tables.orders.columns, mapped to order_id) is not in the file"]),
    ("bad date in Excel", "bad_date.xlsx", [], None,
     ["bad_date.xlsx", "column 'ordered_at': not a date/time", "row 3: 'yesterday'"]),
    ("negative revenue in Parquet", "negative_revenue.parquet", [], None,
     ["negative revenue on a completed order", "row 3: '-10.0'"]),
    ("currency mismatch", "wrong_type.csv", [], "ingest:\n  currency: USD\n",
     ["ingest.currency is USD but the store's currency is THB"]),
    ("day/month order unknown", "ambiguous_dates.csv", [], None,
     ["ambiguous_dates.csv: column 'ordered_at': the dates ('1/12/2010 8:26', '5/11/2010 9:00') "
      "read both day-first and month-first", "'%d/%m/%Y %H:%M' (day/month) or "
      "'%m/%d/%Y %H:%M' (month/day)", "ingest.date_format"]),
    ("two date orders in a column", "mixed_date_order.csv", [], None,
     ["column 'ordered_at': dates in two orders — '13/1/2024 10:00' is day-first",
      "'1/14/2024 10:00' is month-first"]),
    ("currency column", "currency_column.csv", [], None,
     ["currency_column.csv: column 'Currency': 2 rows in USD, but the store's currency is THB",
      "line 3: 'USD', line 4: 'usd'"]),
    ("R export: NA order id", "r_export_na_order_id.csv", [], None,
     ["column 'order_id': missing (required) in 1 rows (line 3: NULL)"]),
    ("store file disagrees with --currency", "duplicate_ids.csv", ["--currency", "USD"], None,
     ["store shop has currency THB", "but this ingest says USD", "does not convert currencies"]),
    # issue #14: hostile input
    ("formula after a sign and a digit", "formula_sign_digit.csv", [], None,
     ["formula_sign_digit.csv", "2 of 4 rows rejected",
      "column 'customer_id': looks like a spreadsheet formula",
      "line 3: \"-1+1+cmd|' /C calc'!A0\"", "line 4: '-1+HYPERLINK("]),
    ("NUL byte in an id", "nul_in_id.csv", [], None,
     ["nul_in_id.csv", "column 'customer_id': a control character (NUL byte",
      "line 3: 'c\\x002'"]),
    ("UTC offset beyond 14:00", "offset_out_of_range.csv", [], None,
     ["offset_out_of_range.csv", "2 of 4 rows rejected",
      "column 'ordered_at': a UTC offset outside ±14:00",
      "line 3: '2024-01-06 11:00+25:00'", "line 4: '2024-01-06 12:00+99:99'"]),
    ("year BC", "bc_suffix.csv", [], None,
     ["bc_suffix.csv", "column 'ordered_at': not a date/time (ISO 8601)",
      "line 3: '2024-01-06 11:00 BC'"]),
    ("local time in a DST gap", "dst_gap.csv", [], "ingest:\n  timezone: Europe/London\n",
     ["dst_gap.csv", "1 of 3 rows rejected",
      "column 'ordered_at': a local time that does not exist in Europe/London",
      "line 3: '2024-03-31 01:30'"]),
    ("header names equal when trimmed and case-folded", "duplicate_header_case.csv", [], None,
     ["duplicate_header_case.csv", "column name(s) ['Revenue'] appear more than once",
      "'Revenue', 'revenue'"]),
    ("--store-from-column: a path and a 300-character value", "store_from_column_path.csv",
     ["--store-from-column", "Country"], None,
     ["store_from_column_path.csv", "2 of 3 rows rejected",
      "column 'Country': a path or control characters, not a store name", "line 3: '../../etc'",
      "column 'Country': a store id longer than 64 characters", "line 4: 'shop-xxxx"]),
    ("delimiter is the quote character", "wrong_type.csv", [], "ingest:\n  delimiter: '\"'\n",
     ["ingest.delimiter", "cannot be the delimiter"]),
    ("time zone DuckDB does not know", "wrong_type.csv", [], "ingest:\n  timezone: posixrules\n",
     ["ingest.timezone 'posixrules' is not a time zone the query engine (DuckDB) knows"]),
]  # fmt: skip


def test_corpus_is_large_and_every_file_is_used():
    used = {c[1] for c in CASES}
    on_disk = {p.name for p in BAD.iterdir()}
    assert len(used) >= 25
    assert on_disk == used


@pytest.fixture
def populated(project: Project, tmp_path) -> Project:
    good = write(tmp_path / "good.csv", GOOD)
    assert project.ingest("--store", "shop", good) == 0
    assert project.ingest("--store", "other", good) == 0
    return project


@pytest.mark.parametrize(
    ("name", "args", "params", "fragments"),
    [pytest.param(c[1], c[2], c[3], c[4], id=c[0]) for c in CASES],
)
def test_bad_input_is_rejected_and_nothing_changes(
    populated: Project, capsys, name, args, params, fragments
):
    if params is not None:
        populated.store_params("shop", params)
    capsys.readouterr()
    before = populated.snapshot()
    code = populated.ingest("--store", "shop", *args, BAD / name)
    err = capsys.readouterr().err
    flat = " ".join(err.split())
    assert code == 2, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert " ".join(fragment.split()) in flat, f"{fragment!r} not in {err}"
    assert populated.snapshot() == before
    assert not list(populated.warehouse.rglob("*.tmp"))
