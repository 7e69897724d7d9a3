"""A run's options checked before any file is read, and the params file of a new store.

Store ids, currencies and zones are refused here with a :class:`ConfigError`;
a store the run creates gets ``params/stores/<store>.yaml`` (``--currency``,
``--timezone`` and every ``--set``), staged beside its target and renamed into
place only when the warehouse write commits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

from analysis.config import load_params, store_params_path, validate_store_name
from analysis.errors import ConfigError, DataError
from analysis.ingest.sources import one_row
from analysis.ingest.writer import Batch

NOT_MONEY = frozenset(
    ("XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA")
)
"""ISO 4217 codes that are not a shop's money: "no currency" (XXX), the test code (XTS),
precious metals and accounting units. The regional X-currencies (XAF, XCD, XOF, XPF) are money."""


def check_store_id(store: str, what: str = "--store") -> str:
    """Return ``store`` if it can name a store's files, else raise :class:`ConfigError`.

    The store-name rule (``[a-z0-9][a-z0-9_-]*``), at most
    :data:`~analysis.ingest.checks.MAX_STORE_CHARS` characters, not a Windows
    device name (``con``, ``nul``, ``com1``, …).
    """
    import re

    from analysis.ingest.checks import MAX_STORE_CHARS, RESERVED_NAMES

    if len(store) > MAX_STORE_CHARS:
        shown = f"{store[:40]}…" if len(store) > 40 else store
        raise ConfigError(
            f"{what} {shown!r} ({len(store):,} characters): a store id is at most "
            f"{MAX_STORE_CHARS} characters",
            hint="use a short id (it names files: data/warehouse/orders/<store>.parquet); "
            "the shop's full name goes in display_name",
        )
    validate_store_name(store)
    if re.fullmatch(RESERVED_NAMES, store):
        raise ConfigError(
            f"{what} {store!r}: a reserved device name on Windows, cannot name a file",
            hint="add a word, e.g. con-shop",
        )
    return store


def check_currency_code(code: str) -> None:
    """Refuse ISO 4217 codes that are not money (:data:`NOT_MONEY`, e.g. ``XXX``)."""
    if code in NOT_MONEY:
        raise ConfigError(
            f"currency {code} is not a currency a shop sells in (ISO 4217 reserves it for "
            f"'no currency', tests, metals or accounting units)",
            hint="give the store's real currency, e.g. --currency THB",
        )


def check_zone(zone: str, key: str) -> None:
    """Refuse a zone Python knows but DuckDB (ICU) does not, e.g. ``posixrules``."""
    con = duckdb.connect()
    try:
        known = one_row(con, "SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [zone])[0]
    finally:
        con.close()
    if not known:
        raise ConfigError(
            f"{key} {zone!r} is not a time zone the query engine (DuckDB) knows",
            hint="use an IANA area/city name, e.g. Asia/Bangkok or Europe/London",
        )


def check_writable(warehouse: Path) -> None:
    """Refuse a warehouse folder (or a table folder in it) that cannot be written.

    Checked before reading any file, so a read-only warehouse fails fast with
    nothing changed instead of a traceback at the write.
    """
    folders = [warehouse]
    if warehouse.is_dir():
        folders += [p for p in warehouse.iterdir() if p.is_dir()]
    else:
        parent = next((p for p in warehouse.parents if p.exists()), None)
        folders = [parent] if parent is not None else []
    for folder in folders:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise DataError(
                f"{folder}: the warehouse folder is not writable, nothing written",
                hint="check the folder's permissions (or data_dir in params)",
            )


STORE_FILE_KEYS = ("currency", "timezone")
"""Keys every store file written by ingest states, whether given or the defaults."""


def check_store_file(store: str, layered: dict[str, Any], root: Path) -> None:
    """Refuse ``--currency``/``--timezone`` (or ``--set``) that contradict the store's file.

    Raises
    ------
    ConfigError
        ``params/stores/<store>.yaml`` exists and sets another currency or zone.
    """
    path = store_params_path(store, root)
    if not path.is_file():
        return
    base = load_params(store, root=root)
    for key in STORE_FILE_KEYS:
        wanted = layered.get(key)
        have = getattr(base, key)
        if wanted is not None and wanted != have:
            raise ConfigError(
                f"store {store} has {key} {have} ({path}), but this ingest says {wanted}"
                + ("; ingest does not convert currencies" if key == "currency" else ""),
                hint=f"drop --{key}, or change {key} in {path} if the store's files were "
                f"always in {wanted}",
            )


def stores_to_create(
    con: duckdb.DuckDBPyConnection,
    batches: list[Batch],
    layered: dict[str, Any],
    root: Path,
    store: str | None,
) -> list[str]:
    """Stores of this run without a params file (checked against existing ones first)."""
    from analysis.ingest.writer import stores_in

    found = {s for b in batches for s in stores_in(con, b)} | ({store} if store else set())
    out = []
    for name in sorted(found):
        validate_store_name(name)
        if store_params_path(name, root).is_file():
            check_store_file(name, layered, root)
        else:
            out.append(name)
    return out


def stage_store_file(store: str, layered: dict[str, Any], root: Path) -> tuple[Path, Path]:
    """Write ``params/stores/<store>.yaml`` for a new store to a temp file beside it.

    The file states the store's ``currency`` and ``timezone`` (given, or the
    defaults at the time) and every other ``--set`` override; ``display_name``
    is left out. Returns (target, temp); the caller renames it into place.
    """
    import yaml

    params = load_params(store, layered, root=root)
    body: dict[str, Any] = {k: getattr(params, k) for k in STORE_FILE_KEYS}
    nested: dict[str, Any] = {}
    for key, value in layered.items():
        if key in ("data_dir", *STORE_FILE_KEYS):
            continue
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
            node[parts[-1]].update(value)
        else:
            node[parts[-1]] = value
    body.update(nested)
    target = store_params_path(store, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    text = (
        f"# Store {store}, created by `analysis ingest` (docs/ingest.md). Every report of the\n"
        f"# store uses this currency and time zone; edit display_name, language etc. here.\n"
        + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
    )
    temp.write_text(text, encoding="utf-8")
    return target, temp


def store_file_says(path: Path, layered: dict[str, Any]) -> str:
    """``currency GBP, timezone Europe/London`` (+ which came from the defaults)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    text = ", ".join(f"{k} {data.get(k)}" for k in STORE_FILE_KEYS)
    defaults = [k for k in STORE_FILE_KEYS if k not in layered]
    if defaults:
        flags = " and ".join(f"--{k}" for k in defaults)
        text += f" ({' and '.join(defaults)} from params/default.yaml: {flags} choose)"
    return text
