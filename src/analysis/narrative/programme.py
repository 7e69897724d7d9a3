"""Words of the loyalty programme dashboard (placeholder; filled below)."""

from __future__ import annotations

from analysis.i18n import _


def no_members_table() -> str:
    return _("no loyalty members table")


def no_members_yet(month: str) -> str:
    return _("no member before {month}").format(month=month)
