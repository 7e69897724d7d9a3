"""The metric catalogue is the one source: docs, cards, chart series and lists come from it."""

import importlib
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis import kpis
from analysis.kpis import catalogue, docs
from analysis.kpis.assemble import Scorecard, scorecard_table
from analysis.kpis.periods import NOT_ENOUGH_HISTORY, report_periods
from analysis.narrative import cards
from analysis.narrative import kpis as text
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


def test_trend_series_come_from_the_catalogue():
    assert text.trend_series() == [
        ("revenue", "Revenue", "money"),
        ("orders", "Orders", "count"),
        ("aov", "Average order value", "money"),
        ("active_customers", "Active customers", "count"),
        ("new_customers", "New customers", "count"),
        ("returning_customers", "Returning customers", "count"),
        ("conversion_rate", "Conversion rate", "ratio"),
        ("cart_abandonment_rate", "Cart abandonment", "ratio"),
        ("nps", "NPS", "points"),
    ]
    assert text.trend_series(["revenue"], "th") == [("revenue", "ยอดขาย", "money")]


@pytest.fixture
def card():
    periods = report_periods("2026-03", "Asia/Bangkok")

    def series(current, previous=None, year_ago=None):
        return pd.Series({"current": current, "previous": previous, "year_ago": year_ago})

    values = {
        "revenue": series(100.0, 80.0),
        "retention_rate": series(0.25),
        "churn_rate": series(0.75),
    }
    status = {"retention_rate": {"year_ago": NOT_ENOUGH_HISTORY}}
    table = scorecard_table(values, periods, ["sessions", "customers"], status)
    return Scorecard(
        table=table,
        periods=periods,
        acquisition=None,
        ladder=None,
        onboarding={
            "median_days_signup_to_first_order": None,
            "first_order_discount_share": 0.125,
            "median_days_first_to_second": 12.5,
        },
        ltv=None,
        missing=["sessions", "customers", "loyalty_members"],
    )


def test_onboarding_and_retention_lists_by_hand(card):
    assert text.lifecycle_list(card, kpis.ONBOARDING_VALUES, "THB") == (
        "- **Conversion rate**: Not available — add `sessions` to the warehouse "
        "(`data/warehouse/sessions/<store>.parquet`).\n"
        "- **Days from sign-up to first order (median)**: Not available — add `customers` to "
        "the warehouse (`data/warehouse/customers/<store>.parquet`).\n"
        "- **First orders with a discount**: 12.5%"
    )
    assert text.lifecycle_list(card, kpis.RETENTION_VALUES, "THB") == (
        "- **Customer retention rate**: 25.0%\n"
        "- **Churn rate**: 75.0%\n"
        "- **Days from first to second order (median)**: 12.5 days\n"
        "- **Loyalty participation**: Not available — add `loyalty_members` to the warehouse "
        "(`data/warehouse/loyalty_members/<store>.parquet`)."
    )
