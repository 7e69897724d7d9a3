"""Leftovers of ingests that died, and the warehouse lock held while one writes.

Temp files ``.<name>.<pid>.tmp`` and system temp folders
``analysis-ingest-<pid>-*`` whose process no longer runs are removed; the
lock makes a second ingest into the same warehouse wait; OS errors of the
write phase become a :class:`~analysis.errors.DataError`.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from analysis.errors import DataError
from analysis.ingest.context import Progress
from analysis.processes import process_alive

LOCK_NAME = ".ingest.lock"
"""Lock file in the warehouse folder, held while an ingest merges and writes."""

SCRATCH_PREFIX = "analysis-ingest-"
"""System temp folders of a run: ``analysis-ingest-<pid>-<random>`` (transcoded copies, spill)."""
_TEMP_FILE = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.tmp")


def sweep_temp_files(warehouse: Path, root: Path, say: Progress) -> list[Path]:
    """Remove ``.<name>.<pid>.tmp`` files of ingests that died (killed, power cut).

    Called while holding the warehouse lock, so no running ingest writes its temp
    files meanwhile; a file whose pid still runs is kept. Looks in every table
    folder and in ``params/stores/``. Returns the files removed.
    """
    folders = [p for p in warehouse.iterdir() if p.is_dir()] if warehouse.is_dir() else []
    folders.append(root / "params" / "stores")
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.glob(".*.tmp"):
            found = _TEMP_FILE.fullmatch(path.name)
            if found and path.is_file() and not process_alive(int(found["pid"])):
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        say(f"removed {len(removed)} temporary file(s) left by an ingest that did not finish")
    return removed


def sweep_scratch(say: Progress) -> list[Path]:
    """Remove system temp folders ``analysis-ingest-<pid>-*`` of ingests that died."""
    import shutil

    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        pid = path.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
        if (
            pid.isdigit()
            and path.is_dir()
            and not path.is_symlink()
            and not process_alive(int(pid))
        ):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        say(f"removed {len(removed)} temporary folder(s) left by an ingest that did not finish")
    return removed


@contextlib.contextmanager
def write_errors() -> Iterator[None]:
    """Turn an OS error of the write phase (read-only folder, full disk) into a DataError.

    The run's temporary files are removed by the code that made them before the
    error gets here; nothing was renamed into place.
    """
    try:
        yield
    except OSError as exc:
        where = exc.filename or "the warehouse"
        raise DataError(
            f"{where}: cannot write ({exc.strerror or exc}), nothing written",
            hint="check the folder's permissions and free space",
        ) from None


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, say: Progress) -> Iterator[None]:
    """Hold ``<warehouse>/.ingest.lock`` while merging and writing: one ingest at a time.

    A second ingest into the same warehouse waits (and says so) instead of
    reading files the first is about to replace. POSIX only (``fcntl``);
    elsewhere no lock is taken.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    warehouse.mkdir(parents=True, exist_ok=True)
    with (warehouse / LOCK_NAME).open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another ingest into {warehouse} to finish")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
