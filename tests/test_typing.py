"""The package is typed: it ships its PEP 561 marker, and its config checks what it says."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_package_ships_py_typed():
    assert (files("analysis") / "py.typed").is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in package_data["tool"]["setuptools"]["package-data"]["analysis"]


def test_mypy_ignores_missing_imports_only_per_module():
    """No blanket ignore_missing_imports: each untyped third-party module is named."""
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert "ignore_missing_imports" not in mypy
    assert mypy["files"] == ["src/analysis"] and mypy["check_untyped_defs"] is True
    for override in mypy.get("overrides", []):
        if override.get("ignore_missing_imports"):
            assert not any(m.startswith("analysis") for m in override["module"])
