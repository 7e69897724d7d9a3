"""Words of an experiment's readout: tables, the sample-ratio check, notes and verdicts.

The numbers come from :mod:`analysis.experiments.readout`; this module turns
them into what a reader sees, every message marked for the catalogue
(block ``experiments``) and every figure formatted by :mod:`analysis.formats`.
Variant names are data: they are escaped wherever they meet Markdown or HTML.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from analysis.formats import (
    MISSING,
    format_count,
    format_money,
    format_number,
    format_pct_change,
    format_percent,
    format_pp_change,
)
from analysis.i18n import N_, _, pgettext
from analysis.plots import html_table, markdown_escape

if TYPE_CHECKING:
    from analysis.experiments.readout import MetricComparison, Readout

__all__ = [
    "CHART_LIFT_TITLE",
    "CHART_LIFT_X",
    "CHART_CUPED",
    "CHART_RAW",
    "CUPED",
    "POWER",
    "READOUT",
    "arm_table",
    "bootstrap_text",
    "cuped_table",
    "experiment_findings",
    "experiment_text",
    "experiment_warnings",
    "metric_label",
    "no_comparison",
    "unknown_control",
    "unplanned_variants",
    "power_table",
    "results_table",
    "srm_text",
    "srm_warning",
    "verdict",
    "winsorisation_text",
]

READOUT = N_(
    """## Experiment readout

Every customer assigned to a variant counts, whether they bought or not (intention to treat); each metric is measured from the customer's assignment to the end of the report month. **Lift** = the variant's mean minus the control's, with its 95% confidence interval (Welch); the **relative lift** divides by the control's mean (interval by the delta method). Each lift is **CUPED-adjusted**: the same metric in the equally long period before assignment explains part of the differences between customers, which narrows the interval without moving its centre on average. Revenue is capped at a high percentile so that a handful of very large customers cannot decide the result. The **primary metric** is judged on its own p-value; the other metrics' p-values are Holm-adjusted for testing several at once."""
)
"""The readout's heading and how to read it."""

CUPED = N_(
    """### How much the period before assignment narrowed the intervals (CUPED)

The same metric, measured over an equally long period before each customer's assignment, predicts part of what they do afterwards. Removing that predictable part leaves the lift's centre unchanged on average but narrows its interval; a ratio below 100% means a more precise answer from the same customers."""
)
"""Heading and explanation of the CUPED table."""

POWER = N_(
    """### What this experiment can detect

The smallest relative lift this many customers could detect with the stated power at the 95% level, and how many customers each arm would need to detect the target lift. A lift smaller than the detectable one can be real and still look like chance here."""
)
"""Heading and explanation of the power table."""

CHART_LIFT_TITLE = N_("Relative lift against {control}, 95% confidence intervals")
CHART_LIFT_X = N_("relative lift")
CHART_RAW = N_("unadjusted")
CHART_CUPED = N_("CUPED-adjusted")

_METRICS = {
    "revenue": N_("Revenue per customer"),
    "orders": N_("Orders per customer"),
    "repeat": N_("Share making a repeat purchase"),
    "retained": N_("Share buying within {days} days"),
}


def metric_label(metric: str, retention_days: int) -> str:
    """A metric's name in the current language (``retained`` names its window)."""
    return _(_METRICS[metric]).format(days=format_count(retention_days))


def _p(value: float) -> str:
    if math.isnan(value):
        return MISSING
    if value < 0.001:
        return "< " + format_number(0.001, 3)
    return format_number(value, 3)


def _value(metric: str, value: float | None, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if metric == "revenue":
        return format_money(value, currency, decimals=2)
    if metric == "orders":
        return format_number(value, 3)
    return format_percent(value, 1)


def _difference(metric: str, value: float, currency: str) -> str:
    if math.isnan(value):
        return MISSING
    if metric in ("repeat", "retained"):
        return format_pp_change(value, 2)
    text = (
        format_money(abs(value), currency, decimals=2)
        if metric == "revenue"
        else format_number(abs(value), 3)
    )
    return ("+" if value > 0 else "-" if value < 0 else "") + text


def _interval(low: str, high: str) -> str:
    return _("{low} to {high}").format(low=low, high=high)


def experiment_text(readout: Readout) -> Markdown:
    """Names the experiment the readout reads and how many customers it assigned."""
    return Markdown(
        _(
            "Experiment **{experiment}**: {customers} customers assigned to {variants} variants."
        ).format(
            experiment=markdown_escape(readout.experiment_id),
            customers=format_count(sum(readout.customers.values())),
            variants=format_count(len(readout.customers)),
        )
    )


def srm_text(readout: Readout) -> Markdown:
    """The sample-ratio check as one paragraph: counts, planned shares, chi-square and verdict."""
    srm = readout.srm
    total = sum(srm.observed.values())
    expected_total = sum(srm.expected.values())
    parts = [
        _("{variant}: {customers} ({share}; planned {planned})").format(
            variant=markdown_escape(variant),
            customers=format_count(count),
            share=format_percent(count / total if total else None, 1),
            planned=format_percent(srm.expected[variant] / expected_total, 1),
        )
        for variant, count in srm.observed.items()
    ]
    lead = _("**Sample ratio.** {parts}. Chi-square {chi2}, p = {p}.").format(
        parts="; ".join(parts), chi2=format_number(srm.chi2, 2), p=_p(srm.p_value)
    )
    if srm.mismatch:
        tail = _(
            "The split differs from the plan (p below {alpha}): assignment or tracking went "
            "wrong somewhere, so every result below may be biased."
        ).format(alpha=format_number(srm.alpha, 3))
    else:
        tail = _("The split is as planned.")
    several = ""
    if readout.several_variants:
        several = " " + _("{n} customers listed under more than one variant are left out.").format(
            n=format_count(readout.several_variants)
        )
    return Markdown(f"{lead} {tail}{several}")


def srm_warning(readout: Readout) -> Markdown:
    """The warning shown above every result when the sample-ratio check failed; empty otherwise."""
    if not readout.srm.mismatch:
        return Markdown("")
    return Markdown(f"{_('**Warning.**')} {markdown_escape(_srm_sentence(readout))}")


def _srm_sentence(readout: Readout) -> str:
    return _(
        "The split of customers between variants is not the planned one (sample-ratio "
        "check p = {p}); treat every result of experiment {experiment} as unreliable until "
        "the assignment is explained."
    ).format(p=_p(readout.srm.p_value), experiment=readout.experiment_id)


def experiment_warnings(readout: Readout) -> list[str]:
    """Warnings for the executive summary: the failed sample-ratio check, if any."""
    return [_srm_sentence(readout)] if readout.srm.mismatch else []


def arm_table(readout: Readout, currency: str) -> Styler:
    """Per variant: customers and the raw mean of every metric (revenue also capped)."""
    arms = readout.arms
    days = readout.retention_days
    rows = pd.DataFrame(
        {
            pgettext("experiment column", "Variant"): arms["variant"],
            pgettext("experiment column", "Customers"): arms["customers"].map(format_count),
            metric_label("revenue", days): arms["revenue"].map(
                lambda v: _value("revenue", v, currency)
            ),
            _("Revenue per customer, capped"): arms["revenue_capped"].map(
                lambda v: _value("revenue", v, currency)
            ),
            metric_label("orders", days): arms["orders"].map(lambda v: _value("orders", v, "")),
            metric_label("repeat", days): arms["repeat"].map(lambda v: _value("repeat", v, "")),
            metric_label("retained", days): arms["retained"].map(
                lambda v: _value("retained", v, "")
            ),
        }
    )
    return html_table(rows).hide(axis="index")


def results_table(readout: Readout, currency: str) -> Styler:
    """Every metric × variant: raw means (revenue capped), CUPED-adjusted lifts with intervals, p-values."""
    rows = []
    for c in readout.comparisons:
        lift = c.reported
        name = metric_label(c.metric, readout.retention_days)
        rows.append(
            {
                pgettext("experiment column", "Metric"): (
                    _("{metric} (primary)").format(metric=name) if c.primary else name
                ),
                pgettext("experiment column", "Variant"): c.variant,
                pgettext("experiment column", "Control"): _value(
                    c.metric, c.raw.control_mean, currency
                ),
                pgettext("experiment column", "Variant mean"): _value(
                    c.metric, c.raw.treatment_mean, currency
                ),
                pgettext("experiment column", "Lift, CUPED-adjusted"): _difference(
                    c.metric, lift.abs_lift, currency
                ),
                pgettext("experiment column", "95% CI"): _interval(
                    _difference(c.metric, lift.abs_ci_low, currency),
                    _difference(c.metric, lift.abs_ci_high, currency),
                ),
                pgettext("experiment column", "Relative lift"): format_pct_change(lift.rel_lift),
                pgettext("experiment column", "95% CI (relative)"): _interval(
                    format_pct_change(lift.rel_ci_low), format_pct_change(lift.rel_ci_high)
                ),
                pgettext("experiment column", "p-value"): _p(lift.p_value),
                pgettext("experiment column", "Holm-adjusted p"): (
                    _p(c.p_value_adjusted) if not c.primary or len(readout.primary) > 1 else "–"
                ),
            }
        )
    return html_table(pd.DataFrame(rows)).hide(axis="index")


def cuped_table(readout: Readout) -> Styler:
    """How much CUPED narrowed each interval: relative intervals before and after, width ratio."""
    rows = []
    for c in readout.comparisons:
        raw, adj = c.cuped.raw, c.cuped.lift
        rows.append(
            {
                pgettext("experiment column", "Metric"): metric_label(
                    c.metric, readout.retention_days
                ),
                pgettext("experiment column", "Variant"): c.variant,
                pgettext("experiment column", "Unadjusted 95% CI"): _interval(
                    format_pct_change(raw.rel_ci_low), format_pct_change(raw.rel_ci_high)
                ),
                pgettext("experiment column", "CUPED 95% CI"): _interval(
                    format_pct_change(adj.rel_ci_low), format_pct_change(adj.rel_ci_high)
                ),
                pgettext("experiment column", "Interval width, CUPED ÷ unadjusted"): format_percent(
                    c.cuped.ci_width_ratio, 0
                ),
                pgettext("experiment column", "Variance explained by the pre-period"): (
                    format_percent(max(c.cuped.variance_reduction, 0.0), 0)
                ),
            }
        )
    return html_table(pd.DataFrame(rows)).hide(axis="index")


def power_table(readout: Readout) -> Styler:
    """Per metric × variant: the minimum detectable effect and the sample a target effect needs."""
    rows = []
    for c in readout.comparisons:
        pw = c.power
        rows.append(
            {
                pgettext("experiment column", "Metric"): metric_label(
                    c.metric, readout.retention_days
                ),
                pgettext("experiment column", "Variant"): c.variant,
                _("Smallest lift detectable with {power} power").format(
                    power=format_percent(pw.power, 0)
                ): "±" + format_pct_change(pw.mde_rel).lstrip("+"),
                _("Customers per arm needed for {target}").format(
                    target=format_pct_change(pw.target_rel)
                ): MISSING if pw.n_needed_per_arm is None else format_count(pw.n_needed_per_arm),
            }
        )
    return html_table(pd.DataFrame(rows)).hide(axis="index")


def bootstrap_text(readout: Readout) -> Markdown:
    """The bootstrap cross-check of the primary metric's relative interval, one line per variant."""
    lines = []
    for c in readout.primary:
        if c.bootstrap is None:
            continue
        lines.append(
            _(
                "**Bootstrap check**, {variant}: {resamples} resamples give a relative interval "
                "of {boot} (unadjusted delta method: {delta})."
            ).format(
                variant=markdown_escape(c.variant),
                resamples=format_count(c.bootstrap.resamples),
                boot=_interval(
                    format_pct_change(c.bootstrap.rel_ci_low),
                    format_pct_change(c.bootstrap.rel_ci_high),
                ),
                delta=_interval(
                    format_pct_change(c.raw.rel_ci_low), format_pct_change(c.raw.rel_ci_high)
                ),
            )
        )
    return Markdown("\n\n".join(lines))


def winsorisation_text(readout: Readout, currency: str) -> Markdown:
    """How revenue was capped: the cap, the customers above it and the revenue cut off."""
    w = readout.winsorisation
    return Markdown(
        _(
            "Revenue per customer is capped at {cap} (percentile {percentile} of assigned "
            "customers): {customers} customers ({share}) were above it, and the cap removes "
            "{removed} of revenue."
        ).format(
            cap=markdown_escape(format_money(w.cap, currency, decimals=2)),
            percentile=format_number(w.percentile, 1),
            customers=format_count(w.capped_customers),
            share=format_percent(w.capped_share, 2),
            removed=format_percent(w.revenue_removed_share, 2),
        )
    )


def no_comparison(readout: Readout) -> str:
    """Why the primary metric has no result (no variant besides the control, or no data)."""
    return _(
        "the primary metric ({metric}) cannot be compared: it needs at least two customers in "
        "the control and in another variant, and a control mean above zero."
    ).format(metric=metric_label(_primary_metric(readout), readout.retention_days))


def unknown_control(control: str, variants: list[str]) -> str:
    """Why the readout is unavailable: ``experiment.control`` names no variant of the data."""
    return _(
        "experiment.control is {control}, which is not a variant of this experiment "
        "(variants: {variants})."
    ).format(control=repr(control), variants=", ".join(repr(v) for v in variants))


def unplanned_variants(missing: list[str], planned: list[str]) -> str:
    """Why the readout is unavailable: variants of the data that ``experiment.split`` lacks."""
    return _(
        "experiment.split plans {planned} but the data also has {missing}: give every "
        "variant its planned share."
    ).format(
        planned=", ".join(repr(v) for v in planned), missing=", ".join(repr(v) for v in missing)
    )


def _primary_metric(readout: Readout) -> str:
    return readout.primary[0].metric if readout.primary else "revenue"


def verdict(comparison: MetricComparison, readout: Readout) -> str:
    """One sentence a manager can act on, for one primary result."""
    lift = comparison.reported
    fields = {
        "variant": comparison.variant,
        "control": comparison.control,
        "metric": metric_label(comparison.metric, readout.retention_days).lower(),
        "lift": format_pct_change(lift.rel_lift),
        "size": format_pct_change(abs(lift.rel_lift)).lstrip("+"),
        "low": format_pct_change(lift.rel_ci_low),
        "high": format_pct_change(lift.rel_ci_high),
        "p": _p(lift.p_value),
    }
    if lift.rel_ci_low > 0:
        text = _(
            "{variant} raised {metric} by {size} against {control} (95% CI {low} to {high}, "
            "p = {p}); {split}"
        )
    elif lift.rel_ci_high < 0:
        text = _(
            "{variant} lowered {metric} by {size} against {control} (95% CI {low} to {high}, "
            "p = {p}); {split}"
        )
    else:
        text = _(
            "{variant} changed {metric} by {lift} against {control}, which is within chance "
            "(95% CI {low} to {high}, p = {p}); {split}"
        )
    fields["split"] = (
        _("the split was as planned.")
        if not readout.srm.mismatch
        else _("but the split was not as planned, so do not rely on it yet.")
    )
    return text.format(**fields)


def experiment_findings(readout: Readout) -> list[str]:
    """The verdict of each primary result, for the executive summary."""
    return [verdict(c, readout) for c in readout.primary]
