"""The segments page in one call: each part computed, or the reason it cannot be.

Parts, each through :func:`analysis.errors.page_part` (a part that lacks its
data carries its reason instead of stopping the page):

- **scores**: RFM scores and segments of the customers active in the RFM
  window, the R × F grid, and what each segment is worth;
- **outlook**: per-customer predictions from the CLV section's fitted model
  (the same model the CLV page shows; :func:`analysis.clv.page.store_clv`);
- **buckets**: lifecycle buckets, their overlaps and what each is worth;
- **migration**: segment transitions from the end of the previous month and
  of the same month a year earlier to the end of the report month.

The per-customer frames are small results (one row per customer); the orders
are only read on the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from analysis.calendar import report_periods
from analysis.clv.page import store_clv
from analysis.clv.section import ClvSection
from analysis.context import SectionContext
from analysis.errors import PagePart, SectionUnavailable, page_part
from analysis.handover import hand_over, handed_over, handover_key
from analysis.narrative import segments as text
from analysis.narrative.segments import no_customers_to_score
from analysis.privacy import pseudonymous_ids
from analysis.segments.base import customer_base
from analysis.segments.buckets import (
    BucketFlags,
    bucket_combinations,
    bucket_flags,
    bucket_overlaps,
)
from analysis.segments.customer_table import CustomerTable, customer_table
from analysis.segments.migration import NOT_SCORED, SegmentMigration, segment_migrations
from analysis.segments.outlook import customer_outlook
from analysis.segments.rfm import SEGMENTS, RfmGrid, rfm_grid, rfm_headlines, rfm_scores
from analysis.segments.value import (
    CustomerProfile,
    group_mixes,
    group_value,
    membership_from_labels,
)

__all__ = [
    "OUTLOOK_HANDOVER",
    "PRIORITY_SEGMENTS",
    "BucketPart",
    "MigrationPart",
    "ScoresPart",
    "SegmentsPage",
    "segments_headlines",
    "segments_page",
    "store_base",
    "store_bucket_flags",
    "store_customer_table",
    "share_outlook",
    "store_outlook",
    "store_rfm",
    "migration_summary",
    "priority_sample",
]

PRIORITY_SEGMENTS: tuple[str, ...] = ("cant_lose", "at_risk")
"""Segments the page samples customers from: valuable customers slipping away."""


@dataclass(frozen=True)
class ScoresPart:
    """RFM scores and segments of the report month.

    Attributes
    ----------
    rfm
        One row per scored customer (:func:`analysis.segments.rfm.rfm_scores`).
    grid
        Customers and revenue share per (R, F) cell.
    membership
        Index customer_id, one bool column per segment (:data:`SEGMENTS` order).
    value
        :func:`analysis.segments.value.group_value` per segment.
    mixes
        Profile column → :func:`analysis.segments.value.group_mix` per segment.
    """

    rfm: pd.DataFrame
    grid: RfmGrid
    membership: pd.DataFrame
    value: pd.DataFrame
    mixes: dict[str, pd.DataFrame]


@dataclass(frozen=True)
class BucketPart:
    """Lifecycle buckets of the report month, their overlaps and their worth.

    ``in_several`` counts the customers in two or more buckets.
    """

    flags: BucketFlags
    value: pd.DataFrame
    overlaps: pd.DataFrame
    combinations: pd.DataFrame
    in_several: int


@dataclass(frozen=True)
class MigrationPart:
    """Segment transitions into the report month's end.

    Attributes
    ----------
    previous_month
        From the end of the previous month.
    last_year
        From the end of the same month a year earlier; None when no customer
        was scored then (less than a year of history).
    previous_month_key, last_year_key
        The two starting months, ``YYYY-MM`` (each migration starts at its end).
    """

    previous_month: SegmentMigration
    last_year: SegmentMigration | None
    previous_month_key: str
    last_year_key: str


@dataclass(frozen=True)
class SegmentsPage:
    """The parts of the segments page, each a result or the reason it is missing."""

    scores: PagePart[ScoresPart]
    outlook: PagePart[pd.DataFrame]
    buckets: PagePart[BucketPart]
    migration: PagePart[MigrationPart]
    profile: CustomerProfile

    @property
    def reasons(self) -> list[str]:
        """Why parts are missing, in page order, each once (the executive summary's warnings).

        The outlook's reason is left out: it is the CLV page's own warning (the
        model could not be fitted), and the segments page says it in place.
        """
        parts = (self.scores, self.buckets, self.migration)
        return list(dict.fromkeys(p.reason for p in parts if p.reason is not None))


def _table(ctx: SectionContext, name: str) -> Any:
    wh = ctx.warehouse
    return wh.table(name, end=ctx.end) if wh.has(name) else None


def store_base(ctx: SectionContext) -> nw.LazyFrame:
    """The per-customer base of the page, persisted on the engine (:func:`customer_base`).

    Covers the RFM window ending at the report month's end and those ending at
    the end of the previous month and of the same month a year earlier (for
    migration), in that order.
    """
    _current, previous, year_ago = report_periods(ctx.month, ctx.timezone)
    orders = ctx.warehouse.table("orders", end=ctx.end)
    window = ctx.params.segments.rfm_window_days
    base = customer_base(orders, ctx.end, window, earlier=[previous.end, year_ago.end])
    return ctx.warehouse.persist(base)


def store_rfm(ctx: SectionContext, base: nw.LazyFrame | None = None) -> pd.DataFrame:
    """RFM scores and segments at the report month's end (``segments.rfm_window_days``).

    ``base`` is :func:`store_base` when the caller has it.

    Raises
    ------
    SectionUnavailable
        No registered customer has a completed order in the window.
    """
    orders = ctx.warehouse.table("orders", end=ctx.end)
    return rfm_scores(orders, ctx.end, ctx.params.segments.rfm_window_days, base=base)


OUTLOOK_HANDOVER = "customer_outlook"
"""Name under which the CLV page hands its customers' outlook to this page (:mod:`analysis.handover`)."""


def _outlook_key(ctx: SectionContext) -> str:
    return handover_key(ctx.params.store, ctx.month, ctx.params.as_dict())


def share_outlook(ctx: SectionContext, section: ClvSection) -> pd.DataFrame:
    """The outlook of the CLV page's fitted ``section``, kept for this page in a report run.

    The CLV notebook calls it after :func:`analysis.clv.page.store_clv`, so
    :func:`store_outlook` in the segments notebook of the same report run reads
    the predictions instead of fitting the same model again.
    """
    outlook = customer_outlook(section, ctx.params.segments.churn_risk_bands)
    hand_over(OUTLOOK_HANDOVER, _outlook_key(ctx), outlook)
    return outlook


def store_outlook(ctx: SectionContext) -> pd.DataFrame:
    """Per-customer predictions of the CLV page's model (:func:`customer_outlook`).

    In a report run whose CLV page already fitted the model, its handed-over
    outlook (:func:`share_outlook`); otherwise the model is fitted here
    (:func:`analysis.clv.page.store_clv`), with the same params and data.

    Raises
    ------
    SectionUnavailable
        The CLV model cannot be fitted (too few customers or too short a history).
    """
    shared = handed_over(OUTLOOK_HANDOVER, _outlook_key(ctx))
    if shared is not None:
        return shared
    return share_outlook(ctx, store_clv(ctx))


def store_bucket_flags(
    ctx: SectionContext, outlook: pd.DataFrame | None, base: nw.LazyFrame | None = None
) -> BucketFlags:
    """Lifecycle buckets at the report month's end, from every table the store has.

    ``outlook`` (or None) gives P(alive) to the at-risk rule; ``base`` is
    :func:`store_base` when the caller has it.
    """
    return bucket_flags(
        ctx.warehouse.table("orders", end=ctx.end),
        ctx.end,
        ctx.params.segments,
        surveys=_table(ctx, "surveys"),
        carts=_table(ctx, "carts"),
        campaigns=_table(ctx, "campaigns"),
        p_alive=None if outlook is None else outlook["p_alive"],
        base=base,
    )


def store_customer_table(
    ctx: SectionContext, base: nw.LazyFrame, outlook: pd.DataFrame | None
) -> CustomerTable:
    """Scores, buckets and profile of the store's customers (:func:`customer_table`).

    ``base`` is :func:`store_base`; ``outlook`` (or None) gives P(alive) to the
    at-risk rule.
    """
    return customer_table(
        ctx.warehouse.table("orders", end=ctx.end),
        ctx.end,
        ctx.params.segments,
        ctx.month_start.year,
        base=base,
        customers=_table(ctx, "customers"),
        surveys=_table(ctx, "surveys"),
        carts=_table(ctx, "carts"),
        campaigns=_table(ctx, "campaigns"),
        p_alive=None if outlook is None else outlook["p_alive"],
    )


def _scores(ctx: SectionContext, table: CustomerTable, outlook: pd.DataFrame | None) -> ScoresPart:
    rfm = table.rfm
    if rfm.empty:
        raise SectionUnavailable(no_customers_to_score(ctx.params.segments.rfm_window_days))
    # Rows for every customer of the table (not scored: in no segment), so that the value
    # tables line customers up by position; shares are of the scored customers.
    membership = membership_from_labels(table.window["segment"], SEGMENTS)
    return ScoresPart(
        rfm=rfm,
        grid=rfm_grid(rfm),
        membership=membership,
        value=group_value(membership, table.window, outlook, table.profile, population=len(rfm)),
        mixes=group_mixes(membership, table.profile),
    )


def _buckets(table: CustomerTable, outlook: pd.DataFrame | None) -> BucketPart:
    flags = table.flags
    if flags.flags.empty:
        raise SectionUnavailable(text.no_customers_for_buckets())
    return BucketPart(
        flags=flags,
        value=group_value(flags.flags, table.window, outlook, table.profile),
        overlaps=bucket_overlaps(flags.flags),
        combinations=bucket_combinations(flags.flags),
        in_several=int((flags.flags.sum(axis=1) >= 2).sum()),
    )


def _migration(ctx: SectionContext, base: nw.LazyFrame) -> MigrationPart:
    _current, previous, year_ago = report_periods(ctx.month, ctx.timezone)
    since_previous, since_last_year = segment_migrations(
        ctx.warehouse.table("orders", end=ctx.end),
        [previous.end, year_ago.end],
        ctx.end,
        ctx.params.segments.rfm_window_days,
        base=base,
    )
    scored_then = int(since_last_year.counts.drop(index=NOT_SCORED).to_numpy().sum())
    return MigrationPart(
        previous_month=since_previous,
        last_year=since_last_year if scored_then else None,
        previous_month_key=previous.month,
        last_year_key=year_ago.month,
    )


def segments_page(ctx: SectionContext) -> SegmentsPage:
    """Every part of the segments page for the report month."""
    outlook = page_part(lambda: store_outlook(ctx))
    base = store_base(ctx)
    table = store_customer_table(ctx, base, outlook.value)
    scores = page_part(lambda: _scores(ctx, table, outlook.value))
    return SegmentsPage(
        scores=scores,
        outlook=outlook,
        buckets=page_part(lambda: _buckets(table, outlook.value)),
        migration=(
            page_part(lambda: _migration(ctx, base))
            if scores.value is not None
            else PagePart(None, scores.reason)
        ),
        profile=table.profile,
    )


def _rounded(value: Any) -> Any:
    """A manifest value: plain ``float`` rounded to 6 decimals (None for NaN), ints as they are."""
    if isinstance(value, float):  # numpy's float64 too: stored as a plain float
        return None if pd.isna(value) else round(float(value), 6)
    return value


def segments_headlines(page: SegmentsPage) -> dict[str, Any]:
    """Manifest values of the segments page (recorded under ``segments.*``).

    ``customers_scored`` and ``top_rf_share`` (:func:`rfm_headlines`);
    ``segment.<key>.customers`` and ``.revenue_share`` for each segment;
    ``bucket.<key>.customers`` and ``.revenue_share`` for each available bucket,
    ``buckets.in_any`` and ``buckets.in_several``; ``migration.<start>.stayed``,
    ``.moved``, ``.new`` (not scored at the start), ``.lapsed`` (scored at the
    start, not at the end) and ``.to_at_risk`` (from Champions or Loyal to At
    Risk or Can't Lose Them), ``<start>`` being ``previous_month`` or
    ``last_year``. Floats rounded to 6 decimals; a missing part adds no key.
    """
    out: dict[str, Any] = {}
    if page.scores.value is not None:
        scores = page.scores.value
        out.update(rfm_headlines(scores.rfm))
        for key, row in scores.value.iterrows():
            out[f"segment.{key}.customers"] = int(row["customers"])
            out[f"segment.{key}.revenue_share"] = row["revenue_share"]
    if page.buckets.value is not None:
        buckets = page.buckets.value
        for key, row in buckets.value.iterrows():
            out[f"bucket.{key}.customers"] = int(row["customers"])
            out[f"bucket.{key}.revenue_share"] = row["revenue_share"]
        out["buckets.in_any"] = int(buckets.flags.flags.any(axis=1).sum())
        out["buckets.in_several"] = buckets.in_several
    if page.migration.value is not None:
        mig = page.migration.value
        for name, m in (("previous_month", mig.previous_month), ("last_year", mig.last_year)):
            if m is not None:
                out.update({f"migration.{name}.{k}": v for k, v in migration_summary(m).items()})
    return {k: _rounded(v) for k, v in out.items()}


def migration_summary(m: SegmentMigration) -> dict[str, int]:
    """Stayed, moved, new, lapsed and Champions/Loyal → At Risk/Can't Lose counts of a migration."""
    counts = m.counts.to_numpy()  # rows and columns: SEGMENTS, then not scored
    scored = counts[:-1, :-1]
    stayed = int(np.trace(scored))
    return {
        "stayed": stayed,
        "moved": int(scored.sum()) - stayed,
        "new": int(counts[-1, :-1].sum()),
        "lapsed": int(counts[:-1, -1].sum()),
        "to_at_risk": m.moved(("champions", "loyal"), ("at_risk", "cant_lose")),
    }


def priority_sample(
    rfm: pd.DataFrame, outlook: pd.DataFrame | None, key: bytes, n: int = 10
) -> tuple[pd.DataFrame, int]:
    """The customers of :data:`PRIORITY_SEGMENTS` with the highest predicted CLV, pseudonymised.

    Parameters
    ----------
    rfm
        RFM scores with segments.
    outlook
        Per-customer predictions, or None (then ordered by window revenue).
    key
        The store's pseudonym key (:func:`analysis.privacy.pseudonym_key`).
    n
        Customers shown.

    Returns
    -------
    tuple
        The sample (``pseudonym, segment, r_score, f_score, m_score, monetary,
        p_alive, clv, churn_risk``; no customer id) and the number of
        customers in those segments. Ties in CLV are ordered by revenue, then
        by pseudonym, so the sample is the same on every run.
    """
    pool = rfm[rfm["segment"].isin(PRIORITY_SEGMENTS)].set_index("customer_id")
    columns = ("p_alive", "clv", "churn_risk")
    if outlook is not None:
        pool = pool.join(outlook[[c for c in columns if c in outlook]], how="left")
    for column in columns:
        if column not in pool:
            pool[column] = float("nan") if column != "churn_risk" else None
    pool["pseudonym"] = pseudonymous_ids(pool.index, key)
    ordered = pool.sort_values(
        ["clv", "monetary", "pseudonym"], ascending=[False, False, True], na_position="last"
    )
    keep = ["pseudonym", "segment", "r_score", "f_score", "m_score", "monetary", *columns]
    return ordered.head(n)[keep].reset_index(drop=True), len(pool)
