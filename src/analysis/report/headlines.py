"""Headline numbers that a section notebook hands to its report.

A notebook ends with::

    record_headlines("kpis", {"revenue": 1234567.0, "orders": 5321, "aov": 232.0})

Inside IPython (a notebook run by papermill or opened in JupyterLab) this
displays one output whose only MIME type is :data:`HEADLINES_MIME`; the HTML
report renders it as nothing, and :func:`read_headlines` collects it from the
executed notebook for ``index.html`` and ``manifest.json``. Outside IPython the
call just validates and returns the payload.

Values are JSON scalars (``str``, ``int``, ``float``, ``bool``, ``None``);
NumPy scalars are converted with ``.item()``; NaN and infinities are errors,
because the manifest must compare byte for byte across runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.narrative.cards import CARD_KEYS

__all__ = [
    "HEADLINES_MIME",
    "SUMMARY_PARTS",
    "Headlines",
    "headline_key",
    "read_headlines",
    "read_summaries",
    "record_headlines",
]

HEADLINES_MIME = "application/vnd.crm-analytics.headlines+json"
"""MIME type of the display output that carries a section's headline values."""

_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
_KEY = re.compile(r"[a-z0-9][a-z0-9_]*(?:\.[a-z0-9][a-z0-9_]*)*")

Scalar = str | int | float | bool | None


def headline_key(name: object) -> str:
    """A headline key part made from a name found in the data (a variant, a channel).

    A name that is already a key (lower-case letters, digits, ``_``, starting
    with a letter or digit) is kept as it is, so ``holdout`` stays ``holdout``.
    Any other name (``treatment-b``, ``Variant A``, Thai text) becomes its ASCII
    slug plus the first 8 hex digits of the SHA-256 of the exact name:
    ``Variant A`` → ``variant_a_<hash>``, ``กลุ่มทดลอง`` → ``<hash>``. The key is the
    same on every run, and two different names never share one (the hash tells
    ``Variant A`` from ``variant-a``).
    """
    text = str(name)
    if _NAME.fullmatch(text):
        return text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:40].rstrip("_")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{slug}_{digest}" if slug else digest


def _scalar(section: str, key: str, value: Any) -> Scalar:
    if value is None or isinstance(value, bool | str):
        return value
    # NumPy (and NumPy-backed pandas) scalars, without importing numpy here.
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
        if value is None or isinstance(value, bool | str):
            return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(
                f"headline {section}.{key} is {value!r}: NaN and infinity are not allowed "
                "(record None for 'no value')"
            )
        return float(value)
    raise TypeError(
        f"headline {section}.{key} is a {type(value).__name__} ({value!r}): "
        "use str, int, float, bool or None"
    )


class Headlines(dict):
    """The payload :func:`record_headlines` returns: a plain dict that IPython does
    not echo as ``Out[n]`` (it has been displayed already, as headlines MIME)."""

    def _ipython_display_(self) -> None:
        return None


def record_headlines(
    section: str,
    values: Mapping[str, Scalar],
    *,
    cards: Sequence[Mapping[str, Any]] | None = None,
    findings: Sequence[str] | None = None,
    warnings: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Validate and publish a section's headline values.

    Parameters
    ----------
    section
        Section name, e.g. ``"kpis"`` (lower-case letters, digits, ``_``).
    values
        Key → JSON scalar. Keys are lower-case identifiers (``revenue``,
        ``repeat_rate``), optionally dotted (``primary.lift_rel``); the manifest
        stores them as ``<section>.<key>``.
    cards
        Optional KPI cards for the executive summary of ``index.html``: each a
        mapping with ``key, label, value`` (text as shown), ``change`` (text),
        ``direction`` (``up``, ``down`` or ``flat``) and ``good`` (bool or None).
    findings
        Optional one-line sentences for the executive summary.
    warnings
        Optional sentences for the executive summary's warnings: what a reader
        must know before trusting this section (a cut dropped for a missing
        column, a month that holds a fraction of a normal month's orders).

    Returns
    -------
    dict
        ``{"section": section, "values": {...}}`` (the displayed payload).

    Raises
    ------
    ValueError
        Bad section or key name, NaN or infinite value.
    TypeError
        A value that is not a JSON scalar.
    """
    if not isinstance(section, str) or not _NAME.fullmatch(section):
        raise ValueError(f"headline section {section!r}: use lower-case letters, digits and '_'")
    if not isinstance(values, Mapping):
        raise TypeError(f"headlines of {section}: expected a mapping, got {type(values).__name__}")
    clean: dict[str, Scalar] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(
                f"headline key {key!r} of {section}: use lower-case letters, digits and '_'"
            )
        clean[key] = _scalar(section, key, value)
    payload: dict[str, Any] = {"section": section, "values": clean}
    if cards:
        payload["cards"] = [_card(section, c) for c in cards]
    if findings:
        payload["findings"] = [str(f) for f in findings]
    if warnings:
        payload["warnings"] = [str(w) for w in warnings]
    # Round trip once so that what the report reads is exactly what was shown.
    payload = json.loads(json.dumps(payload, allow_nan=False))
    _display(payload)
    return Headlines(payload)


def _card(section: str, card: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(card) - set(CARD_KEYS)
    if unknown or not {"key", "label", "value"} <= set(card):
        raise ValueError(f"card of {section}: keys must be {CARD_KEYS}, got {sorted(card)}")
    if card.get("direction") not in (None, "up", "down", "flat"):
        raise ValueError(f"card of {section}: direction must be up, down or flat")
    return {k: card.get(k) for k in CARD_KEYS}


SUMMARY_PARTS = ("cards", "findings", "warnings")
"""What a section hands to the executive summary, in the order it is shown."""


def read_summaries(nb: Any) -> dict[str, dict[str, list[Any]]]:
    """Executive-summary cards, findings and warnings recorded in an executed notebook.

    Returns
    -------
    dict
        ``{section: {"cards": [...], "findings": [...], "warnings": [...]}}`` for
        sections that recorded any.
    """
    out: dict[str, dict[str, list[Any]]] = {}
    for data in _payloads(nb):
        parts = {k: data.get(k) or [] for k in SUMMARY_PARTS}
        if any(parts.values()):
            entry = out.setdefault(data["section"], {k: [] for k in SUMMARY_PARTS})
            for k, items in parts.items():
                entry[k].extend(items)
    return out


def _payloads(nb: Any):
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = output.get("data", {}).get(HEADLINES_MIME)
            if data is None:
                continue
            if isinstance(data, str):
                data = json.loads(data)
            if isinstance(data.get("section"), str):
                yield data


def _display(payload: dict[str, Any]) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    if get_ipython() is None:
        return
    display({HEADLINES_MIME: payload}, raw=True)


def read_headlines(nb: Any) -> dict[str, dict[str, Scalar]]:
    """Headline values recorded in an executed notebook.

    Parameters
    ----------
    nb
        An executed ``nbformat.NotebookNode``.

    Returns
    -------
    dict
        ``{section: {key: value}}`` in the order recorded; a section recorded
        twice keeps the later value of each key.
    """
    out: dict[str, dict[str, Scalar]] = {}
    for data in _payloads(nb):
        values = data.get("values") or {}
        if isinstance(values, Mapping):
            out.setdefault(data["section"], {}).update(values)
    return out
