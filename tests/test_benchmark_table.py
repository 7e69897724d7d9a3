"""The limits table of benchmarks/README.md (benchmarks.limits.table)."""

import importlib
import sys
from pathlib import Path

# benchmarks/ is a folder of the project, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
table = importlib.import_module("benchmarks.limits.table")
render, write_table = table.render, table.write_table


def results() -> dict:
    way = lambda s, peak, **extra: {"seconds": s, "peak_gib": peak, **extra}  # noqa: E731
    return {
        "sizes": {
            "10M": {
                "orders": 9_597_224,
                "families": {
                    "rfm": {
                        "ours": way(1.5, 0.5),
                        "sql": way(1.25, 1.0, ratio_to_ours=0.833),
                        "polars": way(1.2, 1.0, ratio_to_ours=0.8),
                        "spark": way(26.0, 4.5, ratio_to_ours=17.333),
                        "spark_sql": way(12.5, 3.0, ratio_to_ours=8.333, ratio_to_sql=10.0),
                    },
                    "kpis": {"ours": way(2.0, 0.6), "sql": way(2.0, 1.1, ratio_to_ours=1.0)},
                },
                "report": {"seconds": 87.4, "peak_gib": 2.5},
            }
        }
    }


def test_every_way_and_ratio_has_its_cell():
    lines = render(results()).splitlines()
    assert lines[0].count("|") == lines[1].count("|") == 13  # 12 columns
    rfm = next(line for line in lines if "RFM summary" in line)
    assert rfm == (
        "| 9,597,224 | RFM summary (CLV inputs) | 1.50 | 1.25 | 1.20× | 1.20 | 0.80× | "
        "26.00 | 17.33× | 12.50 | 10.00× | 0.50 / 1.00 / 1.00 / 4.50 / 3.00 |"
    )
    kpis = next(line for line in lines if "KPI scorecard" in line)
    assert kpis.endswith(
        "| 2.00 | 2.00 | 1.00× | – | – | – | – | – | – | 0.60 / 1.10 / – / – / – |"
    )
    assert "| 9,597,224 | one store's report | 87 s | 2.50 GiB |" in lines


def test_the_table_replaces_only_the_text_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("head\n<!-- limits:start -->\nold\n<!-- limits:end -->\ntail\n")
    write_table(results(), readme)
    text = readme.read_text()
    assert text.startswith("head\n<!-- limits:start -->\n| orders |")
    assert text.endswith("<!-- limits:end -->\ntail\n") and "old" not in text
