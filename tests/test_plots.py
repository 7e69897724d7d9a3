import warnings

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager

from analysis import formats, plots


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
    ax.set_xticks([0, 1], labels=formats.month_labels(["2026-09-01", "2026-10-01"], "th", True))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    assert not [w for w in seen if "missing from font" in str(w.message)]


# --------------------------------------------------------------------------- changes and labels


# --------------------------------------------------------------------------- axes


def tick_labels(ax, axis: str = "y", minor: bool = False) -> list[str]:
    ax.figure.canvas.draw()
    target = ax.yaxis if axis == "y" else ax.xaxis
    ticks = target.get_minorticklabels() if minor else target.get_ticklabels()
    return [t.get_text() for t in ticks if t.get_text()]


def test_percent_axis_labels_are_exact():
    # ticks at 0.025, 0.050, 0.075 used to read "2%, 5%, 8%" (rounded): now 2.5%, 5.0%, 7.5%
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.02, 0.08])
    ax.set_yticks([0.025, 0.05, 0.075])
    plots.percent_axis(ax)
    assert tick_labels(ax) == ["2.5%", "5.0%", "7.5%"]
    ax.set_yticks([0.0, 0.2, 0.4])
    assert tick_labels(ax) == ["0%", "20%", "40%"]  # whole percents need no decimals
    plt.close(fig)


def test_money_axis_labels_are_distinct_and_not_rounded_away():
    # a BRL axis from 0 to 1.2 used to read "BRL 0, BRL 0, BRL 1"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1.2])
    ax.set_yticks([0.0, 0.4, 0.8, 1.2])
    plots.money_axis(ax, "BRL")
    assert tick_labels(ax) == ["BRL 0", "BRL 0.4", "BRL 0.8", "BRL 1.2"]
    # one suffix for the whole axis, chosen from the largest tick
    ax.set_yticks([0, 500_000, 1_000_000, 1_500_000])
    assert tick_labels(ax) == ["BRL 0", "BRL 0.5M", "BRL 1.0M", "BRL 1.5M"]
    plt.close(fig)


def test_money_log_axis_has_no_scientific_notation():
    # the spend chart's log axis used to label minor ticks "2 × 10¹"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [12, 70])
    ax.set_yscale("log")
    plots.money_axis(ax, "USD")
    labels = tick_labels(ax) + tick_labels(ax, minor=True)
    assert labels and all(label.startswith("$") for label in labels), labels
    assert not any("10" in label and "×" in label for label in labels)
    assert "$20" in labels and "$100" in labels
    plt.close(fig)


def test_number_axis_has_no_offset_or_exponent():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1_000_000, 1_000_040])
    ax.set_yticks([1_000_000, 1_000_020, 1_000_040])
    plots.number_axis(ax)
    assert tick_labels(ax) == ["1,000,000", "1,000,020", "1,000,040"]
    assert ax.yaxis.get_offset_text().get_text() == ""
    plt.close(fig)


def test_trend_chart_leaves_months_without_data_out():
    # Jan has no data (NaN: before the store's first order): a gap, not a point at 0
    data = pd.DataFrame(
        {"month": pd.date_range("2026-01-01", periods=3, freq="MS"), "orders": [None, 5, 7]}
    )
    ax = plots.trend_chart(data, x="month", y="orders", title="Orders")
    y = ax.lines[0].get_ydata()
    assert pd.isna(y[0]) and list(y[1:]) == [5, 7]
    assert len(ax.get_xticks()) == 3  # the month is still on the axis
    plt.close(ax.figure)


# --------------------------------------------------------------------------- markdown


def test_markdown_money_keeps_bold(tmp_path):
    from markdown_it import MarkdownIt
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    def text(money) -> str:
        return f"Total **{money(265095, 'USD')}**, mean **{money(104, 'USD')}** per customer."

    # unescaped, the notebook renderer (nbconvert's mistune with maths) reads $...$ as a
    # formula: "$265,095**, mean **$104" ends up inside one <strong>
    assert "<strong>$265,095</strong>" not in markdown2html_mistune(text(formats.format_money))
    for render in (markdown2html_mistune, MarkdownIt().render):
        html = render(text(plots.markdown_money))
        assert "<strong>$265,095</strong>" in html and "<strong>$104</strong>" in html
    # baht needs no maths escape; the comma's backslash renders as the comma
    assert markdown2html_mistune(plots.markdown_money(265095)).strip() == "<p>฿265,095</p>"


def test_markdown_escape_is_literal():
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    text = r"a*b_c [x](y) <b> `z` $1 | ~ # \ "
    html = markdown2html_mistune(plots.markdown_escape(text))
    assert html.strip() == "<p>a*b_c [x](y) &lt;b&gt; `z` $1 | ~ # \\</p>"


# --------------------------------------------------------------------------- no data


def test_year_on_year_frame_reads_like_a_report():
    yoy = pd.DataFrame(
        {
            "cohort": pd.to_datetime(["2026-07-01", "2026-08-01"]),
            "year_earlier": pd.to_datetime(["2025-07-01", "2025-08-01"]),
            "k1": [0.072, 0.081], "k1_year_earlier": [float("nan"), 0.0806],
            "k1_change": [float("nan"), 0.0004],
        }
    )  # fmt: skip
    frame = plots.year_on_year_frame(yoy, formats.month_label)
    assert list(frame.columns) == [
        "Cohort", "Cohort a year earlier", "Month 1", "Month 1, a year earlier", "Month 1 change",
    ]  # fmt: skip
    assert frame.iloc[0].tolist() == ["Jul 2026", "Jul 2025", "7.2%", "no data", ""]
    # 8.10 % vs 8.06 %: +0.04 pp is 0.0 at one decimal -> "0 pp", without a sign
    assert frame.iloc[1].tolist() == ["Aug 2026", "Aug 2025", "8.1%", "8.1%", "0 pp"]
    weekly = plots.year_on_year_frame(yoy, str, period="week")
    assert "Week 1, a year earlier" in weekly.columns
    thai = plots.year_on_year_frame(yoy, str, language="th")
    assert list(thai.columns) == [
        "กลุ่มลูกค้า", "กลุ่มลูกค้าเมื่อหนึ่งปีก่อน", "เดือนที่ 1", "เดือนที่ 1 ของปีก่อน",
        "เดือนที่ 1 เปลี่ยนแปลง",
    ]  # fmt: skip
    assert thai.iloc[0].tolist()[2:] == ["7.2%", "ไม่มีข้อมูล", ""]


def test_heatmap_annotations_never_round_a_share_to_nothing():
    assert plots.share_label(0.004) == "0.4%"  # a marketplace's month-1 retention
    assert plots.share_label(0.0) == "0%"
    assert plots.share_label(0.25) == "25%"
    assert plots.share_label(0.0951) == "10%"  # from 9.5 % whole percents suffice
    assert plots.share_label(float("nan")) == ""
    matrix = pd.DataFrame({0: [1.0, 1.0], 1: [0.004, float("nan")]}, index=["Jan", "Feb"])
    ax = plots.retention_heatmap(matrix, title="t", xlabel="k")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["100%", "0.4%", "100%"]  # the unobserved cell has no annotation
    plt.close(ax.figure)


# --------------------------------------------------------------------------- escaping

SCRIPT_NAME = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


def _visible(html: str) -> str:
    """Text a reader sees in rendered HTML (tags dropped, entities decoded)."""
    import re
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", html)).strip()


def test_markdown_escape_turns_raw_html_and_entities_into_text():
    from markdown_it import MarkdownIt
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from analysis.report.html import executable_markup

    names = [
        SCRIPT_NAME,
        "AT&T &lt;b&gt; &#60;script&#62;",  # entities read as typed, not decoded
        r"\(<img src=x onerror=alert(1)>\)",  # maths delimiters do not swallow the escape
        "[click](javascript:alert(1)) <https://example.com> www.example.com",
        "1. Variant A\n- ร้าน $5 **ทดสอบ** | ~~x~~",
    ]
    for name in names:
        for render in (markdown2html_mistune, MarkdownIt().render):
            html = render(f"Store **{plots.markdown_escape(name)}**")
            assert executable_markup(html) == [], (name, html)
            assert "<a " not in html and "<img" not in html and "<script" not in html
            # the name reads exactly as written (line breaks become spaces)
            assert _visible(html) == "Store " + " ".join(name.splitlines()), html


def test_html_table_escapes_cells_labels_and_level_names():
    from analysis.report.html import executable_markup

    frame = pd.DataFrame(
        {SCRIPT_NAME: ["<b>bold</b>", "x"], "rate": [0.25, None], "money": [1234.0, 5.0]},
        index=pd.Index([SCRIPT_NAME, "ok"], name="<i onmouseover=alert(1)>"),
    )
    frame.columns.name = "<svg onload=alert(1)>"
    styler = plots.html_table(
        frame,
        {"rate": "{:.0%}", "money": lambda v: f"<{formats.format_money(v)}>"},
        na_rep="–",
    )
    html = styler.to_html()
    assert executable_markup(html) == []
    assert "<b>" not in html and "<script" not in html and "<svg" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # a cell without formatter
    assert "&lt;฿1,234&gt;" in html  # a formatter's output is escaped too
    assert ">25%<" in html and ">–<" in html  # formats and na_rep still apply
    text = _visible(html)
    assert SCRIPT_NAME in text  # as a column label and an index label
    assert "<i onmouseover=alert(1)>" in text and "<svg onload=alert(1)>" in text
    assert list(frame.columns) == [SCRIPT_NAME, "rate", "money"]  # the frame is unchanged
    assert frame.index.name == "<i onmouseover=alert(1)>"
    # one formatter for every column, and hide() chains as on any Styler
    one = plots.html_table(frame[["rate"]], "{:.1%}", na_rep="").hide(axis="index").to_html()
    assert ">25.0%<" in one and SCRIPT_NAME not in one


def test_chart_text_keeps_dollars_literal():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label=plots.chart_text("$5 off $\\frac{"))
    legend = ax.legend()
    fig.canvas.draw()  # a malformed formula would raise here without the escape
    assert legend.get_texts()[0].get_text() == r"\$5 off \$\frac{"
    plt.close(fig)
