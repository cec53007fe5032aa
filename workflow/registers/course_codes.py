"""Keeping the lifelong-learning course codes (終身學習課程代碼) that training hours are filed under."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.errors import NotFound, ValidationError
from workflow.models import CourseCode
from workflow.people import admin_log

# Shared by every office (the plan's codes): a change is logged under the acting administrator's office.
CODE = re.compile(r"^[0-9A-Za-z]{1,10}$")
LABEL_MAX = 100
LABELS = {"code": ("課程代碼", "course code"), "label": ("課程名稱", "label")}


def _values(row: CourseCode) -> dict[str, object]:
    return {"label": row.label, "counts_as_cedaw": bool(row.counts_as_cedaw)}


def _label(label: str | None, errors: dict[str, tuple[str, str]]) -> str:
    label = " ".join((label or "").split())
    if len(label) > LABEL_MAX:
        errors["label"] = (f"課程名稱最多 {LABEL_MAX} 字（目前 {len(label)} 字）",
                           f"at most {LABEL_MAX} characters ({len(label)} given)")
    return label


def _duplicate(code: str) -> ValidationError:
    return ValidationError({"code": (f"課程代碼 {code} 已存在", f"course code {code} already exists")}, LABELS)


def list_codes(s: Session) -> list[CourseCode]:
    """Every code, in code order."""
    return list(s.scalars(select(CourseCode).order_by(CourseCode.code)))


def add_code(s: Session, office_id: int, actor_id: int | None, code: str, label: str | None,
             counts_as_cedaw: bool) -> CourseCode:
    """A new code; refused with a message per field when the code is malformed or taken (whatever
    its letters' case: an import matches codes exactly, so 'a1' beside 'A1' would only mislead)."""
    code = unicodedata.normalize("NFKC", code or "").strip()  # full-width digits typed in a Chinese IME
    errors: dict[str, tuple[str, str]] = {}
    if not code:
        errors["code"] = ("請填寫課程代碼，例：410", "a course code is required, e.g. 410")
    elif not CODE.match(code):
        errors["code"] = ("課程代碼須為 1 至 10 個英文字母或數字，例：410",
                          "a course code is 1 to 10 letters or digits, e.g. 410")
    label = _label(label, errors)
    if "code" not in errors:
        taken = s.scalar(select(CourseCode.code).where(func.lower(CourseCode.code) == code.lower()))
        if taken is not None:
            errors["code"] = _duplicate(taken).errors["code"]
    if errors:
        raise ValidationError(errors, LABELS)
    row = CourseCode(code=code, label=label, counts_as_cedaw=bool(counts_as_cedaw))
    try:
        with s.begin_nested():  # another administrator adding the same code at the same moment
            s.add(row)
            s.flush()
    except IntegrityError:
        raise _duplicate(code) from None
    admin_log.record(s, office_id, actor_id, "course_code.add", code=code, before=None, after=_values(row))
    return row


def update_code(s: Session, office_id: int, actor_id: int | None, code: str, label: str | None,
                counts_as_cedaw: bool) -> bool:
    """Change a code's label and whether it counts as the CEDAW in-person course; False (and no
    log row) when nothing changed. The code itself stays: training records are filed under it."""
    row = s.get(CourseCode, code)
    if row is None:
        raise NotFound(f"找不到課程代碼 {code}", f"no course code {code}")
    errors: dict[str, tuple[str, str]] = {}
    label = _label(label, errors)
    if errors:
        raise ValidationError(errors, LABELS)
    before = _values(row)
    after = {"label": label, "counts_as_cedaw": bool(counts_as_cedaw)}
    if before == after:
        return False
    row.label, row.counts_as_cedaw = label, bool(counts_as_cedaw)
    s.flush()
    admin_log.record(s, office_id, actor_id, "course_code.update", code=code, before=before, after=after)
    return True
