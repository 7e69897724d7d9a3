"""Publish a finished report folder: staging, atomic exchange, lock, leftovers.

A run renders into a temporary folder beside the published month
(:func:`staging_folder`), then :func:`publish` swaps it in under a per-store
lock. Folders left by runs that were killed are removed by the next run
(:func:`remove_leftovers`).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from analysis.errors import ConfigError
from analysis.processes import process_alive

__all__ = ["exchange", "publish", "remove_leftovers", "staging_folder"]


@contextmanager
def staging_folder(
    store_dir: Path, month: str, say: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """A new temporary folder ``<store_dir>/.<month>.tmp-<pid>-<random>`` to render into.

    Leftovers of dead runs are removed first (each one reported through
    ``say``). The folder is deleted when the block raises (the previous
    report stays as it was); after :func:`publish` it no longer exists.

    Raises
    ------
    ConfigError
        The reports folder cannot be created or written (one line, with a hint).
    """
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        for path in remove_leftovers(store_dir):
            if say is not None:
                say(f"{store_dir.name}: removed {path.name}, left by a run that did not finish")
        tmp = Path(tempfile.mkdtemp(prefix=f".{month}.tmp-{os.getpid()}-", dir=store_dir))
    except OSError as exc:
        raise ConfigError(
            f"{store_dir}: cannot write the report there ({exc.strerror or exc})",
            hint="check that the reports folder exists and is writable (--reports-dir)",
        ) from None
    try:
        os.chmod(tmp, 0o755)
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


_RENAME_EXCHANGE = 2  # linux/fs.h


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where
    the platform or file system cannot, so the caller falls back to two renames."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(
        at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result == 0:
        return True
    errno_ = ctypes.get_errno()
    import errno as errno_mod

    if errno_ in (errno_mod.EINVAL, errno_mod.ENOSYS, errno_mod.EPERM, errno_mod.ENOTSUP):
        return False
    raise OSError(errno_, os.strerror(errno_), str(a))


@contextmanager
def _publish_lock(store_dir: Path) -> Iterator[None]:
    """Hold ``<store_dir>/.publish.lock`` (``flock``): two runs of one store publish in turn."""
    import fcntl

    with open(store_dir / ".publish.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish(tmp: Path, final: Path) -> None:
    """Put the finished folder ``tmp`` in place of ``final``.

    On Linux the two folders are swapped in one atomic step (``renameat2`` with
    ``RENAME_EXCHANGE``): a reader sees the old report or the new one, never no
    folder, and the old one (now at ``tmp``) is then deleted. Elsewhere, or on a
    file system without the call, the old folder is renamed aside and the new
    one renamed in: between those two renames (microseconds) the path is missing.
    Runs of the same store publish one at a time (:func:`_publish_lock`), so two
    concurrent runs of one month leave one complete report, the later one.
    """
    with _publish_lock(final.parent):
        if final.exists() and exchange(tmp, final):
            shutil.rmtree(tmp, ignore_errors=True)
            return
        old: Path | None = None
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
            os.rename(final, old)
        try:
            os.rename(tmp, final)
        except BaseException:
            if old is not None:
                os.rename(old, final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


_LEFTOVER = re.compile(r"\.(?P<month>\d{4}-\d{2})\.(?:tmp|old)-(?P<pid>\d+)-")


def remove_leftovers(store_dir: Path) -> list[Path]:
    """Delete temporary report folders of runs that died (killed, power cut).

    A run renders into ``.<month>.tmp-<pid>-<random>`` (and sets an old report
    aside as ``.<month>.old-<pid>-<random>`` while publishing); a folder whose
    process no longer exists is a leftover. Folders of live runs are kept.

    Returns
    -------
    list[pathlib.Path]
        The folders removed.
    """
    removed: list[Path] = []
    if not store_dir.is_dir():
        return removed
    for path in store_dir.iterdir():
        match = _LEFTOVER.match(path.name)
        if match and path.is_dir() and not process_alive(int(match["pid"])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
