"""How parallel reports share the machine's memory (analysis.report.batch)."""

from pathlib import Path

import pytest

from analysis.report.batch import machine_memory, memory_share

GIB = 2**30


@pytest.mark.parametrize(
    ("jobs", "total", "share"),
    [
        (2, 24 * GIB, "9830MiB"),  # 24,576 MiB x 0.8 / 2 = 9,830.4
        (3, 24 * GIB, "6553MiB"),  # 19,660.8 / 3 = 6,553.6
        (8, 16 * GIB, "1638MiB"),  # 13,107.2 / 8 = 1,638.4
        (1, 24 * GIB, None),  # one at a time: DuckDB's own default is the same share
        (0, 24 * GIB, None),
        (2, 0, None),  # memory unknown: DuckDB decides
    ],
)
def test_each_report_gets_its_share_of_80_percent(jobs, total, share):
    assert memory_share(jobs, total) == share


def test_the_machine_memory_is_what_the_kernel_reports():
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        pytest.skip("no /proc/meminfo on this system")
    total_kib = int(
        next(x for x in meminfo.read_text().splitlines() if x.startswith("MemTotal:")).split()[1]
    )
    cgroup = Path("/sys/fs/cgroup/memory.max")
    limit = cgroup.read_text().strip() if cgroup.exists() else "max"
    expected = min(total_kib * 1024, int(limit)) if limit.isdigit() else total_kib * 1024
    assert machine_memory() == expected
