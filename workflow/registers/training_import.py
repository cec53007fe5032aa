"""Importing training records from a CSV file, all or nothing, and writing the register back out
in the same columns (export, then import into an empty register, gives the same register).

The header row is Chinese, columns in any order: 姓名, 課程名稱, 時數, 上課方式, 上課日期 (ROC
``113.04.10`` or ISO) are required; 員工編號, 單位, 課程代碼, 課程類別 are optional. UTF-8 with or
without BOM, or Big5 (cp950) as older tools export it. A person is found by 員工編號, else by
姓名 when unique in the office, else by 姓名 and 單位. A 身分證字號 column is never read into the
register (the summary says it was ignored). Every row is checked before anything is written; any
error imports nothing and every error is listed by row and column in words a person can fix the
file from.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from workflow import clock, rocdate
from workflow.models import CourseCode, TrainingRecord, Unit, User
from workflow.people import admin_log

REQUIRED = ("姓名", "課程名稱", "時數", "上課方式", "上課日期")
OPTIONAL = ("員工編號", "單位", "課程代碼", "課程類別")
IGNORED = ("身分證字號", "身分證統一編號", "身份證字號")  # personal data the register never keeps
MODES = {"實體": "in_person", "線上": "online", "視訊": "online", "數位": "digital"}
CATEGORIES = {"基礎": "gm_basic", "性別主流化基礎": "gm_basic", "進階": "gm_advanced",
              "性別主流化進階": "gm_advanced", "CEDAW": "cedaw"}
MODE_WORDS = {v: k for k, v in MODES.items() if k != "視訊"}
CATEGORY_WORDS = {"gm_basic": "基礎", "gm_advanced": "進階", "cedaw": "CEDAW"}
EXPORT_HEADER = ["姓名", "員工編號", "單位", "課程名稱", "課程代碼", "課程類別", "時數", "上課方式", "上課日期"]
_HOURS = re.compile(r"^\d{1,2}(\.\d)?$")


@dataclass(frozen=True)
class RowError:
    row: int  # the file's line number (the header is row 1)
    column: str  # the column's header, "" for the whole row or file
    message: str  # zh-TW
    message_en: str

    def line(self) -> str:
        where = f"第 {self.row} 列" if self.row else "檔案"
        return f"{where}{'「' + self.column + '」' if self.column else ''}：{self.message}"


@dataclass(frozen=True)
class Summary:
    imported: int
    people: int
    ignored_columns: tuple[str, ...]

    def line(self) -> str:
        note = f"；已略過欄位「{'、'.join(self.ignored_columns)}」（不儲存）" if self.ignored_columns else ""
        return f"已匯入 {self.imported} 筆培力紀錄（{self.people} 人）{note}"


class ImportRefused(Exception):
    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = list(errors)


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else Big5 as cp950; refused when it is neither."""
    for encoding in ("utf-8-sig", "cp950"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused([RowError(0, "", "檔案不是 UTF-8 或 Big5 編碼的文字檔；請在試算表軟體另存為「CSV UTF-8」",
                                  "the file is neither UTF-8 nor Big5 text; save it as CSV UTF-8")])


Lookup = tuple[dict[str, int], dict[str, list[int]], dict[tuple[str, str], list[int]]]


def _people(s: Session, office_id: int) -> Lookup:
    by_no: dict[str, int] = {}
    by_name: dict[str, list[int]] = defaultdict(list)
    by_name_unit: dict[tuple[str, str], list[int]] = defaultdict(list)
    for uid, name, no, unit in s.execute(select(User.id, User.display_name, User.employee_no, Unit.name)
                                         .outerjoin(Unit, Unit.id == User.unit_id).where(User.office_id == office_id)):
        if no:
            by_no[no.strip()] = uid
        by_name[name].append(uid)
        by_name_unit[(name, unit or "")].append(uid)
    return by_no, by_name, by_name_unit


def parse(s: Session, office_id: int, text: str) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """The rows ready to insert, and the ignored columns; ImportRefused listing every error."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    errors: list[RowError] = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        errors.append(RowError(1, "", f"缺少欄位「{'、'.join(missing)}」；第 1 列須為欄位名稱：" + "、".join(REQUIRED),
                               f"missing column(s): {', '.join(missing)}"))
        raise ImportRefused(errors)
    col = {h: i for i, h in enumerate(header)}
    ignored = tuple(h for h in header if h in IGNORED)
    by_no, by_name, by_name_unit = _people(s, office_id)
    codes = set(s.scalars(select(CourseCode.code)))
    cedaw = set(s.scalars(select(CourseCode.code).where(CourseCode.counts_as_cedaw)))
    held = {(r.user_id, r.course, r.held_on) for r in s.execute(
        select(TrainingRecord.user_id, TrainingRecord.course, TrainingRecord.held_on)
        .where(TrainingRecord.office_id == office_id))}
    seen: dict[tuple[int, str, dt.date], int] = {}
    rows: list[dict[str, Any]] = []
    for n, raw in enumerate(reader, start=2):
        if not any(v.strip() for v in raw):
            continue

        def get(name: str, raw: list[str] = raw) -> str:
            i = col.get(name)
            return raw[i].strip() if i is not None and i < len(raw) else ""

        def bad(column: str, zh: str, en: str, n: int = n) -> None:
            errors.append(RowError(n, column, zh, en))

        name, no, unit = get("姓名"), get("員工編號"), get("單位")
        uid: int | None = None
        if no:
            uid = by_no.get(no)
            if uid is None:
                bad("員工編號", f"找不到員工編號「{no}」的同仁；請確認編號，或在「管理 › 使用者」填上此人的員工編號",
                    f"no one has employee number {no!r}")
        elif not name:
            bad("姓名", "姓名空白；請填姓名（或員工編號）", "no name")
        elif len(by_name.get(name, [])) == 1:
            uid = by_name[name][0]
        elif not by_name.get(name):
            bad("姓名", f"本所沒有名為「{name}」的同仁；請確認姓名，或改填員工編號", f"no one named {name!r}")
        elif len(by_name_unit.get((name, unit), [])) == 1:
            uid = by_name_unit[(name, unit)][0]
        else:
            bad("姓名", f"本所有 {len(by_name[name])} 位「{name}」；請填員工編號，或填正確的單位以區分",
                f"{len(by_name[name])} people are named {name!r}: give the employee number or the unit")
        course = " ".join(get("課程名稱").split())
        if not course or len(course) > 200:
            bad("課程名稱", "請填課程名稱（最多 200 字）", "a course name of at most 200 characters is required")
        hours_text = get("時數")
        hours: float | None = None
        if not _HOURS.match(hours_text) or not 0 < float(hours_text) <= 24:
            bad("時數", f"時數「{hours_text}」不正確；請填 0.5 到 24 之間的數字，最多一位小數（例：2 或 1.5）",
                f"hours {hours_text!r} must be a number from 0.5 to 24 with at most one decimal")
        else:
            hours = float(hours_text)
        mode = MODES.get(get("上課方式"))
        if mode is None:
            bad("上課方式", f"上課方式「{get('上課方式')}」不正確；請填實體、線上或數位",
                "mode must be 實體, 線上 or 數位")
        day: dt.date | None = None
        try:
            day = rocdate.parse(get("上課日期"))
        except rocdate.NoSuchDate:
            bad("上課日期", f"沒有「{get('上課日期')}」這一天；請檢查月份和日期", "no such day")
        except ValueError:
            bad("上課日期", f"上課日期「{get('上課日期')}」看不懂；"
                "請填民國日期（例：113.04.10）或西元日期（例：2024-04-10）",
                "the date must be ROC 113.04.10 or ISO 2024-04-10")
        code = get("課程代碼") or None
        if code is not None and code not in codes:
            bad("課程代碼", f"課程代碼「{code}」不在終身學習課程代碼表；"
                f"可用：{'、'.join(sorted(codes))}（空白表示無代碼）", f"course code {code!r} is not in the table")
        category_text = get("課程類別")
        category = CATEGORIES.get(category_text) if category_text else ("cedaw" if code in cedaw else "gm_basic")
        if category is None:
            bad("課程類別", f"課程類別「{category_text}」不正確；請填基礎、進階或 CEDAW（空白依課程代碼判斷）",
                "category must be 基礎, 進階 or CEDAW")
        if uid is not None and course and day is not None:
            key = (uid, course, day)
            if key in held:
                bad("", f"「{name or no}」{rocdate.short(day)}「{course}」的紀錄已經在登錄簿中（重複）",
                    "this record is already in the register")
            elif key in seen:
                bad("", f"與第 {seen[key]} 列重複（同一人、同一課程、同一天）", f"duplicates row {seen[key]}")
            else:
                seen[key] = n
        rows.append({"office_id": office_id, "user_id": uid, "course": course, "course_code": code,
                     "category": category, "mode": mode, "held_on": day, "hours": hours})
    if errors:
        raise ImportRefused(errors)
    if not rows:
        raise ImportRefused([RowError(2, "", "檔案沒有任何資料列", "the file has no data rows")])
    return rows, ignored


def import_csv(s: Session, office_id: int, actor_id: int | None, content: bytes) -> Summary:
    """Import every row or none (the caller commits); ImportRefused lists every error."""
    rows, ignored = parse(s, office_id, decode(content))
    now = clock.now()
    # Core, not the ORM's bulk insert: that one splits the batch wherever a row's NULLs differ
    # (a course code here, none there), one statement per run of rows.
    s.connection().execute(insert(cast(Table, TrainingRecord.__table__)), [{**r, "created_at": now} for r in rows])
    people = len({r["user_id"] for r in rows})
    admin_log.record(s, office_id, actor_id, "training.import", rows=len(rows), people=people,
                     ignored_columns=list(ignored))
    return Summary(len(rows), people, ignored)


def export_rows(s: Session, office_id: int, roc_year: int | None = None) -> list[list[Any]]:
    """The register in ``EXPORT_HEADER``'s columns (dates as ROC), oldest first."""
    q = (select(User.display_name, User.employee_no, Unit.name, TrainingRecord.course, TrainingRecord.course_code,
                TrainingRecord.category, TrainingRecord.hours, TrainingRecord.mode, TrainingRecord.held_on)
         .join(User, User.id == TrainingRecord.user_id).outerjoin(Unit, Unit.id == User.unit_id)
         .where(TrainingRecord.office_id == office_id).order_by(TrainingRecord.held_on, TrainingRecord.id))
    if roc_year is not None:
        first, last = rocdate.roc_year_bounds(roc_year)
        q = q.where(TrainingRecord.held_on >= first, TrainingRecord.held_on <= last)
    return [[r[0], r[1] or "", r[2] or "", r[3], r[4] or "", CATEGORY_WORDS[r[5]], f"{r[6]:g}", MODE_WORDS[r[7]],
             rocdate.short(r[8])] for r in s.execute(q)]
