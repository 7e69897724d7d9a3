"""What a reader sees of a page or a chart, and which of it is English.

Used by the tests that check a Thai report speaks Thai: page text from the
HTML (not scripts, styles or attributes other than ``title``/``alt``), chart
text from a matplotlib figure's text artists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

ALLOWED_WORDS = frozenset(
    {
        # Acronyms a Thai business reader uses as they are
        "KPI", "KPIs", "NPS", "CSAT", "AOV", "CLV", "RFM", "CAC", "LTV", "ID",
        "BG", "NBD", "MBG", "Pareto", "RMSE", "MAE", "SE", "CI", "UTC", "ISO",
        # Method names kept as they are in Thai statistics writing
        "CUPED",
    }
)  # fmt: skip
"""Latin words allowed on a Thai page besides names from data."""

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.'-]*[A-Za-z0-9]|[A-Za-z]")
_IDENTIFIER = re.compile(r"[A-Za-z0-9]+(?:[_.][A-Za-z0-9]+)+")  # kpis.trend_months, line_oa
_PSEUDONYM = re.compile(r"C-[0-9a-f]{10}")  # analysis.privacy's customer pseudonyms
_PART = re.compile(r"[A-Za-z]+")


class _Visible(HTMLParser):
    SKIP = frozenset({"script", "style", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees on a page (and its ``<title>``), one run per line."""
    parser = _Visible()
    parser.feed(html)
    title = re.search(r"<title>(.*?)</title>", html, re.S | re.I)
    return "\n".join(([title.group(1)] if title else []) + parser.parts)


def english_words(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Latin-script words in ``text`` that are neither allowed nor identifiers.

    Single letters (``k``, ``S ∩ E``), identifiers with ``_`` or ``.``
    (parameter names such as ``kpis.trend_months``, channel codes such as
    ``line_oa``) and customer pseudonyms (``C-3f9a…``) are not counted;
    ``allowed`` adds names from data. A hyphenated token (``demo-chiangmai``)
    counts when one of its parts is an English word that is not allowed.
    """
    allow = ALLOWED_WORDS | frozenset(allowed)
    found = []
    for token in _TOKEN.findall(text):
        if token in allow or _IDENTIFIER.fullmatch(token) or _PSEUDONYM.fullmatch(token):
            continue
        if any(len(part) > 1 and part not in allow for part in _PART.findall(token)):
            found.append(token)
    return found


def figure_texts(figure) -> list[str]:
    """Every non-empty text of a matplotlib figure: titles, axis labels, ticks, legends, notes."""
    from matplotlib.text import Text

    figure.canvas.draw()  # tick labels exist once drawn
    return [t.get_text() for t in figure.findobj(Text) if t.get_visible() and t.get_text()]
