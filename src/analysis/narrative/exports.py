"""Words of the campaign lists (``analysis segments export``): README, column meanings, messages.

:mod:`analysis.segments.export` writes the numbers; this module holds every
word around them (catalogue block ``segments exports``): the README written
next to the CSV files (in the store's ``language``: build it inside
``with use_language(params.language):``), the meaning of each column, the
churn-risk band names, and the command's messages and errors. The CSV column
*headers* are not translated: they are stable English keys that machines read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from analysis.formats import format_count, format_number, format_percent
from analysis.i18n import N_, _, pgettext

__all__ = [
    "CHURN_RISK_NAMES",
    "COLUMN_DESCRIPTIONS",
    "band_rows",
    "column_description",
    "contacts_included",
    "contacts_not_included",
    "exports_under_reports",
    "files_table_title",
    "predictions_unavailable",
    "readme_markdown",
    "unknown_list",
    "written_to",
]

CHURN_RISK_NAMES: dict[str, str] = {
    "high": N_("high (P(alive) below {low})"),
    "medium": N_("medium (P(alive) from {low} to below {high})"),
    "low": N_("low (P(alive) of {high} or more)"),
}
"""Churn-risk band keys (the values in the ``churn_risk`` column) and what each means."""

COLUMN_DESCRIPTIONS: dict[str, str] = {
    "customer_id": N_("The customer's id in the store's own system."),
    "r_score": N_(
        "Recency score 1–5 (5 = ordered most recently), by quintile of the days since the "
        "last completed order in the RFM window."
    ),
    "f_score": N_(
        "Frequency score 1–5 (5 = most orders), by quintile of the completed orders in the "
        "RFM window."
    ),
    "m_score": N_(
        "Monetary score 1–5 (5 = highest spend), by quintile of the revenue of those orders."
    ),
    "segment": N_("The customer's RFM segment (one per customer), as a key such as champions."),
    "buckets": N_(
        "The customer's lifecycle buckets, keys separated by ';' (a customer may be in several, "
        "or in none: empty)."
    ),
    "p_alive": N_(
        "Probability (0 to 1) that the customer is still buying from the store at the as-of "
        "date, from the CLV section's purchase model."
    ),
    "expected_purchases_90d": N_(
        "Expected purchase days of the customer in the 90 days after the as-of date."
    ),
    "next_order_date": N_(
        "Expected date of the next order: the first day after the as-of date by which the "
        "customer is expected to have made one purchase (expected purchases reach 1); empty "
        "when that does not happen within 365 days."
    ),
    "clv": N_(
        "Predicted customer lifetime value over the next {months} months in {currency}: "
        "expected purchases times expected spend per order, discounted at {rate} a month; "
        "empty when the store has no spend model."
    ),
    "churn_risk": N_(
        "Churn risk from P(alive): high below {low}, medium from {low} to below {high}, "
        "low from {high} (parameter segments.churn_risk_bands)."
    ),
    "email": N_("The customer's e-mail address from the customers table (personal data)."),
    "phone": N_("The customer's phone number from the customers table (personal data)."),
}
"""What each CSV column means (English source; the header itself stays the English key)."""

README_TITLE = N_("# Campaign lists: {store}, {month}")
README_AS_OF = N_(
    "As of **{as_of}** (the last day of the report month, local time): scores and predictions "
    "use the completed orders up to that day."
)
README_FILES = N_(
    "One CSV file per RFM segment (`segment-<key>.csv`) and per lifecycle bucket "
    "(`bucket-<key>.csv`), one row per customer scored by RFM (a completed order in the "
    "{days} days up to the as-of date). Every scored customer is in exactly one segment file; "
    "a customer may be in several bucket files, or in none."
)
README_FORMAT = N_(
    "Format: comma-separated, UTF-8 with a byte-order mark (so that Excel opens Thai text "
    "correctly), dates as YYYY-MM-DD, an empty cell means no value. The column headers are "
    "fixed English keys, the same in every language, so that other tools can read them."
)
README_FORMULAS = N_(
    "Text cells that start with =, +, -, @, a tab or a carriage return begin with an extra "
    "apostrophe ('), so that a spreadsheet shows them as text and never runs them as a "
    "formula. Numbers are written as plain numbers."
)
README_COLUMNS = N_("## Columns")
README_PARAMS = N_("## Rules and parameters")
README_BANDS = N_("## Churn-risk bands")
README_CONTACTS_YES = N_(
    "**These files contain personal data** (the columns email and phone from the customers "
    "table). Keep them only as long as the campaign needs them and share them with nobody "
    "who does not need them."
)
README_PHONE_TEXT = N_(
    "Excel drops the leading 0 of a phone number when it opens a CSV file directly: import the "
    "file instead (Data > From Text/CSV) and set the phone column to Text."
)
README_CONTACTS_NO = N_(
    "Contacts are not included (no e-mail addresses or phone numbers). Run the command with "
    "--with-contacts to add them."
)
README_NO_PREDICTIONS = N_(
    "The prediction columns are empty: the CLV model could not be fitted ({reason})."
)


def _headers(kind: str) -> tuple[str, str]:
    """Header cells of the README's tables (context "campaign lists": short words others use too)."""
    if kind == "files":
        return pgettext("campaign lists", "File"), pgettext("campaign lists", "Customers")
    if kind == "columns":
        return pgettext("campaign lists", "Column"), pgettext("campaign lists", "Meaning")
    if kind == "bands":
        return pgettext("campaign lists", "Value in churn_risk"), pgettext(
            "campaign lists", "Meaning"
        )
    return pgettext("campaign lists", "Parameter"), pgettext("campaign lists", "Value")


def column_description(
    column: str,
    *,
    horizon_months: int,
    currency: str,
    monthly_discount_rate: float,
    churn_risk_bands: tuple[float, float],
) -> str:
    """What ``column`` means, in the current language (``clv_<n>m`` is the CLV column)."""
    key = "clv" if column.startswith("clv_") else column
    low, high = churn_risk_bands
    return _(COLUMN_DESCRIPTIONS[key]).format(
        months=format_count(horizon_months),
        currency=currency,
        rate=format_percent(monthly_discount_rate, 1),
        low=format_number(low, 2),
        high=format_number(high, 2),
    )


def band_rows(churn_risk_bands: tuple[float, float]) -> list[tuple[str, str]]:
    """(band key, what it means) for each churn-risk band, highest risk first."""
    low, high = (format_number(b, 2) for b in churn_risk_bands)
    return [(f"`{k}`", _(m).format(low=low, high=high)) for k, m in CHURN_RISK_NAMES.items()]


def _table(headers: tuple[str, str], rows: Sequence[tuple[str, str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"| {headers[0]} | {headers[1]} |", "|---|---|"]
    lines += [f"| {cell(a)} | {cell(b)} |" for a, b in rows]
    return "\n".join(lines)


def readme_markdown(
    *,
    store: str,
    month: str,
    as_of: dt.date,
    columns: Sequence[str],
    files: Mapping[str, int],
    parameters: Mapping[str, object],
    rfm_window_days: int,
    horizon_months: int,
    currency: str,
    monthly_discount_rate: float,
    churn_risk_bands: tuple[float, float],
    with_contacts: bool,
    predictions_missing: str | None = None,
) -> str:
    """The export folder's ``README.md``, in the current language.

    Parameters
    ----------
    store, month
        Store id and report month ``YYYY-MM``.
    as_of
        Last local day of the report month.
    columns
        The CSV columns, in order (stable English keys).
    files
        File name → rows (customers) of every CSV written.
    parameters
        Rule parameters to list (dotted name → value, e.g. ``segments.inactive_days``).
    rfm_window_days, horizon_months, currency, monthly_discount_rate, churn_risk_bands
        Filled into the column meanings.
    with_contacts
        Whether the files hold e-mail and phone.
    predictions_missing
        Why the prediction columns are empty (None when they are filled).
    """
    parts = [
        _(README_TITLE).format(store=store, month=month),
        _(README_AS_OF).format(as_of=as_of.isoformat()),
        _(README_FILES).format(days=format_count(rfm_window_days)),
        _table(_headers("files"), [(f"`{n}`", format_count(r)) for n, r in files.items()]),
        (_(README_CONTACTS_YES) + " " + _(README_PHONE_TEXT))
        if with_contacts
        else _(README_CONTACTS_NO),
    ]  # fmt: skip
    if predictions_missing:
        parts.append(_(README_NO_PREDICTIONS).format(reason=predictions_missing))
    parts += [
        _(README_FORMAT),
        _(README_FORMULAS),
        _(README_COLUMNS),
        _table(
            _headers("columns"),
            [
                (
                    f"`{c}`",
                    column_description(
                        c,
                        horizon_months=horizon_months,
                        currency=currency,
                        monthly_discount_rate=monthly_discount_rate,
                        churn_risk_bands=churn_risk_bands,
                    ),
                )
                for c in columns
            ],
        ),
        _(README_BANDS),
        _table(_headers("bands"), band_rows(churn_risk_bands)),
        _(README_PARAMS),
        _table(_headers("parameters"), [(f"`{k}`", str(v)) for k, v in parameters.items()]),
    ]  # fmt: skip
    return "\n\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- the command


def files_table_title(folder: str) -> str:
    """Title of the command's table of files written."""
    return _("Campaign lists written to {folder}").format(folder=folder)


def written_to(n_files: int, folder: str) -> str:
    """The command's last line: how many files, where."""
    return _("{n} file(s) and README.md in {folder}").format(n=format_count(n_files), folder=folder)


def contacts_included(folder: str) -> str:
    """The command's warning when the lists hold e-mail and phone (personal data)."""
    return _(
        "The files in {folder} contain customers' e-mail addresses and phone numbers (personal "
        "data): keep them only as long as the campaign needs them and share them with nobody "
        "who does not need them."
    ).format(folder=folder)


def contacts_not_included() -> str:
    """The command's note when contacts were left out (the default)."""
    return _(
        "Contacts were not included (no e-mail addresses or phone numbers); add --with-contacts "
        "to include them."
    )


def predictions_unavailable(reason: str) -> str:
    """The command's note when the CLV model could not be fitted (prediction columns empty)."""
    return _(
        "The CLV model could not be fitted, so the prediction columns are empty: {reason}"
    ).format(reason=reason)


def unknown_list(name: str, valid: Sequence[str]) -> tuple[str, str]:
    """Message and hint of the error for a ``--segment`` that names no segment or bucket."""
    return (
        _("unknown segment or bucket {name!r}").format(name=name),
        _("choose one of: {names}").format(names=", ".join(valid) if valid else "-"),
    )


def exports_under_reports(folder: str) -> tuple[str, str]:
    """Message and hint of the error for an export folder under ``reports/``."""
    return (
        _("refusing to write campaign lists under reports/: {folder}").format(folder=folder),
        _(
            "the lists hold raw customer ids and can hold contacts; they go under the data "
            "folder (data/exports/), never next to the published reports"
        ),
    )
