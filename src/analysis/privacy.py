"""Pseudonymous customer ids for report tables (no raw customer id reaches a report).

A report lists customers (e.g. the top customers by CLV) only under a
pseudonym: ``C-`` + the first 10 hex digits of HMAC-SHA256(key, customer id).
The key is the project's pseudonymisation key, the same one the Shopify
ingest uses for e-mails (:func:`email_pseudonym`): ``$ANALYSIS_PSEUDONYM_KEY`` if set, else the file
``<data folder>/pseudonym.key`` (created on first use with 32 random bytes,
readable by its owner only). With the key an analyst can find a listed
customer again (compute the pseudonyms of the warehouse's ids and look the
listed one up); without it, a reader of the report cannot, even when customer
ids are sequential numbers. The same key gives the same pseudonym in every
report and month.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

__all__ = ["KEY_ENV", "PSEUDONYM_DIGITS", "email_pseudonym", "pseudonym_key", "pseudonymous_ids"]

KEY_ENV = "ANALYSIS_PSEUDONYM_KEY"
PSEUDONYM_DIGITS = 10  # 40 bits: collisions among a million customers are ~1 in 2 million


def pseudonym_key(data_folder: Path) -> bytes:
    """The pseudonymisation key: ``$ANALYSIS_PSEUDONYM_KEY``, else ``<data_folder>/pseudonym.key``.

    Parameters
    ----------
    data_folder
        The project's data folder (the parent of the warehouse folder).

    Returns
    -------
    bytes
        The key (the file is created with a random key when it does not exist).
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    path = Path(data_folder) / "pseudonym.key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # written by a concurrent run meanwhile
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def pseudonymous_ids(customer_ids: Iterable[object], key: bytes) -> list[str]:
    """``C-`` + ``PSEUDONYM_DIGITS`` hex digits of HMAC-SHA256(key, str(id)), per id.

    Parameters
    ----------
    customer_ids
        Raw customer ids (any type; compared as their ``str``).
    key
        From :func:`pseudonym_key`; must not be empty.

    Returns
    -------
    list of str
        One pseudonym per id, in order.
    """
    if not key:
        raise ValueError("the pseudonymisation key is empty")
    return [
        "C-" + hmac.new(key, str(c).encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_DIGITS]
        for c in customer_ids
    ]


def email_pseudonym(email: str, key: bytes) -> str:
    """Customer id for an e-mail address: ``c_`` + 16 hex digits of HMAC-SHA256(key, e-mail).

    The address is trimmed and lower-cased first, so one customer keeps one id
    across exports that spell it differently. Used by the Shopify ingest (the
    e-mail is the customer key there and is never stored).
    """
    normal = email.strip().lower()
    return "c_" + hmac.new(key, normal.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
