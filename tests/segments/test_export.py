"""Campaign lists: the frame, exact CSV bytes, formula neutralisation, atomic replacement, paths."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config import load_params
from analysis.errors import ConfigError
from analysis.segments import export as E

AS_OF = dt.date(2026, 9, 30)
README = "as of 2026-09-30\n"
HEADER = (
    "customer_id,r_score,f_score,m_score,segment,buckets,p_alive,expected_purchases_90d,"
    "next_order_date,clv_12m,churn_risk"
)


def _rfm() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c3", "c1", "c2", "c4"],
            "recency_days": [40, 3, 10, 200],
            "frequency": [1, 5, 2, 1],
            "monetary": [100.0, 900.0, 250.0, 50.0],
            "r_score": [2, 5, 4, 1],
            "f_score": [1, 5, 3, 1],
            "m_score": [2, 5, 3, 1],
            "segment": ["at_risk", "champions", "champions", "lost"],
        }
    )


def _flags() -> pd.DataFrame:
    # c4 has no flags row; c9 is flagged but not scored (not in the lists)
    return pd.DataFrame(
        {
            "heroes": [False, True, False, True],
            "regulars": [False, True, True, False],
            "at_risk": [True, False, False, False],
        },
        index=pd.Index(["c3", "c1", "c2", "c9"], name="customer_id"),
    )


def _outlook() -> pd.DataFrame:
    # c2 is not in the outlook (no prediction): empty cells
    return pd.DataFrame(
        {
            "p_alive": [0.123456, 0.98766, 0.5],
            "expected_purchases_90d": [0.01234, 2.5, 0.2],
            "next_order_date": pd.to_datetime([None, "2026-10-07", "2027-01-02"]),
            "clv": [12.346, 4567.891, -3.5],
            "churn_risk": ["high", "low", "medium"],
        },
        index=pd.Index(["c3", "c1", "c4"], name="customer_id"),
    )


def test_campaign_frame_joins_scores_buckets_and_outlook():
    frame = E.campaign_frame(_rfm(), _flags(), _outlook(), horizon_months=12)
    assert list(frame.columns) == HEADER.split(",")
    assert frame["customer_id"].tolist() == ["c1", "c2", "c3", "c4"]
    assert frame["segment"].tolist() == ["champions", "champions", "at_risk", "lost"]
    assert frame["r_score"].tolist() == [5, 4, 2, 1]
    assert frame["buckets"].tolist() == ["heroes;regulars", "regulars", "at_risk", ""]
    assert frame["p_alive"].tolist()[0] == 0.98766 and np.isnan(frame["p_alive"][1])
    assert frame["churn_risk"].tolist() == ["low", None, "high", "medium"]
    assert frame["next_order_date"].tolist()[:1] == [pd.Timestamp("2026-10-07")]
    assert frame["next_order_date"].isna().tolist() == [False, True, True, False]


def test_campaign_frame_without_flags_or_outlook_has_empty_columns():
    frame = E.campaign_frame(_rfm(), None, None, horizon_months=6)
    assert "clv_6m" in frame.columns
    assert (frame["buckets"] == "").all()
    assert frame[["p_alive", "expected_purchases_90d", "clv_6m"]].isna().all().all()
    assert frame["next_order_date"].isna().all() and frame["churn_risk"].isna().all()


def _write(out: Path, frame: pd.DataFrame, **kw) -> list[Path]:
    args = {
        "segments": ["at_risk", "champions", "lost", "new"],
        "buckets": ["heroes", "regulars", "at_risk"],
        "only": None,
        "contacts": None,
        "as_of": AS_OF,
        "readme": README,
    }
    return E.write_exports(out, frame, **{**args, **kw})


def test_exact_csv_contents(tmp_path):
    out = tmp_path / "exports" / "shop" / "2026-09"
    frame = E.campaign_frame(_rfm(), _flags(), _outlook())
    paths = _write(out, frame)
    assert [p.name for p in paths] == [
        "segment-at_risk.csv", "segment-champions.csv", "segment-lost.csv", "segment-new.csv",
        "bucket-heroes.csv", "bucket-regulars.csv", "bucket-at_risk.csv", "README.md",
    ]  # fmt: skip
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    bom = "\ufeff"
    champions = (out / "segment-champions.csv").read_bytes().decode("utf-8")  # no newline mapping
    assert champions == (
        f"{bom}{HEADER}\r\n"
        "c1,5,5,5,champions,heroes;regulars,0.9877,2.5,2026-10-07,4567.89,low\r\n"
        "c2,4,3,3,champions,regulars,,,,,\r\n"
    )
    assert (out / "segment-lost.csv").read_text("utf-8-sig") == (
        f"{HEADER}\nc4,1,1,1,lost,,0.5,0.2,2027-01-02,-3.5,medium\n"  # read_text maps CRLF
    )
    assert (out / "segment-new.csv").read_text("utf-8-sig") == f"{HEADER}\n"  # nobody: header
    assert (out / "bucket-regulars.csv").read_text("utf-8-sig").splitlines()[1:] == [
        "c1,5,5,5,champions,heroes;regulars,0.9877,2.5,2026-10-07,4567.89,low",
        "c2,4,3,3,champions,regulars,,,,,",
    ]
    assert (out / "bucket-at_risk.csv").read_text("utf-8-sig").splitlines()[1:] == [
        "c3,2,1,2,at_risk,at_risk,0.1235,0.0123,,12.35,high"
    ]
    assert (out / "README.md").read_text("utf-8") == README


def test_thai_text_round_trips_with_the_bom(tmp_path):
    rfm = _rfm().assign(customer_id=["ลูกค้า3", "ลูกค้า1", "c2", "c4"])
    out = tmp_path / "x" / "m"
    _write(out, E.campaign_frame(rfm, None, None), buckets=[])
    raw = (out / "segment-at_risk.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(out / "segment-at_risk.csv", encoding="utf-8-sig")[
        "customer_id"
    ].tolist() == ["ลูกค้า3"]


def test_formulas_are_neutralised_numbers_stay_numbers(tmp_path):
    hostile = ['=HYPERLINK("http://evil.example","click")', "+1", "-2", "@x", "\tcmd", "\rcr"]
    rfm = pd.DataFrame(
        {
            "customer_id": [*hostile, "plain", "a=b"],
            "r_score": 3, "f_score": 3, "m_score": 3, "segment": "champions",
        }
    )  # fmt: skip
    outlook = pd.DataFrame(
        {
            "p_alive": 0.5, "expected_purchases_90d": 0.25,
            "next_order_date": pd.NaT, "clv": -2.0, "churn_risk": "medium",
        },
        index=pd.Index(rfm["customer_id"], name="customer_id"),
    )  # fmt: skip
    contacts = pd.DataFrame(
        {"email": ["@evil.example", *[None] * 7], "phone": ["+66812345678", *[None] * 7]},
        index=pd.Index(rfm["customer_id"], name="customer_id"),
    )
    out = tmp_path / "e" / "m"
    _write(out, E.campaign_frame(rfm, None, outlook), segments=["champions"], buckets=[],
           contacts=contacts)  # fmt: skip
    read = pd.read_csv(
        out / "segment-champions.csv", encoding="utf-8-sig", keep_default_na=False
    ).set_index("customer_id", drop=False)
    ids = read["customer_id"].tolist()
    expected = sorted([*hostile, "plain", "a=b"])
    assert ids == ["'" + i if i[0] in "=+-@\t\r" else i for i in expected]
    assert "plain" in ids and "a=b" in ids  # only the first character counts
    # numbers are numbers: a negative CLV is -2.0, not the text '-2.0
    assert read["clv_12m"].dtype == float and (read["clv_12m"] == -2.0).all()
    assert read["p_alive"].dtype == float and read["r_score"].dtype == np.int64
    first = read.loc[read["customer_id"] == "'" + hostile[0]]
    assert first["email"].item() == "'@evil.example" and first["phone"].item() == "'+66812345678"
    assert list(read.columns[-2:]) == ["email", "phone"]


def test_neutralise_leaves_non_text_alone():
    assert E.neutralise(-2) == -2 and E.neutralise(-2.5) == -2.5
    assert E.neutralise(None) is None and E.neutralise("x-1") == "x-1"
    assert E.neutralise("-1") == "'-1"


def test_only_one_list_and_unknown_name(tmp_path):
    frame = E.campaign_frame(_rfm(), _flags(), _outlook())
    out = tmp_path / "o" / "m"
    paths = _write(out, frame, only="heroes")
    assert [p.name for p in paths] == ["bucket-heroes.csv", "README.md"]
    assert (out / "bucket-heroes.csv").read_text("utf-8-sig").splitlines()[1:] == [
        "c1,5,5,5,champions,heroes;regulars,0.9877,2.5,2026-10-07,4567.89,low"
    ]
    # a key that is both a segment and a bucket: both files
    assert [p.name for p in _write(out, frame, only="at_risk")] == [
        "segment-at_risk.csv", "bucket-at_risk.csv", "README.md",
    ]  # fmt: skip
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ConfigError) as err:
        _write(out, frame, only="champion")
    assert "'champion'" in err.value.message
    assert "at_risk, champions, lost, new, heroes, regulars, at_risk" in err.value.hint
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_contacts_only_when_given(tmp_path):
    frame = E.campaign_frame(_rfm(), None, None)
    contacts = pd.DataFrame(
        {"email": ["a@x.th", "b@x.th"], "phone": ["0812345678", None]},
        index=pd.Index(["c1", "c3"], name="customer_id"),
    )
    out = tmp_path / "c" / "m"
    _write(out, frame, segments=["champions"], buckets=[], contacts=contacts)
    lines = (out / "segment-champions.csv").read_text("utf-8-sig").splitlines()
    assert lines[0] == HEADER + ",email,phone"
    assert lines[1:] == ["c1,5,5,5,champions,,,,,,,a@x.th,0812345678", "c2,4,3,3,champions,,,,,,,,"]
    _write(out, frame, segments=["champions"], buckets=[])
    assert (out / "segment-champions.csv").read_text("utf-8-sig").splitlines()[0] == HEADER


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failure_midway_leaves_the_previous_export_untouched(tmp_path, monkeypatch, error):
    frame = E.campaign_frame(_rfm(), _flags(), _outlook())
    out = tmp_path / "exports" / "shop" / "2026-09"
    _write(out, frame)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    written: list[str] = []
    real = E._write_csv

    def failing(path, table):
        if len(written) == 2:  # two files written, the third fails
            raise error
        written.append(path.name)
        real(path, table)

    monkeypatch.setattr(E, "_write_csv", failing)
    changed = E.campaign_frame(_rfm().assign(r_score=1), None, None)
    with pytest.raises(type(error)):
        _write(out, changed)
    assert len(written) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # byte-identical
    assert _leftovers(out.parent) == [] and sorted(p.name for p in out.parent.iterdir()) == [
        "2026-09"
    ]


def test_a_failed_first_export_leaves_no_folder(tmp_path, monkeypatch):
    def failing(path, table):
        raise OSError("disk full")

    monkeypatch.setattr(E, "_write_csv", failing)
    out = tmp_path / "exports" / "shop" / "2026-09"
    with pytest.raises(OSError):
        _write(out, E.campaign_frame(_rfm(), None, None))
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_a_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    frame = E.campaign_frame(_rfm(), _flags(), _outlook())
    out = tmp_path / "exports" / "shop" / "2026-09"
    _write(out, frame)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_rename = Path.rename

    def rename(self, target):
        if self.name.startswith(".2026-09.tmp-"):
            raise OSError("rename failed")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        _write(out, E.campaign_frame(_rfm(), None, None))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _leftovers(out.parent) == []


def test_replacing_an_export_drops_lists_that_no_longer_exist(tmp_path):
    out = tmp_path / "exports" / "shop" / "2026-09"
    frame = E.campaign_frame(_rfm(), _flags(), _outlook())
    _write(out, frame)
    _write(out, frame, only="lost")
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "segment-lost.csv"]
    assert _leftovers(out.parent) == []


def test_never_under_reports(tmp_path):
    frame = E.campaign_frame(_rfm(), None, None)
    for folder in (tmp_path / "reports" / "shop" / "2026-09", tmp_path / "x" / "reports"):
        with pytest.raises(ConfigError, match="under reports/"):
            _write(folder, frame, root=tmp_path)
    assert not (tmp_path / "reports").exists() and not (tmp_path / "x").exists()


def test_export_dir_is_beside_the_warehouse(tmp_path):
    root = Path(__file__).resolve().parents[2]
    params = load_params("demo-bangkok", {"data_dir": str(tmp_path / "wh")}, root=root)
    assert (
        E.export_dir(params, "2026-09", root) == tmp_path / "exports" / "demo-bangkok" / "2026-09"
    )
    default = load_params("demo-bangkok", root=root)
    assert (
        E.export_dir(default, "2026-09", root)
        == root / "data" / "exports" / "demo-bangkok" / "2026-09"
    )
    bad = load_params("demo-bangkok", {"data_dir": "reports/wh"}, root=root)
    with pytest.raises(ConfigError, match="under reports/"):
        E.export_dir(bad, "2026-09", root)


@pytest.mark.parametrize("key", ["../up", "a/b", "", "Champions"])
def test_keys_never_make_a_path(tmp_path, key):
    with pytest.raises(ValueError, match="must match"):
        _write(tmp_path / "k" / "m", E.campaign_frame(_rfm(), None, None), segments=[key])
    assert not (tmp_path / "k").exists() and not (tmp_path / "up").exists()


def test_warehouse_contacts_are_the_stores_own(warehouse_dir):
    from conftest import orders_frame, write_table

    from analysis.errors import DataError
    from analysis.warehouse import StoreWarehouse

    write_table(
        warehouse_dir,
        "orders",
        "shop",
        orders_frame([("o1", "c1", "2026-01-05", 1.0, "completed")]),
    )
    wh = StoreWarehouse(warehouse_dir, "shop", "Asia/Bangkok")
    empty = wh.contacts()
    assert list(empty.columns) == ["email", "phone"] and empty.empty
    customers = pd.DataFrame(
        {"customer_id": ["c1", "c2"], "email": ["a@x.th", None], "name": ["A", "B"]}
    )  # no phone column
    write_table(warehouse_dir, "customers", "shop", customers)
    got = wh.contacts()
    assert got.index.tolist() == ["c1", "c2"] and got.index.name == "customer_id"
    assert got["email"].tolist() == ["a@x.th", None] and got["phone"].tolist() == [None, None]
    with pytest.raises(DataError, match="not a contact column"):
        wh.contacts(("birth_year",))
