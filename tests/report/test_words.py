"""The report's frame in the store's language: index pages, titles, labels, the data warning."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis.i18n import use_language
from analysis.narrative import report as text
from analysis.report import index, manifest
from analysis.report.html import _image_alt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from visible_words import english_words, visible_text

SUMMARIES = {
    "kpis": {
        "cards": [{"key": "revenue", "label": "ยอดขาย", "value": "฿717,117", "change": "+1.6%",
                   "direction": "up", "good": True}],
        "findings": [],
        "warnings": ["ข้อมูลเดือนนี้น้อยผิดปกติ"],
    },
}  # fmt: skip


def _index(language: str, buddhist_era: bool) -> str:
    return index.render_report_index(
        title="ร้านทดสอบ",
        store="shop",
        month="2026-10",
        sections=["kpis", "cohorts", "clv", "segments", "loyalty_ab"],
        summaries=SUMMARIES,
        generated_at="2026-11-03T08:15:00Z",
        language=language,
        buddhist_era=buddhist_era,
    )


def test_english_report_index_reads_as_before():
    page = visible_text(_index("en", False))
    for words in (
        "ร้านทดสอบ – October 2026",
        "Monthly CRM report · October 2026 · ",
        "Warnings: read before trusting these numbers",
        "Key performance indicators",
        "Executive summary",
        "Sections",
        "Cohorts and retention",
        "Customer lifetime value",
        "Customer segments",
        "Loyalty programme and A/B tests",
        "Generated 2026-11-03T08:15:00Z · ",
        "All reports",
    ):
        assert words in page, words


def test_thai_report_index_has_no_english_word_but_the_store_id():
    page = _index("th", True)
    shown = visible_text(page)
    assert english_words(shown, allowed={"shop"}) == []
    assert "รายงานลูกค้าสัมพันธ์ประจำเดือน · ตุลาคม 2569" in shown
    assert "สร้างเมื่อ 3 พ.ย. 2569 08:15:00 UTC" in shown  # B.E. year, UTC time
    assert "ข้อควรระวังก่อนใช้ตัวเลขในรายงานนี้" in shown and "ตัวชี้วัดหลัก (KPI)" in shown
    assert '<html lang="th">' in page
    # without B.E. the year stays C.E.
    assert "ตุลาคม 2026" in visible_text(_index("th", False))


def test_reports_index_speaks_the_default_language_and_each_store_its_own(tmp_path):
    for store, language, era in [("shop-en", "en", False), ("shop-th", "th", True)]:
        folder = tmp_path / store / "2026-10"
        folder.mkdir(parents=True)
        (folder / "index.html").write_text("x")
        manifest.write_manifest(
            folder / "manifest.json",
            {"title": store, "params": {"language": language, "buddhist_era": era}},
        )
    english = visible_text(
        index.render_reports_index(tmp_path, generated_at="2026-11-03T08:15:00Z")
    )
    assert "CRM reports" in english and "October 2026" in english and "ตุลาคม 2569" in english
    assert "Generated 2026-11-03T08:15:00Z" in english
    thai = visible_text(index.render_reports_index(tmp_path, language="th"))
    assert "รายงานลูกค้าสัมพันธ์" in thai and "ตุลาคม 2569" in thai
    assert english_words(thai, allowed={"shop-en", "shop-th"}) == ["October"]  # shop-en's month


def test_section_titles_and_labels_in_both_languages():
    assert text.section_title("kpis") == "Key performance indicators"
    assert text.section_title("new_section") == "New section"  # unknown: its name
    with use_language("th"):
        assert text.section_title("segments") == "การแบ่งกลุ่มลูกค้า"
        assert text.report_month("2026-02", buddhist_era=True) == "กุมภาพันธ์ 2569"
    assert text.report_month("2026-02") == "February 2026"
    alt = 'alt="No description has been provided for this image"'
    assert _image_alt(f"<img {alt}>", "en") == f"<img {alt}>"
    assert _image_alt(f"<img {alt}>", "th") == '<img alt="แผนภูมิ (ไม่มีคำอธิบายเพิ่มเติม)">'


def test_thin_month_warning_in_both_languages():
    # 2 orders against a median of 105: 2 / 105 = 1.9%
    assert text.thin_month_warning("May 2026", 1, 105.0, 4).startswith(
        "May 2026 holds only 1 order, 1.0% of a typical month (median 105 over the previous 4"
    )
    with use_language("th"):
        warning = text.thin_month_warning("พ.ค. 2569", 2, 105.0, 4)
    assert warning.startswith(
        "พ.ค. 2569 มีคำสั่งซื้อเพียง 2 รายการ คิดเป็น 1.9% ของเดือนปกติ (ค่ามัธยฐาน 105 รายการ จาก 4 เดือน"
    )
    assert english_words(warning) == []
