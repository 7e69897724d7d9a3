"""Executed notebook → one self-contained HTML page.

The page uses the ``offline`` nbconvert template shipped in
``analysis/report/templates/offline`` (the ``lab`` template without require.js,
MathJax, mermaid or widget scripts from CDNs). Code cells are hidden, prompts
removed, images inline (matplotlib's inline backend already emits base64 PNG;
local images referenced from markdown are embedded too).

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
from pathlib import Path
from typing import Any

import nbformat
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from analysis.report.headlines import HEADLINES_MIME

__all__ = [
    "TEMPLATE_DIR",
    "TEMPLATE_NAME",
    "ReportCleaner",
    "make_exporter",
    "notebook_to_html",
    "write_html",
    "external_resources",
    "thai_font_css",
]

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "offline"

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
        nb = nbformat.read(path, as_version=4)
    else:
        nb = copy.deepcopy(nb)
    if title:
        nb.metadata["title"] = title
    resources: dict[str, Any] = {"metadata": {"name": name}}
    if resources_path is not None:
        resources["metadata"]["path"] = str(resources_path)
    body, _ = make_exporter(language).from_notebook_node(nb, resources=resources)
    return body.replace("</head>", f"<style>{thai_font_css()}</style>\n</head>", 1)


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
