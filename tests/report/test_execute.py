"""The environment and transport a section's kernel starts with (analysis.report.execute)."""

import os
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from analysis.config import ENV_ROOT
from analysis.handover import ENV_HANDOVER
from analysis.report.execute import (
    NotebookError,
    _ipc_prefix,
    default_kernel_name,
    kernel_environment,
    run_notebook,
)
from analysis.warehouse import ENV_MEMORY_LIMIT, ENV_SPILL_DIR


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


def test_the_run_names_its_spill_folder_and_memory_limit_and_takes_them_back(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_SPILL_DIR, "/another/run")
    monkeypatch.setenv(ENV_MEMORY_LIMIT, "20GiB")
    with kernel_environment(tmp_path, spill=tmp_path / "spill", memory_limit="9830MiB"):
        assert os.environ[ENV_SPILL_DIR] == str(tmp_path / "spill")
        assert os.environ[ENV_MEMORY_LIMIT] == "9830MiB"
    assert os.environ[ENV_SPILL_DIR] == "/another/run"
    assert os.environ[ENV_MEMORY_LIMIT] == "20GiB"
    # No spill folder: never another run's. No limit: the environment's passes through.
    with kernel_environment(tmp_path):
        assert ENV_SPILL_DIR not in os.environ
        assert os.environ[ENV_MEMORY_LIMIT] == "20GiB"


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_the_kernel_talks_over_unix_sockets_no_other_process_can_take(tmp_path):
    # Over TCP another process can take a port between jupyter_client choosing it
    # and the kernel binding it ("Address already in use"): on Linux the kernel
    # listens on abstract Unix sockets instead, which leave no file behind.
    source = _notebook(
        tmp_path / "probe.ipynb",
        "store = month = overrides = data_dir = None",
        "from ipykernel.kernelapp import IPKernelApp\n"
        "app = IPKernelApp.instance()\n"
        "print(app.transport, app.ip, sep='|')",
    )
    before = set(Path(tempfile.gettempdir()).iterdir())
    nb = run_notebook(
        source,
        tmp_path / "probe.out.ipynb",
        parameters={"store": "s", "month": "2026-10"},
        kernel_name=default_kernel_name(),
        cwd=tmp_path,
        connection_file=tmp_path / "kernel-probe.json",
    )
    transport, ip = nb.cells[-1].outputs[0]["text"].strip().split("|")
    if not sys.platform.startswith("linux"):
        assert (transport, ip) == ("tcp", "127.0.0.1")
        return
    assert transport == "ipc"
    assert ip.startswith(f"@crm-kernel-{os.getpid()}-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.ipynb", "probe.out.ipynb"]
    assert set(Path(tempfile.gettempdir()).iterdir()) <= before


def test_each_kernel_gets_its_own_socket_names():
    names = {_ipc_prefix() for _ in range(100)}
    assert len(names) == (100 if sys.platform.startswith("linux") else 1)


def test_duckdb_out_of_its_memory_limit_says_which_limit_to_raise(tmp_path):
    source = _notebook(
        tmp_path / "hungry.ipynb",
        "store = month = overrides = data_dir = None",
        "import duckdb\n"
        "raise duckdb.OutOfMemoryException("
        "'Out of Memory Error: could not allocate block of size 256.0 KiB (1.0 GiB/1.0 GiB used)')",
    )
    with pytest.raises(NotebookError) as caught:
        run_notebook(
            source,
            tmp_path / "hungry.out.ipynb",
            parameters={"store": "s", "month": "2026-10"},
            kernel_name=default_kernel_name(),
            cwd=tmp_path,
            # without it jupyter_client writes /tmp/tmp*.json, which the transport
            # test above, on the other worker, would see appear
            connection_file=tmp_path / "kernel-hungry.json",
        )
    error = caught.value
    assert "OutOfMemoryException" in error.message and "(1.0 GiB/1.0 GiB used)" in error.message
    assert error.hint.startswith(
        f"DuckDB needed more than its memory limit: raise {ENV_MEMORY_LIMIT}"
    )
    assert "--jobs" in error.hint and "JupyterLab" in error.hint
