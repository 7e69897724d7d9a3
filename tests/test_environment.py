"""The project's own files: environment.yml agrees with pyproject.toml, notebooks are stripped."""

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["kpis", "cohorts", "clv", "segments", "loyalty_ab"]


def test_environment_yml_lists_pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {r for r in pip if not r.startswith("-e")}
    assert listed == wanted
    assert "python=3.11" in env["dependencies"]


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
