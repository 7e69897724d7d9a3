"""Peak memory of a process and everything it started (a JVM, notebook kernels).

``ru_maxrss`` counts one process, and on Linux a process started by
``subprocess`` inherits its parent's peak in it (the kernel keeps the larger of
the two across ``exec``: a child of a 0.6 GiB parent reports at least 0.6 GiB).
The high-water mark of the process's own memory (``VmHWM`` in
``/proc/<pid>/status``) starts afresh at ``exec``. A Spark child's JVM and a
report's notebook kernels are processes of their own. :func:`tree_peak_kib` adds
the high-water marks of the live descendants to a process's own; :class:`TreeSampler`
samples the summed resident memory of a whole process tree while it runs (for
commands whose children come and go).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every live process started (directly or not) by ``pid``."""
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def own_peak_kib() -> int:
    """This process's peak resident memory since it started its program (``VmHWM``, KiB)."""
    return _status_kib(os.getpid(), "VmHWM")


def tree_peak_kib() -> int:
    """This process's peak resident memory plus each live descendant's (KiB)."""
    return own_peak_kib() + sum(_status_kib(p, "VmHWM") for p in descendants(os.getpid()))


class TreeSampler:
    """Sample the summed resident memory of ``pid`` and its descendants every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = [self.pid, *descendants(self.pid)]
            self.peak_kib = max(self.peak_kib, sum(_status_kib(p, "VmRSS") for p in pids))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
