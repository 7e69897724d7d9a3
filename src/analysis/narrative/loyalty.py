"""Words of the loyalty A/B page: prose, table headers, the chart title, unavailable reasons.

The numbers come from :mod:`analysis.experiments.outcomes`; this module holds every word a
reader sees around them (catalogue block ``loyalty``). Kept small: the section
is rebuilt by a later issue.
"""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.formats import format_count, format_money, format_percent
from analysis.i18n import N_, _, pgettext
from analysis.plots import html_table

__all__ = [
    "CHART_TITLE",
    "EXPERIMENT",
    "INTRO",
    "arm_columns",
    "arm_table",
    "experiment_not_found",
    "no_assignment",
    "no_experiment_data",
]

INTRO = N_(
    """# Loyalty A/B comparison

Customers randomly assigned to a loyalty invitation or a holdout. **Revenue per customer** = completed-order revenue from each customer's assignment to the end of the report month, divided by every customer assigned to the arm (buyers and non-buyers: intent to treat)."""
)
"""Page introduction."""

EXPERIMENT = N_("Experiment **{experiment}**")
"""Names the experiment the page reads (``experiment`` from the data)."""

CHART_TITLE = N_("Revenue per assigned customer")


def arm_columns() -> dict[str, str]:
    """Header of each column of :func:`analysis.experiments.outcomes.arm_summary`, in the current language.

    English keeps the column names as they are (the page read so before).
    """
    return {
        "variant": pgettext("loyalty column", "variant"),
        "customers": pgettext("loyalty column", "customers"),
        "buyers": pgettext("loyalty column", "buyers"),
        "buyer_rate": pgettext("loyalty column", "buyer_rate"),
        "revenue": pgettext("loyalty column", "revenue"),
        "revenue_per_customer": pgettext("loyalty column", "revenue_per_customer"),
    }


def no_experiment_data() -> str:
    """Why the section is unavailable: the store has no experiments table."""
    return _(
        "no experiment data: add an experiments table (one row per customer assigned to a "
        "variant: experiment_id, customer_id, variant, assigned_at) to compare arms."
    )


def no_assignment() -> str:
    """Why the section is unavailable: nobody was assigned before the month's end."""
    return _("no customer was assigned to an experiment before the end of the report month.")


def experiment_not_found(experiment_id: str) -> str:
    """Why the section is unavailable: the experiment named in params has no assignment."""
    return _(
        "experiment {experiment} (loyalty.experiment_id) has no assignment before the end of "
        "the report month."
    ).format(experiment=repr(experiment_id))


def arm_table(arms: pd.DataFrame, currency: str) -> Styler:
    """The arms of :func:`analysis.experiments.outcomes.arm_summary` as the page's table: headers in the
    current language, money in the store's currency, the buyer rate as a percentage."""
    columns = arm_columns()
    formats: dict[object, object] = {
        columns["revenue"]: lambda v: format_money(v, currency),
        columns["revenue_per_customer"]: lambda v: format_money(v, currency, decimals=2),
        columns["buyer_rate"]: lambda v: format_percent(v),
        columns["customers"]: format_count,
        columns["buyers"]: format_count,
    }
    return html_table(arms.rename(columns=columns), formats).hide(axis="index")
