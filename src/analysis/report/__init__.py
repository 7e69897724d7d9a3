"""Monthly reports: run the section notebooks, render offline HTML, write the manifest.

Public API::

    build_report(store, month=None, overrides=None, ...) -> Path
    build_reports(stores=None, month=None, overrides=None, jobs=2, ...) -> list[ReportResult]
    record_headlines(section, values) -> dict      # called at the end of a notebook
    read_headlines(nb) -> {section: {key: value}}

Layout written (reports/README.md)::

    reports/<store>/<month>/index.html, <section>.html, executed/<section>.ipynb, manifest.json
    reports/index.html

Only :mod:`~analysis.report.headlines` is imported eagerly: notebooks call
``record_headlines`` and should not pay for importing papermill and nbconvert.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from analysis.report.headlines import HEADLINES_MIME, read_headlines, record_headlines

if TYPE_CHECKING:
    from analysis.report.html import external_resources, notebook_to_html
    from analysis.report.index import write_reports_index
    from analysis.report.manifest import comparable, read_manifest
    from analysis.report.run import (
        SECTIONS,
        ReportResult,
        build_report,
        build_reports,
        default_kernel_name,
        stores_with_orders,
    )

_LAZY = {
    "external_resources": "analysis.report.html",
    "notebook_to_html": "analysis.report.html",
    "write_reports_index": "analysis.report.index",
    "comparable": "analysis.report.manifest",
    "read_manifest": "analysis.report.manifest",
    "SECTIONS": "analysis.report.run",
    "ReportResult": "analysis.report.run",
    "build_report": "analysis.report.run",
    "build_reports": "analysis.report.run",
    "default_kernel_name": "analysis.report.run",
    "stores_with_orders": "analysis.report.run",
}

__all__ = [
    "HEADLINES_MIME",
    "SECTIONS",
    "ReportResult",
    "build_report",
    "build_reports",
    "comparable",
    "default_kernel_name",
    "external_resources",
    "notebook_to_html",
    "read_headlines",
    "read_manifest",
    "record_headlines",
    "stores_with_orders",
    "write_reports_index",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
