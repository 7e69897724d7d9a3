"""Ingest real exports: from a store's files to the canonical tables of the warehouse.

One adapter per source format (:mod:`~analysis.ingest.mapped`,
:mod:`~analysis.ingest.shopify`, :mod:`~analysis.ingest.online_retail`,
:mod:`~analysis.ingest.cdnow`), all ending in the same validation
(:mod:`~analysis.ingest.checks`) and the same atomic, idempotent writer
(:mod:`~analysis.ingest.writer`). :func:`ingest` runs them; docs/ingest.md
lists every error an input can produce.
"""

from analysis.ingest.run import FORMATS, IngestReport, ingest

__all__ = ["FORMATS", "IngestReport", "ingest"]
