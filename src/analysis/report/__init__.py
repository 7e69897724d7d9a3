"""Monthly reports: run the section notebooks, render offline HTML, write the manifest.

Public API::

    build_report(store, month=None, overrides=None, ...) -> Path
    build_reports(stores=None, month=None, overrides=None, jobs=2, ...) -> list[ReportResult]
    record_headlines(section, values) -> dict      # called at the end of a notebook
    read_headlines(nb) -> {section: {key: value}}

Layout written (reports/README.md)::

    reports/<store>/<month>/index.html, <section>.html, executed/<section>.ipynb, manifest.json
    reports/index.html

Modules: :mod:`~analysis.report.store` (one store's report), :mod:`~analysis.report.batch`
(several stores in worker processes), :mod:`~analysis.report.execute` (papermill, kernel,
unavailable sections), :mod:`~analysis.report.publish` (staging folder, atomic exchange,
lock, leftovers), :mod:`~analysis.report.html` and :mod:`~analysis.report.index` (pages),
:mod:`~analysis.report.manifest`, :mod:`~analysis.report.headlines`.

Only :mod:`~analysis.report.headlines` is imported eagerly: notebooks call
``record_headlines`` and should not pay for importing papermill and nbconvert.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from analysis.report.headlines import HEADLINES_MIME, read_headlines, record_headlines

if TYPE_CHECKING:
    from analysis.context import stores_with_orders
    from analysis.report.batch import ReportResult, build_reports
    from analysis.report.execute import SECTIONS, default_kernel_name
    from analysis.report.html import external_resources, notebook_to_html
    from analysis.report.index import write_reports_index
    from analysis.report.manifest import comparable, read_manifest
    from analysis.report.store import build_report

_LAZY = {
    "external_resources": "analysis.report.html",
    "notebook_to_html": "analysis.report.html",
    "write_reports_index": "analysis.report.index",
    "comparable": "analysis.report.manifest",
    "read_manifest": "analysis.report.manifest",
    "SECTIONS": "analysis.report.execute",
    "ReportResult": "analysis.report.batch",
    "build_report": "analysis.report.store",
    "build_reports": "analysis.report.batch",
    "default_kernel_name": "analysis.report.execute",
    "stores_with_orders": "analysis.context",
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
