"""manifest.json helpers and index pages."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from analysis.report import index, manifest


def test_write_manifest_is_sorted_and_strict(tmp_path):
    path = manifest.write_manifest(tmp_path / "m.json", {"b": 1, "a": {"z": "ร้าน", "y": 2}})
    text = path.read_text(encoding="utf-8")
    assert (
        text == json.dumps({"a": {"y": 2, "z": "ร้าน"}, "b": 1}, indent=2, ensure_ascii=False) + "\n"
    )
    with pytest.raises(ValueError):
        manifest.write_manifest(tmp_path / "n.json", {"x": float("nan")})


def test_comparable_drops_volatile_keys():
    m = {"store": "s", "timings": {"kpis": 1.0}, "generated_at": "now", "headlines": {}}
    assert manifest.comparable(m) == {"store": "s", "headlines": {}}


def test_package_versions_cover_the_stack():
    versions = manifest.package_versions()
    assert set(versions) == set(manifest.PACKAGES)
    assert versions["pandas"] and versions["papermill"] and versions["nbconvert"]


def test_git_info(tmp_path):
    assert manifest.git_info(tmp_path) is None
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert manifest.git_info(tmp_path) == {"commit": None, "dirty": False}
    (tmp_path / "f.txt").write_text("x")
    env = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "-C", str(tmp_path), "add", "f.txt"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *env, "commit", "-qm", "x"], check=True)
    info = manifest.git_info(tmp_path)
    assert len(info["commit"]) == 40 and info["dirty"] is False
    (tmp_path / "f.txt").write_text("y")
    assert manifest.git_info(tmp_path)["dirty"] is True


def test_reports_index_lists_finished_reports_only(tmp_path):
    for store, month in [("shop-a", "2026-02"), ("shop-a", "2026-03"), ("shop-b", "2026-03")]:
        folder = tmp_path / store / month
        folder.mkdir(parents=True)
        (folder / "index.html").write_text("x")
    (tmp_path / "shop-a" / ".2026-04.tmp-abc").mkdir()  # a run in progress
    (tmp_path / "shop-b" / "2026-04").mkdir()  # no index.html: not a report
    manifest.write_manifest(
        tmp_path / "shop-a" / "2026-03" / "manifest.json",
        {"title": "ร้านเอ", "params": {"language": "en", "buddhist_era": False}},
    )
    assert index.find_reports(tmp_path) == {"shop-a": ["2026-03", "2026-02"], "shop-b": ["2026-03"]}
    page = index.write_reports_index(tmp_path).read_text(encoding="utf-8")
    assert "ร้านเอ" in page and 'href="shop-a/2026-02/index.html"' in page
    assert "2026-04" not in page
