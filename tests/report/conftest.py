"""Fixtures for report tests: a tiny project (params, warehouse, notebooks) in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from .helpers import PROJECT, STORES, section_notebook, write_orders


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project root: params/, data/warehouse/ with two stores, notebooks/."""
    root = tmp_path_factory.mktemp("project")
    (root / "params" / "stores").mkdir(parents=True)
    shutil.copy(PROJECT / "params" / "default.yaml", root / "params" / "default.yaml")
    (root / "params" / "stores" / "shop-a.yaml").write_text(
        "display_name: ร้านทดสอบ เอ\nlanguage: th\nbuddhist_era: true\n", encoding="utf-8"
    )
    for store in STORES:
        write_orders(root / "data" / "warehouse", store)
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for name in ("kpis", "cohorts"):
        nbformat.write(section_notebook(name), notebooks / f"{name}.ipynb")
    nbformat.write(section_notebook("boom", fail=True), notebooks / "boom.ipynb")
    nbformat.write(
        section_notebook(
            "gone",
            raise_code="from analysis.errors import SectionUnavailable\n"
            "print('SHOWN_BEFORE_STOP')\n"
            "raise SectionUnavailable('needs 3 months <b>of</b> history; this store has 1')\n",
        ),
        notebooks / "gone.ipynb",
    )
    nbformat.write(
        section_notebook(
            "hinted",
            raise_code="from analysis.errors import DataError\n"
            "raise DataError('history too short', hint='lower clv.holdout_days')\n",
        ),
        notebooks / "hinted.ipynb",
    )
    nbformat.write(
        section_notebook(
            "memory",
            raise_code="from analysis.warehouse import duckdb_connection\n"
            "_settings = duckdb_connection().execute(\n"
            "    \"SELECT current_setting('memory_limit'), current_setting('temp_directory')\"\n"
            ").fetchone()\n"
            "print('DUCKDB_SETTINGS', *_settings, sep='|')\n",
        ),
        notebooks / "memory.ipynb",
    )
    return root
