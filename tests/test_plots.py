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
    assert plots.format_compact_money(1_250_000) == "฿1.2M"
    assert plots.format_compact_money(350, "EUR") == "€350"
