"""Words of the loyalty page as a whole: its introduction, part notes and unavailable reasons.

Each part has its own words: the programme dashboard in
:mod:`analysis.narrative.programme`, the member comparison in
:mod:`analysis.narrative.members`, the experiment readout in
:mod:`analysis.narrative.experiments`; this module holds what frames them
(catalogue block ``loyalty``).
"""

from __future__ import annotations

from analysis.i18n import N_, _
from analysis.narrative import part_note

__all__ = [
    "INTRO",
    "experiment_not_found",
    "no_assignment",
    "no_experiment_data",
    "part_note",
]

INTRO = N_(
    """# Loyalty programme and A/B comparison

Three views of the loyalty programme. The **programme dashboard** shows who joins, how they use their points and how members buy compared with other customers. The **experiment readout** compares customers randomly invited to the programme with a holdout that was not: a fair test of what the invitation itself changes. The **member comparison** asks how members' spending changed after they joined against similar customers who did not join; members choose to join, so that comparison shows an association, not proof."""
)
"""Page introduction."""


def no_experiment_data() -> str:
    """Why the readout is unavailable: the store has no experiments table."""
    return _(
        "no experiment data: add an experiments table (one row per customer assigned to a "
        "variant: experiment_id, customer_id, variant, assigned_at) to compare arms."
    )


def no_assignment() -> str:
    """Why the readout is unavailable: nobody was assigned before the month's end."""
    return _("no customer was assigned to an experiment before the end of the report month.")


def experiment_not_found(experiment_id: str) -> str:
    """Why the readout is unavailable: the experiment named in params has no assignment."""
    return _(
        "experiment {experiment} (loyalty.experiment_id) has no assignment before the end of "
        "the report month."
    ).format(experiment=repr(experiment_id))
