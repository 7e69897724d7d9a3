"""Words of the customer-segments page: prose, table and chart labels, the unavailable reason.

The numbers come from :mod:`analysis.segments.rfm`; this module holds every word a
reader sees around them (catalogue block ``segments``), so the page reads in
the store's language. Kept small: the section is rebuilt by a later issue.
"""

from __future__ import annotations

import pandas as pd

from analysis.formats import format_count
from analysis.i18n import N_, _

__all__ = [
    "HEATMAP_TITLE",
    "INTRO",
    "F_SCORE",
    "R_SCORE",
    "no_customers_to_score",
    "rf_table",
]

INTRO = N_(
    """# Segments

RFM scores over the last {days} days (parameter `segments.rfm_window_days`) ending with the report month: **recency** = days since the last completed order, **frequency** = completed orders, **monetary** = their revenue. Each is scored 1–5 by quintile (5 = best); customers with equal values always get the same score, so a value many customers share (such as a single order) never splits across two scores, and a score may then be skipped."""
)
"""Page introduction; ``days`` is ``segments.rfm_window_days`` (formatted)."""

R_SCORE = N_("R score")
F_SCORE = N_("F score")
HEATMAP_TITLE = N_("Customers by recency and frequency score")


def no_customers_to_score(window_days: int) -> str:
    """Why the section is unavailable: no registered customer bought in the RFM window."""
    return _(
        "no registered customer has a completed order in the {days} days up to the end of the "
        "report month, so there is nobody to score (guest orders carry no customer id)."
    ).format(days=format_count(window_days))


def rf_table(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.segments.rfm.rf_counts` with its axes named for the reader (R and F score)."""
    shown = counts.copy()
    shown.index.name, shown.columns.name = _(R_SCORE), _(F_SCORE)
    return shown
