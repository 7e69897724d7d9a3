"""`--format shopify`: one row per line item → one order; e-mails become keyed pseudonyms.

Expected pseudonyms are computed here with hmac directly (key ``test-key``,
set by the ``project`` fixture); instants by hand from the ``+0700`` offsets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from .helpers import SAMPLES, Project, write


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def pid(email: str) -> str:
    return "c_" + hmac.new(b"test-key", email.encode(), hashlib.sha256).hexdigest()[:16]


def test_orders_and_customers_from_a_shopify_export(project: Project):
    assert project.ingest("--store", "shop", "--format", "shopify",
                          SAMPLES / "shopify_orders.csv") == 0  # fmt: skip
    somchai, nida = pid("somchai@example.com"), pid("nida@example.com")
    assert project.rows("orders", "shop") == [
        ("#1001", "shop", somchai, utc(2024, 1, 5, 3, 15, 30), 1150.0, 100.0, 3, "completed", "web"),
        ("#1002", "shop", somchai, utc(2024, 2, 10, 11, 0), 350.0, 0.0, 1, "refunded", "web"),
        ("#1003", "shop", None, utc(2024, 3, 1, 2, 0), 99.0, 0.0, 1, "cancelled", "pos"),
        ("#1004", "shop", nida, utc(2024, 3, 15, 14, 45, 10), 560.0, 0.0, 2, "completed",
         "shopify_draft_order"),
    ]  # fmt: skip
    assert project.rows("customers", "shop") == [
        (nida, "shop", "Chiang Mai", "nida@example.com", "+66 89 999 0000", "นิดา ศรีสุข"),
        (somchai, "shop", "Nonthaburi", "somchai@example.com", "+66 81 234 5678", "สมชาย ใจดี"),
    ] if nida < somchai else [
        (somchai, "shop", "Nonthaburi", "somchai@example.com", "+66 81 234 5678", "สมชาย ใจดี"),
        (nida, "shop", "Chiang Mai", "nida@example.com", "+66 89 999 0000", "นิดา ศรีสุข"),
    ]  # fmt: skip
    # no raw e-mail in the orders table
    assert not any("@" in str(v) for row in project.rows("orders", "shop") for v in row)


def test_params_status_words_come_first(project: Project):
    project.store_params("shop", "ingest:\n  status:\n    cancelled: [pending]\n")
    assert project.ingest("--store", "shop", "--format", "shopify",
                          SAMPLES / "shopify_orders.csv") == 0  # fmt: skip
    assert [r[7] for r in project.rows("orders", "shop")] == [
        "completed",
        "refunded",
        "cancelled",
        "cancelled",
    ]


def test_not_a_shopify_export(project: Project, tmp_path, capsys):
    path = write(tmp_path / "o.csv", "Name,Email,Total\n#1,a@b.c,5\n")
    assert project.ingest("--store", "shop", "--format", "shopify", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "missing column(s) Financial Status, Created at, Lineitem quantity" in err


def test_unknown_financial_status_is_named(project: Project, tmp_path, capsys):
    text = (
        (SAMPLES / "shopify_orders.csv")
        .read_text(encoding="utf-8")
        .replace(",pending,", ",on_hold,")
    )
    path = write(tmp_path / "orders_export.csv", text)
    assert project.ingest("--store", "shop", "--format", "shopify", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "column 'Financial Status': not one of" in err and "line 6: 'on_hold'" in err


def test_quarantine_leaves_an_order_with_a_bad_line_out_whole(project: Project, tmp_path):
    text = (SAMPLES / "shopify_orders.csv").read_text(encoding="utf-8")
    assert ",1,กางเกงเล," in text
    path = write(tmp_path / "orders_export.csv", text.replace(",1,กางเกงเล,", ",x,กางเกงเล,"))
    assert project.ingest("--store", "shop", "--format", "shopify", "--quarantine", path) == 0
    assert [r[0] for r in project.rows("orders", "shop")] == ["#1002", "#1003", "#1004"]
    (rejected,) = (project.root / "data" / "rejected" / "shop").iterdir()
    lines = rejected.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["2", "another line of this order was rejected"],
        ["3", "Lineitem quantity: not a whole number"],
    ]
