"""Benchmarks: measured, never timed tests. Run with ``make bench`` or ``python -m benchmarks``."""
