"""Words about the numbers: findings, cards, notes and page prose, in the report's language.

Metric modules return numbers; the modules of this package turn them into the
sentences a reader sees (one module per section), with every message from the
catalogue (:mod:`analysis.i18n`) and every figure from :mod:`analysis.formats`.
Page prose lives here too, as ``N_("...")`` constants a notebook shows with
:func:`say`, so a notebook still reads top to bottom in either language.
"""

from __future__ import annotations

from IPython.display import Markdown

from analysis.errors import PagePart
from analysis.i18n import _
from analysis.plots import markdown_escape

__all__ = ["markdown_text", "part_note", "say"]


def markdown_text(message: str, /, **fields: object) -> str:
    """``message`` in the report language, its ``{fields}`` filled in and escaped for Markdown.

    ``message`` is English Markdown marked for the catalogue (``N_``); the
    fields are values from data or params (names, formatted figures) and are
    read literally, never as Markdown or HTML.
    """
    text = _(message)
    if not fields:
        return text
    return text.format(**{name: markdown_escape(value) for name, value in fields.items()})


def say(message: str, /, **fields: object) -> Markdown:
    """:func:`markdown_text` ready to display in a notebook cell."""
    return Markdown(markdown_text(message, **fields))


def part_note(part: PagePart[object]) -> Markdown:
    """Why a part of a page is not shown (empty when it is)."""
    if part.reason is None:
        return Markdown("")
    return Markdown(_("*Not available:* {reason}").format(reason=markdown_escape(part.reason)))
