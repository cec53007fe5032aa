"""Checks before publishing: personal identifiers caught (and ordinary numbers not), file types by
content, sizes, image dimensions, alt text; each failure says where, in plain language."""

from __future__ import annotations

import io
import zipfile

import pytest

from publishing import personal_data, sniff
from publishing.checks import FileToCheck, Limits, check_posting
from tests.publishing_helpers import png


@pytest.mark.parametrize(("text", "kind"), [
    ("身分證字號 A123456789", "national_id"),
    ("統一證號F831234563核發", "national_id"),  # new resident certificate number
    ("手機 0912-345-678", "phone"),
    ("手機0912345678", "phone"),
    ("+886 912 345 678", "phone"),
    ("電話：03-3322101轉123", "phone"),
    ("(03)332-2101", "phone"),
    ("聯絡信箱 wang.xm@example.gov.tw", "email"),
    ("出生日期：75年3月2日", "birth_date"),
    ("王小明（75.03.02）", "birth_date"),
    ("陳大文 1962/5/3", "birth_date"),
    ("生日 1990-01-15", "birth_date"),
    ("李美華，64年5月6日生", "birth_date"),
])
def test_personal_identifiers_are_caught(text: str, kind: str) -> None:
    assert [f.kind for f in personal_data.find(text)] == [kind]


@pytest.mark.parametrize("text", [
    "A123456788",  # check digit wrong: not an ID
    "113年4月10日於里民活動中心辦理",
    "活動日期（113.04.10）",
    "2024-04-10 下午 2 時",
    "新臺幣12,000元，共 35 人參加，滿意度 92.5%",
    "課程代碼 0912345678",
    "課程代碼：GE-0912-345678",
    "桃市府社字第1130912345號函",
    "第 3 季成果：男性 12 人、女性 23 人",
    "宣導場次 2,024 場",
])
def test_ordinary_numbers_dates_amounts_and_codes_are_not_flagged(text: str) -> None:
    assert personal_data.find(text) == []


def test_national_id_check_digit() -> None:
    assert personal_data.national_id_valid("A123456789")
    assert not personal_data.national_id_valid("A123456780")
    assert not personal_data.national_id_valid("A323456789")  # second digit must be 1/2 (or 8/9)


def _odt() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", "<office:document-content/>")
    return buf.getvalue()


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    return buf.getvalue()


def test_file_types_are_judged_by_content_not_name() -> None:
    assert sniff.sniff(png()).media_type == "image/png"
    assert sniff.sniff(b"%PDF-1.7\n...").media_type == "application/pdf"
    assert sniff.sniff(_odt()).media_type == "application/vnd.oasis.opendocument.text"
    assert sniff.sniff(_docx()).media_type is None
    assert sniff.sniff(b"MZ\x90\x00 an exe").media_type is None
    assert sniff.sniff(png(640, 480)).size == (640, 480)


def test_a_clean_posting_passes() -> None:
    files = [FileToCheck(1, "活動照片.png", png(), "里民參與宣導"), FileToCheck(2, "成果表.odt", _odt()),
             FileToCheck(3, "簽到表.pdf", b"%PDF-1.7\n")]
    assert check_posting("CEDAW 宣導", "113年4月10日辦理，共 35 人參加。", files) == []


def test_each_failure_names_where_it_is() -> None:
    files = [
        FileToCheck(1, "活動照片.png", png(), None),
        FileToCheck(2, "A123456789王小明.png", png(), "合照"),
        FileToCheck(3, "大圖.png", png(5000, 10), "全景"),
        FileToCheck(4, "報告.docx", _docx()),
        FileToCheck(5, "偽裝.pdf", b"MZ\x90\x00"),
        FileToCheck(6, "照片.png", png(), "志工 wang@example.com 協助"),
    ]
    problems = check_posting("", "第一行\n請洽 0912-345-678", files, limits=Limits(max_image_side=4096))
    messages = [p.message for p in problems]
    assert messages[0] == "標題：尚未填寫"
    assert "內文第 2 行：含有電話號碼（091******678），公開前請刪除或遮蔽" in messages
    assert "附件「活動照片.png」：照片沒有替代文字；請簡短描述照片內容，讓使用螢幕報讀軟體的民眾也能理解" in messages
    assert any(m.startswith("附件「A123456789王小明.png」的檔名：含有身分證或居留證號碼") for m in messages)
    assert "附件「大圖.png」：照片尺寸 5000×10 像素，超過上限 4096 像素；請縮小後重新上傳" in messages
    assert any(m.startswith("附件「報告.docx」：不是可以公開的檔案類型") for m in messages)
    assert any(m.startswith("附件「偽裝.pdf」：不是可以公開的檔案類型") for m in messages)
    assert any(m.startswith("附件「照片.png」的替代文字：含有電子郵件地址") for m in messages)
    assert {p.attachment_id for p in problems if p.attachment_id} == {1, 2, 3, 4, 5, 6}


def test_sizes_are_limited() -> None:
    big = png() + b"\x00" * 2048
    files = [FileToCheck(1, "a.png", big, "x"), FileToCheck(2, "b.pdf", b"%PDF-" + b"0" * 4096)]
    problems = check_posting("t", "b", files, limits=Limits(max_image_bytes=1024, max_file_bytes=2048))
    assert [p.code for p in problems] == ["image_bytes", "file_bytes"]
