"""Find a store's personal data in report pages: raw customer ids, e-mails, phones, names.

Used by the report tests that render real notebooks (the Thai demo store, the
hostile store) and by ``test_privacy_scan.py`` over every page under ``reports/``.
The page source is read as it is (attributes, scripts and tables included),
without its embedded images (``data:`` URIs), and split into tokens of
letters, digits and ``@ . + _ -``: a customer id, e-mail or phone is found
when it is one of those tokens (so ``CNX-C0000001`` does not match inside
``CNX-C00000012``); a name is found anywhere in the text. Ids that are plain
numbers of fewer than 6 digits (CDNOW's ``1`` … ``23570``) cannot be told apart
from the figures on a page and are not searched.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

DATA_URI = re.compile(r"data:[^\"')\s]+")
TOKEN = re.compile(r"[\w@.+-]+")


def personal_values(warehouse: Path, store: str) -> tuple[set[str], set[str]]:
    """The store's customer ids (orders and customers), e-mails and phones; and its names."""
    tokens: set[str] = set()
    names: set[str] = set()
    con = duckdb.connect()
    for table in ("orders", "customers"):
        path = warehouse / table / f"{store}.parquet"
        if not path.is_file():
            continue
        columns = {c for c, *_ in con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
        for column in (
            ("customer_id", "email", "phone") if table == "customers" else ("customer_id",)
        ):
            if column in columns:
                rows = con.execute(f"SELECT DISTINCT CAST(\"{column}\" AS VARCHAR) FROM '{path}'")
                tokens.update(v for (v,) in rows.fetchall() if v and _telling(v))
        if "name" in columns:
            rows = con.execute(f"SELECT DISTINCT name FROM '{path}'").fetchall()
            names.update(v for (v,) in rows if v and len(v) >= 4)
    return tokens, names


def _telling(value: str) -> bool:
    """A value that cannot be mistaken for a figure: a plain number needs 6 digits or more."""
    return not value.isdigit() or len(value) >= 6


def personal_data_in(pages: list[Path], warehouse: Path, store: str) -> dict[str, list[str]]:
    """Page name → the personal values of ``store`` it contains (empty dict: none)."""
    tokens, names = personal_values(warehouse, store)
    assert tokens, f"no customer ids found for {store} in {warehouse}: nothing would be checked"
    found: dict[str, list[str]] = {}
    for page in pages:
        text = DATA_URI.sub("", page.read_text(encoding="utf-8"))
        hits = sorted(set(TOKEN.findall(text)) & tokens)
        hits += sorted(n for n in names if n in text)
        if hits:
            found[str(page)] = hits[:10]
    return found
