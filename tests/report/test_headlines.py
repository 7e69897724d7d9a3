"""record_headlines / read_headlines without a kernel."""

from __future__ import annotations

import math

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from analysis.report.headlines import HEADLINES_MIME, read_headlines, record_headlines


def test_outside_ipython_returns_payload():
    out = record_headlines(
        "kpis", {"revenue": 10.5, "orders": 3, "label": "ร้าน", "ok": True, "x": None}
    )
    assert out == {
        "section": "kpis",
        "values": {"revenue": 10.5, "orders": 3, "label": "ร้าน", "ok": True, "x": None},
    }


def test_numpy_scalars_become_python():
    out = record_headlines("kpis", {"a": np.int64(4), "b": np.float64(0.25), "c": np.bool_(True)})
    values = out["values"]
    assert values == {"a": 4, "b": 0.25, "c": True}
    assert type(values["a"]) is int and type(values["b"]) is float and type(values["c"]) is bool


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_nan_and_inf_are_errors(bad):
    with pytest.raises(ValueError, match=r"kpis\.x"):
        record_headlines("kpis", {"x": bad})


@pytest.mark.parametrize("bad", [[1, 2], {"a": 1}, object()])
def test_non_scalars_are_errors(bad):
    with pytest.raises(TypeError, match=r"kpis\.x"):
        record_headlines("kpis", {"x": bad})


@pytest.mark.parametrize(("section", "key"), [("KPIs", "x"), ("kpis", "Bad Key"), ("", "x")])
def test_names_are_checked(section, key):
    with pytest.raises(ValueError):
        record_headlines(section, {key: 1})


def test_read_headlines_collects_and_merges():
    def out(section, values):
        return new_output(
            "display_data", data={HEADLINES_MIME: {"section": section, "values": values}}
        )

    nb = new_notebook(
        cells=[
            new_code_cell("a", outputs=[out("kpis", {"a": 1, "b": 2})]),
            new_code_cell("b", outputs=[new_output("stream", name="stdout", text="hi")]),
            new_code_cell("c", outputs=[out("kpis", {"b": 3}), out("clv", {"c": 0.5})]),
        ]
    )
    assert read_headlines(nb) == {"kpis": {"a": 1, "b": 3}, "clv": {"c": 0.5}}
    assert read_headlines(new_notebook()) == {}


def test_cards_and_findings_reach_the_index():
    import nbformat

    from analysis.report.headlines import HEADLINES_MIME, read_summaries
    from analysis.report.index import render_report_index

    card = {"key": "revenue", "label": "ยอดขาย", "value": "฿1,234", "change": "+9.6%",
            "direction": "up", "good": True}  # fmt: skip
    payload = record_headlines(
        "kpis",
        {"revenue": 1234.0},
        cards=[card],
        findings=["Revenue +10%."],
        warnings=["Only 1 order <this month>."],
    )
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={HEADLINES_MIME: dict(payload)})]
    nb.cells = [cell]
    summaries = read_summaries(nb)
    assert summaries == {
        "kpis": {
            "cards": [card],
            "findings": ["Revenue +10%."],
            "warnings": ["Only 1 order <this month>."],
        }
    }
    html = render_report_index(
        title="ร้าน", store="shop", month="2026-10", sections=["kpis"],
        summaries=summaries, generated_at="now",
    )  # fmt: skip
    summary = html[html.index("Executive summary") : html.index("Sections")]
    assert "ยอดขาย" in summary and "฿1,234" in summary and "▲ +9.6%" in summary
    assert 'class="change good"' in summary and "<li>Revenue +10%.</li>" in summary
    warnings = html[html.index('<section class="warnings">') : html.index("Executive summary")]
    assert "Key performance indicators</a>: Only 1 order &lt;this month&gt;." in warnings


def test_bad_cards_are_refused():
    with pytest.raises(ValueError, match="card of kpis"):
        record_headlines("kpis", {}, cards=[{"key": "x", "value": "1"}])
    with pytest.raises(ValueError, match="direction"):
        record_headlines(
            "kpis", {}, cards=[{"key": "x", "label": "X", "value": "1", "direction": "left"}]
        )


def test_headline_keys_from_names_in_the_data():
    import hashlib

    from analysis.report.headlines import headline_key

    def digest(name: str) -> str:
        return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]

    assert headline_key("holdout") == "holdout"  # already a key: unchanged
    assert headline_key("treatment_b2") == "treatment_b2"
    assert headline_key("treatment-b") == f"treatment_b_{digest('treatment-b')}"
    assert headline_key("Variant A") == f"variant_a_{digest('Variant A')}"
    assert headline_key("กลุ่มทดลอง") == digest("กลุ่มทดลอง")  # no ASCII left: the hash alone
    assert headline_key("Café <b>") == f"cafe_b_{digest('Café <b>')}"
    names = ["Variant A", "variant-a", "variant_a", "VARIANT A", "กลุ่ม ก", "กลุ่ม ข", "_x", ""]
    keys = [headline_key(n) for n in names]
    assert len(set(keys)) == len(names)  # different names, different keys
    # every key is accepted by record_headlines
    out = record_headlines("loyalty", {f"revenue_per_customer_{k}": 1.0 for k in keys})
    assert len(out["values"]) == len(names)


def test_dotted_keys_nest_under_the_section():
    out = record_headlines("experiment", {"primary.lift_rel": 0.05, "srm_p": 0.5})
    assert out["values"] == {"primary.lift_rel": 0.05, "srm_p": 0.5}
    for bad in ("primary.", ".x", "a..b", "Primary.x", "a.b-c"):
        with pytest.raises(ValueError, match="headline key"):
            record_headlines("experiment", {bad: 1.0})
