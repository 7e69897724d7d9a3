"""The whole CLV section on the demo warehouse, pseudonyms, headlines and the charts."""

from __future__ import annotations

import hashlib
import hmac
import math

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis import clv as M
from analysis import plots, privacy
from analysis.clv import plotting
from analysis.clv import section as section_module
from analysis.clv.section import (
    clv_headlines,
    clv_section,
    holdout_length,
    top_customers,
)
from analysis.errors import SectionUnavailable
from analysis.narrative import clv as words
from analysis.report.headlines import record_headlines
from analysis.warehouse import StoreWarehouse

matplotlib.use("Agg")
KEY = b"test-key"


@pytest.fixture(scope="module")
def section(demo):
    wh = StoreWarehouse(demo.root, demo.store, demo.tz)
    return clv_section(
        wh.table("orders"),
        observation_end=demo.end,
        timezone=demo.tz,
        holdout_days=demo.holdout_days,
        horizon_months=12,
        monthly_discount_rate=0.01,
        comparison_customers=8_000,
        seed=5,
        top_n=10,
        pseudonym_key=KEY,
    )


def test_section_pieces_equal_the_functions_they_call(demo, section):
    s = section
    pd.testing.assert_frame_equal(s.summary, demo.full)
    pd.testing.assert_frame_equal(s.cal_holdout, demo.cal_holdout)
    assert s.calibration_end == demo.calibration_end
    # the comparison ran on a seeded sample of 8,000 of the 14,700 customers acquired by the
    # calibration end, and said so
    rows = np.sort(np.random.default_rng(5).choice(len(demo.cal_holdout), 8_000, replace=False))
    assert s.comparison.predictions.index.equals(demo.cal_holdout.index[rows])
    assert s.comparison.sample_of == len(demo.cal_holdout) == 14_700
    assert any("random sample of 8,000 of the 14,700" in n for n in words.section_notes(s))
    same = M.compare_models(demo.cal_holdout.iloc[rows])
    assert [x.rmse for x in s.comparison.scores] == pytest.approx([x.rmse for x in same.scores])
    # the chosen model refitted on every customer from its calibration fit = a cold fit
    cold = M.fit_model(demo.full, s.comparison.chosen)
    assert s.fit.diagnostics.n_customers == 20_000
    for key, value in cold.params.items():
        assert s.fit.params[key] == pytest.approx(value, rel=1e-4), key
    spend = M.fit_spend(demo.full)
    expected = M.customer_predictions(
        s.fit, spend, demo.full, horizon_months=12, monthly_discount_rate=0.01
    )
    pd.testing.assert_frame_equal(s.predictions, expected, rtol=1e-6)
    assert s.totals == M.clv_totals(expected["clv"])


def test_tracking_actuals_by_hand(demo, section):
    """Actual repeat purchase days of customers acquired by calibration_end, counted in pandas."""
    done = demo.done.copy()
    done["day"] = done["ordered_at"].dt.tz_convert(demo.tz).dt.tz_localize(None).dt.normalize()
    days = done[["customer_id", "day"]].drop_duplicates()
    first = days.groupby("customer_id")["day"].transform("min")
    followed = first <= pd.Timestamp(demo.calibration_end)
    repeat = days[followed & (days["day"] > first)]
    t = section.tracking
    start0 = first.min()
    last_day = t["start"].iloc[-1] + pd.Timedelta(days=6)
    assert (
        t["start"].iloc[0] == start0 and (t["start"].diff().dropna() == pd.Timedelta(days=7)).all()
    )
    assert t["actual_cumulative"].iloc[-1] == (repeat["day"] <= last_day).sum()
    week = repeat["day"].between(t["start"].iloc[10], t["start"].iloc[10] + pd.Timedelta(days=6))
    assert t["actual"].iloc[10] == week.sum()
    assert t["holdout"].sum() == (t["start"] > pd.Timestamp(demo.calibration_end)).sum() > 20
    # the expected curve tracks the actual one in the holdout within 5 % (measured: ~1 %)
    assert t["expected_cumulative"].iloc[-1] == pytest.approx(
        t["actual_cumulative"].iloc[-1], rel=0.05
    )


def test_headlines_and_findings(section):
    h = clv_headlines(section)
    assert h["model"] == section.comparison.chosen == section.fit.name
    assert h["customers"] == 20_000 and h["clv_horizon_months"] == 12
    for key, value in section.fit.params.items():
        assert h[f"param_{key}"] == pytest.approx(value, rel=1e-5)
    for model in (*M.MODEL_NAMES, "naive"):
        assert {f"holdout_{m}_{model}" for m in ("mae", "rmse", "aggregate_error")} <= set(h)
    assert h["holdout_mae_naive"] > h[f"holdout_mae_{h['model']}"]
    assert h["clv_total"] == pytest.approx(section.predictions["clv"].sum(), rel=1e-5)
    assert h["clv_mean"] == pytest.approx(section.predictions["clv"].mean(), rel=1e-5)
    clv = np.sort(section.predictions["clv"].to_numpy())[::-1]
    assert h["top_decile_share"] == pytest.approx(clv[:2_000].sum() / clv.sum(), rel=1e-5)
    assert h["penalized"] is False
    record_headlines("clv", h)  # valid manifest values (finite JSON scalars)
    findings = words.clv_findings(section, "THB")
    assert findings[0].startswith("Expected value of today's 20,000 customers over the next 12")
    assert "฿" in findings[0]


def test_top_customers_are_pseudonymous(demo, section):
    top = section.top
    assert len(top) == 10 and top.index.name == "customer"
    assert top["clv"].is_monotonic_decreasing
    raw_ids = set(demo.full.index.astype(str))
    assert not (set(top.index) & raw_ids)
    assert not any(str(c) in " ".join(top.index) for c in demo.full.index[:1000])
    best = section.predictions["clv"].sort_values(ascending=False).index[:10]
    assert list(top.index) == privacy.pseudonymous_ids(best, KEY)
    assert list(top["purchase_days"]) == list((demo.full.loc[best, "frequency"] + 1).astype(int))


def test_top_customers_ties_and_pseudonyms_by_hand():
    summary = pd.DataFrame(
        {"frequency": [1.0, 2.0, 0.0, 3.0], "recency": [5.0, 9.0, 0.0, 9.0], "T": [10.0] * 4},
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )
    predictions = pd.DataFrame(
        {"p_alive": 0.5, "expected_purchases_365d": 1.0, "expected_spend": 10.0,
         "clv": [5.0, 7.0, 1.0, 7.0]},
        index=summary.index,
    )  # fmt: skip
    top = top_customers(summary, predictions, b"k", n=2)
    ids = {c: privacy.pseudonymous_ids([c], b"k")[0] for c in "bd"}
    assert list(top.index) == sorted(ids.values())  # tie at 7.0: by pseudonym
    assert ids["b"] == "C-" + hmac.new(b"k", b"b", hashlib.sha256).hexdigest()[:10]
    assert top.loc[ids["d"], "days_since_last"] == 1 and top.loc[ids["b"], "purchase_days"] == 3


def test_holdout_adapts_to_the_history():
    # 540 days of history: a third is 180 days, so the 180-day holdout is kept whole.
    assert holdout_length(540, 180, 1 / 3) == 180
    # 92 days (three months): a third is 30.67 -> 30 days, not 180.
    assert holdout_length(92, 180, 1 / 3) == 30
    assert holdout_length(2, 180, 1 / 3) == 1  # never zero


def test_short_history_gets_a_proportional_holdout(demo):
    """A 500-day holdout on a history of T_max + 1 days is cut to a third of it."""
    wh = StoreWarehouse(demo.root, demo.store, demo.tz)
    history = int(demo.full["T"].max()) + 1
    s = clv_section(
        wh.table("orders"), observation_end=demo.end, timezone=demo.tz, holdout_days=500,
        horizon_months=12, monthly_discount_rate=0.01, model="bgnbd",
    )  # fmt: skip
    assert (s.observation_end - s.calibration_end).days == history // 3 < 500
    assert set(s.comparison.fits) == {"bgnbd"}  # a named model is not compared


def test_too_young_or_too_small_a_store_is_unavailable(demo):
    wh = StoreWarehouse(demo.root, demo.store, demo.tz)
    history = int(demo.full["T"].max()) + 1
    repeaters = int((demo.full["frequency"] > 0).sum())

    def reason(**limits) -> str:
        with pytest.raises(SectionUnavailable) as err:
            clv_section(
                wh.table("orders"), observation_end=demo.end, timezone=demo.tz,
                holdout_days=180, horizon_months=12, monthly_discount_rate=0.01, **limits,
            )  # fmt: skip
        return err.value.reason

    assert reason(min_customers=30_000) == (
        "not enough history yet: needs at least 30,000 customers with completed orders "
        "(this store has 20,000)."
    )
    assert reason(min_history_days=5_000) == (
        f"not enough history yet: needs at least 5,000 days of order history "
        f"(this store has {history:,})."
    )
    assert reason(min_customers=30_000, min_repeat_customers=19_000, min_history_days=5_000) == (
        "not enough history yet: needs at least 30,000 customers with completed orders "
        f"(this store has 20,000), 19,000 customers who came back on another day (this store "
        f"has {repeaters:,}) and 5,000 days of order history (this store has {history:,})."
    )


def test_whole_history_failure_falls_back_to_the_next_model(demo, monkeypatch):
    """The chosen model's fit on every customer fails: the next-best model is used."""
    wh = StoreWarehouse(demo.root, demo.store, demo.tz)
    real = M.fit_model
    calls = []

    def failing_final(summary, name, **kwargs):
        calls.append(name)
        if "start" in kwargs and name == "bgnbd":  # the refit on the whole history
            raise M.ModelFitError("BG/NBD does not fit this history (planted)")
        return real(summary, name, **kwargs)

    monkeypatch.setattr(section_module, "fit_model", failing_final)
    s = clv_section(
        wh.table("orders"), observation_end=demo.end, timezone=demo.tz, holdout_days=180,
        horizon_months=12, monthly_discount_rate=0.01, comparison_customers=4_000, seed=5,
    )  # fmt: skip
    ranked = sorted(
        (x for x in s.comparison.scores if x.model in ("mbgnbd", "pareto")), key=lambda x: x.rmse
    )
    assert s.fit.name == s.comparison.chosen == ranked[0].model
    assert s.whole_history_failures.keys() == {"bgnbd"} and s.chosen_on_holdout == "bgnbd"
    assert any("BG/NBD on the whole history" in n and "Using" in n for n in words.section_notes(s))
    assert np.isfinite(s.predictions["clv"]).all()

    def always_failing(summary, name, **kwargs):
        if "start" in kwargs:
            raise M.ModelFitError(f"{M.MODEL_LABELS[name]} does not fit this history (planted)")
        return real(summary, name, **kwargs)

    monkeypatch.setattr(section_module, "fit_model", always_failing)
    with pytest.raises(SectionUnavailable, match="no purchase model fits this store's whole"):
        clv_section(
            wh.table("orders"), observation_end=demo.end, timezone=demo.tz, holdout_days=180,
            horizon_months=12, monthly_discount_rate=0.01, comparison_customers=4_000, seed=5,
        )  # fmt: skip


# --------------------------------------------------------------------------- charts


def test_charts_draw_the_section_data(section):
    s = section
    ax = plotting.holdout_by_frequency_chart(s.holdout_by_frequency, s.comparison)
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    np.testing.assert_allclose(lines["actual"], s.holdout_by_frequency["actual"])
    np.testing.assert_allclose(lines["BG/NBD"], s.holdout_by_frequency["bgnbd"])
    np.testing.assert_allclose(lines[M.MODEL_LABELS["naive"]], s.holdout_by_frequency["naive"])

    cumulative, weekly = plotting.tracking_chart(
        s.tracking, calibration_end=s.calibration_end, model_label="BG/NBD"
    )
    assert cumulative.figure is weekly.figure
    np.testing.assert_allclose(
        cumulative.get_lines()[0].get_ydata(), s.tracking["actual_cumulative"]
    )
    np.testing.assert_allclose(weekly.get_lines()[1].get_ydata(), s.tracking["expected"])

    left, right = plotting.frequency_recency_chart(s.matrices)
    image = left.get_images()[0].get_array()
    flipped = s.matrices.expected_purchases.to_numpy()[::-1]
    possible = s.matrices.possible.to_numpy()[::-1]
    np.testing.assert_allclose(image.data[possible], flipped[possible])
    assert image.mask[~possible].all() and not image.mask[possible].any()
    alive = right.get_images()[0].get_array()
    np.testing.assert_allclose(alive.data[possible], s.matrices.p_alive.to_numpy()[::-1][possible])

    ax = plotting.clv_distribution_chart(s.predictions["clv"], currency="USD", horizon_months=12)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == f"mean ${s.predictions['clv'].mean():,.0f}"
    ax.figure.canvas.draw()  # money ticks: distinct, exact, one suffix (docs/metrics.md)
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(t.lstrip("-").startswith("$") for t in ticks)
    assert len(set(ticks)) == len(ticks) and "$0" in ticks

    ax = plotting.spend_frequency_chart(s.summary, s.correlation, currency="THB")
    assert f"Pearson {s.correlation.pearson:.2f}" in ax.get_title()
    table = words.model_table(s.comparison)
    assert list(table.index)[-1] == M.MODEL_LABELS["naive"]
    assert table.filter(like="(chosen)", axis=0).shape[0] == 1
    assert math.isnan(table.loc[M.MODEL_LABELS["naive"], "log-likelihood"])


def test_charts_draw_on_the_axes_given(section):
    """Given ``ax``, a chart draws there and makes no figure of its own (pymc-marketing's way)."""
    s = section
    plt.close("all")
    fig, axes = plt.subplots(2, 4)
    drawn = [
        plotting.holdout_by_frequency_chart(s.holdout_by_frequency, s.comparison, ax=axes[0, 0]),
        plotting.clv_distribution_chart(
            s.predictions["clv"], currency="USD", horizon_months=12, ax=axes[0, 1]
        ),
        plotting.spend_frequency_chart(s.summary, s.correlation, currency="THB", ax=axes[0, 2]),
        plotting.expected_purchases_matrix_chart(s.matrices, ax=axes[0, 3]),
        plotting.p_alive_matrix_chart(s.matrices, ax=axes[1, 0]),
        plotting.tracking_panel(
            s.tracking,
            calibration_end=s.calibration_end,
            model_label="BG/NBD",
            cumulative=False,
            ax=axes[1, 1],
        ),  # fmt: skip
        *plotting.tracking_chart(
            s.tracking,
            calibration_end=s.calibration_end,
            model_label="BG/NBD",
            ax=(axes[1, 2], axes[1, 3]),
        ),  # fmt: skip
    ]
    assert drawn == [*axes[0], *axes[1]]
    assert plt.get_fignums() == [fig.number]
    assert all(ax.get_lines() or ax.get_images() or ax.collections for ax in drawn)
    plt.close(fig)


# --------------------------------------------------------------------------- words


def test_notes_and_findings_read_as_before(section):
    """The English sentences of the page, pinned (what the report said before they moved)."""
    s = section
    notes = words.section_notes(s)
    assert notes[0] == (
        "Models compared on a random sample of 8,000 of the 14,700 customers (seed 5); "
        "the chosen model is then fitted on every customer."
    )
    scores = {x.model: x for x in s.comparison.scores}
    assert notes[-1] == (
        f"Chosen model: {s.fit.label} (lowest per-customer holdout RMSE; RMSE "
        f"{scores[s.fit.name].rmse:.3f} vs naive baseline {scores['naive'].rmse:.3f} purchases "
        "per customer)."
    )
    assert words.fit_note(s.fit.diagnostics, "BG/NBD", name="bgnbd") == (
        "BG/NBD: fitted without penalizer."
    )
    assert words.spend_note(s.spend).startswith("Gamma-Gamma: fitted without penalizer.")
    findings = words.clv_findings(s, "USD")
    assert findings[1] == (
        f"{s.fit.label} predicted each customer's purchases in the last "
        f"{(s.observation_end - s.calibration_end).days} days with a mean error of "
        f"{scores[s.fit.name].mae:.2f} (naive repeat-rate guess: {scores['naive'].mae:.2f})."
    )


def test_page_words_are_thai(section):
    """With language th, every sentence, table header and label of the page is Thai."""
    from visible_words import english_words, visible_text

    from analysis.i18n import use_language
    from analysis.narrative import markdown_text

    s = section
    with use_language("th"):
        texts = [
            *[markdown_text(m) for m in (words.INTRO, words.MODELS, words.TRACKING)],
            *[markdown_text(m) for m in (words.SPEND, words.VALUE, words.TOP_CUSTOMERS)],
            *[markdown_text(m) for m in (words.MATRICES, words.SEGMENTS_LATER)],
            *words.section_notes(s),
            *words.clv_findings(s, "THB"),
            words.overview_text(s, title="ร้าน", month="ต.ค. 2569"),
            words.fit_text(s.fit),
            words.correlation_markdown(s),
            words.spend_fit_text(s.spend, "THB"),
            words.value_text(s, "THB"),
            words.activity_text(M.expected_activity(s.predictions)),
            words.not_enough_history([("customers", 300, 20), ("history_days", 180, 9)]),
            " ".join(map(str, words.model_table(s.comparison).reset_index().columns)),
            " ".join(words.model_table(s.comparison).index),
            visible_text(words.top_customers_table(s, "THB").to_html()),
            visible_text(words.overview_table(s.summary).to_html()),
        ]
    # pseudonyms (C- + a hash) are names from data
    assert english_words("\n".join(texts), allowed=set(s.top.index)) == []


def test_charts_speak_thai(section):
    """Chart titles, axes, legends and ticks in Thai: no English word but the allowed acronyms."""
    from visible_words import english_words, figure_texts

    from analysis.i18n import use_language

    s = section
    with use_language("th"), plt.rc_context():
        plots.set_theme()  # the report's theme, with its Thai font
        figures = [
            plotting.holdout_by_frequency_chart(s.holdout_by_frequency, s.comparison).figure,
            plotting.tracking_chart(
                s.tracking,
                calibration_end=s.calibration_end,
                model_label=words.model_label(s.comparison.chosen),
            )[0].figure,  # fmt: skip
            plotting.frequency_recency_chart(s.matrices)[0].figure,
            plotting.clv_distribution_chart(
                s.predictions["clv"], currency="THB", horizon_months=12
            ).figure,
            plotting.spend_frequency_chart(s.summary, s.correlation, currency="THB").figure,
        ]
        for figure in figures:
            texts = figure_texts(figure)
            assert texts and english_words(" ".join(texts)) == [], texts
            plt.close(figure)
