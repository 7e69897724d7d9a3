"""Customer outlook: lifetimes' own predictions of the fitted model, the next order day, churn bands."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.clv.fitting import fit_model
from analysis.clv.value import customer_predictions
from analysis.segments.outlook import OUTLOOK_COLUMNS, churn_risk, customer_outlook

END = dt.date(2026, 9, 30)


def _summary(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """A daily RFM summary of ``n`` customers with varied histories (days)."""
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 720, n).astype(float)
    frequency = rng.poisson(T / 60).astype(float)
    recency = np.where(frequency > 0, np.floor(T * rng.uniform(0.2, 1.0, n)), 0.0)
    recency = np.maximum(recency, np.minimum(frequency, T))  # a day per repeat at least
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "monetary_value": np.where(frequency > 0, rng.gamma(4, 150, n), 0.0),
        },
        index=pd.Index([f"c{i:04d}" for i in range(n)], name="customer_id"),
    )


@pytest.fixture(scope="module")
def section() -> SimpleNamespace:
    summary = _summary()
    fit = fit_model(summary, "bgnbd")
    predictions = customer_predictions(
        fit, None, summary, horizon_months=12, monthly_discount_rate=0.01
    )
    return SimpleNamespace(
        fit=fit,
        summary=summary,
        predictions=predictions,
        spend=None,
        observation_end=END,
        horizon_months=12,
    )


def test_next_order_date_is_the_first_day_lifetimes_expects_one_purchase(section):
    out = customer_outlook(section, (0.3, 0.7))
    assert list(out.columns) == list(OUTLOOK_COLUMNS)
    assert out.index.name == "customer_id" and out.index.equals(section.summary.index)
    lt = section.fit.fitter  # lifetimes' BetaGeoFitter itself
    s = section.summary
    f, r, T = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    # brute force: every day 1..365 for every customer, straight from lifetimes
    days = np.arange(1, 366, dtype=float)
    grid = np.stack(
        [lt.conditional_expected_number_of_purchases_up_to_time(d, f, r, T) for d in days]
    )
    reached = grid >= 1
    expected_day = np.where(reached.any(axis=0), reached.argmax(axis=0) + 1, -1)
    found = (out["next_order_date"] - pd.Timestamp(END)).dt.days.fillna(-1).astype(int).to_numpy()
    assert (found == expected_day).all()
    has = found > 0
    assert 0 < has.sum() < len(found)  # both cases occur in this summary
    # at the found day >= 1, the day before < 1 (lifetimes evaluated at exactly those days)
    d = found[has].astype(float)
    at = lt.conditional_expected_number_of_purchases_up_to_time(d, f[has], r[has], T[has])
    before = lt.conditional_expected_number_of_purchases_up_to_time(d - 1, f[has], r[has], T[has])
    assert (at >= 1).all() and (before[d > 1] < 1).all()
    # NaT exactly where a year is not enough
    year = lt.conditional_expected_number_of_purchases_up_to_time(365.0, f, r, T)
    assert (out["next_order_date"].isna().to_numpy() == (year < 1)).all()


def test_p_alive_purchases_and_clv_are_the_fitted_models(section):
    out = customer_outlook(section, (0.3, 0.7))
    lt = section.fit.fitter
    s = section.summary
    f, r, T = (s[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    np.testing.assert_allclose(
        out["p_alive"], lt.conditional_probability_alive(f, r, T), rtol=1e-12
    )
    np.testing.assert_allclose(
        out["expected_purchases_90d"],
        lt.conditional_expected_number_of_purchases_up_to_time(90.0, f, r, T),
        rtol=1e-12,
    )
    assert out["clv"].isna().all()  # no spend model in this section


def test_clv_is_the_sections_own_when_there_is_a_spend_model(section):
    predictions = section.predictions.assign(clv=np.arange(len(section.predictions), dtype=float))
    with_spend = SimpleNamespace(**{**vars(section), "spend": object(), "predictions": predictions})
    out = customer_outlook(with_spend, (0.3, 0.7))
    assert out["clv"].tolist() == list(range(len(predictions)))


def test_churn_risk_bands_at_their_boundaries():
    p = np.array([0.0, 0.2999, 0.3, 0.5, 0.6999, 0.7, 1.0, np.nan])
    assert churn_risk(p, (0.3, 0.7)).tolist() == [
        "high", "high", "medium", "medium", "medium", "low", "low", None,
    ]  # fmt: skip


def test_churn_risk_column_follows_p_alive(section):
    out = customer_outlook(section, (0.3, 0.7))
    p = out["p_alive"]
    assert (out.loc[p < 0.3, "churn_risk"] == "high").all()
    assert (out.loc[(p >= 0.3) & (p < 0.7), "churn_risk"] == "medium").all()
    assert (out.loc[p >= 0.7, "churn_risk"] == "low").all()
