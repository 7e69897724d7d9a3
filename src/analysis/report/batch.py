"""Several stores' reports at once, in worker processes whose failures stay apart.

:func:`build_reports` runs :func:`~analysis.report.store.build_report` for each
store, ``jobs`` at a time in spawned processes; their progress lines reach the
caller through a queue, each store's outcome is a :class:`ReportResult`, and
``reports/index.html`` is rewritten once at the end.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue as queue_mod
import threading
import time
import traceback as tb_mod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from analysis.config import default_data_dir, project_root
from analysis.context import listing_session, stores_with_orders
from analysis.errors import AnalysisError
from analysis.report import index as index_mod
from analysis.report.execute import one_line
from analysis.report.store import Progress, build_report, index_language, utc_now
from analysis.warehouse import ENV_MEMORY_LIMIT, check_memory_limit

__all__ = ["ReportResult", "build_reports", "machine_memory", "memory_share"]

DUCKDB_SHARE = 0.8
"""Part of the machine's memory DuckDB takes by default; parallel reports split it."""


@dataclass(frozen=True)
class ReportResult:
    """Outcome of one store's report in :func:`build_reports`."""

    store: str
    month: str | None
    ok: bool
    path: Path | None = None
    error: str | None = None
    hint: str | None = None
    exit_code: int = 0
    seconds: float = 0.0
    traceback: str | None = None
    """Full traceback for unexpected errors (bugs), None for :class:`AnalysisError`."""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path) if self.path else None
        return out


def machine_memory() -> int | None:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit if lower.

    None where the platform does not say (then DuckDB's own default stands).
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None
    try:  # a container's limit (cgroup v2); "max" when there is none
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def memory_share(jobs: int, total: int | None = None) -> str | None:
    """DuckDB memory limit of each of ``jobs`` reports run at once, in whole MiB.

    Parameters
    ----------
    jobs
        Reports running at the same time.
    total
        Bytes of memory to share; default :func:`machine_memory`.

    Returns
    -------
    str or None
        :data:`DUCKDB_SHARE` of ``total`` divided by ``jobs`` (``"9830MiB"`` for
        two jobs on 24 GiB); None for one job, or where the memory is unknown, so
        DuckDB's own default (the same share for one job) holds.
    """
    total = machine_memory() if total is None else total
    if jobs <= 1 or not total:
        return None
    return f"{int(total * DUCKDB_SHARE / jobs) // 2**20}MiB"


_worker_queue: Any = None


def _init_worker(q: Any) -> None:
    global _worker_queue
    _worker_queue = q


def _run_one(
    store: str, month: str | None, overrides: Mapping | None, kwargs: dict
) -> ReportResult:
    """Build one report, turning any exception into a failed :class:`ReportResult`."""
    t0 = time.perf_counter()
    q = _worker_queue
    progress = kwargs.pop("progress", None)
    if q is not None:

        def progress(msg: str) -> None:
            q.put(msg)

    try:
        path = build_report(
            store, month, overrides, progress=progress, update_index=False, **kwargs
        )
    except AnalysisError as exc:
        return ReportResult(
            store=store,
            month=month,
            ok=False,
            error=exc.message,
            hint=exc.hint,
            exit_code=exc.exit_code,
            seconds=time.perf_counter() - t0,
        )
    except Exception as exc:  # a bug: keep the traceback
        return ReportResult(
            store=store,
            month=month,
            ok=False,
            error=f"{type(exc).__name__}: {one_line(exc)}",
            exit_code=1,
            seconds=time.perf_counter() - t0,
            traceback=tb_mod.format_exc(),
        )
    return ReportResult(
        store=store,
        month=path.name,
        ok=True,
        path=path,
        seconds=time.perf_counter() - t0,
    )


def _in_workers(
    stores: list[str],
    month: str | None,
    overrides: Mapping[str, Any] | None,
    kwargs: dict[str, Any],
    *,
    jobs: int,
    say: Progress,
    finished: Callable[[ReportResult], None],
) -> None:
    """Run :func:`_run_one` for every store in ``jobs`` spawned processes.

    Their progress lines are pumped from a queue to ``say`` by a thread of this
    process; ``finished`` gets each :class:`ReportResult` as it arrives (a worker
    process that died becomes a failed result).
    """
    ctx = mp.get_context("spawn")  # no forked copies of DuckDB connections or threads
    messages = ctx.Queue()
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            try:
                say(messages.get(timeout=0.1))
            except queue_mod.Empty:
                continue
            except (EOFError, OSError):
                return

    pumper = threading.Thread(target=pump, name="report-progress", daemon=True)
    pumper.start()
    try:
        with cf.ProcessPoolExecutor(
            max_workers=min(jobs, len(stores)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(messages,),
        ) as pool:
            futures = {
                pool.submit(_run_one, store, month, overrides, dict(kwargs)): store
                for store in stores
            }
            for future in cf.as_completed(futures):
                store = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the worker process itself died
                    result = ReportResult(
                        store=store,
                        month=month,
                        ok=False,
                        error=f"worker crashed: {type(exc).__name__}: {one_line(exc)}",
                        exit_code=1,
                    )
                finished(result)
    finally:
        stop.set()
        pumper.join(timeout=1)
        # Drain what the workers said that the pump did not get to.
        while True:
            try:
                say(messages.get(timeout=0.05))
            except (queue_mod.Empty, EOFError, OSError):
                break
        messages.close()


def build_reports(
    stores: Sequence[str] | None = None,
    month: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    jobs: int = 2,
    root: Path | None = None,
    data_dir: Path | None = None,
    reports_dir: Path | None = None,
    notebooks_dir: Path | None = None,
    sections: Sequence[str] | None = None,
    kernel_name: str | None = None,
    progress: Progress | None = None,
    on_result: Callable[[ReportResult], None] | None = None,
) -> list[ReportResult]:
    """Build the reports of several stores, ``jobs`` at a time, in separate processes.

    Parameters
    ----------
    stores
        Store ids; ``None`` = every store with orders in the warehouse
        (``data_dir``, else ``data_dir`` of ``params/default.yaml``).
    month
        ``YYYY-MM`` for every store; ``None`` = each store's last complete month.
    jobs
        Worker processes; ``1`` runs the stores one after another in this process.
        Each report's DuckDB may take :func:`memory_share` of the memory, unless
        the environment's ``ANALYSIS_MEMORY_LIMIT`` names a limit.
    progress
        Called in this process with one-line messages from every worker.
    on_result
        Called in this process with each :class:`ReportResult` as it finishes.
    Other parameters are those of :func:`build_report`.

    Returns
    -------
    list[ReportResult]
        One per store, in the order of ``stores``. A failure of one store
        never stops the others; ``reports/index.html`` is rewritten once at the end.

    Raises
    ------
    ConfigError
        ``ANALYSIS_MEMORY_LIMIT`` is not a memory size: no report is started.
    """
    root = Path(root).resolve() if root is not None else project_root()
    if stores is None:
        location = data_dir if data_dir is not None else default_data_dir(overrides, root=root)
        stores = stores_with_orders(location, listing_session(location, overrides, root=root))
    stores = list(dict.fromkeys(stores))
    # Each parallel report's DuckDB gets its share of the memory, unless the
    # environment names a limit; one at a time, DuckDB's default is that share.
    memory_limit = os.environ.get(ENV_MEMORY_LIMIT) or memory_share(min(jobs, len(stores)))
    if memory_limit:
        check_memory_limit(memory_limit)
    kwargs = {
        "root": root,
        "data_dir": data_dir,
        "reports_dir": reports_dir,
        "notebooks_dir": notebooks_dir,
        "sections": tuple(sections) if sections is not None else None,
        "kernel_name": kernel_name,
        "memory_limit": memory_limit,
    }
    say = progress or (lambda _msg: None)
    results: dict[str, ReportResult] = {}

    def finished(result: ReportResult) -> None:
        results[result.store] = result
        if result.ok:
            say(f"{result.store} {result.month}: ok ({result.seconds:.1f} s)")
        else:
            say(f"{result.store}: FAILED – {result.error}")
        if on_result is not None:
            on_result(result)

    if jobs <= 1 or len(stores) <= 1:
        for store in stores:
            finished(_run_one(store, month, overrides, {**kwargs, "progress": progress}))
    else:
        _in_workers(stores, month, overrides, kwargs, jobs=jobs, say=say, finished=finished)

    index_mod.write_reports_index(
        Path(reports_dir) if reports_dir is not None else root / "reports",
        generated_at=utc_now(),
        language=index_language(root),
    )
    return [results[s] for s in stores]
