"""The readout end to end on built experiments: engine sums -> statistics -> words and manifest values."""

import datetime as dt

import duckdb
import narwhals as nw
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.config import ExperimentParams
from analysis.errors import SectionUnavailable
from analysis.experiments.readout import choose_control, experiment_headlines, experiment_readout
from analysis.i18n import use_language
from analysis.narrative import experiments as words

END = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def params(**changes: object) -> ExperimentParams:
    base = dict(
        primary_metric="revenue", control=None, split=None, alpha=0.05, power=0.8,
        target_lift=0.05, winsorize_percentile=99.0, srm_alpha=0.001,
        bootstrap_resamples=1000, retention_days=90,
    )  # fmt: skip
    base.update(changes)
    return ExperimentParams(**base)


def build(counts: dict[str, int], lifts: dict[str, float], seed: int = 7):
    """Customers with a spending rate each; orders before and after 2026-01-01 (assignment).

    A variant multiplies its customers' order values after assignment by 1 + lift.
    """
    rng = np.random.default_rng(seed)
    rows, orders = [], []
    k = 0
    for variant, n in counts.items():
        for _ in range(n):
            cid = f"c{k:05d}"
            k += 1
            rows.append((cid, variant))
            rate = rng.gamma(1.0, 1.0)  # orders per 90 days
            for period_start, factor in (
                (START - (END - START), 1.0),
                (START, 1 + lifts.get(variant, 0.0)),
            ):
                m = rng.poisson(rate * 2)
                for t in rng.uniform(0, (END - START).total_seconds(), m):
                    orders.append(
                        (f"o{len(orders)}", cid, period_start + dt.timedelta(seconds=float(t)),
                         round(float(rng.gamma(2.0, 500.0)) * factor, 2))
                    )  # fmt: skip
    experiments = pd.DataFrame(rows, columns=["customer_id", "variant"]).assign(
        experiment_id="exp", store_id="s", assigned_at=pd.Timestamp(START)
    )
    order_frame = pd.DataFrame(orders, columns=["order_id", "customer_id", "ordered_at", "revenue"])
    order_frame = order_frame.assign(store_id="s", status="completed")
    return experiments, order_frame


def readout_of(experiments, orders, **changes):
    return experiment_readout(
        nw.from_native(duckdb.from_df(experiments)),
        nw.from_native(duckdb.from_df(orders)),
        "exp",
        END,
        params(**changes),
        seed=3,
    )


def per_customer(experiments, orders, cap=None):
    """Revenue per assigned customer after assignment, by pandas (independent of the engine)."""
    after = orders[orders["ordered_at"] >= pd.Timestamp(START)]
    revenue = after.groupby("customer_id")["revenue"].sum()
    out = experiments.set_index("customer_id")["variant"].to_frame()
    out["revenue"] = revenue.reindex(out.index).fillna(0.0)
    if cap is not None:
        out["revenue"] = out["revenue"].clip(upper=cap)
    return out


@pytest.fixture(scope="module")
def two_arms():
    experiments, orders = build({"holdout": 500, "invitation": 500}, {"invitation": 0.2})
    return experiments, orders, readout_of(experiments, orders)


def test_raw_lift_is_welch_on_the_capped_revenue(two_arms):
    experiments, orders, readout = two_arms
    data = per_customer(experiments, orders, cap=readout.winsorisation.cap)
    assert readout.winsorisation.cap == pytest.approx(
        np.percentile(per_customer(experiments, orders)["revenue"], 99.0)
    )
    hold = data.loc[data["variant"] == "holdout", "revenue"]
    inv = data.loc[data["variant"] == "invitation", "revenue"]
    ref = stats.ttest_ind(inv, hold, equal_var=False)
    (primary,) = readout.primary
    assert primary.raw.abs_lift == pytest.approx(inv.mean() - hold.mean())
    assert primary.raw.p_value == pytest.approx(ref.pvalue, rel=1e-6)
    low, high = ref.confidence_interval(0.95)
    assert (primary.raw.abs_ci_low, primary.raw.abs_ci_high) == pytest.approx((low, high))
    assert readout.winsorisation.capped_customers == int(
        (per_customer(experiments, orders)["revenue"] > readout.winsorisation.cap).sum()
    )


def test_cuped_narrows_and_planted_lift_is_inside(two_arms):
    _experiments, _orders, readout = two_arms
    (primary,) = readout.primary
    assert primary.cuped.ci_width_ratio < 0.95
    assert primary.reported.rel_ci_low < 0.2 < primary.reported.rel_ci_high
    assert readout.srm.p_value == 1.0 and not readout.srm.mismatch
    assert primary.bootstrap is not None and primary.bootstrap.resamples == 1000
    # the bootstrap cross-check agrees with the delta method within a few points
    assert primary.bootstrap.rel_ci_low == pytest.approx(primary.raw.rel_ci_low, abs=0.04)
    assert primary.bootstrap.rel_ci_high == pytest.approx(primary.raw.rel_ci_high, abs=0.04)
    # the three secondary metrics are Holm-adjusted together; the primary is not
    secondary = [c for c in readout.comparisons if not c.primary]
    assert [c.metric for c in readout.comparisons] == ["revenue", "orders", "repeat", "retained"]
    assert primary.p_value_adjusted == primary.reported.p_value
    raw_p = sorted(c.reported.p_value for c in secondary)
    assert min(c.p_value_adjusted for c in secondary) == pytest.approx(min(1.0, 3 * raw_p[0]))


def test_headlines_and_verdict(two_arms):
    _experiments, _orders, readout = two_arms
    values = experiment_headlines(readout)
    (primary,) = readout.primary
    assert values["primary.metric"] == "revenue" and values["primary.variant"] == "invitation"
    assert values["primary.lift_rel"] == round(primary.reported.rel_lift, 6)
    assert values["primary.cuped_ci_width_ratio"] == round(primary.cuped.ci_width_ratio, 6)
    assert values["srm_mismatch"] is False and values["control"] == "holdout"
    assert all("invitation" not in key and "holdout" not in key for key in values)
    (finding,) = words.experiment_findings(readout)
    assert finding.startswith("invitation ") and finding.endswith("the split was as planned.")
    with use_language("th"):
        (thai,) = words.experiment_findings(readout)
    assert "การแบ่งกลุ่มเป็นไปตามแผน" in thai


def test_sample_ratio_mismatch_is_flagged_everywhere():
    experiments, orders = build({"holdout": 400, "invitation": 600}, {})
    readout = readout_of(experiments, orders)
    # chi-square by hand: expected 500 each, (100^2 / 500) * 2 = 40
    assert readout.srm.chi2 == pytest.approx(40.0)
    assert readout.srm.p_value == pytest.approx(stats.chi2.sf(40.0, 1))
    assert readout.srm.mismatch
    assert words.experiment_warnings(readout) and "not the planned one" in str(
        words.srm_warning(readout).data
    )
    assert words.experiment_findings(readout)[0].endswith("so do not rely on it yet.")
    assert experiment_headlines(readout)["srm_mismatch"] is True
    # a planned 40/60 split makes the same counts fine
    planned = readout_of(experiments, orders, split={"holdout": 0.4, "invitation": 0.6})
    assert planned.srm.chi2 == pytest.approx(0.0) and not planned.srm.mismatch


def test_three_arms_any_names():
    experiments, orders = build({"A <b>": 300, "กลุ่ม ข": 300, "control": 300}, {"A <b>": 0.3})
    readout = readout_of(experiments, orders, primary_metric="orders")
    assert readout.control == "control"
    assert [c.variant for c in readout.primary] == ["A <b>", "กลุ่ม ข"]
    # two primary comparisons: Holm across the arms
    p = sorted(c.reported.p_value for c in readout.primary)
    assert min(c.p_value_adjusted for c in readout.primary) == pytest.approx(min(1.0, 2 * p[0]))
    html = words.results_table(readout, "THB").to_html()
    assert "A &lt;b&gt;" in html and "A <b>" not in html
    assert str(words.srm_text(readout).data).count("planned 33.3%") == 3


def test_control_choice_and_unknown_names():
    assert choose_control(["treatment", "holdout"]) == "holdout"
    assert choose_control(["b", "a"]) == "a"
    assert choose_control(["b", "a"], "b") == "b"
    experiments, orders = build({"holdout": 20, "invitation": 20}, {})
    with pytest.raises(SectionUnavailable, match="not a variant"):
        readout_of(experiments, orders, control="treatment")
    with pytest.raises(SectionUnavailable, match="also has 'invitation'"):
        readout_of(experiments, orders, split={"holdout": 0.5, "other": 0.5})


def test_every_word_of_the_readout_is_thai(two_arms):
    import matplotlib.pyplot as plt
    from visible_words import english_words, figure_texts, visible_text

    from analysis.experiments.plotting import lift_chart
    from analysis.narrative import markdown_text
    from analysis.plots import set_theme

    set_theme()  # the Thai font, as section_context sets it for every section notebook
    _experiments, _orders, readout = two_arms
    names = {"holdout", "invitation"}
    with use_language("th"):
        parts = [
            words.arm_table(readout, "THB").to_html(),
            words.results_table(readout, "THB").to_html(),
            words.cuped_table(readout).to_html(),
            words.power_table(readout).to_html(),
        ]
        text = [visible_text(p) for p in parts] + [
            str(words.srm_text(readout).data),
            str(words.bootstrap_text(readout).data),
            str(words.winsorisation_text(readout, "THB").data),
            *(markdown_text(m) for m in (words.READOUT, words.CUPED, words.POWER)),
            *words.experiment_findings(readout),
        ]
        ax = lift_chart(readout)
        chart = " ".join(figure_texts(ax.figure))
        plt.close(ax.figure)
    for block in [*text, chart]:
        assert english_words(block, allowed=names) == [], block
    assert "ยอดขายต่อลูกค้า" in text[1] and "กลุ่มควบคุม" in text[1]
