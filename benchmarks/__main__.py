"""Run every benchmark and print a summary (``make bench``)."""

from __future__ import annotations

import argparse

from benchmarks import clv, cohorts, demo_data, experiments, ingest, kpis, segments
from benchmarks.limits import __main__ as limits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--month", default="2026-10", help="report month of the KPI and cohort benchmarks"
    )
    parser.add_argument("--big", action="store_true", help="ingest and limits: also 100M orders")
    args = parser.parse_args()
    demo_data.main(customers=args.customers)
    kpis.main(customers=args.customers, month=args.month)
    cohorts.main(customers=args.customers, month=args.month)
    clv.main(month=args.month)
    experiments.main(customers=args.customers, month=args.month)
    segments.main(customers=args.customers, month=args.month)
    ingest.main([1_000_000, 10_000_000, 100_000_000] if args.big else None)
    limits.main(["1M", "10M", "100M"] if args.big else ["1M", "10M"], month=args.month)


if __name__ == "__main__":
    main()
