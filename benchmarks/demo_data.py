"""Demo-data generation at scale: wall time, peak memory and rows written.

Target (issue: foundation): 1,000,000 customers (~10M orders) in under 2 minutes
on 2 cores. Each run happens in a fresh child process so that its peak resident
memory is its own. Results are written to ``benchmarks/results/demo_data.json``.

Usage: ``python -m benchmarks.demo_data --customers 1000000``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "demo_data.json"
TARGET_SECONDS = 120.0

_CHILD = """
import sys, json
from pathlib import Path
import pyarrow.parquet as pq
from analysis import DEFAULT_SEED
from analysis.demo import write_demo
out = Path(sys.argv[1])
write_demo(out, stores=["demo-bangkok"], customers=int(sys.argv[2]), seed=DEFAULT_SEED)
rows = {p.parent.name: pq.ParquetFile(p).metadata.num_rows for p in out.glob("*/demo-bangkok.parquet")}
print(json.dumps(rows))
"""


def run(customers: int) -> dict:
    """Generate one demo store with ``customers`` customers in a child process and measure it."""
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, tmp, str(customers)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "customers": customers,
        "orders": rows["orders"],
        "rows_total": sum(rows.values()),
        "seconds": round(seconds, 2),
        "peak_rss_gib": round(peak_kib / 2**20, 2),
        "target_seconds": TARGET_SECONDS,
        "meets_target": seconds < TARGET_SECONDS,
    }


def main(customers: int = 1_000_000) -> dict:
    result = run(customers)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(
        f"demo-data: {result['customers']:,} customers, {result['orders']:,} orders "
        f"in {result['seconds']:.1f} s (target < {TARGET_SECONDS:.0f} s), "
        f"peak {result['peak_rss_gib']:.2f} GiB"
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    main(parser.parse_args().customers)
