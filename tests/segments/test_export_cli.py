"""`analysis segments export`: a demo store end to end, contacts only on request, bad input exits 2."""

from __future__ import annotations

import datetime as dt
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest
from conftest import orders_frame, write_table

from analysis.cli import main
from analysis.demo import write_demo

STORE, MONTH = "demo-bangkok", "2026-09"


def _read_lists(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        p.name: pd.read_csv(
            p, encoding="utf-8-sig", dtype={"customer_id": str, "email": str, "phone": str}
        )
        for p in sorted(folder.glob("*.csv"))
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> SimpleNamespace:
    """demo-bangkok at its own size and seed (the shared demo store), exported twice:
    without contacts (``plain``: file texts and frames) and with (``contacts``)."""
    base = tmp_path_factory.mktemp("export-demo")
    warehouse = base / "warehouse"
    write_demo(warehouse, stores=[STORE])
    folder = base / "exports" / STORE / MONTH
    args = ["segments", "export", "--store", STORE, "--month", MONTH, "--data-dir", str(warehouse)]
    out = {}
    for name, extra in (("plain", []), ("contacts", ["--with-contacts"])):
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = main([*args, *extra])
        assert code == 0, stderr.getvalue()
        out[name] = SimpleNamespace(
            stdout=stdout.getvalue(),
            texts={p.name: p.read_text("utf-8-sig") for p in sorted(folder.iterdir())},
            lists=_read_lists(folder),
        )
    return SimpleNamespace(warehouse=warehouse, folder=folder, args=args, **out)


def _scored_customers(warehouse: Path) -> set[str]:
    """Registered customers with a completed order in the 365 days before the end of
    September 2026 in Bangkok (00:00 on 1 October, UTC+7): the RFM-scored population."""
    end = dt.datetime(2026, 10, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    start = end - dt.timedelta(days=365)
    rows = duckdb.sql(
        f"""
        select distinct customer_id from read_parquet('{warehouse}/orders/{STORE}.parquet')
        where status = 'completed' and customer_id is not null
          and ordered_at >= '{start.isoformat()}'::timestamptz
          and ordered_at < '{end.isoformat()}'::timestamptz
        """
    ).fetchall()
    return {str(r[0]) for r in rows}


def test_every_scored_customer_is_in_exactly_one_segment_list(demo):
    lists = demo.plain.lists
    segments = {n: t for n, t in lists.items() if n.startswith("segment-")}
    assert segments
    ids = [i for t in segments.values() for i in t["customer_id"]]
    scored = _scored_customers(demo.warehouse)
    assert len(ids) == len(set(ids)) == len(scored) > 1000
    assert set(ids) == scored
    for name, table in segments.items():
        key = name.removeprefix("segment-").removesuffix(".csv")
        assert (table["segment"] == key).all()
        # the command prints each file with its row count
        assert re.search(rf"{re.escape(name)}\s*│\s*{len(table):,}\s", demo.plain.stdout), name
    for name, table in lists.items():
        if name.startswith("bucket-"):  # buckets hold scored customers too, any number each
            assert set(table["customer_id"]) <= scored
    assert str(demo.folder) in demo.plain.stdout.replace("\n", "")


def test_prediction_columns_are_filled_on_the_demo_store(demo):
    table = pd.concat(t for n, t in demo.plain.lists.items() if n.startswith("segment-"))
    assert list(table.columns) == [
        "customer_id", "r_score", "f_score", "m_score", "segment", "buckets", "p_alive",
        "expected_purchases_90d", "next_order_date", "clv_12m", "churn_risk",
    ]  # fmt: skip
    assert table["p_alive"].between(0, 1).all() and table["clv_12m"].notna().all()
    assert set(table["churn_risk"]) <= {"high", "medium", "low"}
    assert (table.loc[table["p_alive"] < 0.3, "churn_risk"] == "high").all()
    dates = pd.to_datetime(table["next_order_date"].dropna())
    assert dates.min() > pd.Timestamp("2026-09-30") and dates.max() <= pd.Timestamp("2027-09-30")


def _customers(warehouse: Path) -> pd.DataFrame:
    return pd.read_parquet(warehouse / "customers" / f"{STORE}.parquet")


def test_without_contacts_no_email_or_phone_leaves_the_warehouse(demo):
    customers = _customers(demo.warehouse)
    secrets = set(customers["email"].dropna()) | set(customers["phone"].dropna())
    assert len(secrets) > 1000
    pattern = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    for name, text in demo.plain.texts.items():
        assert not pattern.search(text), name
        cells = set(re.split(r"[,\r\n]", text))
        assert not cells & secrets, name
        assert not any(cell.lstrip("'") in secrets for cell in cells), name
    assert "Contacts were not included" in demo.plain.stdout
    assert "--with-contacts" in demo.plain.stdout
    assert "e-mail addresses and phone numbers (personal" not in demo.plain.stdout


def test_with_contacts_adds_email_and_phone_and_says_so(demo):
    customers = _customers(demo.warehouse).set_index("customer_id")
    tables = {n: t for n, t in demo.contacts.lists.items() if n.startswith("segment-")}
    table = pd.concat(tables.values()).set_index("customer_id")
    assert list(table.columns[-2:]) == ["email", "phone"]
    expected = customers.reindex(table.index)
    email = expected["email"].where(
        ~expected["email"].fillna("").str.startswith(("=", "+", "-", "@")), "'" + expected["email"]
    )
    phone = expected["phone"].where(
        ~expected["phone"].fillna("").str.startswith(("=", "+", "-", "@")), "'" + expected["phone"]
    )
    assert table["email"].fillna("").tolist() == email.fillna("").tolist()
    assert table["phone"].fillna("").tolist() == phone.fillna("").tolist()
    flat = demo.contacts.stdout.replace("\n", " ")
    assert "contain customers' e-mail addresses and phone numbers (personal data)" in flat
    assert str(demo.folder) in demo.contacts.stdout.replace("\n", "")
    assert "README.md" in demo.contacts.texts
    assert "personal data" in demo.contacts.texts["README.md"]
    # the same customers and values otherwise
    plain = pd.concat(t for n, t in demo.plain.lists.items() if n.startswith("segment-"))
    assert len(plain) == len(table)


def test_unknown_segment_exits_2_and_keeps_the_last_export(demo, capsys):
    before = {p.name: p.read_bytes() for p in demo.folder.iterdir()}
    code = main([*demo.args, "--segment", "no-such-list"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown segment or bucket 'no-such-list'" in err and "Traceback" not in err
    assert "hint: choose one of: " in err
    assert {p.name: p.read_bytes() for p in demo.folder.iterdir()} == before
    assert [p.name for p in demo.folder.parent.iterdir()] == [MONTH]  # no temporary folders


def test_segment_option_writes_only_that_list(demo, capsys):
    name = next(n for n in sorted(demo.plain.lists) if n.startswith("segment-"))
    key = name.removeprefix("segment-").removesuffix(".csv")
    assert main([*demo.args, "--segment", key]) == 0
    assert sorted(p.name for p in demo.folder.iterdir()) == ["README.md", name]
    assert (demo.folder / name).read_text("utf-8-sig") == demo.plain.texts[name]
    capsys.readouterr()


def test_lists_without_a_clv_model_still_written(tmp_path, capsys):
    warehouse = tmp_path / "warehouse"
    write_demo(warehouse, stores=["demo-chiangmai"], customers=400, seed=7)
    code = main(["segments", "export", "--store", "demo-chiangmai", "--data-dir", str(warehouse),
                 "--set", "clv.min_customers=1000000"])  # fmt: skip
    out = capsys.readouterr().out.replace("\n", " ")
    assert code == 0
    assert "The CLV model could not be fitted, so the prediction columns are empty" in out
    months = list((tmp_path / "exports" / "demo-chiangmai").iterdir())
    assert len(months) == 1
    tables = _read_lists(months[0])
    table = pd.concat(tables.values())
    assert len(table) > 0
    cols = ["p_alive", "expected_purchases_90d", "next_order_date", "clv_12m", "churn_risk"]
    assert table[cols].isna().all().all()
    readme = (months[0] / "README.md").read_text("utf-8")
    assert readme.startswith("# รายชื่อลูกค้าสำหรับแคมเปญ")  # demo-chiangmai speaks Thai
    assert "customer_id" in readme  # column headers stay English keys


def test_help_lists_the_export_command():
    assert main(["segments", "export", "--help"]) == 0


def test_a_store_without_registered_customers_is_one_line(tmp_path, capsys):
    warehouse = tmp_path / "warehouse"
    rows = [(f"o{i}", None, f"2026-0{m}-10T05:00:00Z", 100.0, "completed")
            for i, m in enumerate([6, 7, 8, 9])]  # fmt: skip
    write_table(warehouse, "orders", "guests", orders_frame(rows))
    code = main(["segments", "export", "--store", "guests", "--month", "2026-08",
                 "--data-dir", str(warehouse)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "error: no registered customer has a completed order in the 365 days" in err
    assert not (tmp_path / "exports").exists()
