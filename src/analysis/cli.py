"""The ``analysis`` command line: demo data, store listing, validation, reports, campaign lists.

Errors caused by input (:class:`~analysis.errors.AnalysisError`) print one line
plus a hint and exit with code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from analysis import DEFAULT_SEED
from analysis.errors import AnalysisError, SectionUnavailable

app = typer.Typer(
    name="analysis",
    help="CRM-analytics workbench: demo data, warehouse checks and monthly store reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Text from users and data (file names, cell values, store names) is printed as it is:
# no rich markup ("[/bold]" in a cell must not crash the printer, "[a-z0-9]" must not
# vanish), no emoji codes (":x:"), no automatic highlighting. Styles are applied with
# rich.text.Text objects only.
console = Console(markup=False, emoji=False, highlight=False)
err_console = Console(stderr=True, markup=False, emoji=False, highlight=False)
_state = {"debug": False}

StoreOpt = Annotated[str, typer.Option("--store", "-s", help="Store id, e.g. demo-bangkok.")]
MonthOpt = Annotated[
    str | None,
    typer.Option("--month", "-m", help="Report month YYYY-MM (default: last complete month)."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override a parameter, key=value (repeatable), e.g. clv.model=bgnbd."
    ),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine", help="duckdb or spark (default: engine in params; as --set engine=...)."
    ),
]
DataOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Warehouse folder (default: data_dir in params)."),
]


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


def _default_data_dir() -> Path | str:
    from analysis.config import default_data_dir

    return default_data_dir()


def _local_data_dir(data_dir: Path | None, command: str) -> Path:
    """``--data-dir``, else ``data_dir`` from params, which must be a local folder here."""
    location = data_dir or _default_data_dir()
    if isinstance(location, str):
        raise AnalysisError(
            f"{command} works on a local warehouse folder; data_dir is {location}",
            hint="pass --data-dir with a local folder",
        )
    return location


@app.command("demo-data")
def demo_data(
    data_dir: DataOpt = None,
    customers: Annotated[
        int | None, typer.Option(help="Customers per store (default: each store's own size).")
    ] = None,
    stores: Annotated[
        list[str] | None, typer.Option("--store", help="Only these demo stores (repeatable).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = DEFAULT_SEED,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing if the demo stores already exist.")
    ] = False,
) -> None:
    """Write the synthetic demo stores and their planted truths (_truth.json)."""
    from analysis import demo

    target = _local_data_dir(data_dir, "demo-data")
    wanted = stores or list(demo.DEMO_STORES)
    unknown = [s for s in wanted if s not in demo.DEMO_STORES]
    if unknown:
        raise AnalysisError(
            f"not a demo store: {', '.join(unknown)}",
            hint=f"demo stores: {', '.join(demo.DEMO_STORES)}",
        )
    if if_missing and all((target / "orders" / f"{s}.parquet").is_file() for s in wanted):
        console.print(f"demo data already in {target}")
        return
    started = time.perf_counter()
    demo.write_demo(target, stores=wanted, customers=customers, seed=seed)
    console.print(f"wrote {', '.join(wanted)} to {target} in {time.perf_counter() - started:.1f} s")


@app.command()
def stores(data_dir: DataOpt = None) -> None:
    """List the stores in the warehouse with date ranges and row counts."""
    from analysis.context import listing_session
    from analysis.warehouse import list_stores

    root = data_dir or _default_data_dir()
    summary = list_stores(root, listing_session(root))
    if summary.empty:
        raise AnalysisError(
            f"no orders under {root}", hint="run `analysis demo-data` or ingest a store"
        )
    table = RichTable(title=f"Stores in {root}")
    for col in (
        "store",
        "orders",
        "customers",
        "first order (UTC)",
        "last order (UTC)",
        "other tables",
    ):
        table.add_column(col, justify="left" if col in ("store", "other tables") else "right")
    extra = [c for c in summary.columns if c.endswith("_rows")]
    for row in summary.to_dict(orient="records"):
        present = ", ".join(f"{c.removesuffix('_rows')} {row[c]:,}" for c in extra if row[c])
        table.add_row(
            row["store_id"],
            f"{row['orders']:,}",
            f"{row['customers']:,}",
            f"{row['first_order']:%Y-%m-%d %H:%M}",
            f"{row['last_order']:%Y-%m-%d %H:%M}",
            present or "–",
        )
    console.print(table)


@app.command()
def validate(
    data_dir: DataOpt = None,
    store: Annotated[str | None, typer.Option("--store", "-s", help="Only this store.")] = None,
) -> None:
    """Check every table of the warehouse against the data contract (data/README.md)."""
    from analysis.warehouse import validate_warehouse

    root = _local_data_dir(data_dir, "validate")
    results = validate_warehouse(root, store=store)
    table = RichTable(title=f"Warehouse {root}")
    for col in ("store", "table", "rows"):
        table.add_column(col)
    for item in results:
        table.add_row(item.store, item.table, f"{item.rows:,}")
    console.print(table)
    console.print(Text("all tables match the contract", style="green"))


def _print_progress(message: str) -> None:
    """A report's progress line on stderr; data text is never read as rich markup."""
    style = "yellow" if ": warning: " in message else "dim"
    err_console.print(Text(message, style=style), highlight=False, soft_wrap=True)


def _with_engine(overrides: list[str] | None, engine: str | None) -> list[str]:
    """The ``--set`` overrides, with ``--engine`` as one more (params check the name)."""
    return [*(overrides or []), *([f"engine={engine}"] if engine is not None else [])]


@app.command()
def report(
    store: StoreOpt,
    month: MonthOpt = None,
    overrides: SetOpt = None,
    data_dir: DataOpt = None,
    reports_dir: Annotated[
        Path | None, typer.Option("--reports-dir", help="Output folder (default: reports/).")
    ] = None,
    engine: EngineOpt = None,
) -> None:
    """Run every notebook for one store and month and render the HTML report."""
    from analysis.config import parse_overrides
    from analysis.report import build_report

    started = time.perf_counter()
    path = build_report(
        store,
        month,
        parse_overrides(_with_engine(overrides, engine)),
        data_dir=data_dir,
        reports_dir=reports_dir,
        progress=_print_progress,
    )
    console.print(
        f"report written to {path / 'index.html'} in {time.perf_counter() - started:.0f} s"
    )


@app.command()
def reports(
    month: MonthOpt = None,
    overrides: SetOpt = None,
    stores: Annotated[
        list[str] | None, typer.Option("--store", "-s", help="Only these stores (repeatable).")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Stores rendered in parallel.")] = 2,
    data_dir: DataOpt = None,
    reports_dir: Annotated[Path | None, typer.Option("--reports-dir")] = None,
    engine: EngineOpt = None,
) -> None:
    """Render the report of every store (or the given ones) in parallel; failures are isolated."""
    from analysis.config import parse_overrides
    from analysis.report import build_reports

    results = build_reports(
        stores,
        month,
        parse_overrides(_with_engine(overrides, engine)),
        jobs=jobs,
        data_dir=data_dir,
        reports_dir=reports_dir,
        progress=_print_progress,
    )
    table = RichTable(title="Reports")
    for col in ("store", "month", "result", "seconds"):
        table.add_column(col)
    for r in results:
        outcome = Text(str(r.path)) if r.ok else Text(str(r.error), style="red")
        table.add_row(r.store, r.month or "–", outcome, f"{r.seconds:.0f}")
    console.print(table)
    failed = [r for r in results if not r.ok]
    if failed:
        raise typer.Exit(code=2)


segments_app = typer.Typer(
    name="segments",
    help="Customer segments: campaign lists per segment and bucket.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(segments_app, name="segments")


@segments_app.command("export")
def segments_export(
    store: StoreOpt,
    month: MonthOpt = None,
    segment: Annotated[
        str | None,
        typer.Option("--segment", help="Only this segment or bucket (key, e.g. champions)."),
    ] = None,
    with_contacts: Annotated[
        bool,
        typer.Option(
            "--with-contacts",
            help="Add customers' e-mail and phone (personal data; never by default).",
        ),
    ] = False,
    overrides: SetOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Write one CSV per segment and bucket under data/exports/<store>/<month>/ (docs/metrics.md)."""
    from analysis import calendar
    from analysis.config import parse_overrides
    from analysis.context import SectionContext, resolve_run
    from analysis.narrative import exports as text
    from analysis.segments.export import export_campaign_lists

    run = resolve_run(store, month, parse_overrides(overrides or []), data_dir)
    start, end = calendar.month_bounds(run.month, run.params.timezone)
    ctx = SectionContext(run.params, run.warehouse, run.month, start, end)
    started = time.perf_counter()
    try:
        result = export_campaign_lists(ctx, only=segment, with_contacts=with_contacts)
    except SectionUnavailable as exc:  # nobody to score: nothing to list
        raise AnalysisError(exc.reason, hint="choose another month (--month)") from None
    table = RichTable(title=text.files_table_title(str(result.folder)))
    table.add_column("file")
    table.add_column("customers", justify="right")
    for name, rows in result.files.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    if result.outlook_unavailable:
        console.print(
            Text(text.predictions_unavailable(result.outlook_unavailable), style="yellow"),
            soft_wrap=True,
        )
    if result.with_contacts:
        console.print(
            Text(text.contacts_included(str(result.folder)), style="bold yellow"), soft_wrap=True
        )
    else:
        console.print(text.contacts_not_included(), soft_wrap=True)
    console.print(
        f"{text.written_to(len(result.files), str(result.folder))} "
        f"({time.perf_counter() - started:.0f} s)",
        soft_wrap=True,
    )


class _IngestProgress:
    """Status lines of an ingest on stderr and, on a terminal, a bar for long queries."""

    def __init__(self, out: Console) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.out = out
        self.live = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(), console=out, transient=True,
        )  # fmt: skip
        self.task = self.live.add_task("", total=100, visible=False)
        self.step = ""

    def __enter__(self) -> _IngestProgress:
        if self.out.is_terminal:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def message(self, text: str) -> None:
        self.step = text
        self.out.print(Text(text, style="dim"))

    def bar(self, percent: float | None) -> None:
        if percent is None:
            self.live.update(self.task, visible=False)
        else:
            self.live.update(self.task, completed=percent, description=self.step, visible=True)


@app.command()
def ingest(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Export files (cdnow: default the shipped file).")
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", "-s", help="Store id (cdnow: default cdnow).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="mapped, shopify, online-retail or cdnow.")
    ] = "mapped",
    table: Annotated[
        str, typer.Option("--table", "-t", help="Table a mapped file feeds (default orders).")
    ] = "orders",
    quarantine: Annotated[
        bool,
        typer.Option(
            "--quarantine", help="Load the valid rows; write rejected ones to data/rejected/."
        ),
    ] = False,
    store_from_column: Annotated[
        str | None,
        typer.Option(
            "--store-from-column", help="Split rows into stores by this column (e.g. Country)."
        ),
    ] = None,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing if the store already has orders.")
    ] = False,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency",
            help="The store's currency, e.g. GBP: written to a new store's params file; "
            "must match an existing one's.",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", help="The store's IANA time zone, e.g. Europe/London (as --currency)."
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet",
            help="Read only this sheet of a workbook (default: every visible "
            "sheet with the first one's header).",
        ),
    ] = None,  # fmt: skip
    overrides: SetOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Validate export files and merge them into the warehouse (docs/ingest.md)."""
    from analysis.config import parse_overrides
    from analysis.ingest import ingest as run_ingest

    with _IngestProgress(err_console) as shown:
        report = run_ingest(
            list(files or []),
            fmt=fmt,
            store=store,
            table=table,
            quarantine=quarantine,
            store_from_column=store_from_column,
            overrides=parse_overrides(overrides or []),
            data_dir=data_dir,
            if_missing=if_missing,
            progress=shown.message,
            bar=shown.bar if err_console.is_terminal else None,
            currency=currency,
            timezone=timezone,
            sheet=sheet,
        )
    if report.skipped:
        console.print(f"store {store or 'cdnow'} already has orders; nothing ingested")
        return
    result = RichTable(title="Ingested")
    for col in ("table", "store", "rows written", "rows replaced", "rows now"):
        result.add_column(col, justify="left" if col in ("table", "store") else "right")
    for w in report.writes:
        result.add_row(
            w.table, w.store, f"{w.rows_written:,}", f"{w.rows_replaced:,}", f"{w.rows_total:,}"
        )
    console.print(result)
    for entry in report.files:
        _print_notes(entry)
    for path in report.created:
        console.print(f"created {path} for the new store (docs/ingest.md)", highlight=False)
    rejected = sum(int(f["rejected"]) for f in report.files)
    if rejected:
        console.print(Text.assemble((f"{rejected:,} row(s) rejected", "yellow"), ", written to:"))
        for path in report.rejected_files:
            console.print(f"  {path}")
    console.print(f"done in {report.seconds:.1f} s")


def _print_notes(entry: dict) -> None:
    """What the ingest decided for one file: sheets, date orders, rows set apart."""
    name = Path(entry["file"]).name
    if "sheets" in entry:
        sheets = ", ".join(f"{s!r} ({n:,} rows)" for s, n in entry["sheets"].items())
        console.print(f"{name}: read sheet(s) {sheets}", highlight=False)
    for column, order in entry.get("date_order", {}).items():
        console.print(f"{name}: column {column!r} read {order}", highlight=False)
    for kind, info in entry.get("set_apart", {}).items():
        console.print(
            f"{name}: set apart (not sales, not refunds): {info['invoices']:,} "
            f"{kind.replace('_', ' ')} ({info['lines']:,} lines, value {info['value']:,.2f})",
            highlight=False,
        )


EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (SIGINT): 128 + 2, as shells report it."""
EXIT_TERMINATED = 143
"""Exit code after SIGTERM: 128 + 15."""


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM.

    A BaseException like KeyboardInterrupt, so that the clean-up the commands do
    for Ctrl-C (temporary report folders and warehouse files removed, the ingest
    lock released) runs for SIGTERM too.
    """


def _raise_terminated(signum: int, frame: object) -> None:
    _state["terminated"] = True  # DuckDB may turn the exception into its own interrupt
    raise Terminated()


def _query_interrupted(exc: BaseException) -> bool:
    """DuckDB takes Ctrl-C for itself while a query runs and raises its own error
    (``InterruptException``, or ``RuntimeError('Query interrupted')`` from a cursor)."""
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return True
    return isinstance(exc, RuntimeError) and str(exc).strip() == "Query interrupted"


def _interrupted(code: int) -> int:
    what = "interrupted (Ctrl-C)" if code == EXIT_INTERRUPTED else "terminated (SIGTERM)"
    err_console.print(
        Text(
            f"{what}: stopped before finishing; a report or warehouse file is only "
            "replaced once its new version is complete"
        ),
        soft_wrap=True,
    )
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``analysis`` console script.

    Exit codes: 0 done; 2 bad input or params (one line and a hint); 130 after
    Ctrl-C, 143 after SIGTERM (one line each); 1 a bug (traceback).
    """
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        result = app(args=argv, standalone_mode=False)
    except AnalysisError as exc:
        if _state["debug"]:
            raise
        err_console.print(Text.assemble(("error:", "bold red"), " ", exc.message), soft_wrap=True)
        if exc.hint:
            err_console.print(Text.assemble(("hint:", "dim"), " ", exc.hint), soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted(EXIT_INTERRUPTED)
    except Terminated:
        return _interrupted(EXIT_TERMINATED)
    except typer.exceptions.TyperException as exc:  # usage errors: unknown option, bad value
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        return int(getattr(exc, "exit_code", 2))
    except Exception as exc:
        if _query_interrupted(exc):  # a signal while DuckDB ran a query
            return _interrupted(EXIT_TERMINATED if _state.get("terminated") else EXIT_INTERRUPTED)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    # Typer turns Ctrl-C inside a command into Exit(130), and without standalone mode
    # hands back every Exit's code as the return value.
    if result == EXIT_INTERRUPTED:
        return _interrupted(EXIT_INTERRUPTED)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


if __name__ == "__main__":
    sys.exit(main())
