"""Frames handed from one section of a report run to a later one (analysis.handover)."""

import pandas as pd
import pytest

from analysis.handover import ENV_HANDOVER, hand_over, handed_over, handover_key


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "p_alive": [0.25, 1.0, float("nan")],
            "next_order_date": pd.to_datetime(["2026-10-02", None, "2027-01-31"]).astype(
                "datetime64[s]"
            ),
            "churn_risk": ["high", "low", "medium"],
            "orders": [1, 2, 3],
        },
        index=pd.Index(["C1", "ก-2", "C3"], name="customer_id"),
    )


def test_outside_a_report_run_nothing_is_kept(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_HANDOVER, raising=False)
    assert hand_over("customer_outlook", "k", frame()) is False
    assert handed_over("customer_outlook", "k") is None
    assert list(tmp_path.iterdir()) == []


def test_a_kept_frame_comes_back_as_it_was(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_HANDOVER, str(tmp_path))
    assert handed_over("customer_outlook", "k") is None
    assert hand_over("customer_outlook", "k", frame()) is True
    back = handed_over("customer_outlook", "k")
    pd.testing.assert_frame_equal(back, frame())
    assert [p.name for p in tmp_path.iterdir()] == ["customer_outlook-k.parquet"]  # no partial file


def test_another_key_or_name_reads_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_HANDOVER, str(tmp_path))
    hand_over("customer_outlook", "k", frame())
    assert handed_over("customer_outlook", "other") is None
    assert handed_over("other_frame", "k") is None


def test_a_missing_folder_keeps_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_HANDOVER, str(tmp_path / "gone"))
    assert hand_over("customer_outlook", "k", frame()) is False
    assert handed_over("customer_outlook", "k") is None


@pytest.mark.parametrize("name", ["../x", "A", "a/b", "", "a.b"])
def test_names_are_plain(monkeypatch, tmp_path, name):
    monkeypatch.setenv(ENV_HANDOVER, str(tmp_path))
    with pytest.raises(ValueError, match="hand-over name"):
        hand_over(name, "k", frame())


def test_the_key_follows_store_month_and_every_param():
    params = {"clv": {"model": "auto"}, "segments": {"churn_risk_bands": [0.3, 0.7]}}
    key = handover_key("demo-bangkok", "2026-10", params)
    assert key == handover_key("demo-bangkok", "2026-10", {**params})
    assert key != handover_key("demo-online", "2026-10", params)
    assert key != handover_key("demo-bangkok", "2026-09", params)
    changed = {**params, "segments": {"churn_risk_bands": [0.2, 0.7]}}
    assert key != handover_key("demo-bangkok", "2026-10", changed)
