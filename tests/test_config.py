from pathlib import Path

import pytest

from analysis.config import (
    default_data_dir,
    default_params,
    load_defaults,
    load_params,
    nest_overrides,
    parse_overrides,
    validate_store_name,
)
from analysis.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def make_root(tmp_path: Path, store_yaml: str | None = None, store: str = "shop") -> Path:
    (tmp_path / "params" / "stores").mkdir(parents=True)
    (tmp_path / "params" / "default.yaml").write_text(
        (ROOT / "params" / "default.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    if store_yaml is not None:
        (tmp_path / "params" / "stores" / f"{store}.yaml").write_text(store_yaml, encoding="utf-8")
    return tmp_path


def test_defaults_then_store_then_overrides(tmp_path):
    root = make_root(tmp_path, "display_name: ร้านทดสอบ\nkpis:\n  trend_months: 24\n")
    params = load_params("shop", {"kpis.retention_window_days": 180}, root=root)
    assert params.title == "ร้านทดสอบ"
    assert params.currency == "THB" and params.timezone == "Asia/Bangkok"
    assert params.kpis.trend_months == 24  # store file wins over default
    assert params.kpis.retention_window_days == 180  # override wins over both
    assert params.cohorts.n_cohorts == 24  # untouched default survives a partial section


def test_store_without_params_file_gets_defaults(tmp_path):
    params = load_params("new-store", root=make_root(tmp_path))
    assert params.title == "new-store" and params.language == "en"


def test_unknown_key_names_key_and_file(tmp_path):
    root = make_root(tmp_path, "kpis:\n  trend_monthz: 3\n")
    with pytest.raises(ConfigError) as err:
        load_params("shop", root=root)
    assert "unknown key 'kpis.trend_monthz'" in str(err.value)
    assert "shop.yaml" in str(err.value)


def test_unknown_override_is_named(tmp_path):
    with pytest.raises(ConfigError, match="command-line overrides: unknown key 'colour'"):
        load_params("shop", {"colour": "red"}, root=make_root(tmp_path))


def test_bad_value_names_file(tmp_path):
    root = make_root(tmp_path, "timezone: Asia/Bangkokk\nlanguage: fr\n")
    with pytest.raises(ConfigError) as err:
        load_params("shop", root=root)
    assert "timezone" in str(err.value) and "language" in str(err.value)
    assert "shop.yaml" in str(err.value)


def test_yaml_is_safe_loaded(tmp_path):
    root = make_root(tmp_path, "display_name: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params("shop", root=root)


@pytest.mark.parametrize("bad", ["../etc", "Shop", "", "-x", "a/b", "a.b", "ร้าน"])
def test_invalid_store_names_are_refused(bad):
    with pytest.raises(ConfigError, match="invalid store name"):
        validate_store_name(bad)


def test_invalid_store_refused_before_reading_files(tmp_path):
    # No params folder at all: the name check must fire first.
    with pytest.raises(ConfigError, match="invalid store name"):
        load_params("../etc", root=tmp_path)


def test_parse_overrides_yaml_scalars():
    assert parse_overrides(
        ["kpis.trend_months=24", "loyalty.experiment_id=null", "language=th"]
    ) == {
        "kpis": {"trend_months": 24},
        "loyalty": {"experiment_id": None},
        "language": "th",
    }
    with pytest.raises(ConfigError):
        parse_overrides(["novalue"])


def test_repo_params_are_valid():
    for store in ["demo-bangkok", "demo-chiangmai", "demo-online"]:
        params = load_params(store, root=ROOT)
        assert params.display_name and any("\u0e00" <= ch <= "\u0e7f" for ch in params.display_name)


def test_ingest_null_values_default_and_text_only(tmp_path):
    root = make_root(tmp_path)
    assert load_params("shop", root=root).ingest.null_values == [
        "", "NA", "NULL", "None", "nan", "#N/A",
    ]  # fmt: skip
    root = make_root(tmp_path / "b", "ingest:\n  null_values: [NA, NULL]\n")
    with pytest.raises(ConfigError, match="None is not text: YAML reads null"):
        load_params("shop", root=root)  # YAML reads the bare NULL as null


def test_ingest_date_format_must_be_a_strptime_format(tmp_path):
    root = make_root(tmp_path, "ingest:\n  date_format: [dd/mm/yyyy]\n")
    with pytest.raises(ConfigError, match="'dd/mm/yyyy' is not a strptime format"):
        load_params("shop", root=root)


def test_override_that_is_not_yaml_stays_text():
    # '%d/%m/%Y' starts like a YAML directive; --set ingest.date_format=… must still work
    assert parse_overrides(["ingest.date_format=%d/%m/%Y %H:%M"]) == {
        "ingest": {"date_format": "%d/%m/%Y %H:%M"}
    }


BOMB = "\n".join(
    [
        'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(
            f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)  # 9 levels of 9 aliases: 9**9 = 387,420,489 leaves once expanded


def test_yaml_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    import time

    root = make_root(tmp_path, BOMB)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load_params("shop", root=root)
    assert time.perf_counter() - started < 5  # expanding it would take minutes and GiB
    assert err.value.message == (
        f"{root / 'params' / 'stores' / 'shop.yaml'}: line 1: YAML anchors and aliases "
        "(&name, *name) are not allowed in params"
    )
    with pytest.raises(ConfigError, match=r"--set x: line 1: YAML anchors and aliases"):
        parse_overrides(["x=[&a [1, 2], *a]"])


def test_params_nested_too_deep_or_too_large_are_refused(tmp_path):
    deep = "a: " + "[" * 40 + "]" * 40 + "\n"
    with pytest.raises(ConfigError, match=r"shop.yaml: line 1: nested deeper than 16 levels"):
        load_params("shop", root=make_root(tmp_path, deep))
    big = "display_name: '" + "x" * (1 << 20) + "'\n"
    (tmp_path / "params" / "stores" / "shop.yaml").write_text(big, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"shop.yaml: larger than 1024 KiB"):
        load_params("shop", root=tmp_path)


@pytest.mark.parametrize("zone", ["posixrules", "localtime"])
def test_zone_files_that_are_not_zone_names_are_refused(tmp_path, zone):
    """Python's zoneinfo opens these files; DuckDB's session zone refuses them."""
    import zoneinfo

    zoneinfo.ZoneInfo(zone)  # Python knows it...
    with pytest.raises(ConfigError, match=rf"'{zone}' is not an IANA time zone name"):
        load_params("shop", {"timezone": zone}, root=make_root(tmp_path))


def test_nest_overrides_expands_dotted_keys_at_every_level_and_merges_sections():
    assert nest_overrides(
        {
            "kpis.trend_months": 24,
            "kpis": {"retention_window_days": 180},
            "clv": {"holdout.days": 90},
            "language": "th",
        }
    ) == {
        "kpis": {"trend_months": 24, "retention_window_days": 180},
        "clv": {"holdout": {"days": 90}},
        "language": "th",
    }
    assert nest_overrides(None) == {} and nest_overrides({}) == {}
    with pytest.raises(ConfigError, match="override 'kpis.trend_months': 'kpis' is not a section"):
        nest_overrides({"kpis": 5, "kpis.trend_months": 24})


def test_dotted_and_nested_overrides_of_one_section_both_count(tmp_path):
    # before one nesting function, a nested section replaced the dotted key given before it
    params = load_params(
        "shop",
        {"kpis.trend_months": 24, "kpis": {"retention_window_days": 180}},
        root=make_root(tmp_path),
    )
    assert params.kpis.trend_months == 24 and params.kpis.retention_window_days == 180


def test_defaults_are_read_as_written_and_never_as_a_store(tmp_path):
    root = make_root(tmp_path, "currency: USD\ndata_dir: elsewhere\n", store="default")
    assert load_defaults(root)["currency"] == "THB" and load_defaults(root)["seed"] == 20261124
    params = default_params({"language": "th"}, root=root)
    # params/stores/default.yaml is a store's file, not the defaults: not read
    assert (params.store, params.currency, params.language) == ("default", "THB", "th")
    assert default_data_dir(root=root) == root / "data" / "warehouse"
    assert default_data_dir({"data_dir": "other"}, root=root) == root / "other"
    assert default_data_dir({"data_dir": str(tmp_path / "abs")}, root=root) == tmp_path / "abs"
    with pytest.raises(ConfigError, match="default.yaml: not found"):
        load_defaults(tmp_path / "nowhere")
