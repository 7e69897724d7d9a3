"""Campaign lists: one CSV per segment and bucket, written atomically, inert in spreadsheets.

``analysis segments export`` (:mod:`analysis.cli`) calls, in order:

1. :func:`export_inputs`: RFM scores, bucket flags and the customer outlook of
   the report month (the one place that computes the inputs);
2. :func:`campaign_frame`: one row per scored customer with every column of
   the lists (:func:`export_columns`);
3. :func:`export_tables` and :func:`write_exports`: the rows of each file,
   written to :func:`export_dir` (``data/exports/<store>/<month>/`` next to the
   warehouse folder) with a ``README.md``.

Files
    ``segment-<key>.csv`` for every RFM segment (each scored customer in exactly
    one) and ``bucket-<key>.csv`` for every lifecycle bucket (a customer in any
    number of them), rows sorted by ``customer_id``; or only the one list named
    by ``only``. UTF-8 with a byte-order mark (Excel opens Thai text correctly
    only with it; other tools skip it), comma-separated, CRLF line ends (RFC 4180;
    a text cell holding a line break or carriage return is quoted),
    dates ``YYYY-MM-DD``, an empty cell for a missing value; ``p_alive`` and
    ``expected_purchases_90d`` rounded to 4 decimals, CLV to 2.

Formula injection
    Every *text* cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return gets a leading apostrophe (OWASP's CSV-injection advice),
    ids and contacts included; numbers stay numbers (:func:`neutralise`).

Atomicity
    Everything is written to a temporary folder next to the target, then
    swapped in by two renames (old folder aside, new folder in, old folder
    removed); an error before the swap removes the temporary folder and leaves
    the previous export as it was.

Contacts
    E-mail and phone (personal data) are added only when the caller passes
    ``contacts`` (``--with-contacts``); the warehouse hands them out only
    through :meth:`analysis.warehouse.StoreWarehouse.contacts`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.config import Params, project_root
from analysis.context import SectionContext
from analysis.errors import ConfigError, SectionUnavailable
from analysis.narrative.exports import exports_under_reports, unknown_list
from analysis.segments.page import store_base, store_bucket_flags, store_outlook, store_rfm
from analysis.segments.rfm import SEGMENTS

__all__ = [
    "CONTACT_COLUMNS",
    "CSV_ENCODING",
    "FORMULA_PREFIXES",
    "LIST_KEY",
    "ExportInputs",
    "ExportResult",
    "campaign_frame",
    "clv_column",
    "export_columns",
    "export_dir",
    "export_campaign_lists",
    "export_inputs",
    "export_parameters",
    "export_tables",
    "list_keys",
    "neutralise",
    "refuse_reports_dir",
    "write_exports",
]

CSV_ENCODING = "utf-8-sig"
"""UTF-8 with a byte-order mark: Excel reads Thai text correctly only with it."""

FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP)."""

CONTACT_COLUMNS: tuple[str, ...] = ("email", "phone")
"""Personal columns of the ``customers`` table added by ``--with-contacts``."""

LIST_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""What a segment or bucket key looks like (it names a file)."""

_SCORE_COLUMNS = ("r_score", "f_score", "m_score")
_ROUNDING = {"p_alive": 4, "expected_purchases_90d": 4}
_CLV_DECIMALS = 2


class ExportInputs(NamedTuple):
    """What the lists are built from (:func:`export_inputs`).

    Attributes
    ----------
    rfm
        :func:`analysis.segments.rfm.rfm_scores` with a ``segment`` column.
    flags
        Index ``customer_id``, one bool column per bucket key; None until the
        buckets are computed here.
    outlook
        :func:`analysis.segments.outlook.customer_outlook`; None when the CLV
        model could not be fitted.
    outlook_unavailable
        Why ``outlook`` is None (the CLV section's reason), else None.
    """

    rfm: pd.DataFrame
    flags: pd.DataFrame | None
    outlook: pd.DataFrame | None
    outlook_unavailable: str | None


def clv_column(horizon_months: int) -> str:
    """Name of the CLV column for a horizon: ``clv_12m`` for 12 months."""
    return f"clv_{int(horizon_months)}m"


def export_columns(horizon_months: int) -> list[str]:
    """Columns of :func:`campaign_frame`, in order (contacts, when added, come last)."""
    return [
        "customer_id",
        *_SCORE_COLUMNS,
        "segment",
        "buckets",
        "p_alive",
        "expected_purchases_90d",
        "next_order_date",
        clv_column(horizon_months),
        "churn_risk",
    ]


def campaign_frame(
    rfm: pd.DataFrame,
    flags: pd.DataFrame | None,
    outlook: pd.DataFrame | None,
    *,
    horizon_months: int = 12,
) -> pd.DataFrame:
    """One row per scored customer with every column of the campaign lists.

    Parameters
    ----------
    rfm
        One row per scored customer: ``customer_id``, ``r_score``, ``f_score``,
        ``m_score`` (1–5) and ``segment`` (key); other columns are ignored.
    flags
        Index ``customer_id``, one bool column per bucket key (any subset, in
        the order the ``buckets`` cell lists them); customers missing from it
        are in no bucket. None: no buckets.
    outlook
        :func:`analysis.segments.outlook.customer_outlook` (index
        ``customer_id``); customers missing from it, or None, get empty
        prediction cells.
    horizon_months
        The CLV horizon (``clv.horizon_months``), naming the CLV column.

    Returns
    -------
    pandas.DataFrame
        :func:`export_columns` in order, sorted by ``customer_id``, default
        index: ``buckets`` is the customer's bucket keys joined with ``;``
        (empty string when none), ``next_order_date`` a datetime64 day (NaT
        when none), ``churn_risk`` a band key or None.
    """
    ids = rfm["customer_id"].astype(str)
    frame = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            **{c: rfm[c].to_numpy(dtype="int64") for c in _SCORE_COLUMNS},
            "segment": rfm["segment"].astype(str).to_numpy(),
        }
    )
    frame["buckets"] = _bucket_cells(pd.Index(ids), flags)
    clv = clv_column(horizon_months)
    if outlook is not None:
        joined = outlook.set_axis(outlook.index.astype(str)).reindex(pd.Index(ids))
        frame["p_alive"] = joined["p_alive"].to_numpy(dtype=float)
        frame["expected_purchases_90d"] = joined["expected_purchases_90d"].to_numpy(dtype=float)
        frame["next_order_date"] = pd.to_datetime(joined["next_order_date"]).to_numpy()
        frame[clv] = joined["clv"].to_numpy(dtype=float)
        risk = [v if isinstance(v, str) else None for v in joined["churn_risk"]]
        frame["churn_risk"] = pd.Series(risk, index=frame.index, dtype=object)
    else:
        for column in ("p_alive", "expected_purchases_90d", clv):
            frame[column] = np.nan
        frame["next_order_date"] = pd.NaT
        frame["churn_risk"] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    frame["next_order_date"] = pd.to_datetime(frame["next_order_date"])
    frame = frame[export_columns(horizon_months)]
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _bucket_cells(ids: pd.Index, flags: pd.DataFrame | None) -> np.ndarray:
    """Each customer's bucket keys joined with ';' ('' when none)."""
    if flags is None or flags.shape[1] == 0:
        return np.full(len(ids), "", dtype=object)
    member = flags.set_axis(flags.index.astype(str)).reindex(ids).fillna(False).astype(bool)
    keys = np.asarray(member.columns, dtype=object)
    values = member.to_numpy()
    return np.array([";".join(keys[row]) for row in values], dtype=object)


def list_keys(frame: pd.DataFrame, flags: pd.DataFrame | None) -> tuple[list[str], list[str]]:
    """Segment keys (all eleven, in display order) and bucket keys (``flags``' columns) to export.

    Every segment gets a file, an empty one (header only) when nobody is in it
    this month, so a campaign tool reading the folder finds the same files each month.
    """
    segments = list(SEGMENTS)
    buckets = [str(c) for c in flags.columns] if flags is not None else []
    return segments, buckets


def neutralise(value: object) -> object:
    """A text cell made inert in spreadsheets: ``"=1+1"`` → ``"'=1+1"``; other values unchanged.

    Text starting with any of :data:`FORMULA_PREFIXES` gets a leading
    apostrophe (OWASP CSV injection); numbers, dates and missing values are
    returned as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _file_rows(
    frame: pd.DataFrame, rows: np.ndarray | pd.Series, contacts: pd.DataFrame | None
) -> pd.DataFrame:
    table = frame.loc[np.asarray(rows, dtype=bool)].reset_index(drop=True)
    if contacts is not None:
        found = contacts.set_axis(contacts.index.astype(str)).reindex(table["customer_id"])
        for column in CONTACT_COLUMNS:
            values = (
                found[column] if column in found.columns else pd.Series(None, index=found.index)
            )
            table[column] = values.astype(object).where(values.notna(), None).to_numpy()
    return table


def export_tables(
    frame: pd.DataFrame,
    *,
    segments: Sequence[str],
    buckets: Sequence[str],
    only: str | None = None,
    contacts: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The rows of every file, by file name (``segment-<key>.csv``, ``bucket-<key>.csv``).

    Parameters
    ----------
    frame
        :func:`campaign_frame`.
    segments, buckets
        Keys to write a file for (a key without customers gives a file with
        the header only).
    only
        One segment or bucket key: only its file. A key that is both a
        segment and a bucket gives both files.
    contacts
        Index ``customer_id``, columns ``email`` and ``phone``; added as the
        last columns when given (empty cells for customers without them).

    Raises
    ------
    ConfigError
        ``only`` names no segment or bucket (the message lists the valid names).
    ValueError
        A key that does not match :data:`LIST_KEY` (keys name files).
    """
    bad = [k for k in (*segments, *buckets) if not LIST_KEY.fullmatch(str(k))]
    if bad:  # keys name files: never a path
        raise ValueError(f"segment and bucket keys must match {LIST_KEY.pattern}: {bad}")
    if only is not None and only not in segments and only not in buckets:
        message, hint = unknown_list(only, [*segments, *buckets])
        raise ConfigError(message, hint=hint)
    bucket_sets = frame["buckets"].map(lambda cell: set(cell.split(";")) if cell else set())
    tables: dict[str, pd.DataFrame] = {}
    for key in segments:
        if only is None or only == key:
            tables[f"segment-{key}.csv"] = _file_rows(frame, frame["segment"] == key, contacts)
    for key in buckets:
        if only is None or only == key:
            rows = bucket_sets.map(lambda members, k=key: k in members)
            tables[f"bucket-{key}.csv"] = _file_rows(frame, rows, contacts)
    return tables


def _csv_ready(table: pd.DataFrame) -> pd.DataFrame:
    """Values as they go into the CSV: rounded numbers, ISO dates, inert text."""
    out = table.copy()
    for column in out.columns:
        series = out[column]
        if column in _ROUNDING:
            out[column] = series.round(_ROUNDING[column])
        elif column.startswith("clv_"):
            out[column] = series.round(_CLV_DECIMALS)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.dt.strftime("%Y-%m-%d").where(series.notna(), None)
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            out[column] = series.map(neutralise)
    return out


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    _csv_ready(table).to_csv(path, index=False, encoding=CSV_ENCODING, lineterminator="\r\n")


def refuse_reports_dir(folder: Path, root: Path | None = None) -> None:
    """Raise :class:`ConfigError` when ``folder`` lies under the project's ``reports/``
    (or under any folder named ``reports``): the published reports never hold lists."""
    resolved = Path(folder).resolve()
    reports = ((root or project_root()) / "reports").resolve()
    if resolved == reports or reports in resolved.parents or "reports" in resolved.parts:
        message, hint = exports_under_reports(str(folder))
        raise ConfigError(message, hint=hint)


def export_dir(params: Params, month: str, root: Path | None = None) -> Path:
    """``<data>/exports/<store>/<month>``: beside the warehouse folder (``data_dir``).

    With the default ``data_dir: data/warehouse`` that is
    ``data/exports/<store>/<month>/`` under the project root; with
    ``--data-dir /x/warehouse`` it is ``/x/exports/<store>/<month>/``.

    Raises
    ------
    ConfigError
        The folder would lie under ``reports/`` (:func:`refuse_reports_dir`).
    """
    folder = params.data_folder(root) / "exports" / params.store / month
    refuse_reports_dir(folder, root)
    return folder


def write_exports(
    out_dir: Path,
    frame: pd.DataFrame,
    *,
    segments: Sequence[str],
    buckets: Sequence[str],
    only: str | None,
    contacts: pd.DataFrame | None,
    as_of: dt.date,
    readme: str,
    root: Path | None = None,
) -> list[Path]:
    """Write the campaign lists and ``README.md`` to ``out_dir``, replacing it atomically.

    Parameters
    ----------
    out_dir
        Target folder (:func:`export_dir`); its previous content is replaced
        as a whole, or left untouched when anything fails.
    frame
        :func:`campaign_frame`.
    segments, buckets, only, contacts
        As :func:`export_tables`.
    as_of
        Last local day of the report month (named in ``readme``; kept here so
        that a caller cannot write lists without stating it).
    readme
        The README text (:func:`analysis.narrative.exports.readme_markdown`).
    root
        Project root whose ``reports/`` is refused (default :func:`project_root`).

    Returns
    -------
    list of pathlib.Path
        The CSV files written (final paths), then ``README.md``.

    Raises
    ------
    ConfigError
        ``only`` is unknown, or ``out_dir`` lies under ``reports/``; nothing is written.
    """
    out_dir = Path(out_dir)
    refuse_reports_dir(out_dir, root)
    if as_of.isoformat() not in readme:
        raise ValueError(f"the README must state the as-of date {as_of.isoformat()}")
    tables = export_tables(frame, segments=segments, buckets=buckets, only=only, contacts=contacts)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for name, table in tables.items():
            _write_csv(staging / name, table)
        (staging / "README.md").write_text(readme, encoding="utf-8")
        os.chmod(staging, 0o777 & ~_umask())
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out_dir / name for name in tables] + [out_dir / "README.md"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging`` with renames; the old folder comes back on failure."""
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    aside.rmdir()  # a free name in the same folder (same file system: renames are atomic)
    out_dir.rename(aside)
    try:
        staging.rename(out_dir)
    except BaseException:
        aside.rename(out_dir)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def export_inputs(ctx: SectionContext) -> ExportInputs:
    """RFM scores, bucket flags and the customer outlook of the report month: the lists' inputs.

    The same calls as the segments page (:mod:`analysis.segments.page`), so the
    lists and the page agree: RFM scores over ``segments.rfm_window_days`` up to
    the month's end; the CLV section at the month's last day with the ``clv.*``
    params (:func:`analysis.clv.page.store_clv`) and its outlook with
    ``segments.churn_risk_bands``; the lifecycle buckets with that P(alive).

    Raises
    ------
    SectionUnavailable
        Nobody to score (the lists would be empty). A CLV model that cannot be
        fitted is not an error: ``outlook`` is None and ``outlook_unavailable`` says why.
    """
    base = store_base(ctx)
    rfm = store_rfm(ctx, base)
    try:
        outlook: pd.DataFrame | None = store_outlook(ctx)
        reason = None
    except SectionUnavailable as exc:
        outlook, reason = None, exc.reason
    flags = store_bucket_flags(ctx, outlook, base).flags
    return ExportInputs(rfm, flags, outlook, reason)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_campaign_lists` wrote.

    Attributes
    ----------
    folder
        The export folder.
    files
        File name → customers (rows) of every CSV written, in writing order.
    with_contacts
        Whether the files hold e-mail and phone.
    outlook_unavailable
        Why the prediction columns are empty (None when filled).
    """

    folder: Path
    files: dict[str, int]
    with_contacts: bool
    outlook_unavailable: str | None


def export_parameters(params: Params) -> dict[str, object]:
    """The rule parameters the README lists (dotted name → value)."""
    out: dict[str, object] = {
        f"segments.{k}": v for k, v in params.segments.model_dump(mode="json").items()
    }
    out["clv.model"] = params.clv.model
    out["clv.horizon_months"] = params.clv.horizon_months
    out["clv.monthly_discount_rate"] = params.clv.monthly_discount_rate
    return out


def export_campaign_lists(
    ctx: SectionContext,
    *,
    only: str | None = None,
    with_contacts: bool = False,
    root: Path | None = None,
) -> ExportResult:
    """Compute the inputs, build the lists and write them with their README (the command's work).

    Parameters
    ----------
    ctx
        Store, month and params (:class:`analysis.context.SectionContext`).
    only
        One segment or bucket key (``--segment``); None = every list.
    with_contacts
        Add e-mail and phone from the ``customers`` table (``--with-contacts``).
    root
        Project root (default :func:`project_root`).

    Raises
    ------
    ConfigError
        Unknown ``only``, or an export folder under ``reports/``.
    SectionUnavailable
        Nobody to score in the RFM window (the reason in the store's language).
    """
    from analysis.i18n import use_language
    from analysis.narrative.exports import readme_markdown

    p = ctx.params
    folder = export_dir(p, ctx.month, root)
    with use_language(p.language):  # the reasons of an unavailable part go into the README
        inputs = export_inputs(ctx)
    horizon = p.clv.horizon_months
    frame = campaign_frame(inputs.rfm, inputs.flags, inputs.outlook, horizon_months=horizon)
    segments, buckets = list_keys(frame, inputs.flags)
    contacts = ctx.warehouse.contacts(CONTACT_COLUMNS) if with_contacts else None
    tables = export_tables(frame, segments=segments, buckets=buckets, only=only, contacts=contacts)
    columns = list(frame.columns) + (list(CONTACT_COLUMNS) if with_contacts else [])
    with use_language(p.language):
        readme = readme_markdown(
            store=p.store,
            month=ctx.month,
            as_of=ctx.month_last_day,
            columns=columns,
            files={name: len(t) for name, t in tables.items()},
            parameters=export_parameters(p),
            rfm_window_days=p.segments.rfm_window_days,
            horizon_months=horizon,
            currency=p.currency,
            monthly_discount_rate=p.clv.monthly_discount_rate,
            churn_risk_bands=p.segments.churn_risk_bands,
            with_contacts=with_contacts,
            predictions_missing=inputs.outlook_unavailable,
        )
    write_exports(
        folder,
        frame,
        segments=segments,
        buckets=buckets,
        only=only,
        contacts=contacts,
        as_of=ctx.month_last_day,
        readme=readme,
        root=root,
    )
    return ExportResult(
        folder=folder,
        files={name: len(t) for name, t in tables.items()},
        with_contacts=with_contacts,
        outlook_unavailable=inputs.outlook_unavailable,
    )
