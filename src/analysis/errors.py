"""Errors a user can act on.

Every error the command line reports as one line (plus a hint) derives from
:class:`AnalysisError`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class AnalysisError(Exception):
    """An error caused by input or configuration, not by a bug.

    Parameters
    ----------
    message
        One line saying what is wrong: the file, the column or key, a sample of
        offending values.
    hint
        One line saying what to do about it.
    """

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        # The hint travels with the text: a notebook cell's error output keeps only
        # str(exc), and the report run splits the hint off again.
        return f"{self.message}\nhint: {self.hint}" if self.hint else self.message


class ConfigError(AnalysisError):
    """Bad parameters: unknown key, wrong type, invalid store name."""


class DataError(AnalysisError):
    """Data that breaks the contract in ``data/README.md``."""


class ReportError(AnalysisError):
    """A report run failed (a notebook raised); the previous report is untouched."""


class SectionUnavailable(Exception):
    """A report section cannot be computed from this store's data.

    Not a bug and not bad input: too little history, a missing table, a model
    that does not fit. Metric code raises it with a reason a store manager can
    read ("not enough history yet: needs …, this store has …"); the report run
    turns it into that section's page text and a warning in the executive
    summary, and the report still publishes. In JupyterLab the cell shows the
    reason without a traceback.

    Parameters
    ----------
    reason
        One or two sentences: what the section needs and what the store has.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason

    def _render_traceback_(self) -> list[str]:
        return [f"Section not available: {self.reason}"]


@dataclass(frozen=True)
class PagePart(Generic[T]):
    """One part of a page that has several: its result, or why it is not available.

    Attributes
    ----------
    value
        The part's result; None when it is not available.
    reason
        Why it is not available (the :class:`SectionUnavailable` reason); None when it is.
    """

    value: T | None
    reason: str | None = None


def page_part(compute: Callable[[], T]) -> PagePart[T]:
    """Run one part of a page; a :class:`SectionUnavailable` becomes the part's reason.

    A page with independent parts (the loyalty page's dashboard, member
    comparison and experiment readout) shows every part it can and says why for
    the rest; any other exception is a bug and propagates.
    """
    try:
        return PagePart(compute())
    except SectionUnavailable as exc:
        return PagePart(None, exc.reason)
