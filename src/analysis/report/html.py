"""Executed notebook → one self-contained HTML page.

The page uses the ``offline`` nbconvert template shipped in
``analysis/report/templates/offline`` (the ``lab`` template without require.js,
MathJax, mermaid or widget scripts from CDNs). Code cells are hidden, prompts
removed, images inline (matplotlib's inline backend already emits base64 PNG;
local images referenced from markdown are embedded too).

Every page carries a Content-Security-Policy (:data:`CONTENT_SECURITY_POLICY`,
as ``<meta http-equiv>`` at the top of ``<head>``): no script at all,
no network, images and fonts only as ``data:`` URIs, inline styles only. It is
the second wall behind escaping every data or params string where it meets
Markdown or HTML (:func:`analysis.plots.markdown_escape`,
:func:`analysis.plots.html_table`); :func:`executable_markup` finds what would
run if both failed.

Before rendering, :class:`ReportCleaner` removes what a store manager should not
read: stderr streams (warnings, logging), error outputs, the headline output of
:func:`~analysis.report.headlines.record_headlines`, cells tagged
``remove-cell`` and outputs of cells tagged ``remove-output``.
"""

from __future__ import annotations

import base64
import copy
import functools
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from analysis.i18n import LANGUAGES, _, use_language
from analysis.narrative import report as text
from analysis.report.headlines import HEADLINES_MIME

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSP_META",
    "TEMPLATE_DIR",
    "TEMPLATE_NAME",
    "ReportCleaner",
    "make_exporter",
    "notebook_to_html",
    "write_html",
    "executable_markup",
    "external_resources",
    "thai_font_css",
]

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "offline"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""What a report page may load or run: nothing from the network, no script (inline or
not, event handlers and ``javascript:`` links included), no plugins, frames or forms;
images (charts are base64 PNG) and the embedded Thai font as ``data:`` URIs; the
inline ``<style>`` blocks and ``style`` attributes of nbconvert's template and pandas
tables."""

CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
"""The policy as a ``<meta>`` right after ``<meta charset>``, before anything it
governs (a ``<meta>`` policy applies only to what the browser parses after it)."""

REMOVE_CELL_TAGS = frozenset({"remove-cell", "remove_cell", "hide-cell"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output", "hide-output"})


class ReportCleaner(Preprocessor):
    """Drop outputs that have no place in a report page (see module docstring)."""

    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if tags & REMOVE_CELL_TAGS:
                continue
            if cell.cell_type == "code":
                outputs = [] if tags & REMOVE_OUTPUT_TAGS else cell.get("outputs", [])
                cell.outputs = [o for o in outputs if _keep(o)]
                if not cell.outputs:
                    continue  # input is hidden anyway: an empty cell is just a gap
            cells.append(cell)
        nb.cells = cells
        return nb, resources


def _keep(output: Any) -> bool:
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("name") == "stdout"
    if kind == "error":
        return False
    if kind in ("display_data", "execute_result"):
        data = output.get("data", {})
        return HEADLINES_MIME not in data and bool(data)
    return True


@functools.cache
def thai_font_css() -> str:
    """``@font-face`` rules embedding the Sarabun font (regular and bold) as data URIs.

    A report opened on a machine without a Thai font would otherwise show Thai
    text as empty boxes; embedding ~0.2 MB of font keeps the page self-contained.
    """
    import fontpkg

    rules = []
    for font in fontpkg.family("sarabun").files:
        if font.style != "normal" or font.weight not in (400, 700):
            continue
        data = base64.b64encode(Path(font.path).read_bytes()).decode("ascii")
        rules.append(
            "@font-face { font-family: 'Sarabun'; font-style: normal; "
            f"font-weight: {font.weight}; src: url(data:font/ttf;base64,{data}) format('truetype'); }}"
        )
    return "\n".join(rules)


def make_exporter(language: str = "en") -> HTMLExporter:
    """An HTMLExporter on the ``offline`` template with code and prompts hidden."""
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code=language,
    )
    exporter.register_preprocessor(ReportCleaner(), enabled=True)
    return exporter


def notebook_to_html(
    nb: nbformat.NotebookNode | Path | str,
    *,
    title: str | None = None,
    language: str = "en",
    resources_path: Path | None = None,
) -> str:
    """Render an executed notebook as one self-contained HTML page.

    Parameters
    ----------
    nb
        Executed notebook, or the path of one.
    title
        Page ``<title>``; default the notebook's name.
    language
        ``lang`` attribute of the page (``en`` or ``th``).
    resources_path
        Folder that relative image paths in markdown are resolved against
        (the source notebooks folder); default the notebook's own folder.
    """
    name = "report"
    if isinstance(nb, str | Path):
        path = Path(nb)
        name = path.stem
        resources_path = resources_path or path.parent
        page = nbformat.read(path, as_version=4)
    else:
        page = copy.deepcopy(nb)
    if title:
        page.metadata["title"] = title
    resources: dict[str, Any] = {"metadata": {"name": name}}
    if resources_path is not None:
        resources["metadata"]["path"] = str(resources_path)
    body, _resources = make_exporter(language).from_notebook_node(page, resources=resources)
    body = _with_policy(_image_alt(body, language))
    return body.replace("</head>", f"<style>{thai_font_css()}</style>\n</head>", 1)


_NBCONVERT_ALT = 'alt="No description has been provided for this image"'


def _image_alt(page: str, language: str) -> str:
    """nbconvert gives every chart without alternative text its own English words:
    the same words from the catalogue, in the page's language."""
    with use_language(language if language in LANGUAGES else "en"):
        alt = escape(_(text.IMAGE_ALT), quote=True)
    return page.replace(_NBCONVERT_ALT, f'alt="{alt}"')


_HEAD_START = re.compile(r"<head\b[^>]*>(\s*<meta\s+charset=[^>]*>)?", re.I)


def _with_policy(page: str) -> str:
    """``page`` with :data:`CSP_META` right after ``<head>`` (and its ``<meta charset>``)."""
    found = _HEAD_START.search(page)
    if found is None:
        raise ValueError("report page has no <head>: nowhere to put its Content-Security-Policy")
    return f"{page[: found.end()]}\n{CSP_META}{page[found.end() :]}"


def write_html(path: Path, body: str) -> Path:
    """Write ``body`` as UTF-8 (the page declares ``<meta charset="utf-8">``)."""
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path


_EXTERNAL = [
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)", re.I),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)", re.I),
    re.compile(
        r"<(?:img|iframe|embed|source|video|audio)\b[^>]*\bsrc\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
        re.I,
    ),
    re.compile(r"\bimport\s*\(\s*[\"']((?:https?:)?//[^\"']+)", re.I),
    re.compile(r"@import\s+(?:url\()?\s*[\"']?((?:https?:)?//[^\"')\s]+)", re.I),
]


def external_resources(html: str) -> list[str]:
    """URLs a page would load from the network (scripts, stylesheets, images, frames).

    Plain links (``<a href="https://...">``) are not resources and are not listed.
    """
    found: list[str] = []
    for pattern in _EXTERNAL:
        found.extend(m.group(1) for m in pattern.finditer(html))
    return sorted(set(found))


_RUNNABLE_TAGS = frozenset(
    {"script", "iframe", "frame", "object", "embed", "applet", "base", "form"}
)
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "data", "xlink:href", "srcdoc", "background", "poster"}
)
_SCRIPT_URL = re.compile(r"^(?:javascript|vbscript|data:text/html)", re.I)
_IGNORED_IN_URL = re.compile(r"[\x00-\x20]")


class _Runnable(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _RUNNABLE_TAGS:
            self.found.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= attribute on <{tag}>")
            elif name in _URL_ATTRIBUTES and value is not None:
                # browsers drop ASCII whitespace and control characters inside the scheme
                if _SCRIPT_URL.match(_IGNORED_IN_URL.sub("", value)):
                    self.found.append(f"{name}={value[:40]!r} on <{tag}>")
            elif tag == "meta" and name == "http-equiv" and (value or "").lower() == "refresh":
                self.found.append("<meta http-equiv=refresh>")

    handle_startendtag = handle_starttag


def executable_markup(html: str) -> list[str]:
    """What in a page could run or navigate by itself, as the browser parses it.

    ``<script>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<base>`` and
    ``<form>`` elements, event-handler attributes (``onerror=`` …), and
    ``javascript:``/``vbscript:``/``data:text/html`` URLs in link and source
    attributes. Escaped text that merely reads like markup
    (``&lt;img onerror=…&gt;``) is text and is not listed. Report pages must
    give an empty list.
    """
    parser = _Runnable()
    parser.feed(html)
    parser.close()
    return parser.found
