"""Run the section notebooks for one store and month and publish the report.

:func:`build_report` does, in order:

1. validate the store name (before any file is touched), load params, check the
   store has orders in the warehouse, resolve and validate the month, check
   every section notebook exists and has a ``parameters`` cell;
2. execute each notebook with papermill into
   ``reports/<store>/.<month>.tmp-<random>/executed/<name>.ipynb`` (kernel cwd =
   the notebooks folder), timing each;
3. render ``<name>.html`` (offline template, code hidden), ``index.html`` and
   ``manifest.json`` in the same temporary folder;
4. swap the temporary folder into ``reports/<store>/<month>/`` (the previous
   report is renamed aside, the new one renamed in, the old one deleted) and
   rewrite ``reports/index.html``.

A failing notebook deletes the temporary folder, leaves the previous report
as it was and raises :class:`~analysis.errors.ReportError` naming the notebook,
the cell and the error. :func:`build_reports` runs several stores in parallel
processes and isolates their failures.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import multiprocessing as mp
import os
import queue as queue_mod
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback as tb_mod
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import nbformat

from analysis.config import (
    ENV_ROOT,
    Params,
    load_params,
    project_root,
    validate_store_name,
)
from analysis.errors import AnalysisError, ConfigError, ReportError, SectionUnavailable
from analysis.processes import process_alive
from analysis.report import html as html_mod
from analysis.report import index as index_mod
from analysis.report import manifest as manifest_mod
from analysis.report.headlines import (
    HEADLINES_MIME,
    SUMMARY_PARTS,
    read_headlines,
    read_summaries,
)
from analysis.warehouse import StoreWarehouse, list_stores

__all__ = [
    "SECTIONS",
    "NOTEBOOK_PARAMETERS",
    "PROJECT_KERNEL",
    "ReportResult",
    "build_report",
    "build_reports",
    "default_kernel_name",
    "remove_leftovers",
    "stores_with_orders",
]

SECTIONS: tuple[str, ...] = ("kpis", "cohorts", "clv", "segments", "loyalty_ab")
"""Section notebooks of a report, in report order (``notebooks/<name>.ipynb``)."""

NOTEBOOK_PARAMETERS = ("store", "month", "overrides", "data_dir")
"""Names every section notebook's ``parameters`` cell must define."""

PROJECT_KERNEL = "crm-analytics"
"""Kernelspec ``make setup`` registers; ``python3`` is used when it is absent."""

_SECTION_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
_MONTH = index_mod.MONTH_PATTERN
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- helpers


def default_kernel_name() -> str:
    """``crm-analytics`` if that kernelspec is installed, else ``python3``."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        if PROJECT_KERNEL in KernelSpecManager().find_kernel_specs():
            return PROJECT_KERNEL
    except Exception:  # pragma: no cover - a broken Jupyter config falls back
        pass
    return "python3"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _nested(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Overrides as a nested dict (dotted keys expanded), for the notebooks."""
    out: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        node = out
        parts = str(key).split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if isinstance(value, Mapping):
            node.setdefault(parts[-1], {})
            _deep_update(node[parts[-1]], _nested(value))
        else:
            node[parts[-1]] = value
    return out


def _deep_update(base: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value


def _one_line(text: Any, limit: int = 300) -> str:
    flat = " ".join(_ANSI.sub("", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _known_stores_text(warehouse: Path) -> str:
    try:
        stores = stores_with_orders(warehouse)
    except Exception:  # a broken warehouse must not hide the real error
        stores = []
    return ", ".join(stores) if stores else "none"


def stores_with_orders(warehouse: Path) -> list[str]:
    """Store ids that have at least one order under the warehouse folder."""
    summary = list_stores(Path(warehouse))
    if summary.empty:
        return []
    return sorted(
        str(s) for s, n in zip(summary["store_id"], summary["orders"], strict=True) if n > 0
    )


def _check_notebooks(notebooks_dir: Path, sections: Sequence[str]) -> list[Path]:
    """Paths of the section notebooks; each must have a ``parameters`` cell with
    :data:`NOTEBOOK_PARAMETERS` (else it would silently run on its defaults)."""
    from papermill.translators import PythonTranslator

    paths = []
    for name in sections:
        if not isinstance(name, str) or not _SECTION_NAME.fullmatch(name):
            raise ConfigError(
                f"invalid section name {name!r}", hint=f"sections: {', '.join(SECTIONS)}"
            )
        path = notebooks_dir / f"{name}.ipynb"
        if not path.is_file():
            raise ConfigError(
                f"{path}: notebook not found", hint=f"sections: {', '.join(SECTIONS)}"
            )
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise ConfigError(f"{path}: cannot read notebook ({_one_line(exc)})") from None
        cell = next(
            (c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None
        )
        found = {p.name for p in PythonTranslator.inspect(cell)} if cell is not None else set()
        missing = [p for p in NOTEBOOK_PARAMETERS if p not in found]
        if missing:
            raise ConfigError(
                f"{path}: the cell tagged 'parameters' does not define {', '.join(missing)}"
                if cell is not None
                else f"{path}: no cell tagged 'parameters'",
                hint='it must set store = "demo-bangkok", month = None, overrides = {}, '
                "data_dir = None",
            )
        paths.append(path)
    return paths


def _check_kernel(kernel_name: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ConfigError(
            f"no Jupyter kernel named {kernel_name!r}",
            hint="run `make setup` (registers the crm-analytics kernel), or use python3",
        ) from None


def _pythonpath() -> str:
    """PYTHONPATH for the kernel: entries made absolute (its cwd is the notebooks
    folder), plus this package's source folder when it is not pip-installed."""
    entries = [
        str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
    ]
    try:
        distribution("crm-analytics")
        installed = True
    except PackageNotFoundError:
        installed = False
    if not installed:
        src = str(Path(__file__).resolve().parents[2])
        if src not in entries:
            entries.insert(0, src)
    return os.pathsep.join(entries)


_ENV_LOCK = threading.Lock()


@contextmanager
def _kernel_environment(root: Path) -> Iterator[None]:
    """Environment the kernel inherits while papermill starts it.

    Kernels are started with a copy of ``os.environ``: point ``ANALYSIS_ROOT``
    at the project root (params are found whatever the cwd), make PYTHONPATH
    usable from the notebooks folder, and drop ``MPLBACKEND`` (a parent's
    ``Agg`` would stop ipykernel from choosing the inline backend, and charts
    would silently vanish from the report).
    """
    keys = (ENV_ROOT, "PYTHONPATH", "MPLBACKEND")
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in keys}
        os.environ[ENV_ROOT] = str(root)
        pythonpath = _pythonpath()
        if pythonpath:
            os.environ["PYTHONPATH"] = pythonpath
        os.environ.pop("MPLBACKEND", None)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _kernel_config(connection_file: Path | None = None) -> Any:
    """nbclient config: CurveZMQ-encrypt the kernel's TCP sockets when possible.

    ipykernel >= 7 warns on the terminal ("Kernel is running over TCP without
    encryption") for every notebook otherwise; jupyter_client provisions keys
    when the kernelspec declares ``supported_encryption: curve``.
    """
    from traitlets.config import Config

    config = Config()
    if connection_file is not None:
        # Inside the run's temporary folder, not a random file in the system temp
        # folder: a killed run leaves nothing behind that the next run cannot remove.
        config.KernelManager.connection_file = str(connection_file)
    # The kernel's own log (its stderr, shared with the command's) only speaks when
    # something is already wrong, e.g. a traceback from its message handler after
    # Ctrl-C closed the sockets; cell errors reach the run through the notebook.
    config.NotebookClient.extra_arguments = ["--IPKernelApp.log_level=CRITICAL"]
    try:
        import zmq

        if zmq.has("curve"):
            config.KernelManager.transport_encryption = "auto"
    except ImportError:  # pragma: no cover - pyzmq is a jupyter_client dependency
        pass
    return config


def _cell_position(executed: Path, cell_index: int) -> int:
    """1-based position in the *source* notebook of papermill's failing cell index.

    papermill counts cells of the parameterised notebook, which has one more
    cell (``injected-parameters``) after the ``parameters`` cell.
    """
    try:
        nb = nbformat.read(executed, as_version=4)
        cells = [
            c
            for c in nb.cells
            if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])
        ]
        injected = sum(
            1
            for c in cells[:cell_index]
            if "injected-parameters" in c.get("metadata", {}).get("tags", [])
        )
        return cell_index - injected + 1
    except Exception:
        return cell_index + 1


def _execute(
    source: Path,
    target: Path,
    *,
    parameters: dict[str, Any],
    kernel_name: str,
    cwd: Path,
    language: str = "en",
    connection_file: Path | None = None,
) -> nbformat.NotebookNode:
    """Run one notebook with papermill; a :class:`SectionUnavailable` raised in a
    cell ends it early as a published page (:func:`_section_unavailable`), any
    other exception is a :class:`ReportError`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        return papermill.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name=kernel_name,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            config=_kernel_config(connection_file),
        )
    except PapermillExecutionError as exc:
        if exc.ename == UNAVAILABLE:
            return _section_unavailable(target, language=language)
        position = _cell_position(target, exc.cell_index)
        count = exc.exec_count if exc.exec_count is not None else " "
        message, specific = _split_hint(exc.evalue)
        generic = (
            f"open {source} in JupyterLab with store={parameters['store']!r}, "
            f"month={parameters['month']!r} and run it to see the traceback"
        )
        err = ReportError(
            f"{source.name}: cell {position} (In [{count}]) raised "
            f"{exc.ename}: {_one_line(message)}",
            hint=f"{specific}; then {generic}" if specific else generic,
        )
        err.notebook = source.stem
        err.cell_index = position - 1
        err.exec_count = exc.exec_count
        err.ename = exc.ename
        err.evalue = exc.evalue
        err.traceback = _ANSI.sub("", "\n".join(exc.traceback or []))
        raise err from None
    except Exception as exc:
        if type(exc).__name__ == "NoSuchKernel":
            raise ConfigError(
                f"no Jupyter kernel named {kernel_name!r}",
                hint="run `make setup`, or pass kernel_name='python3'",
            ) from None
        if type(exc).__name__ == "DeadKernelError":
            raise ReportError(
                f"{source.name}: the kernel died ({_one_line(exc)})",
                hint="out of memory? try fewer parallel jobs",
            ) from None
        raise


UNAVAILABLE = SectionUnavailable.__name__

_UNAVAILABLE_LABEL = {"en": "Not available.", "th": "ยังแสดงผลส่วนนี้ไม่ได้"}


def _split_hint(evalue: str) -> tuple[str, str | None]:
    """An :class:`AnalysisError` raised in a notebook prints as ``message`` plus
    ``hint: …`` lines (its ``__str__``): split them so the specific hint survives."""
    text = _ANSI.sub("", str(evalue))
    if "\nhint: " not in text:
        return text, None
    message, _, hint = text.partition("\nhint: ")
    return message, _one_line(hint)


def _section_unavailable(target: Path, *, language: str) -> nbformat.NotebookNode:
    """Turn a notebook that stopped on :class:`SectionUnavailable` into its page.

    The cell that raised keeps the outputs it displayed before raising; its
    error becomes a short paragraph with the reason, plus a headlines payload
    whose ``warnings`` carry the reason to the executive summary. The cells
    after it never ran and are dropped, and so are papermill's error banners.
    The executed notebook is rewritten the same way (the audit copy shows what
    the reader saw).
    """
    from html import escape

    nb = nbformat.read(target, as_version=4)
    cells, reason = [], ""
    for cell in nb.cells:
        if "papermill-error-cell-tag" in cell.get("metadata", {}).get("tags", []):
            continue
        errors = [
            o
            for o in cell.get("outputs", [])
            if o.get("output_type") == "error" and o.get("ename") == UNAVAILABLE
        ]
        if not errors:
            cells.append(cell)
            continue
        reason = _one_line(errors[0].get("evalue", ""), limit=1000)
        label = _UNAVAILABLE_LABEL.get(language, _UNAVAILABLE_LABEL["en"])
        sentence = reason[:1].upper() + reason[1:]
        kept = [o for o in cell.outputs if o.get("output_type") != "error"]
        kept.append(
            nbformat.v4.new_output(
                "display_data",
                data={
                    "text/html": f'<p class="unavailable"><strong>{escape(label)}</strong> '
                    f"{escape(sentence)}</p>",
                    "text/plain": f"{label} {sentence}",
                },
            )
        )
        kept.append(
            nbformat.v4.new_output(
                "display_data",
                data={HEADLINES_MIME: {"section": target.stem, "values": {}, "warnings": [reason]}},
            )
        )
        cell.outputs = kept
        cells.append(cell)
        break
    nb.cells = cells
    nbformat.write(nb, target)
    return nb


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where
    the platform or file system cannot, so the caller falls back to two renames."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(
        at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result == 0:
        return True
    errno_ = ctypes.get_errno()
    import errno as errno_mod

    if errno_ in (errno_mod.EINVAL, errno_mod.ENOSYS, errno_mod.EPERM, errno_mod.ENOTSUP):
        return False
    raise OSError(errno_, os.strerror(errno_), str(a))


@contextmanager
def _publish_lock(store_dir: Path) -> Iterator[None]:
    """Hold ``<store_dir>/.publish.lock`` (``flock``): two runs of one store publish in turn."""
    import fcntl

    with open(store_dir / ".publish.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _publish(tmp: Path, final: Path) -> None:
    """Put the finished folder ``tmp`` in place of ``final``.

    On Linux the two folders are swapped in one atomic step (``renameat2`` with
    ``RENAME_EXCHANGE``): a reader sees the old report or the new one, never no
    folder, and the old one (now at ``tmp``) is then deleted. Elsewhere, or on a
    file system without the call, the old folder is renamed aside and the new
    one renamed in: between those two renames (microseconds) the path is missing.
    Runs of the same store publish one at a time (:func:`_publish_lock`), so two
    concurrent runs of one month leave one complete report, the later one.
    """
    with _publish_lock(final.parent):
        if final.exists() and _exchange(tmp, final):
            shutil.rmtree(tmp, ignore_errors=True)
            return
        old: Path | None = None
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
            os.rename(final, old)
        try:
            os.rename(tmp, final)
        except BaseException:
            if old is not None:
                os.rename(old, final)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


_LEFTOVER = re.compile(r"\.(?P<month>\d{4}-\d{2})\.(?:tmp|old)-(?P<pid>\d+)-")


def remove_leftovers(store_dir: Path) -> list[Path]:
    """Delete temporary report folders of runs that died (killed, power cut).

    A run renders into ``.<month>.tmp-<pid>-<random>`` (and sets an old report
    aside as ``.<month>.old-<pid>-<random>`` while publishing); a folder whose
    process no longer exists is a leftover. Folders of live runs are kept.

    Returns
    -------
    list[pathlib.Path]
        The folders removed.
    """
    removed = []
    if not store_dir.is_dir():
        return removed
    for path in store_dir.iterdir():
        match = _LEFTOVER.match(path.name)
        if match and path.is_dir() and not process_alive(int(match["pid"])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


# --------------------------------------------------------------------------- one store


def _resolve(
    store: str,
    month: str | None,
    overrides: Mapping[str, Any] | None,
    root: Path,
    data_dir: Path | None,
) -> tuple[Params, StoreWarehouse, str]:
    layered = dict(overrides or {})
    if data_dir is not None:
        layered["data_dir"] = str(Path(data_dir).resolve())
    params = load_params(store, layered, root=root)
    warehouse = StoreWarehouse(params.warehouse_path(root), store, params.timezone)
    span = warehouse.order_span() if warehouse.has("orders") else None
    if span is None:
        where = warehouse.root
        raise ConfigError(
            f"unknown store {store!r}: no orders for it under {where} "
            f"(stores with orders: {_known_stores_text(where)})",
            hint=f"check the spelling, or add {where / 'orders' / (store + '.parquet')}",
        )
    if month is None:
        month = warehouse.last_complete_month()
    if not isinstance(month, str) or not _MONTH.fullmatch(month):
        raise ConfigError(f"invalid month {month!r}", hint="use YYYY-MM, e.g. 2026-10")
    first, last = (f"{t.year:04d}-{t.month:02d}" for t in span)
    if not first <= month <= last:
        raise ConfigError(
            f"month {month} is outside the orders of store {store!r} "
            f"({span[0]:%Y-%m-%d} to {span[1]:%Y-%m-%d}, local time)",
            hint=f"choose a month from {first} to {last}, or leave it out for the last "
            "complete one",
        )
    return params, warehouse, month


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
        Notebook names to run, in order; default :data:`SECTIONS`.
    kernel_name
        Jupyter kernel; default :func:`default_kernel_name`.
    progress
        Called with one-line messages (notebook started / finished).
    update_index
        Rewrite ``reports/index.html`` afterwards (:func:`build_reports` does
        it once at the end instead).

    Raises
    ------
    ConfigError
        Invalid store name or month, unknown store, bad params, missing
        notebook or parameters cell, unknown kernel. Nothing is written.
    ReportError
        A notebook failed; the previous report (if any) is unchanged.
    """
    validate_store_name(store)
    root = Path(root).resolve() if root is not None else project_root()
    reports_dir = Path(reports_dir) if reports_dir is not None else root / "reports"
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else root / "notebooks"
    notebooks_dir = notebooks_dir.resolve()
    sections = tuple(sections) if sections is not None else SECTIONS
    say = progress or (lambda _msg: None)

    params, warehouse, month = _resolve(store, month, overrides, root, data_dir)
    sources = _check_notebooks(notebooks_dir, sections)
    kernel = kernel_name or default_kernel_name()
    _check_kernel(kernel)
    fingerprint = warehouse.fingerprint()
    parameters = {
        "store": store,
        "month": month,
        "overrides": _nested(overrides),
        "data_dir": str(Path(data_dir).resolve()) if data_dir is not None else None,
    }

    store_dir = reports_dir / store
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        for path in remove_leftovers(store_dir):
            say(f"{store}: removed {path.name}, left by a run that did not finish")
        tmp = Path(tempfile.mkdtemp(prefix=f".{month}.tmp-{os.getpid()}-", dir=store_dir))
    except OSError as exc:
        raise ConfigError(
            f"{store_dir}: cannot write the report there ({exc.strerror or exc})",
            hint="check that the reports folder exists and is writable (--reports-dir)",
        ) from None
    try:
        os.chmod(tmp, 0o755)
        executed_dir = tmp / "executed"
        executed_dir.mkdir()
        runtime = tmp / ".runtime"  # kernel connection files; removed before publishing
        runtime.mkdir(mode=0o700)
        timings: dict[str, float] = {}
        headlines: dict[str, dict[str, Any]] = {}
        summaries: dict[str, dict[str, list[Any]]] = {}
        started = time.perf_counter()
        for source in sources:
            name = source.stem
            say(f"{store} {month}: {name} running")
            t0 = time.perf_counter()
            with _kernel_environment(root):
                nb = _execute(
                    source,
                    executed_dir / source.name,
                    parameters=parameters,
                    kernel_name=kernel,
                    cwd=notebooks_dir,
                    language=params.language,
                    connection_file=runtime / f"kernel-{name}.json",
                )
            timings[name] = time.perf_counter() - t0
            for section, values in read_headlines(nb).items():
                if values:
                    headlines.setdefault(section, {}).update(values)
            entry = summaries.setdefault(name, {k: [] for k in SUMMARY_PARTS})
            for recorded in read_summaries(nb).values():
                for k in SUMMARY_PARTS:
                    entry[k].extend(recorded[k])
            for warning in entry["warnings"]:
                say(f"{store} {month}: {name}: warning: {_one_line(warning)}")
            body = html_mod.notebook_to_html(
                nb,
                title=f"{index_mod.section_title(name, params.language)} – {params.title}",
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
                    f"({_one_line(runnable[0], 120)}; {len(runnable)} in all), so the report "
                    "is not published",
                    hint="a string from params or data reached HTML unescaped: escape it with "
                    "plots.markdown_escape or show tables with plots.html_table",
                )
            html_mod.write_html(tmp / f"{name}.html", body)
            say(f"{store} {month}: {name} done in {timings[name]:.1f} s")
        timings["total"] = time.perf_counter() - started

        generated_at = _now()
        index_html = index_mod.render_report_index(
            title=params.title,
            store=store,
            month=month,
            sections=[s.stem for s in sources],
            summaries=summaries,
            generated_at=generated_at,
            language=params.language,
            buddhist_era=params.buddhist_era,
        )
        html_mod.write_html(tmp / "index.html", index_html)
        manifest = manifest_mod.build_manifest(
            store=store,
            month=month,
            title=params.title,
            sections=[s.stem for s in sources],
            params=params.as_dict(),
            git=manifest_mod.git_info(root),
            data_fingerprint=fingerprint,
            headlines=headlines,
            findings={k: v["findings"] for k, v in summaries.items() if v["findings"]},
            warnings={k: v["warnings"] for k, v in summaries.items() if v["warnings"]},
            timings=timings,
            generated_at=generated_at,
            kernel=kernel,
        )
        manifest_mod.write_manifest(tmp / manifest_mod.MANIFEST_NAME, manifest)

        shutil.rmtree(runtime, ignore_errors=True)
        final = store_dir / month
        _publish(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if update_index:
        index_mod.write_reports_index(reports_dir, generated_at=generated_at)
    say(f"{store} {month}: report written to {final}")
    return final


# --------------------------------------------------------------------------- many stores


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
            error=f"{type(exc).__name__}: {_one_line(exc)}",
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


def _default_warehouse(
    root: Path, overrides: Mapping[str, Any] | None, data_dir: Path | None
) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    from analysis.config import safe_yaml

    nested = _nested(overrides)
    if "data_dir" in nested:
        value = nested["data_dir"]
    else:
        default = root / "params" / "default.yaml"
        try:
            text = default.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{default}: cannot read ({_one_line(exc)})") from None
        data = safe_yaml(text, str(default))
        value = data.get("data_dir") if isinstance(data, dict) else None
    path = Path(value or "data/warehouse")
    return path if path.is_absolute() else root / path


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
    """
    root = Path(root).resolve() if root is not None else project_root()
    if stores is None:
        stores = stores_with_orders(_default_warehouse(root, overrides, data_dir))
    stores = list(dict.fromkeys(stores))
    kwargs = {
        "root": root,
        "data_dir": data_dir,
        "reports_dir": reports_dir,
        "notebooks_dir": notebooks_dir,
        "sections": tuple(sections) if sections is not None else None,
        "kernel_name": kernel_name,
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
                            error=f"worker crashed: {type(exc).__name__}: {_one_line(exc)}",
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

    index_mod.write_reports_index(
        Path(reports_dir) if reports_dir is not None else root / "reports",
        generated_at=_now(),
    )
    return [results[s] for s in stores]


def _main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - debugging aid
    """``python -m analysis.report.run STORE [MONTH]`` (the real CLI is ``analysis report``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        path = build_report(args[0], args[1] if len(args) > 1 else None, progress=print)
    except AnalysisError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
