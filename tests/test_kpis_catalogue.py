"""The metric catalogue is the one source: docs, cards, chart series and lists come from it."""

import importlib
import re
from pathlib import Path

import pytest

from analysis.kpis import catalogue, docs
from analysis.narrative import cards
from analysis.report import headlines

DOCS = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
UNITS = {"money", "count", "ratio", "number", "days", "points"}


def _generated_rows() -> dict[str, list[str]]:
    """Key → cells of each row of the generated KPI tables in docs/metrics.md."""
    body = DOCS.read_text(encoding="utf-8")
    part = body[body.index(docs.DOCS_BEGIN) : body.index(docs.DOCS_END)]
    rows = {}
    for line in part.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 5 and cells[1].startswith("`"):
            rows[cells[1].strip("`")] = cells
    return rows


def test_docs_metrics_md_is_generated_from_the_catalogue():
    body = DOCS.read_text(encoding="utf-8")
    assert docs.update_docs(body) == body, "run: python -m analysis.kpis.docs"
    assert docs.main(["--check", "--path", str(DOCS)]) == 0


def test_every_catalogue_metric_is_in_the_docs_with_its_definition_and_vice_versa():
    rows = _generated_rows()
    entries = catalogue.METRICS + catalogue.LIFECYCLE_METRICS
    assert list(rows) == [m.key for m in entries]
    for m in entries:
        label, _, definition, _, _ = rows[m.key]
        assert label == m.label
        assert definition.replace("\\|", "|") == m.definition
    # the report's retention definition, word for word, with its pipes escaped for the table
    assert "\\|S ∩ E\\| ÷ \\|S\\|" in rows["retention_rate"][2]


def test_stale_docs_are_caught(tmp_path):
    stale = tmp_path / "metrics.md"
    body = DOCS.read_text(encoding="utf-8").replace("Revenue ÷ orders.", "Revenue / orders.")
    stale.write_text(body, encoding="utf-8")
    assert docs.main(["--check", "--path", str(stale)]) == 1
    assert docs.main(["--path", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == DOCS.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        docs.update_docs("# no markers")


def test_catalogue_is_consistent_and_every_metric_names_its_code():
    entries = catalogue.METRICS + catalogue.LIFECYCLE_METRICS
    keys = [m.key for m in entries]
    assert len(keys) == len(set(keys)) == 27
    assert {m.unit for m in entries} <= UNITS
    for group in (
        catalogue.HEADLINE_METRICS,
        catalogue.TREND_METRICS,
        catalogue.ONBOARDING_VALUES,
        catalogue.RETENTION_VALUES,
    ):
        assert set(group) <= set(keys)
    for m in entries:
        assert m.source, m.key
        for name in m.source.split(","):
            module, function = name.strip().rsplit(".", 1)
            code = getattr(importlib.import_module(f"analysis.kpis.{module}"), function)
            assert callable(code), name


def test_the_card_is_one_type_and_the_report_takes_its_keys():
    assert cards.CARD_KEYS == ("key", "label", "value", "change", "direction", "good")
    assert headlines.CARD_KEYS is cards.CARD_KEYS
    card = cards.SummaryCard("revenue", "Revenue", "฿100", "+25.0%", "up", True)
    assert card.as_dict() == {
        "key": "revenue",
        "label": "Revenue",
        "value": "฿100",
        "change": "+25.0%",
        "direction": "up",
        "good": True,
    }
    with pytest.raises(ValueError, match="direction"):
        cards.SummaryCard("revenue", "Revenue", "฿100", direction="sideways")
