"""Every word a reader sees, in the report's language: one gettext catalogue, through Babel.

English is the source language: code writes English messages and marks them
(``_("Revenue")`` translates now, ``N_("Revenue")`` marks a constant that is
translated where it is shown). The Thai catalogue,
``analysis/locale/th/LC_MESSAGES/analysis.po``, holds one translation per
English message; it is compiled in memory the first time it is needed (no
build step, so an edited ``.po`` is used at once).

The language is a context variable: :func:`set_language` (called by
:func:`analysis.context.section_context` with the store's ``language``) or
``with use_language("th"):``. A message missing from the catalogue falls back
to English; ``tests/test_i18n.py`` fails when any marked message has no Thai
translation, so a missing one never reaches a report.

Adding a message: write it in English inside ``_()``/``N_()``/``ngettext()``/
``pgettext()``, with ``{name}`` placeholders filled by ``str.format`` after
translation (never an f-string inside the call), then run
``python -m analysis.i18n missing`` for the entries to add to the Thai ``.po``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from gettext import NullTranslations
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = [
    "LANGUAGES",
    "Message",
    "N_",
    "_",
    "current_language",
    "extract_messages",
    "ngettext",
    "pgettext",
    "set_language",
    "use_language",
]

LANGUAGES: tuple[str, ...] = ("en", "th")
"""Report languages: English (the source) and Thai."""

DOMAIN = "analysis"
LOCALE_DIR = Path(__file__).parent / "locale"
KEYWORDS: dict[str, tuple[int | tuple[int, str], ...] | None] = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
"""Call names that mark messages, as Babel's extractor reads them."""

_language: ContextVar[str] = ContextVar("analysis_language", default="en")


def catalogue_path(language: str) -> Path:
    """The ``.po`` file of ``language``."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English: no translation)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown report language {language!r}: use one of {LANGUAGES}")
    if language == "en":
        return NullTranslations()
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def set_language(language: str) -> None:
    """Make ``language`` ("en" or "th") the language of every message from now on."""
    translations(language)  # unknown languages fail here, not at the first message
    _language.set(language)


def current_language() -> str:
    """The language messages are translated into now."""
    return _language.get()


@contextlib.contextmanager
def use_language(language: str) -> Iterator[None]:
    """``with use_language("th"):`` messages in Thai inside the block only."""
    translations(language)
    token = _language.set(language)
    try:
        yield
    finally:
        _language.reset(token)


def _(message: str) -> str:
    """``message`` (English) in the current language."""
    return translations(_language.get()).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it (translate with ``_`` where shown)."""
    return message


def ngettext(singular: str, plural: str, n: float) -> str:
    """The singular or plural form for ``n``, in the current language (Thai has one form)."""
    count = int(n) if float(n).is_integer() else 2  # 1.5 reads plural in English
    return translations(_language.get()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart from the same English in another ``context``."""
    return translations(_language.get()).pgettext(context, message)


@dataclass
class Message:
    """One marked message of the code: its English plural form (if any) and where it is."""

    plural: str | None = None
    where: list[str] = field(default_factory=list)


def extract_messages(root: Path | None = None) -> dict[tuple[str | None, str], Message]:
    """Every marked message under the package, keyed by ``(context, msgid)``."""
    root = root or Path(__file__).parent
    found: dict[tuple[str | None, str], Message] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        root, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("i18n:",)
    ):
        msgid, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
        if msgid:
            entry = found.setdefault((context, msgid), Message(plural))
            entry.where.append(f"{filename}:{lineno}")
    return found


def _po_text(text: str) -> str:
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = body.split("\n")
    if len(lines) == 1:
        return f'"{lines[0]}"'
    parts = [f'"{line}\\n"' for line in lines[:-1]] + ([f'"{lines[-1]}"'] if lines[-1] else [])
    return '""\n' + "\n".join(parts)


def missing_entries(language: str = "th") -> str:
    """``.po`` entries (Thai left empty) for the marked messages the catalogue lacks."""
    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    out = []
    for (context, msgid), message in sorted(
        extract_messages().items(), key=lambda kv: kv[1].where[0]
    ):
        entry = catalogue.get(msgid, context=context)
        if entry is not None and entry.string and not entry.fuzzy:
            continue
        lines = [f"#: {' '.join(message.where[:3])}"]
        if context:
            lines.append(f"msgctxt {_po_text(context)}")
        lines.append(f"msgid {_po_text(msgid)}")
        if message.plural:
            lines += [f"msgid_plural {_po_text(message.plural)}", 'msgstr[0] ""', ""]
        else:
            lines += ['msgstr ""', ""]
        out.append("\n".join(lines))
    return "\n".join(out)


def _main(argv: list[str]) -> int:  # pragma: no cover - a maintainer's command
    if argv[:1] == ["missing"]:
        text = missing_entries(argv[1] if len(argv) > 1 else "th")
        sys.stdout.write(text)
        return 1 if text else 0
    sys.stderr.write("usage: python -m analysis.i18n missing [th]\n")
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main(sys.argv[1:]))
