"""Which processes still run: how a run tells its own temporary files from those of a
run that died (killed, power cut), which it may remove."""

from __future__ import annotations

import os

__all__ = ["process_alive"]


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (our own pid counts as alive).

    ``os.kill(pid, 0)`` sends nothing; it fails with ProcessLookupError when no
    such process exists, and with PermissionError when it exists but belongs to
    another user (alive, then).
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
