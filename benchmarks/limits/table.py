"""The table of ``benchmarks/README.md`` from ``results/limits.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

START, END = "<!-- limits:start -->", "<!-- limits:end -->"
NAMES = {"kpis": "KPI scorecard", "cohorts": "Cohorts", "segments": "RFM segments",
         "rfm": "RFM summary (CLV inputs)"}  # fmt: skip


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def render(results: dict[str, Any]) -> str:
    """Markdown: one row per size and family, then the report rows."""
    lines = [
        "| orders | family | ours (DuckDB) s | hand SQL s | ours ÷ SQL | Polars s | "
        "Polars ÷ ours | Spark s | Spark ÷ ours | Spark hand SQL s | Spark SQL ÷ DuckDB SQL | "
        "peak GiB: ours / SQL / Polars / Spark / Spark SQL |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    reports = []
    for entry in sorted(results["sizes"].values(), key=lambda e: e["orders"]):
        for family, ways in entry.get("families", {}).items():
            ours = ways["ours"]["seconds"]

            def get(way: str, key: str, ways: dict = ways) -> float | None:
                return ways.get(way, {}).get(key)

            sql = get("sql", "seconds")
            peaks = " / ".join(
                _s(get(w, "peak_gib")) for w in ("ours", "sql", "polars", "spark", "spark_sql")
            )
            lines.append(
                f"| {entry['orders']:,} | {NAMES.get(family, family)} | {_s(ours)} | {_s(sql)} | "
                f"{_x(ours / sql if sql else None)} | {_s(get('polars', 'seconds'))} | "
                f"{_x(get('polars', 'ratio_to_ours'))} | {_s(get('spark', 'seconds'))} | "
                f"{_x(get('spark', 'ratio_to_ours'))} | {_s(get('spark_sql', 'seconds'))} | "
                f"{_x(get('spark_sql', 'ratio_to_sql'))} | {peaks} |"
            )
        if "report" in entry:
            r = entry["report"]
            reports.append(
                f"| {entry['orders']:,} | one store's report | {r['seconds']:.0f} s | "
                f"{r['peak_gib']:.2f} GiB |"
            )
        if "reports_20" in entry:
            r = entry["reports_20"]
            reports.append(
                f"| {entry['orders']:,} each | {r['stores']} stores, {r['jobs']} at a time | "
                f"{r['seconds']:.0f} s | {r['peak_gib']:.2f} GiB |"
            )
    if reports:
        lines += ["", "| orders | run | wall time | peak memory (process tree) |",
                  "| --- | --- | ---: | ---: |", *reports]  # fmt: skip
    return "\n".join(lines)


def write_table(results: dict[str, Any], readme: Path) -> None:
    """Replace the text between the markers of ``readme`` with :func:`render`'s table."""
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    readme.write_text(f"{head}{START}\n{render(results)}\n{END}{tail}", encoding="utf-8")
