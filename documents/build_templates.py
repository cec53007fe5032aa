"""Build the built-in .docx templates in ``documents/templates`` (python-docx + docxtpl tags).

Run ``python -m documents.build_templates`` after changing a layout; the .docx files are committed.
Layout follows the 公文 conventions in DOMAIN.md §3: A4, horizontal, ROC dates, 標楷體 for Chinese
(the East Asian font of every run, so Word on an office PC shows it) and Times New Roman for Latin
letters and digits; 20 pt for the office name and document type, 16 pt body, 12 pt for tables.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document as new_docx
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table

HERE = Path(__file__).parent / "templates"
KAI = "標楷體"
LATIN = "Times New Roman"


def set_fonts(rpr_parent: object, size: float | None = None) -> None:
    """標楷體 for Chinese and Times New Roman for Latin letters and digits on a run or style."""
    rpr = rpr_parent.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN)
    fonts.set(qn("w:eastAsia"), KAI)
    fonts.set(qn("w:hint"), "eastAsia")


def new_document(title: str) -> Document:
    doc = new_docx()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.5)
    sec.top_margin = sec.bottom_margin = Cm(2.5)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = Pt(16)
    set_fonts(normal.element)
    for name in ("Table Grid",):
        set_fonts(doc.styles[name].element)
    doc.core_properties.title = title
    doc.core_properties.author = "caseflow"
    # Footer with the case reference (rendered too: headers and footers go through the sandbox).
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(footer, "{{ footer_text }}", 10)
    return doc


def _run(paragraph: object, text: str, size: float | None = None, bold: bool = False) -> None:
    run = paragraph.add_run(text)  # type: ignore[attr-defined]
    set_fonts(run._r)
    if size:
        run.font.size = Pt(size)
    run.bold = bold


def para(doc: Document, text: str, size: float = 16, *, bold: bool = False, center: bool = False,
         indent_cm: float = 0) -> None:
    p = doc.add_paragraph()
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent_cm:
        p.paragraph_format.left_indent = Cm(indent_cm)
    p.paragraph_format.space_after = Pt(2)
    _run(p, text, size, bold)


def table(doc: Document, headers: list[str], cells: list[str], loop: str, totals: list[str] | None = None,
          size: float = 12, widths: list[float] | None = None) -> Table:
    """A table whose body rows repeat with ``{%tr for ... %}`` (docxtpl row loop); ``widths`` in cm
    (16 cm is the text width of A4 with 2.5 cm margins)."""
    t = doc.add_table(rows=0, cols=len(headers))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    widths = widths or [16 / len(headers)] * len(headers)
    for col, width in zip(t.columns, widths, strict=False):
        col.width = Cm(width)  # the table grid, which LibreOffice follows

    def row(values: list[str], bold: bool = False) -> None:
        r = t.add_row()
        for cell, width in zip(r.cells, widths, strict=False):
            cell.width = Cm(width)
        for cell, value in zip(r.cells, values, strict=False):
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(cell.paragraphs[0], value, size, bold)

    row(headers, bold=True)
    row([f"{{%tr {loop} %}}"] + [""] * (len(headers) - 1))
    row(cells)
    row(["{%tr endfor %}"] + [""] * (len(headers) - 1))
    if totals:
        row(totals, bold=True)
    return t


def header_block(doc: Document, title: str) -> None:
    para(doc, "{{ office_name }}", 20, bold=True, center=True)
    para(doc, title, 20, bold=True, center=True)


def sign_memo() -> Document:
    doc = new_document("簽")
    para(doc, "簽　於{{ unit_name }}　{{ date_long }}", 16, bold=True)
    para(doc, "主旨：{{ subject }}")
    para(doc, "說明：")
    para(doc, "{% for item in explanations %}{{ item.no }}、{{ item.text }}"
         "{% if not loop.last %}\n{% endif %}{% endfor %}", indent_cm=0.8)
    para(doc, "擬辦：{{ proposal }}")
    para(doc, "核辦紀錄", 14, bold=True)
    table(doc, ["日期", "處理人員", "處理情形", "意見"],
          ["{{ t.date }}", "{{ t.actor }}", "{{ t.action }}", "{{ t.comment }}"], "for t in trail",
          widths=[2.6, 2.8, 3.2, 7.4])
    para(doc, "承辦人：{{ drafter }}　　單位主管：{{ chief }}", 14)
    return doc


def training_results() -> Document:
    doc = new_document("性別意識培力執行成果表")
    header_block(doc, "{{ roc_year }}年{{ period_label }}性別意識培力執行成果表")
    para(doc, "填報單位：{{ unit_name }}　　填表日期：{{ date_short }}", 12)
    table(doc, ["序號", "課程名稱", "辦理日期", "時數", "辦理方式", "課程類別", "CEDAW代碼", "男", "女", "合計"],
          ["{{ r.no }}", "{{ r.course }}", "{{ r.date }}", "{{ r.hours }}", "{{ r.mode }}", "{{ r.level }}",
           "{{ r.cedaw_code }}", "{{ r.male }}", "{{ r.female }}", "{{ r.total }}"], "for r in rows",
          ["合計", "{{ rows|length }}場", "", "{{ totals.hours }}", "", "", "", "{{ totals.male }}",
           "{{ totals.female }}", "{{ totals.total }}"], size=10,
          widths=[1.0, 3.6, 2.0, 1.1, 1.4, 1.4, 1.5, 1.3, 1.3, 1.4])
    para(doc, "辦理情形摘要：{{ summary }}", 12)
    para(doc, "承辦人：{{ drafter }}　　單位主管：{{ chief }}", 12)
    return doc


def outreach_results() -> Document:
    doc = new_document("性別平等宣導執行成果表")
    header_block(doc, "{{ roc_year }}年{{ period_label }}性別平等宣導執行成果表")
    para(doc, "辦理單位：{{ unit_name }}　　填表日期：{{ date_short }}", 12)
    table(doc, ["活動名稱", "日期", "地點", "對象", "男", "女", "合計", "宣導方式/文宣"],
          ["{{ r.event }}", "{{ r.date }}", "{{ r.place }}", "{{ r.audience }}", "{{ r.male }}",
           "{{ r.female }}", "{{ r.total }}", "{{ r.materials }}"], "for r in rows",
          ["合計", "{{ rows|length }}場", "", "", "{{ totals.male }}", "{{ totals.female }}",
           "{{ totals.total }}", ""], size=11, widths=[3.0, 2.0, 2.2, 2.0, 1.2, 1.2, 1.3, 3.1])
    para(doc, "辦理情形摘要：{{ summary }}", 12)
    para(doc, "成果照片", 14, bold=True)
    para(doc, "{% for p in photos %}{{ p.image }}\n{{ p.caption }}{% if not loop.last %}\n{% endif %}{% endfor %}"
         "{% if not photos %}（無照片）{% endif %}", 12, center=True)
    para(doc, "承辦人：{{ drafter }}　　單位主管：{{ chief }}", 12)
    return doc


def annual_results() -> Document:
    doc = new_document("年度性別平等執行成果表")
    header_block(doc, "{{ result_year }}年度性別平等業務執行成果表")
    para(doc, "填報單位：{{ unit_name }}　　填表日期：{{ date_short }}", 12)
    para(doc, "年度執行概述：{{ summary }}", 12)
    table(doc, ["序號", "工作項目", "執行情形", "男", "女", "合計"],
          ["{{ r.no }}", "{{ r.item }}", "{{ r.result }}", "{{ r.male }}", "{{ r.female }}", "{{ r.total }}"],
          "for r in rows", ["合計", "", "", "{{ totals.male }}", "{{ totals.female }}", "{{ totals.total }}"],
          widths=[1.2, 4.0, 6.0, 1.6, 1.6, 1.6])
    para(doc, "承辦人：{{ drafter }}　　單位主管：{{ chief }}", 12)
    return doc


def budget_review_table() -> Document:
    doc = new_document("性別平等預算審議表")
    header_block(doc, "{{ roc_year }}年度性別平等預算審議表")
    para(doc, "填報單位：{{ unit_name }}　　填表日期：{{ date_short }}（金額單位：新臺幣元）", 12)
    table(doc, ["類別", "項目", "預算數", "執行數", "執行率"],
          ["第{{ r.category }}類", "{{ r.item }}", "{{ r.budgeted }}", "{{ r.executed }}", "{{ r.rate }}"],
          "for r in rows", ["合計", "", "{{ totals.budgeted }}", "{{ totals.executed }}", "{{ totals.rate }}"],
          widths=[2.0, 6.0, 3.0, 3.0, 2.0])
    para(doc, "前年度預算執行情形：{{ previous_year_note }}", 12)
    para(doc, "類別說明：第1類計畫類、第2類綱領類、第3類工具類、第4類性平法令類、第5類其他類。", 10)
    return doc


def meeting_notice() -> Document:
    doc = new_document("開會通知單")
    header_block(doc, "開會通知單")
    for line in ["受文者：{{ recipients }}", "發文日期：{{ date_long }}", "發文字號：{{ doc_no }}",
                 "速別：普通件", "開會事由：召開{{ session_no }}性別平等專案小組會議",
                 "開會時間：{{ meeting_date_long }}", "開會地點：{{ place }}", "主持人：{{ chair }}",
                 "出席者：{{ attendees }}", "列席者：{{ observers }}",
                 "聯絡人及電話：{{ contact_name }}　{{ contact_phone }}",
                 "備註：議程如附，請準時出席；不克出席者請指派代理人。"]:
        para(doc, line, 14)
    para(doc, "議程", 14, bold=True)
    table(doc, ["類別", "案由"], ["{{ a.section }}", "{{ a.subject }}"], "for a in agenda", widths=[3.0, 13.0])
    return doc


def meeting_minutes() -> Document:
    doc = new_document("會議紀錄")
    header_block(doc, "{{ session_no }}性別平等專案小組會議紀錄")
    for line in ["時間：{{ meeting_date_long }}", "地點：{{ place }}", "主席：{{ chair }}　　紀錄：{{ recorder }}",
                 "出席者：{{ attendees }}", "列席者：{{ observers }}", "請假者：{{ absent }}"]:
        para(doc, line, 14)
    para(doc, "壹、報告事項", 14, bold=True)
    para(doc, "{% for a in reports %}{{ a.no }}、{{ a.subject }}\n決定：{{ a.outcome }}{% if not loop.last %}\n"
         "{% endif %}{% endfor %}{% if not reports %}無{% endif %}", 14, indent_cm=0.8)
    para(doc, "貳、討論事項", 14, bold=True)
    para(doc, "{% for a in discussions %}{{ a.no }}、{{ a.subject }}\n決議：{{ a.outcome }}{% if not loop.last %}\n"
         "{% endif %}{% endfor %}{% if not discussions %}無{% endif %}", 14, indent_cm=0.8)
    para(doc, "參、臨時動議", 14, bold=True)
    para(doc, "{% for a in motions %}{{ a.no }}、{{ a.subject }}\n決議：{{ a.outcome }}{% if not loop.last %}\n"
         "{% endif %}{% endfor %}{% if not motions %}無{% endif %}", 14, indent_cm=0.8)
    para(doc, "肆、散會", 14, bold=True)
    return doc


def amendment_table() -> Document:
    doc = new_document("修正對照表")
    header_block(doc, "性別主流化實施計畫修正對照表")
    para(doc, "修正理由：{{ reason }}", 12)
    table(doc, ["修正規定", "現行規定", "說明"], ["{{ r.amended }}", "{{ r.current }}", "{{ r.explanation }}"],
          "for r in rows")
    return doc


def city_letter() -> Document:
    doc = new_document("函")
    header_block(doc, "函")
    for line in ["地址：{{ office_address }}", "承辦人：{{ drafter }}", "電話：{{ office_phone }}",
                 "受文者：{{ receiver }}",
                 "發文日期：{{ date_long }}", "發文字號：{{ doc_no }}", "速別：普通件",
                 "密等及解密條件或保密期限：", "附件：{{ attachments_text }}"]:
        para(doc, line, 12)
    para(doc, "主旨：{{ subject }}", 16)
    para(doc, "說明：", 16)
    para(doc, "{% for item in explanations %}{{ item.no }}、{{ item.text }}{% if not loop.last %}\n{% endif %}"
         "{% endfor %}", 16, indent_cm=0.8)
    para(doc, "正本：{{ receiver }}", 12)
    para(doc, "副本：{{ copies }}", 12)
    para(doc, "{{ signatory }}", 16, bold=True)
    return doc


BUILDERS = {
    "sign_memo": sign_memo,
    "training_results": training_results,
    "outreach_results": outreach_results,
    "annual_results": annual_results,
    "budget_review_table": budget_review_table,
    "meeting_notice": meeting_notice,
    "meeting_minutes": meeting_minutes,
    "amendment_table": amendment_table,
    "city_letter": city_letter,
}


def build_all(out: Path = HERE) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, builder in BUILDERS.items():
        doc = builder()
        doc.core_properties.subject = "{{ case_title }}"
        path = out / f"{name}.docx"
        doc.save(str(path))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build_all():
        print(p)
