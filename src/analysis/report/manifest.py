"""``manifest.json``: what a report was made from.

Everything except :data:`VOLATILE_KEYS` (``generated_at``, ``timings``) is a
function of the inputs — params, data files, code commit, package versions and
the headline values the notebooks recorded — so two runs on the same inputs
write identical manifests apart from those keys (:func:`comparable`).
"""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST_NAME",
    "PACKAGES",
    "VOLATILE_KEYS",
    "build_manifest",
    "comparable",
    "git_info",
    "package_versions",
    "read_manifest",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"

PACKAGES: dict[str, str] = {
    # name in the manifest -> distribution name
    "analysis": "crm-analytics",
    "duckdb": "duckdb",
    "narwhals": "narwhals",
    "pandas": "pandas",
    "numpy": "numpy",
    "lifetimes": "lifetimes",
    "papermill": "papermill",
    "nbconvert": "nbconvert",
    "matplotlib": "matplotlib",
    "seaborn": "seaborn",
    "pyarrow": "pyarrow",
}

VOLATILE_KEYS = ("generated_at", "timings")
"""Keys that change on every run; everything else compares across runs."""


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a report depends on (None if absent)."""
    out: dict[str, str | None] = {}
    for name, dist in PACKAGES.items():
        try:
            out[name] = version(dist)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_info(root: Path) -> dict[str, Any] | None:
    """``{"commit": sha | None, "dirty": bool}`` of the repository at ``root``.

    ``None`` when ``root`` is not inside a git work tree (or git is not
    installed). ``commit`` is None in a repository without commits yet.
    ``dirty`` is True when tracked files differ from the commit or untracked
    (not ignored) files exist.
    """

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    try:
        inside = git("rev-parse", "--is-inside-work-tree")
    except (OSError, subprocess.SubprocessError):
        return None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    head = git("rev-parse", "--verify", "--quiet", "HEAD")
    commit = head.stdout.strip() if head.returncode == 0 and head.stdout.strip() else None
    status = git("status", "--porcelain")
    dirty = status.returncode != 0 or bool(status.stdout.strip())
    return {"commit": commit, "dirty": dirty}


def build_manifest(
    *,
    store: str,
    month: str,
    title: str,
    sections: Sequence[str],
    params: Mapping[str, Any],
    git: Mapping[str, Any] | None,
    data_fingerprint: Mapping[str, Any],
    headlines: Mapping[str, Mapping[str, Any]],
    timings: Mapping[str, float],
    findings: Mapping[str, Sequence[str]] | None = None,
    warnings: Mapping[str, Sequence[str]] | None = None,
    generated_at: str,
    kernel: str | None = None,
) -> dict[str, Any]:
    """Assemble the manifest dict (see the module docstring for the keys)."""
    return {
        "store": store,
        "month": month,
        "title": title,
        "sections": list(sections),
        "params": dict(params),
        "git": dict(git) if git is not None else None,
        "python": platform.python_version(),
        "packages": package_versions(),
        "kernel": kernel,
        "data_fingerprint": dict(data_fingerprint),
        "headlines": {k: dict(v) for k, v in headlines.items()},
        "findings": {k: list(v) for k, v in (findings or {}).items()},
        "warnings": {k: list(v) for k, v in (warnings or {}).items()},
        "timings": {k: round(float(v), 3) for k, v in timings.items()},
        "generated_at": generated_at,
    }


def write_manifest(path: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest`` as UTF-8 JSON, keys sorted, indent 2, NaN forbidden."""
    path = Path(path)
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    """Read a manifest written by :func:`write_manifest`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def comparable(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest without :data:`VOLATILE_KEYS`: equal across runs on equal inputs."""
    return {k: v for k, v in manifest.items() if k not in VOLATILE_KEYS}
