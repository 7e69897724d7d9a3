"""The environment a section's kernel starts with (analysis.report.execute)."""

import os

from analysis.config import ENV_ROOT
from analysis.handover import ENV_HANDOVER
from analysis.report.execute import kernel_environment


def test_the_run_names_its_handover_folder_to_the_kernel_and_takes_it_back(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_HANDOVER, raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    with kernel_environment(tmp_path, tmp_path / "handover"):
        assert os.environ[ENV_HANDOVER] == str(tmp_path / "handover")
        assert os.environ[ENV_ROOT] == str(tmp_path)
        assert "MPLBACKEND" not in os.environ
    assert ENV_HANDOVER not in os.environ
    assert os.environ["MPLBACKEND"] == "Agg"


def test_without_a_folder_a_kernel_never_sees_another_runs(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_HANDOVER, "/somewhere/else")
    with kernel_environment(tmp_path):
        assert ENV_HANDOVER not in os.environ
    assert os.environ[ENV_HANDOVER] == "/somewhere/else"
