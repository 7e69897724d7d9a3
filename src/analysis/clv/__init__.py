"""Customer lifetime value with buy-till-you-die models (lifetimes' fitters).

Modules by concern, in the order the section uses them:

- :mod:`analysis.clv.summary`: the per-customer RFM summary (and the
  calibration/holdout split) computed on the engine, with lifetimes' semantics;
  :mod:`analysis.clv.clock` reads order times as local wall-clock time for it;
- :mod:`analysis.clv.fitting`: fitting BG/NBD, MBG/NBD and Pareto/NBD (one
  lifetimes fitter per model), attempts and penalizer retries, and the
  :class:`FitDiagnostics` every fit reports; :mod:`analysis.clv.pareto`: the
  Pareto/NBD optimiser;
- :mod:`analysis.clv.predict`: expected purchases and P(alive) per customer,
  and the frequency/recency matrices;
- :mod:`analysis.clv.holdout`: scoring the models on a holdout against a naive
  baseline, and choosing one;
- :mod:`analysis.clv.spend`: the frequency-spend correlation check and the
  Gamma-Gamma spend model;
- :mod:`analysis.clv.value`: CLV per customer, every per-customer prediction,
  and the totals;
- :mod:`analysis.clv.tracking`: daily repeat purchases and the tracking curve;
- :mod:`analysis.clv.section`: the whole CLV section in one call (what the
  notebook shows and the benchmark times) and its manifest headlines;
- :mod:`analysis.clv.plotting`: the charts of the CLV section.

Words (findings, notes, unavailable reasons, table headers, chart text, the
page prose) are in :mod:`analysis.narrative.clv`.

The names below are the package's API (what the notebook, the tests and the
benchmark use).
"""

from analysis.clv.fitting import (
    MODEL_LABELS,
    MODEL_NAMES,
    FitDiagnostics,
    ModelFit,
    ModelFitError,
    collapse_rows,
    fit_model,
    rfm_log_likelihood,
)
from analysis.clv.holdout import (
    HoldoutScore,
    ModelComparison,
    calibration_vs_holdout,
    choose_model,
    compare_models,
    naive_holdout_purchases,
    score_holdout,
)
from analysis.clv.predict import (
    FrequencyRecencyMatrices,
    conditional_expected_purchases,
    frequency_recency_matrices,
    probability_alive,
)
from analysis.clv.section import ClvSection, clv_headlines, clv_section
from analysis.clv.spend import (
    SpendCorrelation,
    SpendFit,
    expected_spend,
    fit_spend,
    spend_correlation,
)
from analysis.clv.summary import rfm_summary
from analysis.clv.value import (
    ClvTotals,
    clv_totals,
    customer_lifetime_value,
    customer_predictions,
    expected_activity,
)

__all__ = [
    "MODEL_LABELS",
    "MODEL_NAMES",
    "ClvSection",
    "ClvTotals",
    "FitDiagnostics",
    "FrequencyRecencyMatrices",
    "HoldoutScore",
    "ModelComparison",
    "ModelFit",
    "ModelFitError",
    "SpendCorrelation",
    "SpendFit",
    "calibration_vs_holdout",
    "choose_model",
    "clv_headlines",
    "clv_section",
    "clv_totals",
    "collapse_rows",
    "compare_models",
    "conditional_expected_purchases",
    "customer_lifetime_value",
    "customer_predictions",
    "expected_activity",
    "expected_spend",
    "fit_model",
    "fit_spend",
    "frequency_recency_matrices",
    "naive_holdout_purchases",
    "probability_alive",
    "rfm_log_likelihood",
    "rfm_summary",
    "score_holdout",
    "spend_correlation",
]
