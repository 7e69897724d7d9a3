"""Formats in English (as the reports always read) and in Thai."""

import pandas as pd

from analysis import formats
from analysis.i18n import use_language


def test_month_labels():
    assert formats.month_label("2026-10-01") == "Oct 2026"
    assert formats.month_label(pd.Timestamp("2026-10-01"), "th", buddhist_era=True) == "ต.ค. 2569"
    assert formats.month_label("2026-01", "th") == "ม.ค. 2026"


def test_money_formatting():
    assert formats.format_money(1234567.8) == "฿1,234,568"
    assert formats.format_money(-5.5, "USD", decimals=2) == "-$5.50"
    assert formats.format_money(float("nan")) == "–"
    assert formats.format_compact_money(1_250_000) == "฿1.25M"  # exact, never rounded away
    assert formats.format_compact_money(0.25, "BRL") == "BRL 0.25"
    assert formats.format_compact_money(350, "EUR") == "€350"


def test_metric_formatting_by_unit():
    assert formats.format_metric(2204041.44, "money") == "฿2,204,041"
    assert formats.format_metric(12.5, "money") == "฿12.50"
    assert formats.format_metric(3505, "count") == "3,505"
    assert formats.format_metric(0.975, "ratio") == "97.5%"
    assert formats.format_metric(0.0252, "ratio") == "2.52%"
    assert formats.format_metric(30.9, "points") == "+31"
    assert formats.format_metric(None, "money") == "–"
    assert formats.format_change(0.0958, 1.0, "money") == "+9.6%"
    assert formats.format_change(0.5, -0.0021, "ratio") == "-0.21 pp"
    assert formats.format_change(None, -1.2, "points") == "-1 point"


def test_changes_sign_only_when_not_zero_at_the_shown_precision():
    assert formats.format_pct_change(0.0004) == "0%"  # +0.04 % shows as 0.0: no sign
    assert formats.format_pct_change(-0.0004) == "0%"  # never "-0.0%"
    assert formats.format_pct_change(0.0958) == "+9.6%"
    assert formats.format_pct_change(-0.12, decimals=0) == "-12%"
    assert formats.format_pct_change(None) == "–"
    assert formats.format_change(0.0, 0.0, "money") == "0%"
    assert formats.format_change(None, 0.00004, "ratio") == "0 pp"  # 0.004 pp at 2 decimals


def test_minus_100_percent_only_for_a_fall_to_nothing():
    assert formats.format_pct_change(-1.0) == "-100.0%"
    assert formats.format_pct_change(-1.0, decimals=0) == "-100%"
    assert formats.format_pct_change(-0.9996) == "-99.96%"  # not "-100.0%": 0.04 % is left
    assert formats.format_pct_change(-0.9996, decimals=0) == "-99.96%"
    assert formats.format_pct_change(-0.999999) == "-99.9999%"


def test_rate_differences_in_percentage_points():
    assert formats.format_pp_change(0.021) == "+2.1 pp"  # 0.021 of a share = 2.1 points
    assert formats.format_pp_change(-0.0021, decimals=2) == "-0.21 pp"
    assert formats.format_pp_change(0.0004) == "0 pp"
    assert formats.format_change(0.5, -0.0021, "ratio") == "-0.21 pp"


def test_points_singular_and_plural():
    assert formats.format_points_change(1.2) == "+1 point"
    assert formats.format_points_change(-12) == "-12 points"
    assert formats.format_points_change(0.3) == "0 points"
    assert formats.format_metric(-0.3, "points") == "0"  # NPS that rounds to 0: no "-0"
    assert formats.format_metric(30.9, "points") == "+31"


def test_money_never_shows_minus_zero():
    assert formats.format_money(-0.4) == "฿0"
    assert formats.format_compact_money(-0.001, "USD", decimals=2) == "$0"


def test_month_names_in_both_widths_come_from_babel():
    assert formats.month_label("2026-10", "en", width="wide") == "October 2026"
    assert formats.month_label("2026-10", "th", True, width="wide") == "ตุลาคม 2569"
    assert formats.month_labels(["2026-12-01", "2027-01-01"], "th", True) == [
        "ธ.ค. 2569",
        "ม.ค. 2570",
    ]
    with use_language("th"):
        assert formats.month_label("2026-02") == "ก.พ. 2026"  # the current language by default
    assert formats.month_label("2026-02") == "Feb 2026"


def test_thai_words_and_the_same_figures():
    with use_language("th"):
        assert formats.format_metric(2204041.44, "money") == "฿2,204,041"
        assert formats.format_metric(4.46, "days") == "4.5 วัน"
        assert formats.format_pp_change(0.021) == "+2.1 จุด"
        assert formats.format_points_change(-12) == "-12 คะแนน"
        assert formats.format_points_change(1.2) == "+1 คะแนน"
        assert formats.format_compact_money(1_250_000) == "฿1.25 ล้าน"
        assert formats.format_compact_money(350_000) == "฿350 พัน"
        assert formats.format_compact_money(2e9) == "฿2 พันล้าน"
        assert formats.format_pct_change(0.0958) == "+9.6%"
    assert formats.format_metric(4.46, "days") == "4.5 days"
    assert formats.format_compact_money(2e9) == "฿2B"
