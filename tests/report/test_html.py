"""Offline HTML rendering of an executed notebook (no kernel needed)."""

from __future__ import annotations

import re

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis.report.headlines import HEADLINES_MIME
from analysis.report.html import (
    TEMPLATE_DIR,
    executable_markup,
    external_resources,
    notebook_to_html,
)

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def executed_notebook():
    cells = [
        new_markdown_cell("# ภาพรวมยอดขาย\n\nSee [docs](https://example.com/docs)."),
        new_code_cell(
            "SECRET_SOURCE = 1\nprint('ok')",
            execution_count=1,
            outputs=[
                new_output("stream", name="stdout", text="สวัสดี stdout\n"),
                new_output("stream", name="stderr", text="UserWarning: STDERR_NOISE\n"),
            ],
        ),
        new_code_cell(
            "plot()",
            execution_count=2,
            outputs=[new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})],
        ),
        new_code_cell(
            "record_headlines(...)",
            execution_count=3,
            outputs=[
                new_output(
                    "display_data",
                    data={HEADLINES_MIME: {"section": "kpis", "values": {"HEADLINE_VALUE": 1}}},
                )
            ],
        ),
        new_code_cell(
            "boom()",
            execution_count=4,
            outputs=[
                new_output(
                    "error",
                    ename="ValueError",
                    evalue="ERROR_VALUE",
                    traceback=["Traceback (most recent call last)", "ValueError: ERROR_VALUE"],
                )
            ],
        ),
    ]
    return new_notebook(cells=cells)


def test_template_is_shipped_with_the_package():
    assert (TEMPLATE_DIR / "offline" / "conf.json").is_file()
    assert (TEMPLATE_DIR / "offline" / "index.html.j2").is_file()


def test_report_page_is_offline_and_clean():
    html = notebook_to_html(executed_notebook(), title="ยอดขาย – ร้านทดสอบ", language="th")
    assert '<meta charset="utf-8"' in html
    assert '<html lang="th">' in html
    assert "<title>ยอดขาย – ร้านทดสอบ</title>" in html
    assert "ภาพรวมยอดขาย" in html and "สวัสดี stdout" in html
    assert f"data:image/png;base64,{PNG}" in html
    for absent in (
        "SECRET_SOURCE",
        "STDERR_NOISE",
        "HEADLINE_VALUE",
        "ERROR_VALUE",
        "Traceback",
        "In&nbsp;[",
    ):
        assert absent not in html, absent
    assert not re.search(r"Out\[\d", html)
    assert "<script" not in html
    assert external_resources(html) == []
    assert 'href="https://example.com/docs"' in html  # links in text are fine


def test_input_notebook_is_not_modified():
    nb = executed_notebook()
    notebook_to_html(nb)
    assert nb.cells[1].outputs[1]["name"] == "stderr"


def test_external_resources_finds_network_loads():
    page = (
        '<script src="https://cdn.example.com/require.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.com/x.css">'
        '<img src="http://img.example.com/a.png">'
        '<script type="module">import("https://cdn.example.com/m.mjs")</script>'
        '<a href="https://example.com">fine</a><img src="data:image/png;base64,AAAA">'
    )
    assert external_resources(page) == [
        "//fonts.example.com/x.css",
        "http://img.example.com/a.png",
        "https://cdn.example.com/m.mjs",
        "https://cdn.example.com/require.js",
    ]


def test_every_page_carries_a_policy_that_allows_no_script_and_no_network():
    from analysis.report.html import CONTENT_SECURITY_POLICY, CSP_META
    from analysis.report.index import render_report_index, render_reports_index

    pages = {
        "section": notebook_to_html(executed_notebook(), title="ยอดขาย", language="th"),
        "report index": render_report_index(
            title="ร้าน", store="shop-a", month="2026-03", sections=["kpis"], generated_at="now"
        ),
        "reports index": render_reports_index(TEMPLATE_DIR / "missing"),
    }
    for name, html in pages.items():
        head = html[: html.index("</head>")]
        assert head.count(CSP_META) == 1, name
        # right after <meta charset>, before any style, image or font it governs
        assert re.search(r"<head>\s*<meta charset=\"utf-8\"\s*/?>\s*<meta http-equiv", html), name
        assert head.index(CSP_META) < head.index("<style"), name
        assert executable_markup(html) == [], name
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives == {
        "default-src": "'none'",  # no script, connection, frame, object, media
        "img-src": "data:",
        "style-src": "'unsafe-inline'",
        "font-src": "data:",
        "base-uri": "'none'",
        "form-action": "'none'",
    }


def test_executable_markup_sees_what_a_browser_runs_and_not_escaped_text():
    page = (
        "<p>&lt;img src=x onerror=alert(1)&gt; onclick=alert(1) javascript:alert(1)</p>"
        '<a href="https://example.com">fine</a><img src="data:image/png;base64,AAAA">'
        "<IMG SRC=x OnError=alert(1)>"
        '<a href=" java\tscript:alert(1)">x</a>'
        "<svg><script>alert(1)</script></svg>"
        '<iframe srcdoc="x"></iframe><form action="x"></form>'
        '<meta http-equiv="refresh" content="0;url=https://example.com">'
    )
    assert executable_markup(page) == [
        "onerror= attribute on <img>",
        "href=' java\\tscript:alert(1)' on <a>",
        "<script> element",
        "<iframe> element",
        "<form> element",
        "<meta http-equiv=refresh>",
    ]


def test_notebook_tables_go_through_the_escaping_helper():
    """A pandas Styler writes cells and labels into the page unescaped: every table a
    section notebook displays is built with ``plots.html_table`` instead."""
    import nbformat

    from .helpers import PROJECT

    notebooks = sorted((PROJECT / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 5
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for pattern in (r"\.style\b", r"\.to_html\(", r"\bHTML\("):
                assert not re.search(pattern, cell.source), (path.name, pattern, cell.source)
