"""Charts of the loyalty page (drawing only: every number comes from the loyalty modules).

Each chart function takes small pandas results and an optional ``ax``: it draws
on ``ax`` when given, else on a new figure of its own size, and returns the
Axes it drew on. Every title, axis label and legend is a message of the
narrative layer, in the report's language; money is in the store's currency.
"""

from __future__ import annotations

__all__: list[str] = []

# ---- programme dashboard charts (analysis.loyalty.programme) ----


# ---- end of programme dashboard charts ----


# ---- member comparison charts (analysis.loyalty.comparison) ----


# ---- end of member comparison charts ----
