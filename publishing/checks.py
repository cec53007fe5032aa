"""Checks before publishing (R7): each failure in plain language, saying where it is.

Pure functions over a posting's text and files, so the failure queue's "fix and retry" page, the
background task and the tests all run the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from publishing import personal_data, sniff

KIND_WORDS = {
    "national_id": ("身分證或居留證號碼", "a national ID or resident certificate number"),
    "phone": ("電話號碼", "a phone number"),
    "email": ("電子郵件地址", "an e-mail address"),
    "birth_date": ("出生日期", "a date of birth"),
}


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 10 * 1024 * 1024
    max_image_bytes: int = 5 * 1024 * 1024
    max_image_side: int = 4096  # pixels, the longer side


@dataclass(frozen=True)
class FileToCheck:
    id: int
    name: str
    content: bytes
    alt_text: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Problem:
    """One reason a posting cannot be published yet: where (zh/en) and what (zh/en)."""

    code: str
    where: str
    what: str
    where_en: str
    what_en: str
    attachment_id: int | None = None

    @property
    def message(self) -> str:
        return f"{self.where}：{self.what}"

    @property
    def message_en(self) -> str:
        return f"{self.where_en}: {self.what_en}"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def check_posting(heading: str | None, body: str | None, files: Sequence[FileToCheck], *,
                  limits: Limits | None = None, roc_year_now: int = 115) -> list[Problem]:
    """Everything wrong with a posting, in reading order (heading, body, then each file)."""
    limits = limits or Limits()
    problems: list[Problem] = []
    if not (heading or "").strip():
        problems.append(Problem("required", "標題", "尚未填寫", "Heading", "is empty"))
    if not (body or "").strip():
        problems.append(Problem("required", "內文", "尚未填寫", "Body", "is empty"))
    if not files:
        problems.append(Problem("required", "附件", "至少要有一張照片或一個檔案",
                                "Attachments", "at least one photo or file is needed"))
    problems += _personal(heading or "", "標題", "Heading", None, roc_year_now)
    for lineno, line in enumerate((body or "").splitlines(), start=1):
        problems += _personal(line, f"內文第 {lineno} 行", f"Body, line {lineno}", None, roc_year_now)
    for f in files:
        problems += _check_file(f, limits, roc_year_now)
    return problems


def _personal(text: str, where: str, where_en: str, attachment_id: int | None, roc_year_now: int) -> list[Problem]:
    out = []
    for finding in personal_data.find(text, roc_year_now=roc_year_now):
        zh, en = KIND_WORDS[finding.kind]
        out.append(Problem(
            f"personal_{finding.kind}", where,
            f"含有{zh}（{finding.masked}），公開前請刪除或遮蔽",
            where_en, f"contains {en} ({finding.masked}); remove or mask it before publishing",
            attachment_id))
    return out


def _check_file(f: FileToCheck, limits: Limits, roc_year_now: int) -> list[Problem]:
    where, where_en = f"附件「{f.name}」", f"Attachment “{f.name}”"
    out = _personal(f.name, f"{where}的檔名", f"{where_en}, file name", f.id, roc_year_now)
    kind = sniff.sniff(f.content)
    if kind.media_type is None and not sniff.unreadable_image(kind):
        found = f"（內容是 {kind.label}）" if kind.label else ""
        out.append(Problem("file_type", where,
                           f"不是可以公開的檔案類型{found}；"
                           "只接受 JPEG、PNG、GIF、WebP 照片，以及 PDF 或 ODF（.odt、.ods）文件",
                           where_en, "is not a type the zone publishes; photos as JPEG, PNG, GIF or WebP, "
                                     "documents as PDF or ODF (.odt, .ods)", f.id))
        return out
    size = len(f.content)
    if kind.is_image or sniff.unreadable_image(kind):
        if size > limits.max_image_bytes:
            out.append(Problem("image_bytes", where,
                               f"照片檔案太大（{_size(size)}），上限為 {_size(limits.max_image_bytes)}；"
                               "請縮小後重新上傳",
                               where_en, f"the photo is too large ({_size(size)}); the limit is "
                                         f"{_size(limits.max_image_bytes)}", f.id))
        dims = kind.size
        if dims is None:
            out.append(Problem("image_unreadable", where, "無法讀取照片的尺寸，檔案可能已損壞",
                               where_en, "the photo's size cannot be read; the file may be damaged", f.id))
        elif max(dims) > limits.max_image_side:
            out.append(Problem("image_side", where,
                               f"照片尺寸 {dims[0]}×{dims[1]} 像素，超過上限 {limits.max_image_side} 像素；"
                               "請縮小後重新上傳",
                               where_en, f"the photo is {dims[0]}×{dims[1]} pixels, over the limit of "
                                         f"{limits.max_image_side}", f.id))
        alt = (f.alt_text or "").strip()
        if not alt:
            out.append(Problem("alt_text", where, "照片沒有替代文字；"
                               "請簡短描述照片內容，讓使用螢幕報讀軟體的民眾也能理解",
                               where_en, "the photo has no alt text; describe what it shows in a few words", f.id))
        else:
            out += _personal(alt, f"{where}的替代文字", f"{where_en}, alt text", f.id, roc_year_now)
        out += _personal(f.caption or "", f"{where}的照片說明", f"{where_en}, caption", f.id, roc_year_now)
    elif size > limits.max_file_bytes:
        out.append(Problem("file_bytes", where,
                           f"檔案太大（{_size(size)}），上限為 {_size(limits.max_file_bytes)}",
                           where_en, f"the file is too large ({_size(size)}); the limit is "
                                     f"{_size(limits.max_file_bytes)}", f.id))
    return out


def summary(problems: Sequence[Problem]) -> tuple[str, str]:
    """All problems as one zh-TW and one English sentence, for the history and the failure queue."""
    return "；".join(p.message for p in problems), "; ".join(p.message_en for p in problems)
