"""The project's own files: environment.yml agrees with pyproject.toml, notebooks are stripped."""

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["kpis", "cohorts", "clv", "segments", "loyalty_ab"]


def test_environment_yml_lists_pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = set(project["dependencies"]) | set(extras["dev"]) | set(extras["spark"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {r for r in pip if not r.startswith("-e")}
    assert listed == wanted
    assert "python=3.11" in env["dependencies"]
    assert "openjdk=17" in env["dependencies"]  # the spark extra needs Java


def test_notebooks_exist_and_are_stripped():
    for name in SECTIONS:
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), name
        params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(params) == 1, name
        names = set(re.findall(r"^(\w+) =", "".join(params[0]["source"]), flags=re.M))
        assert names == {"store", "month", "overrides", "data_dir"}, name
        assert nb["metadata"]["kernelspec"]["name"] == "crm-analytics"


def test_notebooks_are_thin():
    # Logic lives in the package: no function or class definitions in notebooks.
    for name in SECTIONS:
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
        source = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert not re.search(r"^\s*(def|class) ", source, flags=re.M), name


@pytest.mark.slow
def test_make_lab_starts_as_root_where_containers_run_it():
    """`make lab` adds --allow-root only when run as root; with it the server starts."""
    import os
    import shlex
    import socket
    import time

    dry = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True)
    (command,) = [line for line in dry.stdout.splitlines() if "jupyter lab" in line]
    assert command.startswith(".venv/bin/jupyter lab --notebook-dir=notebooks")
    assert ("--allow-root" in command) == (os.geteuid() == 0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [*shlex.split(command), "--no-browser", f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0"]  # fmt: skip
    server = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        seen, deadline = [], time.monotonic() + 60
        assert server.stderr is not None
        while time.monotonic() < deadline:
            line = server.stderr.readline()
            seen.append(line)
            if f"127.0.0.1:{port}/lab" in line or server.poll() is not None:
                break
        text = "".join(seen)
        assert f"127.0.0.1:{port}/lab" in text, text[-2000:]
        assert "Running as root is not recommended" not in text
    finally:
        server.terminate()
        server.wait(timeout=30)
