"""A throw-away project root per test: params copied from the checkout, an empty warehouse."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from analysis.cli import main

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BAD = HERE / "bad"
SAMPLES = HERE / "samples"


@dataclass
class Project:
    """A temporary project folder with ``params/`` and ``data/warehouse``."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "data" / "warehouse"

    def store_params(self, store: str, text: str) -> None:
        (self.root / "params" / "stores" / f"{store}.yaml").write_text(text, encoding="utf-8")

    def ingest(self, *args: str | Path) -> int:
        return main(["ingest", *map(str, args)])

    def rows(self, table: str, store: str, order: str = "1") -> list[tuple]:
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        path = self.warehouse / table / f"{store}.parquet"
        return con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY {order}").fetchall()

    def columns(self, table: str, store: str) -> list[str]:
        con = duckdb.connect()
        return con.read_parquet(str(self.warehouse / table / f"{store}.parquet")).columns

    def snapshot(self) -> dict[str, str]:
        """SHA-256 of every file under the warehouse (names included), for before/after checks."""
        out = {}
        for path in sorted(self.warehouse.rglob("*")):
            if path.is_file():
                out[str(path.relative_to(self.warehouse))] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
        return out


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "project"
    (root / "params" / "stores").mkdir(parents=True)
    (root / "params" / "default.yaml").write_text(
        (ROOT / "params" / "default.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (root / "data" / "warehouse").mkdir(parents=True)
    monkeypatch.setenv("ANALYSIS_ROOT", str(root))
    monkeypatch.setenv("ANALYSIS_PSEUDONYM_KEY", "test-key")
    return Project(root)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
