"""Fixtures of the ingest tests (see helpers.py)."""

from .helpers import project  # noqa: F401  (fixture)
