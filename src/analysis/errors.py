"""Errors a user can act on.

Every error the command line reports as one line (plus a hint) derives from
:class:`AnalysisError`; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


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
        return self.message


class ConfigError(AnalysisError):
    """Bad parameters: unknown key, wrong type, invalid store name."""


class DataError(AnalysisError):
    """Data that breaks the contract in ``data/README.md``."""


class ReportError(AnalysisError):
    """A report run failed (a notebook raised); the previous report is untouched."""
