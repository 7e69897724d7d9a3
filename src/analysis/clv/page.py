"""The CLV section of a report run: :func:`clv_section` with the store's params, in one place.

The CLV page, the segments page (per-customer predictions) and ``analysis
segments export`` all need the same fitted model for the same store and month;
:func:`store_clv` is the one call they make, so the three agree to the last digit.
"""

from __future__ import annotations

from analysis.clv.section import ClvSection, clv_section
from analysis.context import SectionContext
from analysis.privacy import pseudonym_key

__all__ = ["store_clv"]


def store_clv(ctx: SectionContext) -> ClvSection:
    """The CLV section for the run's store and month, with every ``clv.*`` param.

    Raises
    ------
    SectionUnavailable
        Too few customers, repeat customers or days of history for a model.
    """
    wh, p = ctx.warehouse, ctx.params
    return clv_section(
        wh.table("orders", end=ctx.end),
        observation_end=ctx.month_last_day,
        timezone=ctx.timezone,
        holdout_days=p.clv.holdout_days,
        holdout_share=p.clv.holdout_share,
        min_customers=p.clv.min_customers,
        min_repeat_customers=p.clv.min_repeat_customers,
        min_history_days=p.clv.min_history_days,
        horizon_months=p.clv.horizon_months,
        monthly_discount_rate=p.clv.monthly_discount_rate,
        model=p.clv.model,
        comparison_customers=p.clv.comparison_customers,
        seed=p.seed,
        top_n=p.clv.top_customers,
        pseudonym_key=pseudonym_key(p.data_folder()),
    )
