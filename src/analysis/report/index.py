"""Index pages: ``reports/<store>/<month>/index.html`` and ``reports/index.html``.

Both are small, self-contained pages (inline CSS, no scripts, the report pages'
Content-Security-Policy) in UTF-8, so Thai store names render from a shared drive or
an e-mail attachment. Every string from params or data is HTML-escaped.
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
from analysis.report.html import CSP_META, thai_font_css

__all__ = [
    "SECTION_TITLES",
    "month_label",
    "section_title",
    "render_report_index",
    "render_reports_index",
    "write_reports_index",
    "find_reports",
]

SECTION_TITLES: dict[str, dict[str, str]] = {
    "kpis": {"en": "Key performance indicators", "th": "ตัวชี้วัดหลัก (KPI)"},
    "cohorts": {"en": "Cohorts and retention", "th": "กลุ่มลูกค้าตามเดือนที่ซื้อครั้งแรกและการรักษาลูกค้า"},
    "clv": {"en": "Customer lifetime value", "th": "มูลค่าตลอดช่วงชีวิตของลูกค้า (CLV)"},
    "segments": {"en": "Customer segments", "th": "การแบ่งกลุ่มลูกค้า"},
    "loyalty_ab": {"en": "Loyalty programme and A/B tests", "th": "โปรแกรมสมาชิกและการทดสอบ A/B"},
}

_MONTHS = {
    "en": [
        "January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December",
    ],
    "th": [
        "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
        "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
    ],
}  # fmt: skip

_LABELS = {
    "en": {
        "report": "Monthly CRM report",
        "sections": "Sections",
        "generated": "Generated",
        "reports": "CRM reports",
        "store": "Store",
        "months": "Months",
        "none": "No reports yet.",
        "all": "All reports",
        "summary": "Executive summary",
        "warnings": "Warnings: read before trusting these numbers",
    },
    "th": {
        "report": "รายงาน CRM ประจำเดือน",
        "sections": "หัวข้อรายงาน",
        "generated": "สร้างเมื่อ",
        "reports": "รายงาน CRM",
        "store": "ร้านค้า",
        "months": "เดือน",
        "none": "ยังไม่มีรายงาน",
        "all": "รายงานทั้งหมด",
        "summary": "สรุปสำหรับผู้บริหาร",
        "warnings": "ข้อควรระวังก่อนใช้ตัวเลขในรายงานนี้",
    },
}

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
    return language if language in _LABELS else "en"


def month_label(month: str, language: str = "en", buddhist_era: bool = False) -> str:
    """``"2026-10"`` → ``"October 2026"``, or ``"ตุลาคม 2569"`` in Thai with B.E."""
    lang = _lang(language)
    year, mon = (int(p) for p in month.split("-"))
    if lang == "th" and buddhist_era:
        year += 543
    return f"{_MONTHS[lang][mon - 1]} {year}"


def section_title(section: str, language: str = "en") -> str:
    """Human title of a section notebook (its name when unknown)."""
    titles = SECTION_TITLES.get(section)
    return titles[_lang(language)] if titles else section.replace("_", " ").capitalize()


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
    lab = _LABELS[_lang(language)]
    when = month_label(month, language, buddhist_era)
    parts = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(lab["report"])} · {escape(when)} · <code>{escape(store)}</code></p>',
    ]
    summaries = summaries or {}
    cards = [c for name in sections for c in summaries.get(name, {}).get("cards", [])]
    found = [f for name in sections for f in summaries.get(name, {}).get("findings", [])]
    warned = [(name, w) for name in sections for w in summaries.get(name, {}).get("warnings", [])]
    if warned:
        parts.append(f'<section class="warnings"><h2>{escape(lab["warnings"])}</h2><ul>')
        for name, warning in warned:
            parts.append(
                f'<li><a href="{escape(name)}.html">{escape(section_title(name, language))}</a>: '
                f"{escape(str(warning))}</li>"
            )
        parts.append("</ul></section>")
    if cards or found:
        parts.append(f"<section><h2>{escape(lab['summary'])}</h2>")
        if cards:
            parts.append('<div class="cards">')
            for card in cards:
                tone = {True: "good", False: "bad"}.get(card.get("good"), "neutral")
                arrow = {"up": "▲", "down": "▼"}.get(card.get("direction") or "", "")
                parts.append(
                    f'<div class="card"><div class="label">{escape(str(card["label"]))}</div>'
                    f'<div class="value">{escape(str(card["value"]))}</div>'
                    f'<div class="change {tone}">{arrow} {escape(str(card.get("change") or ""))}</div></div>'
                )
            parts.append("</div>")
        if found:
            parts.append(
                '<ul class="findings">' + "".join(f"<li>{escape(f)}</li>" for f in found) + "</ul>"
            )
        parts.append("</section>")
    parts.append(f"<section><h2>{escape(lab['sections'])}</h2><ol>")
    for name in sections:
        parts.append(
            f'<li><a href="{escape(name)}.html">{escape(section_title(name, language))}</a></li>'
        )
    parts.append("</ol></section>")
    parts.append(
        f"<footer>{escape(lab['generated'])} {escape(generated_at)} · "
        f'<a href="../../index.html">{escape(lab["all"])}</a></footer>'
    )
    return _page(f"{title} – {when}", "\n".join(parts), language)


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


def render_reports_index(reports_dir: Path, *, generated_at: str | None = None) -> str:
    """HTML of ``reports/index.html``: every store and month found under ``reports_dir``."""
    reports_dir = Path(reports_dir)
    found = find_reports(reports_dir)
    lab = _LABELS["en"]
    parts = [f"<h1>{escape(lab['reports'])}</h1>"]
    if not found:
        parts.append(f"<p>{escape(lab['none'])}</p>")
    for store, months in found.items():
        latest = _manifest(reports_dir / store / months[0] / "manifest.json")
        title = latest.get("title") or store
        language = (latest.get("params") or {}).get("language", "en")
        be = bool((latest.get("params") or {}).get("buddhist_era", False))
        links = "".join(
            f'<li><a href="{escape(store)}/{escape(m)}/index.html">'
            f"{escape(month_label(m, language, be))}</a> <small>({escape(m)})</small></li>"
            for m in months
        )
        parts.append(
            f"<section><h2>{escape(title)}</h2>"
            f'<p class="sub"><code>{escape(store)}</code></p><ul>{links}</ul></section>'
        )
    if generated_at:
        parts.append(f"<footer>{escape(lab['generated'])} {escape(generated_at)}</footer>")
    return _page(lab["reports"], "\n".join(parts), "en")


def write_reports_index(reports_dir: Path, *, generated_at: str | None = None) -> Path:
    """(Re)write ``reports_dir/index.html`` atomically; returns its path."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / "index.html"
    text = render_reports_index(reports_dir, generated_at=generated_at)
    fd, tmp = tempfile.mkstemp(prefix=".index.", suffix=".html.tmp", dir=reports_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
