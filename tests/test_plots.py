import warnings

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager

from analysis import plots


def test_thai_font_is_registered_and_chosen():
    family = plots.register_thai_font()
    assert family == "Sarabun"
    plots.set_theme()
    path = font_manager.findfont(
        font_manager.FontProperties(family=matplotlib.rcParams["font.family"])
    )
    assert "Sarabun" in path


def test_thai_text_renders_without_missing_glyphs():
    plots.set_theme()
    fig, ax = plt.subplots()
    ax.set_title("ยอดขายรายเดือน ร้านเดโม่ กรุงเทพฯ")
    ax.set_xticks([0, 1], labels=plots.month_labels(["2026-09-01", "2026-10-01"], "th", True))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    assert not [w for w in seen if "missing from font" in str(w.message)]


def test_month_labels():
    assert plots.month_label("2026-10-01") == "Oct 2026"
    assert plots.month_label(pd.Timestamp("2026-10-01"), "th", buddhist_era=True) == "ต.ค. 2569"
    assert plots.month_label("2026-01", "th") == "ม.ค. 2026"


def test_money_formatting():
    assert plots.format_money(1234567.8) == "฿1,234,568"
    assert plots.format_money(-5.5, "USD", decimals=2) == "-$5.50"
    assert plots.format_money(float("nan")) == "–"
    assert plots.format_compact_money(1_250_000) == "฿1.25M"  # exact, never rounded away
    assert plots.format_compact_money(0.25, "BRL") == "BRL 0.25"
    assert plots.format_compact_money(350, "EUR") == "€350"


def test_metric_formatting_by_unit():
    assert plots.format_metric(2204041.44, "money") == "฿2,204,041"
    assert plots.format_metric(12.5, "money") == "฿12.50"
    assert plots.format_metric(3505, "count") == "3,505"
    assert plots.format_metric(0.975, "ratio") == "97.5%"
    assert plots.format_metric(0.0252, "ratio") == "2.52%"
    assert plots.format_metric(30.9, "points") == "+31"
    assert plots.format_metric(None, "money") == "–"
    assert plots.format_change(0.0958, 1.0, "money") == "+9.6%"
    assert plots.format_change(0.5, -0.0021, "ratio") == "-0.21 pp"
    assert plots.format_change(None, -1.2, "points") == "-1 point"


def test_scorecard_frame_says_what_is_missing():
    table = pd.DataFrame(
        [
            {"metric": "revenue", "label": "Revenue", "unit": "money", "available": True,
             "missing_table": None, "current": 100.0, "previous": 80.0, "year_ago": None,
             "change_vs_previous": 20.0, "pct_vs_previous": 0.25, "change_vs_year_ago": None,
             "pct_vs_year_ago": None, "higher_is_better": True},
            {"metric": "nps", "label": "NPS", "unit": "points", "available": False,
             "missing_table": "surveys", "current": None, "previous": None, "year_ago": None,
             "change_vs_previous": None, "pct_vs_previous": None, "change_vs_year_ago": None,
             "pct_vs_year_ago": None, "higher_is_better": True},
        ]
    ).set_index("metric", drop=False)  # fmt: skip
    frame = plots.scorecard_frame(table, "THB", "th")
    assert frame.iloc[0].tolist() == ["ยอดขาย", "฿100", "฿80.00", "+25.0%", "–", "–"]
    assert frame.iloc[1, 1] == "not available — add surveys to the warehouse"
    cards = plots.kpi_cards(table, ["revenue", "nps"], "THB")
    assert [c["key"] for c in cards] == ["revenue"]  # no card for a missing metric
    assert cards[0]["direction"] == "up" and cards[0]["good"] is True
