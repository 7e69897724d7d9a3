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


HEADER = (SAMPLES / "shopify_orders.csv").read_text(encoding="utf-8").splitlines()[0]


def _export(tmp_path, rows: list[dict[str, str]]):
    """A Shopify orders export with the real header; unnamed cells empty."""
    names = HEADER.split(",")
    lines = [HEADER] + [",".join(row.get(n, "") for n in names) for row in rows]
    return write(tmp_path / "orders_export_1.csv", "\n".join(lines) + "\n")


def _order(name, email, status, total, refunded, created, qty=1, **more):
    return {"Name": name, "Email": email, "Financial Status": status, "Currency": "USD",
            "Total": total, "Refunded Amount": refunded, "Created at": created,
            "Lineitem quantity": str(qty), "Discount Amount": "0.00", "Source": "web", **more}  # fmt: skip


US_ORDERS = [
    _order("#2001", "ann@example.com", "paid", "100.00", "0.00", "2024-05-01 09:00:00 -0400"),
    # partially refunded: 250.00 charged, 40.00 given back
    _order("#2002", "ann@example.com", "partially_refunded", "250.00", "40.00",
           "2024-05-02 10:00:00 -0400", qty=3),
    _order("#2003", "bob@example.com", "refunded", "80.00", "80.00", "2024-05-03 11:00:00 -0400"),
    _order("#2004", "bob@example.com", "voided", "60.00", "0.00", "2024-05-04 12:00:00 -0400"),
]  # fmt: skip


def test_usd_export_with_partial_refund_and_voided_order(project: Project, tmp_path, capsys):
    path = _export(tmp_path, US_ORDERS)
    code = project.ingest("--store", "us-shop", "--format", "shopify", "--currency", "USD",
                          "--timezone", "America/New_York", path)  # fmt: skip
    assert code == 0, capsys.readouterr().err
    ann, bob = pid("ann@example.com"), pid("bob@example.com")
    assert [(r[0], r[2], r[3], r[4], r[6], r[7]) for r in project.rows("orders", "us-shop")] == [
        ("#2001", ann, utc(2024, 5, 1, 13, 0), 100.0, 1, "completed"),
        ("#2002", ann, utc(2024, 5, 2, 14, 0), 210.0, 3, "completed"),  # 250 − 40
        ("#2003", bob, utc(2024, 5, 3, 15, 0), 80.0, 1, "refunded"),  # not a sale
        ("#2004", bob, utc(2024, 5, 4, 16, 0), 60.0, 1, "cancelled"),  # voided: not a sale
    ]
    # completed revenue 100 + 210 = 310 (the full Totals would say 350: +12.9 %)
    text = (project.root / "params" / "stores" / "us-shop.yaml").read_text(encoding="utf-8")
    assert "currency: USD\n" in text and "timezone: America/New_York\n" in text
    assert "display_name:" not in text
    from analysis.config import load_params

    params = load_params("us-shop", root=project.root)
    assert (params.currency, params.timezone) == ("USD", "America/New_York")


def test_usd_export_into_a_baht_store_is_refused(project: Project, tmp_path, capsys):
    project.store_params("th-shop", "display_name: ร้านไทย\n")  # THB from the defaults
    path = _export(tmp_path, US_ORDERS)
    before = project.snapshot()
    assert project.ingest("--store", "th-shop", "--format", "shopify", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "orders_export_1.csv: column 'Currency': 4 rows in USD, but the store's currency is THB"
        in err
    )
    assert "line 2: 'USD', line 3: 'USD'" in err
    assert project.snapshot() == before
    # a new store without --currency gets the default THB: refused as well, no params file
    assert project.ingest("--store", "new-shop", "--format", "shopify", path) == 2
    assert "--currency USD" in capsys.readouterr().err
    assert not (project.root / "params" / "stores" / "new-shop.yaml").exists()
    # an existing store file that says THB wins over --currency USD
    assert project.ingest("--store", "th-shop", "--format", "shopify", "--currency", "USD",
                          path) == 2  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert "store th-shop has currency THB" in err and "but this ingest says USD" in err
    assert project.snapshot() == before


def test_partial_refund_without_refunded_amount_is_named(project: Project, tmp_path, capsys):
    rows = [_order("#3001", "ann@example.com", "partially_refunded", "120.00", "",
                   "2024-05-01 09:00:00 -0400"),
            _order("#3002", "ann@example.com", "paid", "50.00", "70.00",
                   "2024-05-02 09:00:00 -0400")]  # fmt: skip
    path = _export(tmp_path, rows)
    assert project.ingest("--store", "us", "--currency", "USD", "--format", "shopify", path) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "column 'Refunded Amount': missing on a partially_refunded order" in err
    assert "(line 2: NULL)" in err
    assert "column 'Refunded Amount': above the order's Total on a completed order" in err
    assert "(line 3: '70.00')" in err
