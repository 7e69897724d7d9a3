"""The loyalty page shows every part it can: a missing table takes away only its own part."""

import shutil

import pytest

from analysis import DEFAULT_SEED
from analysis.context import section_context
from analysis.i18n import use_language
from analysis.loyalty.page import loyalty_headlines, loyalty_page
from analysis.narrative import experiments as experiment_text
from analysis.narrative import loyalty as text


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from analysis.demo import write_demo

    root = tmp_path_factory.mktemp("page-demo")
    write_demo(root, seed=DEFAULT_SEED)
    return root


def page_of(root, store="demo-bangkok"):
    ctx = section_context(store, "2026-10", {}, str(root))
    return loyalty_page(ctx)


def test_full_store_has_every_part(demo_root):
    page = page_of(demo_root)
    assert page.reasons == []
    values = loyalty_headlines(page)
    for key in ("participation_rate", "redemption_rate", "points_liability", "did_effect"):
        assert isinstance(values[key], float), key
    assert values["did_ci_low"] < values["did_effect"] < values["did_ci_high"]


def test_without_experiments_the_programme_and_comparison_remain(demo_root, tmp_path):
    root = tmp_path / "warehouse"
    shutil.copytree(demo_root, root)
    shutil.rmtree(root / "experiments")
    page = page_of(root)
    assert page.programme.value is not None and page.comparison.value is not None
    assert page.readout.value is None
    assert page.reasons == [text.no_experiment_data()]
    assert "experiments table" in str(text.part_note(page.readout).data)


def test_without_loyalty_tables_the_readout_remains(demo_root, tmp_path):
    root = tmp_path / "warehouse"
    shutil.copytree(demo_root, root)
    for table in ("loyalty_members", "loyalty_points"):
        shutil.rmtree(root / table)
    page = page_of(root)
    assert page.readout.value is not None
    assert page.programme.value is None and page.comparison.value is None
    assert len(page.reasons) == 2 and all("loyalty_members" in r for r in page.reasons)
    assert loyalty_headlines(page) == {}


def test_planted_mismatch_reaches_the_summary_in_both_languages(demo_root):
    readout = page_of(demo_root, "demo-online").readout.value
    assert readout is not None and readout.srm.mismatch
    (warning,) = experiment_text.experiment_warnings(readout)
    assert "not the planned one" in warning
    with use_language("th"):
        (thai,) = experiment_text.experiment_warnings(readout)
    assert "ไม่ตรงกับที่วางแผนไว้" in thai
