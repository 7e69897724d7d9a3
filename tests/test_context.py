"""The section context: the report month and the warnings every reader must see."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import orders_frame, write_table

from analysis.context import resolve_run, section_context
from analysis.errors import ConfigError
from analysis.i18n import current_language, set_language

BANGKOK = dt.timezone(dt.timedelta(hours=7))


def _orders_per_month(counts: dict[str, int]) -> pd.DataFrame:
    """``n`` completed orders on the 10th of each ``YYYY-MM`` at noon Bangkok time, and one
    on the month's last day for the last month (so that it is the last complete month)."""
    rows, i = [], 0
    months = list(counts)
    for month, n in counts.items():
        year, mon = (int(x) for x in month.split("-"))
        for _ in range(n):
            when = dt.datetime(year, mon, 10, 12, tzinfo=BANGKOK)
            if month == months[-1] and _ == n - 1:
                when = (pd.Timestamp(when) + pd.offsets.MonthEnd(0)).to_pydatetime()
            rows.append(
                (f"o{i}", f"c{i % 7}", when.astimezone(dt.UTC).isoformat(), 10.0, "completed")
            )
            i += 1
    return orders_frame(rows)


def test_thin_last_month_gets_a_warning(warehouse_dir):
    counts = {"2026-01": 100, "2026-02": 120, "2026-03": 80, "2026-04": 110, "2026-05": 2}
    write_table(warehouse_dir, "orders", "shop", _orders_per_month(counts))
    ctx = section_context("shop", None, {"language": "en"}, warehouse_dir)
    assert ctx.month == "2026-05"
    # median of 100, 120, 80, 110 = (100 + 110) / 2 = 105; 2 / 105 = 1.9%
    assert ctx.data_warnings() == [
        "May 2026 holds only 2 orders, 1.9% of a typical month (median 105 over the previous 4 "
        "months with orders): the data may end early in the month or the store paused, so this "
        "month's figures and their changes are not comparable with earlier months. Choose an "
        "earlier month (MONTH=YYYY-MM) for a full picture."
    ]
    # April: 110 orders against the median of January–March (100) — no warning
    assert section_context("shop", "2026-04", {}, warehouse_dir).data_warnings() == []


def test_no_warning_without_enough_earlier_months(warehouse_dir):
    # 10.5 = 10% of 105 is the threshold; two earlier months are too few to judge
    counts = {"2026-03": 100, "2026-04": 110, "2026-05": 1}
    write_table(warehouse_dir, "orders", "shop", _orders_per_month(counts))
    assert section_context("shop", None, {}, warehouse_dir).data_warnings() == []


def test_a_month_at_the_threshold_is_not_thin(warehouse_dir):
    # median(100, 100, 100) = 100; 10 orders = exactly 10% -> not below the share
    counts = {"2026-01": 100, "2026-02": 100, "2026-03": 100, "2026-04": 10}
    write_table(warehouse_dir, "orders", "shop", _orders_per_month(counts))
    assert section_context("shop", None, {}, warehouse_dir).data_warnings() == []
    write_table(warehouse_dir, "orders", "shop", _orders_per_month({**counts, "2026-04": 9}))
    assert (
        section_context("shop", None, {}, warehouse_dir)
        .data_warnings()[0]
        .startswith(
            "Apr 2026 holds only 9 orders, 9.0% of a typical month (median 100 over the previous 3"
        )
    )


def test_resolve_run_is_what_section_context_uses(warehouse_dir):
    counts = {"2026-01": 3, "2026-02": 3, "2026-03": 3}
    write_table(warehouse_dir, "orders", "shop", _orders_per_month(counts))
    run = resolve_run("shop", None, {"kpis.trend_months": 6}, warehouse_dir)
    ctx = section_context("shop", None, {"kpis": {"trend_months": 6}}, warehouse_dir)
    assert run.month == ctx.month == "2026-03"  # the last order is on 31 March, local time
    assert run.params == ctx.params and run.params.kpis.trend_months == 6
    assert run.warehouse.root == ctx.warehouse.root == warehouse_dir.resolve()
    # 1 March 00:00 and 1 April 00:00 in Bangkok (UTC+7) as UTC instants
    assert ctx.start == dt.datetime(2026, 2, 28, 17, tzinfo=dt.UTC)
    assert ctx.end == dt.datetime(2026, 3, 31, 17, tzinfo=dt.UTC)
    assert ctx.month_last_day == dt.date(2026, 3, 31)


def test_resolve_run_refuses_unknown_stores_and_months_outside_the_orders(warehouse_dir):
    write_table(warehouse_dir, "orders", "shop", _orders_per_month({"2026-01": 2, "2026-02": 2}))
    with pytest.raises(ConfigError) as err:
        resolve_run("shope", None, {}, warehouse_dir)
    assert "unknown store 'shope'" in err.value.message
    assert err.value.message.endswith("(stores with orders: shop)")
    with pytest.raises(ConfigError) as err:
        section_context("shop", "2026-03", {}, warehouse_dir)
    assert err.value.message == (
        "month 2026-03 is outside the orders of store 'shop' (2026-01-10 to 2026-02-28, local time)"
    )
    assert err.value.hint.startswith("choose a month from 2026-01 to 2026-02")
    with pytest.raises(ConfigError, match="invalid month '2026-13'"):
        resolve_run("shop", "2026-13", {}, warehouse_dir)


def test_the_context_speaks_the_store_language(warehouse_dir):
    counts = {"2026-01": 100, "2026-02": 120, "2026-03": 80, "2026-04": 110, "2026-05": 2}
    write_table(warehouse_dir, "orders", "shop", _orders_per_month(counts))
    try:
        ctx = section_context("shop", None, {"language": "th", "buddhist_era": True}, warehouse_dir)
        assert current_language() == "th"  # every _() of the notebook from here on
        assert ctx.month_title == "พ.ค. 2569"
        assert ctx.data_warnings()[0].startswith(
            "พ.ค. 2569 มีคำสั่งซื้อเพียง 2 รายการ คิดเป็น 1.9% ของเดือนปกติ (ค่ามัธยฐาน 105 รายการ "
            "จาก 4 เดือนก่อนหน้าที่มีคำสั่งซื้อ)"
        )
    finally:
        set_language("en")
