"""Run every benchmark and print a summary (``make bench``)."""

from __future__ import annotations

import argparse

from benchmarks import demo_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    demo_data.main(customers=args.customers)


if __name__ == "__main__":
    main()
