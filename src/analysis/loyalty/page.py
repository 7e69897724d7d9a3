"""The loyalty page in one call: each part computed, or the reason it cannot be.

The page has independent parts; a store without an ``experiments`` table still
gets its programme dashboard, and one without loyalty tables still gets its
experiment readout. :func:`loyalty_page` runs each part through
:func:`analysis.errors.page_part`, so a part that lacks its data carries its
reason instead of stopping the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.context import SectionContext
from analysis.errors import PagePart, page_part
from analysis.experiments.outcomes import report_experiment
from analysis.experiments.readout import Readout, experiment_readout

__all__ = ["LoyaltyPage", "experiment_part", "loyalty_page"]


@dataclass(frozen=True)
class LoyaltyPage:
    """The parts of the loyalty page, each a result or the reason it is missing."""

    readout: PagePart[Readout]

    @property
    def reasons(self) -> list[str]:
        """Why parts are missing, in page order (for the executive summary's warnings)."""
        return [part.reason for part in (self.readout,) if part.reason is not None]


def experiment_part(ctx: SectionContext) -> Readout:
    """The readout of ``loyalty.experiment_id`` (default: the most recent experiment).

    Raises
    ------
    SectionUnavailable
        No experiments table, no assignment before the month's end, or params
        that name variants the data lacks.
    """
    wh, params = ctx.warehouse, ctx.params
    experiments, experiment_id = report_experiment(wh, ctx.end, params.loyalty.experiment_id)
    return experiment_readout(
        experiments,
        wh.table("orders", end=ctx.end),
        experiment_id,
        ctx.end,
        params.experiment,
        params.seed,
        persist=wh.persist,
    )


def loyalty_page(ctx: SectionContext) -> LoyaltyPage:
    """Every part of the loyalty page for the report month."""
    return LoyaltyPage(readout=page_part(lambda: experiment_part(ctx)))
