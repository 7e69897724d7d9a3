"""Each metric family against the engine's limit and the peers, at 1M, 10M (and 100M) orders.

``python -m benchmarks.limits`` (part of ``make bench``) times, for each family
(``kpis``, ``cohorts``, ``segments``, ``rfm``), four ways of computing the same
numbers on the same cached demo warehouse, each in a fresh child process:

``ours``
    the project's code on DuckDB (narwhals lazy frames), as the report runs it;
``sql``
    one hand-written DuckDB SQL statement (or a few) computing the same numbers:
    the engine's limit, kept here only;
``polars``
    Polars' lazy API over the same Parquet files: the dataframe library a user
    would otherwise pick;
``spark``
    the project's code on a local ``local[2]`` Spark session.

Every way must agree with ``ours`` (counts exactly, money and rates to 1e-9
relative), else the run fails. Each family module (``benchmarks/limits/<family>.py``)
defines::

    PRELOAD: dict[str, list[str]]      # way -> modules imported before the clock starts
    def ours(root: Path, month: str) -> dict
    def sql(root: Path, month: str) -> dict
    def polars(root: Path, month: str) -> dict
    def spark(root: Path, month: str) -> dict
    def compare(a: dict, b: dict) -> list[str]   # disagreements of b with a; [] = agree

A way returns a JSON-able dict with ``compute_seconds`` (from the first read of
the warehouse to the finished numbers in memory: session start-up and writing the
result for the comparison are outside it) and the numbers, or, when they are too
many for one JSON line (one row per customer), the path of a Parquet file it wrote
under ``<root>/.limits/`` holding them.
"""
