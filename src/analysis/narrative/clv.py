"""Words of the CLV page: prose, findings, notes, table headers and chart text, in the report's language.

The CLV modules (:mod:`analysis.clv`) return numbers and facts (fits, scores,
which model was left out and why); this module turns them into what a reader
sees, every message marked for the catalogue (:mod:`analysis.i18n`, English
is the source) and translated when it is shown. The notebook shows the page
prose with :func:`analysis.narrative.say` and the rest with the functions
below; :mod:`analysis.clv.plotting` takes its titles, axis labels and legends
from the ``CHART_*`` messages here.

Technical details of a failed fit (an optimiser's own error text, the list of
attempts) stay as the fitting code wrote them, inside a translated sentence.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.formats import format_money
from analysis.i18n import N_, _, pgettext
from analysis.plots import html_table, markdown_escape

if TYPE_CHECKING:
    from analysis.clv.fitting import FitDiagnostics, ModelFit
    from analysis.clv.holdout import ModelComparison
    from analysis.clv.section import ClvSection
    from analysis.clv.spend import SpendCorrelation, SpendFit

__all__ = [
    "INTRO",
    "MATRICES",
    "MODELS",
    "SEGMENTS_LATER",
    "SPEND",
    "TOP_CUSTOMERS",
    "TRACKING",
    "VALUE",
    "activity_text",
    "chart_label",
    "clv_findings",
    "comparison_notes",
    "correlation_markdown",
    "correlation_text",
    "fit_note",
    "fit_text",
    "model_label",
    "model_table",
    "model_table_html",
    "no_model_fits",
    "no_model_fits_whole_history",
    "not_enough_history",
    "notes_markdown",
    "overview_table",
    "overview_text",
    "section_notes",
    "spend_note",
    "spend_fit_text",
    "top_customers_table",
    "value_text",
]

# --------------------------------------------------------------------------- page prose

INTRO = N_(
    """# Customer lifetime value

How much future value each customer is likely to bring, estimated from their purchase history with the buy-till-you-die models of the `lifetimes` package. Only completed orders of registered customers count; a **purchase day** is a local calendar day with at least one completed order (several orders on one day count once).

- **Frequency**: repeat purchase days (purchase days minus one). **Recency**: days from the first to the last purchase day. **T** (age): days from the first purchase day to the end of the report month. **Monetary value**: mean revenue of the repeat purchase days.
- **Purchase models** describe how often a customer buys while active and when they silently stop: **BG/NBD** (may stop right after any purchase), **MBG/NBD** (may also stop before their first repeat purchase) and **Pareto/NBD** (may stop at any moment).
- **Holdout test**: each model is fitted on the history except its last `clv.holdout_days` days, then predicts each customer's purchase days in those held-out days. **MAE** and **RMSE** are the mean absolute and root-mean-square error per customer (purchase days); the **aggregate error** is total predicted ÷ total actual − 1. The **naive baseline** assumes every customer keeps buying at their past rate (repeat days ÷ age).
- **P(alive)**: the probability that the customer has not stopped buying. **Expected purchases** in the next 30, 90 and 365 days: purchase days the chosen model expects.
- **Expected spend per purchase day**: the Gamma-Gamma model's blend of the customer's own mean spend and the store average (new customers get the store average).
- **CLV**: expected spend per purchase day × expected purchase days in each of the next `clv.horizon_months` 30-day months, each month discounted by `clv.monthly_discount_rate` per month. Money is in the store's currency.

**What this section needs.** At least `clv.min_customers` registered customers with completed orders (default 300), `clv.min_repeat_customers` of them who came back on another day (default 30), and `clv.min_history_days` days of order history (default 180), so that the models can see customers come back. The holdout is `clv.holdout_days` long (default 180) but never more than a third of the history (`clv.holdout_share`). A model is never shown when its fit runs to a boundary or gives predictions that are not finite: the report then falls back to the next model that fits, or says why no CLV is shown."""
)

MODELS = N_(
    """## Which model predicts this store best

Each model was fitted on the calibration period only and scored on the holdout it never saw. The chosen model (lowest RMSE unless `clv.model` names one) is then refitted on the whole history for every prediction below. A model whose fit fails, or whose parameters run off to a boundary, is refitted with a small penalty (a **penalizer**); the notes below say when that happened."""
)

TRACKING = N_(
    "**Tracking plot.** Repeat purchase days of the customers acquired up to the end of the "
    "calibration period, week by week: actual against what the chosen model's calibration fit "
    "expected. To the right of the dotted line the model is predicting days it never saw."
)

SPEND = N_(
    """## Spend per purchase

The Gamma-Gamma spend model assumes that how much a customer spends per purchase does not depend on how often they buy. The correlation below checks that assumption on the repeat customers; a strong correlation (|r| ≥ 0.3) makes expected spend, and so CLV, less reliable for the most frequent buyers."""
)

VALUE = N_("## Customer lifetime value")

TOP_CUSTOMERS = N_(
    "**Top customers by CLV.** Customers appear only under a pseudonym (`C-` + a keyed hash of "
    "their id; the key stays with the data team), never under their id or any personal detail."
)

MATRICES = N_(
    """## Frequency, recency and activity

For a customer who first bought a year ago (or at the start of the history, if shorter): the purchase days the model expects in the next 30 days, and the probability that they are still active, by how many repeat purchase days they had and when the last one was. Customers who bought often but not recently are the ones most likely to have stopped. Blank cells are histories that cannot occur."""
)

SEGMENTS_LATER = N_(
    "CLV by RFM and lifecycle segment will be shown here once the segments section (named RFM "
    "segments) is available."
)

# --------------------------------------------------------------------------- chart text

CHART_HOLDOUT_TITLE = N_("Holdout purchases by calibration frequency: actual vs predicted")
CHART_HOLDOUT_X = N_("repeat purchase days in the calibration period")
CHART_HOLDOUT_Y = N_("mean purchase days in the holdout")
CHART_EXPECTED = N_("expected ({model})")
CHART_TRACKING_TITLE = N_("Repeat purchase days: actual vs expected (tracking plot)")
CHART_HOLDOUT_MARK = N_("  holdout →")
CHART_FREQUENCY = N_("repeat purchase days (frequency)")
CHART_RECENCY = N_("day of the last purchase, after the first (recency)")
CHART_EXPECTED_MATRIX = N_("Expected purchase days in the next {days} days")
CHART_ALIVE_MATRIX = N_("P(alive): probability the customer is still active")
CHART_MATRIX_AGE = N_("Customers who first bought {days} days ago")
CHART_MEAN = N_("mean {value}")
CHART_MEDIAN = N_("median {value}")
CHART_CLV_X = N_("{months}-month CLV per customer (top 1 % pooled at the right edge)")
CHART_CLV_TITLE = N_("Distribution of {months}-month customer lifetime value")
CHART_SPEND_MEDIAN = N_("median by frequency (30+ pooled)")
CHART_SPEND_Y = N_("mean spend per repeat purchase day")
CHART_SPEND_TITLE = N_("Spend vs frequency (Pearson {pearson}, Spearman {spearman})")


def chart_label(key: str) -> str:
    """A short word of the CLV charts: ``"actual"``, ``"cumulative"``, ``"per_week"``, ``"customers"``."""
    labels = {
        "actual": pgettext("clv chart", "actual"),
        "cumulative": pgettext("clv chart", "cumulative"),
        "per_week": pgettext("clv chart", "per week"),
        "customers": pgettext("clv chart", "customers"),
    }
    return labels[key]


# --------------------------------------------------------------------------- labels

_LABELS = {
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "pareto": "Pareto/NBD",
    "gamma_gamma": N_("Gamma-Gamma"),
    "naive": N_("naive (repeat calibration rate)"),
}


def model_label(name: str) -> str:
    """Display name of a model (``"bgnbd"`` → ``"BG/NBD"``), in the report's language."""
    return _(_LABELS[name]) if name in ("gamma_gamma", "naive") else _LABELS[name]


def _parameter(name: str) -> str:
    """A model parameter's name as the reader sees it (Greek names spelled out in English)."""
    if name == "alpha":
        return pgettext("model parameter", "alpha")
    if name == "beta":
        return pgettext("model parameter", "beta")
    return name


# --------------------------------------------------------------------------- reasons


def not_enough_history(shortfalls: list[tuple[str, int, int]]) -> str:
    """The reason a store is too young or too small for CLV.

    ``shortfalls`` lists ``(what, needed, has)`` with ``what`` one of
    ``"customers"``, ``"repeat_customers"``, ``"history_days"``.
    """
    needs = {
        "customers": N_("{need} customers with completed orders (this store has {has})"),
        "repeat_customers": N_(
            "{need} customers who came back on another day (this store has {has})"
        ),
        "history_days": N_("{need} days of order history (this store has {has})"),
    }
    parts = [
        _(needs[what]).format(need=f"{need:,}", has=f"{has:,}") for what, need, has in shortfalls
    ]
    joined = (
        parts[0]
        if len(parts) == 1
        else _("{first} and {last}").format(first=", ".join(parts[:-1]), last=parts[-1])
    )
    return _("not enough history yet: needs at least {needs}.").format(needs=joined)


def no_model_fits(message: str, hint: str | None) -> str:
    """The reason no CLV is shown when no model fits the calibration period."""
    text = _("no purchase model fits this store's history, so no CLV is shown: {reason}")
    return text.format(reason=message) + (f" ({hint})" if hint else "")


def no_model_fits_whole_history(failures: dict[str, str]) -> str:
    """The reason no CLV is shown when no compared model fits the whole history."""
    text = _("no purchase model fits this store's whole history, so no CLV is shown: {reasons}")
    return text.format(reasons=_whole_history_failures(failures))


def _whole_history_failures(failures: dict[str, str]) -> str:
    each = _("{model} on the whole history: {reason}")
    return "; ".join(each.format(model=model_label(m), reason=r) for m, r in failures.items())


# --------------------------------------------------------------------------- notes


def fit_note(diagnostics: FitDiagnostics, what: str, *, name: str | None = None) -> str:
    """How a fit went, in one or two sentences (``what`` names the model).

    A purchase model (``name`` given, not Pareto/NBD) without standard errors
    gets a sentence saying so.
    """
    if diagnostics.retried:
        text = _("{what}: the first fit was unusable, so it was refitted ({details}).")
        note = text.format(what=what, details=diagnostics.retry_details)
    else:
        note = _("{what}: fitted without penalizer.").format(what=what)
    if name is not None and name != "pareto" and diagnostics.standard_errors is None:
        note += " " + _("Standard errors unavailable (singular Hessian).")
    return note


def _model_note(fit: ModelFit) -> str:
    return fit_note(fit.diagnostics, model_label(fit.name), name=fit.name)


def comparison_notes(comparison: ModelComparison, chosen: str | None = None) -> list[str]:
    """Sentences on the model comparison: the sample, models left out or refitted, the choice.

    ``chosen`` is the model the comparison chose (default ``comparison.chosen``;
    the section passes the holdout's choice when the whole history needed another).
    """
    c = comparison
    chosen = c.chosen if chosen is None else chosen
    notes = []
    if c.sample_of is not None:
        notes.append(
            _(
                "Models compared on a random sample of {n} of the {total} customers (seed "
                "{seed}); the chosen model is then fitted on every customer."
            ).format(n=f"{len(c.predictions):,}", total=f"{c.sample_of:,}", seed=c.seed)
        )
    for name in c.attempted:
        if name in c.left_out:
            text = _("{model} left out: {reason}")
            notes.append(text.format(model=model_label(name), reason=c.left_out[name]))
        elif c.fits[name].diagnostics.retried:
            notes.append(_model_note(c.fits[name]))
    scores = {s.model: s for s in c.scores}
    if c.requested == "auto":
        how = _("lowest per-customer holdout RMSE")
    else:
        how = _("named in clv.model, so the other models were not fitted")
    notes.append(
        _(
            "Chosen model: {model} ({how}; RMSE {rmse} vs naive baseline {naive} purchases per "
            "customer)."
        ).format(
            model=model_label(chosen),
            how=how,
            rmse=f"{scores[chosen].rmse:.3f}",
            naive=f"{scores['naive'].rmse:.3f}",
        )
    )
    if not getattr(scores[chosen], c.criterion) < getattr(scores["naive"], c.criterion):
        text = _("Warning: {model} does not beat the naive baseline on the holdout.")
        notes.append(text.format(model=model_label(chosen)))
    return notes


def spend_note(spend: SpendFit) -> str:
    """How the Gamma-Gamma fit went, and the correlation warning when it is strong."""
    note = fit_note(spend.diagnostics, model_label("gamma_gamma"))
    if spend.correlation.strong:
        note += " " + correlation_text(spend.correlation)
    return note


def section_notes(section: ClvSection) -> list[str]:
    """Every note of the section, in order: comparison, fallbacks, refit, spend, tracking."""
    s = section
    notes = comparison_notes(s.comparison, s.chosen_on_holdout)
    if s.whole_history_failures:
        text = _("{failures}. Using {model}, the best of the models that fit.")
        notes.append(
            text.format(
                failures=_whole_history_failures(s.whole_history_failures),
                model=model_label(s.fit.name),
            )
        )
    if s.fit.diagnostics.retried:
        notes.append(_("Refit on the whole history: {note}").format(note=_model_note(s.fit)))
    if s.spend_error is not None:
        text = _("No spend model, so no CLV in money: {reason}")
        notes.append(text.format(reason=s.spend_error))
    elif s.spend is not None and s.spend.diagnostics.retried:
        notes.append(spend_note(s.spend))
    if not s.tracking_finite:
        text = _("{model}: the tracking curve is not finite and is not shown.")
        notes.append(text.format(model=model_label(s.comparison.chosen)))
    return notes


def notes_markdown(notes: list[str]) -> str:
    """Notes as a Markdown list, each escaped."""
    return "\n".join(f"- {markdown_escape(n)}" for n in notes)


def correlation_text(correlation: SpendCorrelation) -> str:
    """The frequency-spend correlation check in one sentence."""
    c = correlation
    if c.strong:
        text = _(
            "Frequency and spend per order are correlated (Pearson {pearson}, Spearman "
            "{spearman}, {n} repeat customers): Gamma-Gamma assumes them independent, so "
            "expected spend and CLV may be biased for frequent buyers."
        )
    else:
        text = _(
            "Frequency and spend per order are nearly uncorrelated (Pearson {pearson}, Spearman "
            "{spearman}, {n} repeat customers), as Gamma-Gamma assumes."
        )
    return text.format(
        pearson=f"{c.pearson:.2f}", spearman=f"{c.spearman:.2f}", n=f"{c.n_customers:,}"
    )


# --------------------------------------------------------------------------- page parts


def overview_text(section: ClvSection, *, title: str, month: str) -> str:
    """The page's first line (Markdown): store, history, customers, repeat share, holdout."""
    s = section.summary
    holdout_start = section.calibration_end + dt.timedelta(days=1)
    text = _(
        "**{title}** · history up to {month} · {customers} customers, {repeat} with a repeat "
        "purchase day · holdout {start} to {end}"
    )
    return text.format(
        title=markdown_escape(title),
        month=markdown_escape(month),
        customers=f"{len(s):,}",
        repeat=f"{(s['frequency'] > 0).mean():.0%}",
        start=holdout_start.isoformat(),
        end=section.observation_end.isoformat(),
    )


def overview_table(summary: pd.DataFrame) -> Styler:
    """Mean, median and maximum of the RFM summary's columns, as an HTML table."""
    overview = summary.describe().T[["mean", "50%", "max"]]
    overview.columns = [
        pgettext("statistic", "mean"),
        pgettext("statistic", "median"),
        pgettext("statistic", "max"),
    ]
    names = {
        "frequency": pgettext("RFM column", "frequency"),
        "recency": pgettext("RFM column", "recency"),
        "T": "T",
        "monetary_value": pgettext("RFM column", "monetary_value"),
    }
    overview.index = [names.get(str(c), str(c)) for c in overview.index]
    return html_table(overview, "{:,.1f}")


def model_table(comparison: ModelComparison) -> pd.DataFrame:
    """The model comparison as a display table, one row per model and the naive baseline.

    Columns: ``MAE``, ``RMSE`` (purchases per customer in the holdout),
    ``aggregate error`` (predicted total / actual total - 1),
    ``log-likelihood`` (calibration; blank for the baseline), ``penalizer``
    (0 unless a retry was needed); the index is the model (the chosen one
    marked). Headers are in the report's language.
    """
    rows = []
    for score in comparison.scores:
        fit = comparison.fits.get(score.model)
        label = model_label(score.model)
        if score.model == comparison.chosen:
            label = _("{model} (chosen)").format(model=label)
        rows.append(
            {
                pgettext("clv table", "model"): label,
                "MAE": score.mae,
                "RMSE": score.rmse,
                pgettext("clv table", "aggregate error"): score.aggregate_error,
                pgettext("clv table", "log-likelihood"): score.log_likelihood,
                pgettext("clv table", "penalizer"): (
                    None if fit is None else fit.diagnostics.penalizer
                ),
            }
        )
    return pd.DataFrame(rows).set_index(pgettext("clv table", "model"))


def model_table_html(comparison: ModelComparison) -> Styler:
    """:func:`model_table` formatted for the page."""
    formats: dict[object, object] = {
        "MAE": "{:.3f}",
        "RMSE": "{:.3f}",
        pgettext("clv table", "aggregate error"): "{:+.1%}",
        pgettext("clv table", "log-likelihood"): "{:,.1f}",
        pgettext("clv table", "penalizer"): "{:g}",
    }
    return html_table(model_table(comparison), formats, na_rep="–")


def fit_text(fit: ModelFit) -> str:
    """The chosen model on the whole history (Markdown): rows fitted, parameters, how it went."""
    d = fit.diagnostics
    params = ", ".join(
        f"{_parameter(k)} = {v:.4g}"
        + (f" (± {d.standard_errors[k]:.2g})" if d.standard_errors else "")
        for k, v in fit.params.items()
    )
    text = _(
        "**{model}** on the whole history ({customers} customers, {rows} distinct histories "
        "fitted): {params}; time in days. {note}"
    )
    return text.format(
        model=model_label(fit.name),
        customers=f"{d.n_customers:,}",
        rows=f"{d.n_rows_fitted:,}",
        params=params,
        note=markdown_escape(_model_note(fit)),
    )


def correlation_markdown(section: ClvSection) -> str:
    """The spend check (Markdown): the correlation, a warning when strong, or why there is none."""
    corr = section.correlation
    if corr is None:
        return _("Too few repeat customers with spend for a spend model: CLV is not available.")
    text = markdown_escape(correlation_text(corr))
    return _("**Warning.** {text}").format(text=text) if corr.strong else text


def spend_fit_text(spend: SpendFit, currency: str) -> str:
    """The Gamma-Gamma fit (Markdown): parameters, the population mean spend, how the fit went."""
    text = _(
        "Gamma-Gamma: p = {p}, q = {q}, v = {v} ({n} repeat customers). Expected spend per "
        "purchase day of a customer without repeat purchases: **{spend}**. {note}"
    )
    return text.format(
        p=f"{spend.params['p']:.3g}",
        q=f"{spend.params['q']:.3g}",
        v=f"{spend.params['v']:.4g}",
        n=f"{spend.diagnostics.n_customers:,}",
        spend=markdown_escape(format_money(spend.population_mean_spend, currency)),
        note=markdown_escape(spend_note(spend)),
    )


def value_text(section: ClvSection, currency: str) -> str | None:
    """Total and mean CLV and the top decile's share (Markdown); None without a spend model."""
    t = section.totals
    if t is None:
        return None
    text = _(
        "Expected value of the {customers} customers over the next {months} months (discounted "
        "{rate} a month): **{total}**, mean **{mean}** per customer; the top 10% ({top} "
        "customers) hold **{share}** of it."
    )
    return text.format(
        customers=f"{t.n_customers:,}",
        months=section.horizon_months,
        rate=f"{section.monthly_discount_rate:.1%}",
        total=markdown_escape(format_money(t.total, currency)),
        mean=markdown_escape(format_money(t.mean, currency)),
        top=f"{t.top_decile_customers:,}",
        share=f"{t.top_decile_share:.0%}",
    )


def activity_text(activity: dict[str, float]) -> str:
    """Expected purchase days ahead and customers still active (Markdown).

    ``activity`` is :func:`analysis.clv.value.expected_activity`.
    """
    text = _(
        "Expected purchase days of all customers: **{d30}** in the next 30 days, **{d90}** in 90 "
        "days, **{d365}** in 365 days. Customers with P(alive) of at least 50%: **{share}**; "
        "expected number of customers still active: **{alive}**."
    )
    return text.format(
        d30=f"{activity['purchases_30d']:,.0f}",
        d90=f"{activity['purchases_90d']:,.0f}",
        d365=f"{activity['purchases_365d']:,.0f}",
        share=f"{activity['share_likely_alive']:.0%}",
        alive=f"{activity['expected_alive']:,.0f}",
    )


def top_customers_table(section: ClvSection, currency: str) -> Styler | None:
    """The top customers by CLV under pseudonyms, headers in the report's language."""
    if section.top is None:
        return None
    months = section.horizon_months
    columns = {
        "purchase_days": pgettext("clv table", "purchase days"),
        "days_since_last": pgettext("clv table", "days since last purchase"),
        "p_alive": pgettext("clv table", "P(alive)"),
        "expected_purchases_365d": pgettext("clv table", "expected purchase days (365 d)"),
        "expected_spend": pgettext("clv table", "expected spend per day"),
        "clv": pgettext("clv table", "{months}-month CLV").format(months=months),
    }
    top = section.top.rename(columns=columns)
    top.index.name = pgettext("clv table", "customer")

    def money(value: Any) -> str:
        return format_money(value, currency)

    formats: dict[object, object] = {
        columns["p_alive"]: "{:.0%}",
        columns["expected_purchases_365d"]: "{:.1f}",
        columns["expected_spend"]: money,
        columns["clv"]: money,
    }
    return html_table(top, formats)


# --------------------------------------------------------------------------- findings


def clv_findings(section: ClvSection, currency: str) -> list[str]:
    """One-line findings for the executive summary (CLV totals and the model)."""
    s = section
    out = []
    if s.totals is not None:
        text = _(
            "Expected value of today's {customers} customers over the next {months} months: "
            "{total} (mean {mean}); the top 10% hold {share} of it."
        )
        out.append(
            text.format(
                customers=f"{s.totals.n_customers:,}",
                months=s.horizon_months,
                total=format_money(s.totals.total, currency),
                mean=format_money(s.totals.mean, currency),
                share=f"{s.totals.top_decile_share:.0%}",
            )
        )
    scores = {x.model: x for x in s.comparison.scores}
    chosen, naive = scores[s.fit.name], scores["naive"]
    text = _(
        "{model} predicted each customer's purchases in the last {days} days with a mean error "
        "of {mae} (naive repeat-rate guess: {naive})."
    )
    out.append(
        text.format(
            model=model_label(s.fit.name),
            days=(s.observation_end - s.calibration_end).days,
            mae=f"{chosen.mae:.2f}",
            naive=f"{naive.mae:.2f}",
        )
    )
    return out
