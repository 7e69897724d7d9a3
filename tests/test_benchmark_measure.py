"""The benchmarks' peak memory is the measured process's own, not its parent's."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import resource
from benchmarks.limits.measure import own_peak_kib
print(own_peak_kib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_a_child_of_a_large_parent_reports_its_own_peak():
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page: 400 MiB resident
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, cwd=ROOT, check=True
    )
    own, inherited = (int(x) for x in out.stdout.split())
    # ru_maxrss keeps the parent's 400 MiB across exec; the child's own peak is a bare
    # interpreter with the measure module: well under 200 MiB
    assert inherited >= 400 * 1024
    assert 0 < own < 200 * 1024
    del ballast
