"""The loyalty page in one call: each part computed, or the reason it cannot be.

The page has independent parts; a store without an ``experiments`` table still
gets its programme dashboard, and one without loyalty tables still gets its
experiment readout. :func:`loyalty_page` runs each part through
:func:`analysis.errors.page_part`, so a part that lacks its data carries its
reason instead of stopping the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.calendar import report_periods
from analysis.context import SectionContext
from analysis.errors import PagePart, page_part
from analysis.experiments.outcomes import report_experiment
from analysis.experiments.readout import Readout, experiment_readout
from analysis.loyalty.comparison import MemberComparison, comparison_headlines, member_comparison
from analysis.loyalty.programme import ProgrammePage, programme_headlines, programme_page

__all__ = ["LoyaltyPage", "experiment_part", "loyalty_headlines", "loyalty_page"]


@dataclass(frozen=True)
class LoyaltyPage:
    """The parts of the loyalty page, each a result or the reason it is missing."""

    programme: PagePart[ProgrammePage]
    comparison: PagePart[MemberComparison]
    readout: PagePart[Readout]

    @property
    def reasons(self) -> list[str]:
        """Why parts are missing, in page order (for the executive summary's warnings)."""
        parts = (self.programme, self.readout, self.comparison)
        return [part.reason for part in parts if part.reason is not None]


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
    wh, params = ctx.warehouse, ctx.params
    period = report_periods(ctx.month, ctx.timezone)[0]
    return LoyaltyPage(
        programme=page_part(lambda: programme_page(wh, period, params)),
        comparison=page_part(lambda: member_comparison(wh, ctx.month, params)),
        readout=page_part(lambda: experiment_part(ctx)),
    )


def loyalty_headlines(page: LoyaltyPage) -> dict[str, float | bool | None]:
    """Manifest values of the programme and the member comparison (recorded under ``loyalty.*``).

    ``programme_headlines`` and ``comparison_headlines`` of the parts that are
    available, floats rounded to 6 decimals (so that a last-bit difference of a
    parallel sum never changes the manifest); a missing part adds no key.
    """
    values: dict[str, float | bool | None] = {}
    if page.programme.value is not None:
        values.update(programme_headlines(page.programme.value))
    if page.comparison.value is not None:
        values.update(comparison_headlines(page.comparison.value))
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in values.items()}
