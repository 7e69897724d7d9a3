"""Run one section notebook: kernel, environment, papermill, unavailable sections.

:func:`check_notebooks` and :func:`check_kernel` refuse, before anything is
written, a section whose notebook is missing or has no ``parameters`` cell and a
kernel that does not exist. :func:`run_notebook` executes one notebook with
papermill in :func:`kernel_environment`; a notebook that stops on
:class:`~analysis.errors.SectionUnavailable` becomes a published page with its
reason (:func:`section_unavailable`), any other error a
:class:`~analysis.errors.ReportError` naming the notebook, the cell and the error.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import nbformat

from analysis.config import ENV_ROOT
from analysis.errors import ConfigError, ReportError, SectionUnavailable
from analysis.handover import ENV_HANDOVER
from analysis.i18n import _, use_language
from analysis.narrative import report as text
from analysis.report.headlines import HEADLINES_MIME
from analysis.warehouse import ENV_MEMORY_LIMIT, ENV_SPILL_DIR

__all__ = [
    "NOTEBOOK_PARAMETERS",
    "NotebookError",
    "PROJECT_KERNEL",
    "SECTIONS",
    "UNAVAILABLE",
    "check_kernel",
    "check_notebooks",
    "default_kernel_name",
    "kernel_environment",
    "one_line",
    "run_notebook",
    "section_unavailable",
]

SECTIONS: tuple[str, ...] = ("kpis", "cohorts", "clv", "segments", "loyalty_ab")
"""Section notebooks of a report, in report order (``notebooks/<name>.ipynb``)."""

NOTEBOOK_PARAMETERS = ("store", "month", "overrides", "data_dir")
"""Names every section notebook's ``parameters`` cell must define."""

PROJECT_KERNEL = "crm-analytics"
"""Kernelspec ``make setup`` registers; ``python3`` is used when it is absent."""

UNAVAILABLE = SectionUnavailable.__name__
"""Exception name papermill reports for a section that cannot be computed."""


class NotebookError(ReportError):
    """A cell of a section notebook raised: where, and what it said.

    Attributes
    ----------
    notebook
        Section name (the notebook's stem).
    cell_index
        0-based position of the failing cell in the *source* notebook.
    exec_count
        Its execution count (``In [n]``), None when unknown.
    ename, evalue
        The exception's class name and message as the kernel reported them.
    traceback
        The kernel's traceback, without terminal colour codes.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        notebook: str,
        cell_index: int,
        exec_count: int | None,
        ename: str,
        evalue: str,
        traceback: str,
    ) -> None:
        super().__init__(message, hint=hint)
        self.notebook = notebook
        self.cell_index = cell_index
        self.exec_count = exec_count
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback


_SECTION_NAME = re.compile(r"[a-z0-9][a-z0-9_]*")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def default_kernel_name() -> str:
    """``crm-analytics`` if that kernelspec is installed, else ``python3``."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        if PROJECT_KERNEL in KernelSpecManager().find_kernel_specs():
            return PROJECT_KERNEL
    except Exception:  # pragma: no cover - a broken Jupyter config falls back
        pass
    return "python3"


def one_line(text: Any, limit: int = 300) -> str:
    """``text`` as one line of at most ``limit`` characters: terminal colour codes
    removed, whitespace runs collapsed, cut with an ellipsis."""
    flat = " ".join(_ANSI.sub("", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def check_notebooks(notebooks_dir: Path, sections: Sequence[str]) -> list[Path]:
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
            raise ConfigError(f"{path}: cannot read notebook ({one_line(exc)})") from None
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


def check_kernel(kernel_name: str) -> None:
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
def kernel_environment(
    root: Path,
    handover: Path | None = None,
    *,
    spill: Path | None = None,
    memory_limit: str | None = None,
) -> Iterator[None]:
    """Environment the kernel inherits while papermill starts it.

    Kernels are started with a copy of ``os.environ``: point ``ANALYSIS_ROOT``
    at the project root (params are found whatever the cwd), make PYTHONPATH
    usable from the notebooks folder, and drop ``MPLBACKEND`` (a parent's
    ``Agg`` would stop ipykernel from choosing the inline backend, and charts
    would silently vanish from the report). ``handover`` is the run's folder
    for frames one section hands to a later one (:mod:`analysis.handover`);
    ``spill`` the run's folder for what DuckDB spills to disk
    (:data:`~analysis.warehouse.ENV_SPILL_DIR`); without them the variables are
    removed, so a kernel never reads or spills into another run's.
    ``memory_limit`` becomes :data:`~analysis.warehouse.ENV_MEMORY_LIMIT`;
    without it the variable passes through as it is.
    """
    keys = (ENV_ROOT, ENV_HANDOVER, ENV_SPILL_DIR, ENV_MEMORY_LIMIT, "PYTHONPATH", "MPLBACKEND")
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in keys}
        os.environ[ENV_ROOT] = str(root)
        for key, folder in ((ENV_HANDOVER, handover), (ENV_SPILL_DIR, spill)):
            if folder is not None:
                os.environ[key] = str(folder)
            else:
                os.environ.pop(key, None)
        if memory_limit is not None:
            os.environ[ENV_MEMORY_LIMIT] = memory_limit
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


def _ipc_prefix() -> str | None:
    """Socket name prefix for a kernel on the IPC transport, or ``None`` for TCP.

    Over TCP, jupyter_client picks five free ports, closes them and hands their
    numbers to the kernel, which binds them a moment later; any other process
    that opens a connection in between (a second report, Spark's py4j gateway,
    another test worker) can take one, and the kernel then fails to start
    ("Address already in use", a 60-second wait, a failed section). On Linux the
    kernel instead listens on Unix sockets in the abstract namespace (``@`` names):
    unique to this kernel, nothing on disk, gone with the kernel even when the
    run is killed. Elsewhere the kernel stays on TCP.
    """
    if not sys.platform.startswith("linux"):
        return None
    return f"@crm-kernel-{os.getpid()}-{secrets.token_hex(8)}"


def _kernel_config(connection_file: Path | None = None, ipc_prefix: str | None = None) -> Any:
    """nbclient config: the kernel's transport (IPC at ``ipc_prefix``, else TCP), its
    connection file, its log level, and CurveZMQ encryption when possible.

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
    if ipc_prefix is not None:
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = ipc_prefix
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


def _raise_interrupt() -> None:
    raise KeyboardInterrupt


def _ctrl_c_stops_the_run(**_hook: Any) -> None:
    """nbclient hook (each cell start): Ctrl-C (SIGINT) raises KeyboardInterrupt again.

    While a notebook runs, nbclient replaces the SIGINT handler with one that only
    schedules the kernel's shutdown, so a Ctrl-C could go unnoticed until the cell
    finished. This puts a handler on the same event loop that stops the loop with
    :class:`KeyboardInterrupt` (asyncio lets it through); the command line then
    exits 130 and removes the run's temporary folder, and nbclient's exit hook
    shuts the kernel down. Outside the main thread (no signal handlers) it does
    nothing.
    """
    with suppress(RuntimeError, NotImplementedError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, _raise_interrupt)


def run_notebook(
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
    cell ends it early as a published page (:func:`section_unavailable`), any
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
            config=_kernel_config(connection_file, _ipc_prefix()),
            on_cell_start=_ctrl_c_stops_the_run,
        )
    except PapermillExecutionError as exc:
        if exc.ename == UNAVAILABLE:
            return section_unavailable(target, language=language)
        position = _cell_position(target, exc.cell_index)
        count = exc.exec_count if exc.exec_count is not None else " "
        message, specific = _split_hint(exc.evalue)
        if exc.ename == "OutOfMemoryException":  # DuckDB at its memory_limit
            specific = (
                f"DuckDB needed more than its memory limit: raise {ENV_MEMORY_LIMIT} "
                "(a 10M-order store needs about 2GiB) or render fewer stores at once (--jobs)"
            )
        generic = (
            f"open {source} in JupyterLab with store={parameters['store']!r}, "
            f"month={parameters['month']!r} and run it to see the traceback"
        )
        raise NotebookError(
            f"{source.name}: cell {position} (In [{count}]) raised "
            f"{exc.ename}: {one_line(message)}",
            hint=f"{specific}; then {generic}" if specific else generic,
            notebook=source.stem,
            cell_index=position - 1,
            exec_count=exc.exec_count,
            ename=exc.ename,
            evalue=exc.evalue,
            traceback=_ANSI.sub("", "\n".join(exc.traceback or [])),
        ) from None
    except Exception as exc:
        if type(exc).__name__ == "NoSuchKernel":
            raise ConfigError(
                f"no Jupyter kernel named {kernel_name!r}",
                hint="run `make setup`, or pass kernel_name='python3'",
            ) from None
        if type(exc).__name__ == "DeadKernelError":
            raise ReportError(
                f"{source.name}: the kernel died ({one_line(exc)})",
                hint="out of memory? try fewer parallel jobs",
            ) from None
        raise


def _split_hint(evalue: str) -> tuple[str, str | None]:
    """An :class:`AnalysisError` raised in a notebook prints as ``message`` plus
    ``hint: …`` lines (its ``__str__``): split them so the specific hint survives."""
    text = _ANSI.sub("", str(evalue))
    if "\nhint: " not in text:
        return text, None
    message, _, hint = text.partition("\nhint: ")
    return message, one_line(hint)


def section_unavailable(target: Path, *, language: str) -> nbformat.NotebookNode:
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
        reason = one_line(errors[0].get("evalue", ""), limit=1000)
        with use_language(language):
            label = _(text.NOT_AVAILABLE)
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
