"""Index pages: ``reports/<store>/<month>/index.html`` and ``reports/index.html``.

Both are small, self-contained pages (inline CSS, no scripts, the report pages'
Content-Security-Policy) in UTF-8, so Thai store names render from a shared drive or
an e-mail attachment. Every string from params or data is HTML-escaped. Their
words come from the catalogue (:mod:`analysis.narrative.report`): a report's
index speaks its store's language, ``reports/index.html`` the project default's.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from analysis.config import MONTH_PATTERN, STORE_PATTERN
from analysis.i18n import LANGUAGES, _, use_language
from analysis.narrative import report as text
from analysis.report.html import CSP_META, thai_font_css

__all__ = [
    "render_report_index",
    "render_reports_index",
    "write_reports_index",
    "find_reports",
]

_CSS = """
body { font-family: "Sarabun", "Noto Sans Thai", "Leelawadee UI", Tahoma, system-ui, sans-serif;
       color: #1f2933; margin: 0; background: #f7f8fa; line-height: 1.5; }
main { max-width: 960px; margin: 0 auto; padding: 1.5em; }
h1 { margin-bottom: 0.1em; } .sub { color: #52606d; margin-top: 0; }
section { background: #fff; border: 1px solid #e4e7eb; border-radius: 6px;
          padding: 0.8em 1.2em; margin: 1em 0; }
table { border-collapse: collapse; } td, th { padding: 0.2em 1em 0.2em 0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
footer { color: #7b8794; font-size: 0.85em; margin-top: 2em; }
a { color: #1f6feb; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 0.8em; }
.card { border: 1px solid #e4e7eb; border-radius: 6px; padding: 0.6em 0.8em; background: #fbfcfd; }
.card .label { color: #52606d; font-size: 0.9em; }
.card .value { font-size: 1.5em; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .change { font-size: 0.9em; } .good { color: #1b873f; } .bad { color: #c92a2a; }
.neutral { color: #52606d; } ul.findings { margin-top: 1em; }
section.warnings { border-color: #f0b429; background: #fffbea; }
"""


def _lang(language: str) -> str:
    return language if language in LANGUAGES else "en"


def _page(title: str, body: str, language: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(_lang(language))}">\n<head>\n<meta charset="utf-8">\n{CSP_META}\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{thai_font_css()}\n{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def render_report_index(
    *,
    title: str,
    store: str,
    month: str,
    sections: Sequence[str],
    generated_at: str,
    language: str = "en",
    buddhist_era: bool = False,
    summaries: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
) -> str:
    """HTML of one report's ``index.html``.

    Warnings come first (a section that could not be computed, a cut dropped
    for a missing column, a month far thinner than usual), each linking to its
    section; then the executive summary: the KPI cards and one-line findings
    that section notebooks recorded (``record_headlines(..., cards=, findings=,
    warnings=)``); then links to every section. The raw headline values that notebooks
    record are for machines: they go to ``manifest.json``, not onto this page,
    whose reader gets formatted, labelled numbers only.
    """
    with use_language(_lang(language)):
        when = text.report_month(month, buddhist_era)
        parts = [
            f"<h1>{escape(title)}</h1>",
            f'<p class="sub">{escape(_(text.MONTHLY_REPORT))} · {escape(when)} · '
            f"<code>{escape(store)}</code></p>",
        ]
        summaries = summaries or {}
        parts += _warnings_box(sections, summaries)
        parts += _executive_summary(sections, summaries)
        parts.append(f"<section><h2>{escape(_(text.SECTIONS))}</h2><ol>")
        for name in sections:
            parts.append(
                f'<li><a href="{escape(name)}.html">{escape(text.section_title(name))}</a></li>'
            )
        parts.append("</ol></section>")
        parts.append(
            f"<footer>{escape(_(text.GENERATED))} "
            f"{escape(text.generated_time(generated_at, buddhist_era))} · "
            f'<a href="../../index.html">{escape(_(text.ALL_REPORTS))}</a></footer>'
        )
    return _page(f"{title} – {when}", "\n".join(parts), language)


def _warnings_box(
    sections: Sequence[str], summaries: Mapping[str, Mapping[str, Sequence[Any]]]
) -> list[str]:
    """HTML of the warnings box (nothing without warnings), each linking to its section."""
    warned = [(name, w) for name in sections for w in summaries.get(name, {}).get("warnings", [])]
    if not warned:
        return []
    parts = [f'<section class="warnings"><h2>{escape(_(text.WARNINGS))}</h2><ul>']
    for name, warning in warned:
        parts.append(
            f'<li><a href="{escape(name)}.html">{escape(text.section_title(name))}</a>: '
            f"{escape(str(warning))}</li>"
        )
    parts.append("</ul></section>")
    return parts


def _executive_summary(
    sections: Sequence[str], summaries: Mapping[str, Mapping[str, Sequence[Any]]]
) -> list[str]:
    """HTML of the executive summary: the sections' cards, then their findings."""
    cards = [c for name in sections for c in summaries.get(name, {}).get("cards", [])]
    found = [f for name in sections for f in summaries.get(name, {}).get("findings", [])]
    if not (cards or found):
        return []
    parts = [f"<section><h2>{escape(_(text.EXECUTIVE_SUMMARY))}</h2>"]
    if cards:
        parts.append('<div class="cards">')
        for card in cards:
            tone = {True: "good", False: "bad"}.get(card.get("good"), "neutral")
            arrow = {"up": "▲", "down": "▼"}.get(card.get("direction") or "", "")
            parts.append(
                f'<div class="card"><div class="label">{escape(str(card["label"]))}</div>'
                f'<div class="value">{escape(str(card["value"]))}</div>'
                f'<div class="change {tone}">{arrow} {escape(str(card.get("change") or ""))}'
                "</div></div>"
            )
        parts.append("</div>")
    if found:
        parts.append(
            '<ul class="findings">' + "".join(f"<li>{escape(f)}</li>" for f in found) + "</ul>"
        )
    parts.append("</section>")
    return parts


def find_reports(reports_dir: Path) -> dict[str, list[str]]:
    """``{store: [month, ...]}`` of finished reports (newest month first).

    Only ``<store>/<YYYY-MM>/index.html`` counts; temporary and hidden folders
    of runs in progress are ignored.
    """
    reports_dir = Path(reports_dir)
    out: dict[str, list[str]] = {}
    if not reports_dir.is_dir():
        return out
    for store_dir in sorted(reports_dir.iterdir()):
        if not store_dir.is_dir() or not STORE_PATTERN.fullmatch(store_dir.name):
            continue
        months = sorted(
            (
                m.name
                for m in store_dir.iterdir()
                if m.is_dir() and MONTH_PATTERN.fullmatch(m.name) and (m / "index.html").is_file()
            ),
            reverse=True,
        )
        if months:
            out[store_dir.name] = months
    return out


def _manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def render_reports_index(
    reports_dir: Path, *, generated_at: str | None = None, language: str = "en"
) -> str:
    """HTML of ``reports/index.html``: every store and month found under ``reports_dir``.

    The page speaks ``language`` (the project's default, ``params/default.yaml``);
    each store's months read in that store's own language and era, from its
    latest manifest.
    """
    reports_dir = Path(reports_dir)
    found = find_reports(reports_dir)
    with use_language(_lang(language)):
        heading = _(text.REPORTS)
        parts = [f"<h1>{escape(heading)}</h1>"]
        if not found:
            parts.append(f"<p>{escape(_(text.NO_REPORTS))}</p>")
        for store, months in found.items():
            latest = _manifest(reports_dir / store / months[0] / "manifest.json")
            params = latest.get("params") or {}
            with use_language(_lang(params.get("language", "en"))):
                labels = [
                    text.report_month(m, bool(params.get("buddhist_era", False))) for m in months
                ]
            links = "".join(
                f'<li><a href="{escape(store)}/{escape(m)}/index.html">'
                f"{escape(label)}</a> <small>({escape(m)})</small></li>"
                for m, label in zip(months, labels, strict=True)
            )
            parts.append(
                f"<section><h2>{escape(latest.get('title') or store)}</h2>"
                f'<p class="sub"><code>{escape(store)}</code></p><ul>{links}</ul></section>'
            )
        if generated_at:
            parts.append(
                f"<footer>{escape(_(text.GENERATED))} "
                f"{escape(text.generated_time(generated_at))}</footer>"
            )
    return _page(heading, "\n".join(parts), language)


def write_reports_index(
    reports_dir: Path, *, generated_at: str | None = None, language: str = "en"
) -> Path:
    """(Re)write ``reports_dir/index.html`` atomically (in ``language``); returns its path."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / "index.html"
    page = render_reports_index(reports_dir, generated_at=generated_at, language=language)
    fd, tmp = tempfile.mkstemp(prefix=".index.", suffix=".html.tmp", dir=reports_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
