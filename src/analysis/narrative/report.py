"""Words of the report's frame: index pages, section titles, the unavailable label, data warnings.

The report run (:mod:`analysis.report`) and :mod:`analysis.context` show these;
every message is in the catalogue (block ``report``), so a store with
``language: th`` gets Thai index pages, titles and warnings. Messages are
translated in the current language (:func:`analysis.i18n.use_language` around
the caller, or the kernel's language set by :func:`analysis.context.section_context`).
"""

from __future__ import annotations

import datetime as dt

from analysis.formats import format_count, format_percent, month_label
from analysis.i18n import N_, _, current_language, ngettext

__all__ = [
    "ALL_REPORTS",
    "EXECUTIVE_SUMMARY",
    "GENERATED",
    "IMAGE_ALT",
    "MONTHLY_REPORT",
    "NOT_AVAILABLE",
    "NO_REPORTS",
    "REPORTS",
    "SECTIONS",
    "SECTION_TITLES",
    "WARNINGS",
    "generated_time",
    "report_month",
    "section_title",
    "thin_month_warning",
]

SECTION_TITLES: dict[str, str] = {
    "kpis": N_("Key performance indicators"),
    "cohorts": N_("Cohorts and retention"),
    "clv": N_("Customer lifetime value"),
    "segments": N_("Customer segments"),
    "loyalty_ab": N_("Loyalty programme and A/B tests"),
}
"""Title of each section notebook (English; shown with :func:`section_title`)."""

MONTHLY_REPORT = N_("Monthly CRM report")
SECTIONS = N_("Sections")
GENERATED = N_("Generated")
REPORTS = N_("CRM reports")
NO_REPORTS = N_("No reports yet.")
ALL_REPORTS = N_("All reports")
EXECUTIVE_SUMMARY = N_("Executive summary")
WARNINGS = N_("Warnings: read before trusting these numbers")
NOT_AVAILABLE = N_("Not available.")
"""Label before the reason on the page of a section that cannot be computed."""
IMAGE_ALT = N_("No description has been provided for this image")
"""Alternative text of a chart image (nbconvert's own words, kept for the English page)."""


def section_title(section: str) -> str:
    """Title of a section notebook in the current language (its name when unknown)."""
    title = SECTION_TITLES.get(section)
    return _(title) if title else section.replace("_", " ").capitalize()


def report_month(month: str, buddhist_era: bool = False) -> str:
    """The report month in full: ``"October 2026"``, ``"ตุลาคม 2569"`` (Thai, B.E.)."""
    return month_label(month, buddhist_era=buddhist_era, width="wide")


def generated_time(iso: str, buddhist_era: bool = False) -> str:
    """When a report was generated, for its footer.

    ``iso`` is UTC to the second (``2026-11-03T08:15:00Z``). English keeps it as
    written; Thai reads ``3 พ.ย. 2569 08:15:00 UTC`` (day, month, year in the
    store's era, time in UTC).
    """
    if current_language() == "en":
        return iso
    when = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    month = month_label(when.date(), buddhist_era=buddhist_era)
    return f"{when.day} {month} {when:%H:%M:%S} UTC"


def thin_month_warning(month_title: str, orders: int, typical: float, months: int) -> str:
    """The warning of a report month far thinner than usual (see ``SectionContext.data_warnings``).

    Parameters
    ----------
    month_title
        The report month as the reader reads it (``"May 2026"``).
    orders
        Orders (any status) in the report month.
    typical
        Median orders of the earlier months with orders.
    months
        How many earlier months that median is over.
    """
    return ngettext(
        "{month} holds only {n} order, {share} of a typical month (median {typical} over the "
        "previous {months} months with orders): the data may end early in the month or the "
        "store paused, so this month's figures and their changes are not comparable with "
        "earlier months. Choose an earlier month (MONTH=YYYY-MM) for a full picture.",
        "{month} holds only {n} orders, {share} of a typical month (median {typical} over the "
        "previous {months} months with orders): the data may end early in the month or the "
        "store paused, so this month's figures and their changes are not comparable with "
        "earlier months. Choose an earlier month (MONTH=YYYY-MM) for a full picture.",
        orders,
    ).format(
        month=month_title,
        n=format_count(orders),
        share=format_percent(orders / typical),
        typical=format_count(typical),
        months=months,
    )
