"""The readout on the demo stores finds what the generator planted (truths in ``_truth.json``)."""

import pytest

from analysis import DEFAULT_SEED
from analysis.config import default_params
from analysis.experiments.outcomes import report_experiment
from analysis.experiments.readout import experiment_readout
from analysis.warehouse import StoreWarehouse

TZ = "Asia/Bangkok"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis.calendar import month_bounds
    from analysis.demo import DEMO_STORES, write_demo

    root = tmp_path_factory.mktemp("readout-demo")
    truth = write_demo(root, seed=DEFAULT_SEED)
    params = default_params()
    end = month_bounds("2026-10", TZ)[1]
    readouts = {}
    for store in DEMO_STORES:
        wh = StoreWarehouse(root, store, TZ)
        experiments, experiment_id = report_experiment(wh, end)
        readouts[store] = experiment_readout(
            experiments, wh.table("orders", end=end), experiment_id, end,
            params.experiment, params.seed, persist=wh.persist,
        )  # fmt: skip
    return truth, readouts


def test_planted_lift_inside_the_interval_and_cuped_narrows_it(demo):
    truth, readouts = demo
    for store, readout in readouts.items():
        planted = truth[store]["experiment"]["realised"]["itt_lift_causal"]
        (primary,) = readout.primary
        assert primary.metric == "revenue" and primary.variant == "invitation"
        assert primary.reported.rel_ci_low < planted < primary.reported.rel_ci_high, store
        assert primary.raw.rel_ci_low < planted < primary.raw.rel_ci_high, store
        # the pre-assignment revenue correlates with the outcome (0.6-0.8): CUPED narrows
        assert primary.cuped.ci_width_ratio < 0.85, store
        assert truth[store]["experiment"]["realised"]["pre_post_correlation"] > 0.5


def test_planted_sample_ratio_mismatch_is_flagged(demo):
    truth, readouts = demo
    for store, readout in readouts.items():
        realised = truth[store]["experiment"]["realised"]
        assert readout.customers == {
            "holdout": realised["holdout"], "invitation": realised["invitation"],
        }, store  # fmt: skip
        assert readout.srm.mismatch is truth[store]["experiment"]["srm_planted"], store
        assert readout.srm.chi2 == pytest.approx(realised["srm_chi2"], abs=1e-5)
    assert readouts["demo-online"].srm.p_value < 1e-6
