"""Parameters: ``params/default.yaml`` ← ``params/stores/<store>.yaml`` ← overrides.

The merged result is validated by :class:`Params`; an unknown key or a wrong
type is a :class:`~analysis.errors.ConfigError` that names the key and the
file it came from. Store names are checked against :data:`STORE_PATTERN`
before any file is opened.
"""

from __future__ import annotations

import functools
import os
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analysis.errors import ConfigError
from analysis.spark import is_uri

STORE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
"""Store ids: lower-case ASCII letters, digits, ``_`` and ``-``; no dots, no slashes."""

MONTH_PATTERN = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
"""A report month as text: ``YYYY-MM``."""

ENV_ROOT = "ANALYSIS_ROOT"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KpiParams(_Strict):
    """``kpis.*``: the scorecard's retention windows and the trend charts' length.

    ``retention_window_days``: length in days of each of the two windows of the
    customer retention rate (S, the window before the last; E, the last, ending
    at the report month's end). ``trend_months``: months shown in trend charts.
    """

    retention_window_days: int = Field(gt=0)
    trend_months: int = Field(gt=1)


class CohortParams(_Strict):
    period: Literal["month", "week"]
    n_cohorts: int = Field(gt=0)
    horizon_months: int = Field(gt=0)
    min_cohort_size: int = Field(ge=1)


class ClvParams(_Strict):
    model: Literal["auto", "bgnbd", "mbgnbd", "pareto"]
    horizon_months: int = Field(gt=0)
    monthly_discount_rate: float = Field(ge=0, lt=1)
    holdout_days: int = Field(gt=0)
    holdout_share: float = Field(gt=0, le=0.5)
    min_customers: int = Field(ge=1)
    min_repeat_customers: int = Field(ge=1)
    min_history_days: int = Field(ge=2)
    comparison_customers: int | None = Field(gt=0)
    top_customers: int = Field(gt=0)


class SegmentParams(_Strict):
    """Customer segments and lifecycle buckets (``analysis.segments``; rules in docs/metrics.md)."""

    rfm_window_days: int = Field(gt=0)
    hero_top_share: float = Field(gt=0, lt=1)
    hero_min_orders: int = Field(ge=1)
    regular_min_orders: int = Field(ge=1)
    regular_active_days: int = Field(gt=0)
    at_risk_gap_multiple: float = Field(gt=1)
    at_risk_p_alive: float = Field(gt=0, lt=1)
    inactive_days: int = Field(gt=0)
    new_days: int = Field(gt=0)
    cart_days: int = Field(gt=0)
    discount_min_orders: int = Field(ge=1)
    discount_share: float = Field(ge=0, lt=1)
    campaign_min_sends: int = Field(ge=1)
    churn_risk_bands: tuple[float, float]

    @model_validator(mode="after")
    def _bands_ascend(self) -> SegmentParams:
        low, high = self.churn_risk_bands
        if not 0 < low < high < 1:
            raise ValueError(
                "churn_risk_bands must be two P(alive) cut-offs with 0 < low < high < 1"
            )
        return self


class LoyaltyParams(_Strict):
    experiment_id: str | None
    point_value: float | None = Field(gt=0)
    event_months: int = Field(ge=2, le=24)
    match_months: int = Field(ge=1, le=36)
    # member comparison (analysis/loyalty/comparison.py): further keys below this line


class ExperimentParams(_Strict):
    """How an experiment's readout is computed (``analysis.experiments``)."""

    primary_metric: Literal["revenue", "orders", "repeat", "retained"]
    control: str | None
    split: dict[str, float] | None
    alpha: float = Field(gt=0, lt=0.5)
    power: float = Field(gt=0.5, lt=1)
    target_lift: float = Field(gt=0)
    winsorize_percentile: float = Field(gt=50, le=100)
    srm_alpha: float = Field(gt=0, lt=0.5)
    bootstrap_resamples: int = Field(ge=100, le=100_000)
    retention_days: int = Field(gt=0)

    @field_validator("split")
    @classmethod
    def _shares(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        if len(value) < 2:
            raise ValueError("split needs at least two variants")
        if any(not (share > 0) for share in value.values()):
            raise ValueError("every planned share must be above 0")
        return value


class IngestTableMapping(_Strict):
    """How one canonical table is read from a store's files (``analysis ingest --format mapped``)."""

    columns: dict[str, str] = Field(default_factory=dict)
    date_format: str | list[str] | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _text_names(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for key in value:
                if not isinstance(key, str):
                    raise ValueError(
                        f"source column {key!r} is not text: YAML reads No, Yes, On, Off "
                        f"and numbers as such; quote the name, e.g. 'No': order_id"
                    )
        return value


class IngestStatusValues(_Strict):
    """Source status values (compared trimmed, case-insensitively) and the canonical status."""

    completed: list[str] = Field(default_factory=list)
    cancelled: list[str] = Field(default_factory=list)
    refunded: list[str] = Field(default_factory=list)


NULL_VALUES = ("", "NA", "NULL", "None", "nan", "#N/A")
"""Cell texts ``analysis ingest`` reads as missing by default (``ingest.null_values``)."""


class SparkParams(_Strict):
    """``spark.*``: where the Spark engine runs (used with ``engine: spark`` only).

    ``master``: ``spark.master`` (``local[2]`` = this machine, two cores; a
    cluster URL such as ``spark://host:7077`` or ``yarn``). ``conf``: further
    Spark settings, e.g. ``spark.executor.memory``; the session time zone is
    always the store's ``timezone``.
    """

    master: str = "local[2]"
    conf: dict[str, str] = Field(default_factory=dict)


class IngestParams(_Strict):
    """How ``analysis ingest`` reads this store's export files (see docs/ingest.md)."""

    encoding: str = "utf-8"
    delimiter: str = ","
    timezone: str | None = None
    date_format: str | list[str] | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    null_values: list[str] = Field(default_factory=lambda: list(NULL_VALUES))
    status: IngestStatusValues = Field(default_factory=IngestStatusValues)
    tables: dict[str, IngestTableMapping] = Field(default_factory=dict)
    max_workbook_mib: int = Field(default=1024, gt=0)
    """Largest uncompressed size of an .xlsx file's contents, in MiB (declared and read)."""
    max_rows: int = Field(default=2_000_000, gt=0)
    """Most data rows read from one .xlsx file (all sheets together)."""
    max_cell_chars: int = Field(default=32_767, gt=0)
    """Longest text in one .xlsx cell, in characters (Excel's own limit is 32,767)."""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @field_validator("null_values", mode="before")
    @classmethod
    def _text_tokens(cls, value: Any) -> Any:
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str):
                    raise ValueError(
                        f"{item!r} is not text: YAML reads null, NA-like words and numbers as "
                        f"such; quote every entry, e.g. ['NA', 'NULL', '-']"
                    )
        return value

    @field_validator("date_format")
    @classmethod
    def _formats_have_fields(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is not None:
            for fmt in [value] if isinstance(value, str) else value:
                if "%" not in fmt:
                    raise ValueError(f"{fmt!r} is not a strptime format (e.g. '%d/%m/%Y %H:%M')")
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("the delimiter is one character, e.g. ',' ';' or '\\t'")
        if value in ('"', "\n", "\r", "\x00"):
            raise ValueError(
                f"{value!r} cannot be the delimiter (it is the quote character or ends a line)"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_source_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("tables")
    @classmethod
    def _known_tables_and_columns(
        cls, value: dict[str, IngestTableMapping]
    ) -> dict[str, IngestTableMapping]:
        from analysis.schema import TABLES

        for table, mapping in value.items():
            if table not in TABLES:
                raise ValueError(f"unknown table {table!r} (tables: {', '.join(TABLES)})")
            names = [c.name for c in TABLES[table].columns]
            for source, target in mapping.columns.items():
                if target not in names:
                    raise ValueError(
                        f"{table}.columns: {source!r} maps to {target!r}, "
                        f"which is not a column of {table} ({', '.join(names)})"
                    )
            targets = list(mapping.columns.values())
            doubled = sorted({t for t in targets if targets.count(t) > 1})
            if doubled:
                raise ValueError(f"{table}.columns: several source columns map to {doubled}")
        return value


class Params(_Strict):
    """All parameters of one store, as one report run uses them."""

    store: str
    display_name: str | None
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    timezone: str
    language: Literal["en", "th"]
    buddhist_era: bool
    engine: Literal["duckdb", "spark"]
    spark: SparkParams = Field(default_factory=SparkParams)
    data_dir: str
    seed: int
    kpis: KpiParams
    cohorts: CohortParams
    clv: ClvParams
    segments: SegmentParams
    loyalty: LoyaltyParams
    experiment: ExperimentParams
    ingest: IngestParams = Field(default_factory=IngestParams)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        if value not in _report_zones():
            # Python finds files such as 'posixrules' or 'localtime' in its zone
            # database that are not zone names; DuckDB (the session zone) refuses them.
            raise ValueError(
                f"{value!r} is not an IANA time zone name (e.g. Asia/Bangkok, Europe/London)"
            )
        return value

    @property
    def title(self) -> str:
        """Name to show people: ``display_name``, else the store id."""
        return self.display_name or self.store

    def warehouse_path(self, root: Path | None = None) -> Path | str:
        """Absolute path of the warehouse folder (``data_dir`` is relative to the root).

        A URI (``s3a://bucket/warehouse``, for the Spark engine) is returned as it is.
        """
        return _warehouse_location(self.data_dir, root)

    def data_folder(self, root: Path | None = None) -> Path:
        """The project's local data folder: the warehouse's parent, or ``data/`` for a URI.

        Where the pseudonym key and campaign exports live (never in a lakehouse).
        """
        location = self.warehouse_path(root)
        if isinstance(location, str):
            return (root or project_root()) / "data"
        return location.parent

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready dict (for manifests and notebook parameters)."""
        return self.model_dump(mode="json")


def validate_store_name(store: str) -> str:
    """Return ``store`` if it is a valid store id, else raise :class:`ConfigError`."""
    if not isinstance(store, str) or not STORE_PATTERN.fullmatch(store):
        raise ConfigError(
            f"invalid store name {store!r}: must match {STORE_PATTERN.pattern}",
            hint="use lower-case letters, digits, '_' and '-', e.g. demo-bangkok",
        )
    return store


def project_root() -> Path:
    """The project folder: ``$ANALYSIS_ROOT``, else the nearest parent with ``params/default.yaml``.

    Falls back to the source checkout this package was installed from.
    """
    env = os.environ.get(ENV_ROOT)
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "params" / "default.yaml").is_file():
            return candidate
    return Path(__file__).resolve().parents[2]


def store_params_path(store: str, root: Path | None = None) -> Path:
    validate_store_name(store)
    return (root or project_root()) / "params" / "stores" / f"{store}.yaml"


@functools.cache
def _report_zones() -> frozenset[str]:
    """IANA zone names a store may use: Python's list of available zones, less the
    ones DuckDB's session time zone does not accept (``localtime``)."""
    return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules"})


def known_stores(root: Path | None = None) -> list[str]:
    """Stores that have a params file."""
    folder = (root or project_root()) / "params" / "stores"
    return sorted(p.stem for p in folder.glob("*.yaml") if STORE_PATTERN.fullmatch(p.stem))


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Turn ``["clv.model=bgnbd", "kpis.trend_months=24"]`` into a nested dict.

    Values are parsed as YAML scalars (``24`` → int, ``null`` → None); text YAML
    cannot parse (``%d/%m/%Y %H:%M``) is taken as it is.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"override {item!r} is not key=value", hint="e.g. --set clv.model=bgnbd"
            )
        # '%d/%m/%Y %H:%M' starts like a YAML directive: plain text
        value = (
            safe_yaml(raw, f"--set {key.strip()}", text_if_invalid=True) if raw.strip() else None
        )
        _set_dotted(out, key.strip(), value)
    return out


def load_params(
    store: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    root: Path | None = None,
) -> Params:
    """Merge default ← store file ← overrides and validate.

    Parameters
    ----------
    store
        Store id; validated before any file is read.
    overrides
        Nested dict or dotted keys (``{"clv.model": "bgnbd"}``), highest precedence.
    root
        Project folder holding ``params/``; default :func:`project_root`.

    Raises
    ------
    ConfigError
        Invalid store name, unreadable YAML, unknown key or bad value; the
        message names the key and the file that set it.
    """
    validate_store_name(store)
    root = root or project_root()
    return _layered(store, store_params_path(store, root), overrides, root)


def default_params(
    overrides: Mapping[str, Any] | None = None, *, root: Path | None = None
) -> Params:
    """Params of no store in particular: ``params/default.yaml`` ← overrides, validated.

    For commands that need settings before (or without) a store, e.g. the
    warehouse folder of ``analysis stores`` or an ingest that splits rows into
    stores by a column. ``store`` is :data:`DEFAULTS_NAME`; no store file is read,
    even if one has that name.

    Raises
    ------
    ConfigError
        As :func:`load_params`.
    """
    return _layered(DEFAULTS_NAME, None, overrides, root or project_root())


DEFAULTS_NAME = "default"
"""``Params.store`` of :func:`default_params` (the defaults, not a store)."""


def load_defaults(root: Path | None = None) -> dict[str, Any]:
    """``params/default.yaml`` as it is written (a mapping, not yet validated).

    Raises
    ------
    ConfigError
        The file is missing, unreadable, not YAML or not a mapping.
    """
    path = (root or project_root()) / "params" / "default.yaml"
    if not path.is_file():
        raise ConfigError(f"{path}: not found", hint="run from the project folder")
    return _read_yaml(path)


def _warehouse_location(value: str, root: Path | None) -> Path | str:
    if is_uri(value):
        return value
    path = Path(value)
    return path if path.is_absolute() else (root or project_root()) / path


def default_data_dir(
    overrides: Mapping[str, Any] | None = None, *, root: Path | None = None
) -> Path | str:
    """Absolute warehouse folder when no store is named yet.

    ``data_dir`` from the overrides, else from ``params/default.yaml`` (else
    ``data/warehouse``), relative to the project root.
    """
    root = root or project_root()
    nested = nest_overrides(overrides)
    value = nested["data_dir"] if "data_dir" in nested else load_defaults(root).get("data_dir")
    return _warehouse_location(str(value or "data/warehouse"), root)


def nest_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Overrides as one nested dict: dotted keys expanded at every level, sections merged.

    ``{"kpis.trend_months": 24, "clv": {"model": "bgnbd"}}`` →
    ``{"kpis": {"trend_months": 24}, "clv": {"model": "bgnbd"}}``. This is the
    form :func:`load_params` merges and the notebooks receive as ``overrides``.

    Raises
    ------
    ConfigError
        A dotted key passes through a value that is not a section
        (``{"kpis": 5, "kpis.trend_months": 24}``).
    """
    out: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping):
            value = nest_overrides(value)
        *parents, leaf = str(key).split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {key!r}: {part!r} is not a section")
        if isinstance(value, dict) and isinstance(node.get(leaf), dict):
            _deep_update(node[leaf], value)
        else:
            node[leaf] = value
    return out


def _deep_update(base: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value


def _layered(
    store: str, store_path: Path | None, overrides: Mapping[str, Any] | None, root: Path
) -> Params:
    """default ← ``store_path`` (if it exists) ← overrides, validated as ``store``'s params."""
    default_path = root / "params" / "default.yaml"
    merged: dict[str, Any] = {}
    sources: dict[tuple[str, ...], str] = {}
    _merge(merged, load_defaults(root), str(default_path), sources)
    if store_path is not None and store_path.is_file():
        _merge(merged, _read_yaml(store_path), str(store_path), sources)
    if overrides:
        _merge(merged, nest_overrides(overrides), "command-line overrides", sources)
    if "store" in merged:
        raise ConfigError(
            f"{sources[('store',)]}: key 'store' is set by the file name, not inside it"
        )
    merged["store"] = store
    try:
        return Params.model_validate(merged)
    except ValidationError as exc:
        raise _explain(exc, sources) from None


MAX_PARAMS_BYTES = 1 << 20
"""A params file larger than this (1 MiB) is refused: real ones are a few KB."""
MAX_PARAMS_DEPTH = 16
"""Deepest nesting of mappings and lists a params file may have."""


def safe_yaml(text: str, source: str, *, text_if_invalid: bool = False) -> Any:
    """``yaml.safe_load`` of params text, after refusing what no params file needs.

    Anchors and aliases (``&a`` / ``*a``) are refused before anything is built:
    a few hundred bytes of nested aliases expand to billions of nodes (a
    "billion laughs" file would hang the tool). Nesting deeper than
    :data:`MAX_PARAMS_DEPTH` and text above :data:`MAX_PARAMS_BYTES` are refused too.

    With ``text_if_invalid`` (a ``--set`` value), text that is not YAML at all
    (``%d/%m/%Y %H:%M`` starts like a directive) is returned as it is.

    Raises
    ------
    ConfigError
        One line naming ``source`` (a file path or "--set key") and the line.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_PARAMS_BYTES:
        raise ConfigError(
            f"{source}: larger than {MAX_PARAMS_BYTES // 1024} KiB; a params file is a few "
            "lines of settings"
        )
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ConfigError(
                    f"{source}: line {line}: YAML anchors and aliases (&name, *name) are not "
                    "allowed in params",
                    hint="write each value out in full",
                )
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                depth += 1
                if depth > MAX_PARAMS_DEPTH:
                    raise ConfigError(
                        f"{source}: line {line}: nested deeper than {MAX_PARAMS_DEPTH} levels"
                    )
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        if text_if_invalid:
            return text.strip()
        raise ConfigError(f"{source}: not valid YAML ({_yaml_problem(exc)})") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's error in one line (its text quotes the offending source)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return " ".join(f"{problem}{where}".split())[:200]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
    data = safe_yaml(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    return data


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {dotted!r}: {part!r} is not a section")
    node[parts[-1]] = value


def _merge(
    base: dict[str, Any],
    layer: Mapping[str, Any],
    source: str,
    sources: dict[tuple[str, ...], str],
    prefix: tuple[str, ...] = (),
) -> None:
    for key, value in layer.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            sources.setdefault(path, source)
            _merge(base[key], value, source, sources, path)
        else:
            base[key] = dict(value) if isinstance(value, Mapping) else value
            sources[path] = source
            if isinstance(value, Mapping):
                _record_leaves(value, source, sources, path)


def _record_leaves(
    layer: Mapping[str, Any], source: str, sources: dict[tuple[str, ...], str], prefix
) -> None:
    for key, value in layer.items():
        sources[(*prefix, str(key))] = source
        if isinstance(value, Mapping):
            _record_leaves(value, source, sources, (*prefix, str(key)))


def _explain(exc: ValidationError, sources: dict[tuple[str, ...], str]) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc)
        source = next(
            (sources[loc[:i]] for i in range(len(loc), 0, -1) if loc[:i] in sources),
            "params",
        )
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{key}'")
        elif err["type"] == "missing":
            lines.append(f"{source}: missing key '{key}'")
        else:
            lines.append(f"{source}: {key}: {err['msg']} (got {err.get('input')!r})")
    return ConfigError(
        "; ".join(lines), hint="the keys and their meaning are listed in params/default.yaml"
    )
