"""One store's report: run the section notebooks for one month and publish them.

:func:`build_report` does, in order:

1. validate the store name (before any file is touched), then resolve params,
   warehouse and month with :func:`analysis.context.resolve_run` (the same
   function every notebook's :func:`~analysis.context.section_context` calls),
   check every section notebook exists and has a ``parameters`` cell, and that
   the kernel exists;
2. execute each notebook with papermill into
   ``reports/<store>/.<month>.tmp-<random>/executed/<name>.ipynb`` (kernel cwd =
   the notebooks folder), timing each (:mod:`analysis.report.execute`);
3. render ``<name>.html`` (offline template, code hidden), ``index.html`` and
   ``manifest.json`` in the same temporary folder;
4. swap the temporary folder into ``reports/<store>/<month>/`` and rewrite
   ``reports/index.html`` (:mod:`analysis.report.publish`).

A failing notebook deletes the temporary folder, leaves the previous report
as it was and raises :class:`~analysis.errors.ReportError` naming the notebook,
the cell and the error. Several stores at once: :mod:`analysis.report.batch`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from analysis.config import (
    Params,
    default_params,
    nest_overrides,
    project_root,
    validate_store_name,
)
from analysis.context import ResolvedRun, resolve_run
from analysis.errors import ConfigError, ReportError
from analysis.i18n import use_language
from analysis.narrative import report as text
from analysis.report import html as html_mod
from analysis.report import index as index_mod
from analysis.report import manifest as manifest_mod
from analysis.report.execute import (
    SECTIONS,
    check_kernel,
    check_notebooks,
    default_kernel_name,
    kernel_environment,
    one_line,
    run_notebook,
)
from analysis.report.headlines import SUMMARY_PARTS, read_headlines, read_summaries
from analysis.report.publish import publish, staging_folder
from analysis.warehouse import ENV_MEMORY_LIMIT, check_memory_limit

__all__ = ["Progress", "build_report", "index_language", "utc_now"]

Progress = Callable[[str], None]
"""Receives one-line progress messages (a notebook started, finished, a warning)."""


def utc_now() -> str:
    """The current UTC time to the second, ISO 8601 with ``Z`` (``2026-11-03T08:15:00Z``)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def index_language(root: Path) -> str:
    """Language of ``reports/index.html``: the project default's (``params/default.yaml``).

    English when the defaults cannot be read (the index lists every store; a
    broken defaults file has already stopped any report that reads it).
    """
    try:
        return default_params(root=root).language
    except ConfigError:
        return "en"


@dataclass
class _Collected:
    """What the section notebooks of one run handed over, in section order."""

    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per section notebook, and ``total``."""
    headlines: dict[str, dict[str, Any]] = field(default_factory=dict)
    summaries: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def add(self, name: str, nb: nbformat.NotebookNode) -> list[Any]:
        """Take the headlines and summaries of section ``name``; returns its warnings."""
        for section, values in read_headlines(nb).items():
            if values:
                self.headlines.setdefault(section, {}).update(values)
        entry = self.summaries.setdefault(name, {k: [] for k in SUMMARY_PARTS})
        for recorded in read_summaries(nb).values():
            for k in SUMMARY_PARTS:
                entry[k].extend(recorded[k])
        return entry["warnings"]


def _render_section(
    nb: nbformat.NotebookNode, source: Path, folder: Path, params: Params, notebooks_dir: Path
) -> None:
    """Write ``<folder>/<name>.html`` of an executed notebook, or refuse to.

    Raises
    ------
    ReportError
        The page would load something from the network, or contains
        executable markup (a third wall after escaping and the CSP).
    """
    name = source.stem
    with use_language(params.language):
        section = text.section_title(name)
    body = html_mod.notebook_to_html(
        nb,
        title=f"{section} – {params.title}",
        language=params.language,
        resources_path=notebooks_dir,
    )
    external = html_mod.external_resources(body)
    if external:
        raise ReportError(
            f"{source.name}: output loads {external[0]} from the network "
            f"({len(external)} external resource(s)); reports must work offline",
            hint="render charts as images (matplotlib) or inline the script",
        )
    runnable = html_mod.executable_markup(body)
    if runnable:  # a third wall after escaping and the CSP: never publish it
        raise ReportError(
            f"{source.name}: the page would contain executable markup "
            f"({one_line(runnable[0], 120)}; {len(runnable)} in all), so the report "
            "is not published",
            hint="a string from params or data reached HTML unescaped: escape it with "
            "plots.markdown_escape or show tables with plots.html_table",
        )
    html_mod.write_html(folder / f"{name}.html", body)


def _run_sections(
    run: ResolvedRun,
    sources: Sequence[Path],
    folder: Path,
    parameters: dict[str, Any],
    *,
    kernel: str,
    root: Path,
    notebooks_dir: Path,
    memory_limit: str | None,
    say: Progress,
) -> _Collected:
    """Execute and render every section notebook into ``folder``, in order."""
    executed_dir = folder / "executed"
    executed_dir.mkdir()
    runtime = folder / ".runtime"  # kernel connection files; removed before publishing
    runtime.mkdir(mode=0o700)
    handover = runtime / "handover"  # frames a section hands to a later one (analysis.handover)
    handover.mkdir(mode=0o700)
    spill = runtime / "spill"  # what DuckDB spills in the kernels (analysis.warehouse)
    spill.mkdir(mode=0o700)
    label = f"{run.params.store} {run.month}"
    collected = _Collected()
    started = time.perf_counter()
    for source in sources:
        name = source.stem
        say(f"{label}: {name} running")
        t0 = time.perf_counter()
        with kernel_environment(root, handover, spill=spill, memory_limit=memory_limit):
            nb = run_notebook(
                source,
                executed_dir / source.name,
                parameters=parameters,
                kernel_name=kernel,
                cwd=notebooks_dir,
                language=run.params.language,
                connection_file=runtime / f"kernel-{name}.json",
            )
        collected.timings[name] = time.perf_counter() - t0
        for warning in collected.add(name, nb):
            say(f"{label}: {name}: warning: {one_line(warning)}")
        _render_section(nb, source, folder, run.params, notebooks_dir)
        say(f"{label}: {name} done in {collected.timings[name]:.1f} s")
    collected.timings["total"] = time.perf_counter() - started
    return collected


def _write_front(
    folder: Path,
    run: ResolvedRun,
    sections: list[str],
    collected: _Collected,
    *,
    fingerprint: dict[str, dict[str, object]],
    kernel: str,
    root: Path,
    generated_at: str,
) -> None:
    """Write the report's ``index.html`` and ``manifest.json`` into ``folder``."""
    params = run.params
    index_html = index_mod.render_report_index(
        title=params.title,
        store=params.store,
        month=run.month,
        sections=sections,
        summaries=collected.summaries,
        generated_at=generated_at,
        language=params.language,
        buddhist_era=params.buddhist_era,
    )
    html_mod.write_html(folder / "index.html", index_html)
    summaries = collected.summaries
    manifest = manifest_mod.build_manifest(
        store=params.store,
        month=run.month,
        title=params.title,
        sections=sections,
        params=params.as_dict(),
        git=manifest_mod.git_info(root),
        data_fingerprint=fingerprint,
        headlines=collected.headlines,
        findings={k: v["findings"] for k, v in summaries.items() if v["findings"]},
        warnings={k: v["warnings"] for k, v in summaries.items() if v["warnings"]},
        timings=collected.timings,
        generated_at=generated_at,
        kernel=kernel,
    )
    manifest_mod.write_manifest(folder / manifest_mod.MANIFEST_NAME, manifest)


def build_report(
    store: str,
    month: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    root: Path | None = None,
    data_dir: Path | None = None,
    reports_dir: Path | None = None,
    notebooks_dir: Path | None = None,
    sections: Sequence[str] | None = None,
    kernel_name: str | None = None,
    progress: Progress | None = None,
    update_index: bool = True,
    memory_limit: str | None = None,
) -> Path:
    """Build ``reports/<store>/<month>/`` and return its path.

    Parameters
    ----------
    store
        Store id; validated before anything is read or written.
    month
        ``YYYY-MM``; default the last complete month of the store's orders.
    overrides
        Params overrides (nested or dotted keys), highest precedence.
    root
        Project folder (``params/``, default ``data_dir``, ``notebooks/``,
        ``reports/``); default :func:`analysis.config.project_root`.
    data_dir
        Warehouse folder; overrides ``data_dir`` of the params.
    reports_dir, notebooks_dir
        Default ``<root>/reports`` and ``<root>/notebooks``.
    sections
        Notebook names to run, in order; default :data:`~analysis.report.execute.SECTIONS`.
    kernel_name
        Jupyter kernel; default :func:`~analysis.report.execute.default_kernel_name`.
    progress
        Called with one-line messages (notebook started / finished).
    update_index
        Rewrite ``reports/index.html`` afterwards (:func:`~analysis.report.batch.build_reports`
        does it once at the end instead).
    memory_limit
        DuckDB's memory limit in each section's kernel (``"9830MiB"``); beyond it
        DuckDB spills into the run's private folder, removed with the run. Default:
        the environment's ``ANALYSIS_MEMORY_LIMIT``, else DuckDB's own (80% of the
        machine's memory). :func:`~analysis.report.batch.build_reports` gives each
        of its parallel reports a share.

    Raises
    ------
    ConfigError
        Invalid store name or month, unknown store, bad params, a memory limit
        that is not a memory size, missing notebook or parameters cell, unknown
        kernel. Nothing is written.
    ReportError
        A notebook failed; the previous report (if any) is unchanged.
    """
    validate_store_name(store)
    limit = memory_limit if memory_limit is not None else os.environ.get(ENV_MEMORY_LIMIT)
    if limit:
        check_memory_limit(limit)
    root = Path(root).resolve() if root is not None else project_root()
    reports_dir = Path(reports_dir) if reports_dir is not None else root / "reports"
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else root / "notebooks"
    notebooks_dir = notebooks_dir.resolve()
    say = progress or (lambda _msg: None)

    run = resolve_run(store, month, overrides, data_dir, root=root)
    sources = check_notebooks(notebooks_dir, tuple(sections) if sections is not None else SECTIONS)
    kernel = kernel_name or default_kernel_name()
    check_kernel(kernel)
    fingerprint = run.warehouse.fingerprint()
    parameters = {
        "store": store,
        "month": run.month,
        "overrides": nest_overrides(overrides),
        "data_dir": str(Path(data_dir).resolve()) if data_dir is not None else None,
    }

    store_dir = reports_dir / store
    with staging_folder(store_dir, run.month, say) as folder:
        collected = _run_sections(
            run,
            sources,
            folder,
            parameters,
            kernel=kernel,
            root=root,
            notebooks_dir=notebooks_dir,
            memory_limit=memory_limit,
            say=say,
        )
        generated_at = utc_now()
        _write_front(
            folder,
            run,
            [s.stem for s in sources],
            collected,
            fingerprint=fingerprint,
            kernel=kernel,
            root=root,
            generated_at=generated_at,
        )
        shutil.rmtree(folder / ".runtime", ignore_errors=True)
        final = store_dir / run.month
        publish(folder, final)
    if update_index:
        index_mod.write_reports_index(
            reports_dir, generated_at=generated_at, language=index_language(root)
        )
    say(f"{store} {run.month}: report written to {final}")
    return final
