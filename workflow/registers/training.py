"""Training hours (性別意識培力, plan §5.3(一)): who has done how much in a year, against the plan's
thresholds: every civil servant and manager at least 2 h of gender mainstreaming and 1 h of the
CEDAW in-person course (a course filed under a code that counts as it, attended in person);
性別平等業務相關人員 at least 10 h. Those who did only the basic course should move to advanced;
people who joined during the year are shown as such. The hours are configuration (``Rules``).

Importing a CSV is ``training_import``; this module reads and counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import rocdate
from workflow.models import CourseCode, TrainingRecord, Unit, User
from workflow.rocdate import roc_year_bounds


@dataclass(frozen=True)
class Rules:
    gm_hours: float = 2.0
    cedaw_hours: float = 1.0
    ge_staff_hours: float = 10.0


DEFAULT_RULES = Rules()


def _h(x: float) -> str:
    return f"{x:g}"


@dataclass
class PersonYear:
    user_id: int
    name: str
    unit: str
    ge_staff: bool
    joined: dt.date | None  # during the year, else None
    gm_hours: float = 0.0
    cedaw_hours: float = 0.0
    total_hours: float = 0.0
    basic: bool = False
    advanced: bool = False
    missing: list[tuple[str, str]] = field(default_factory=list)  # (zh-TW, English), one per unmet threshold

    @property
    def met(self) -> bool:
        return not self.missing

    @property
    def should_advance(self) -> bool:
        """Did the basic course and not yet the advanced one (plan: 宜施以進階課程訓練)."""
        return self.basic and not self.advanced

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "gm_hours": self.gm_hours, "cedaw_hours": self.cedaw_hours,
                "total_hours": self.total_hours, "ge_staff": self.ge_staff, "met": self.met,
                "missing": [zh for zh, _en in self.missing]}


def cedaw_codes(s: Session) -> frozenset[str]:
    return frozenset(s.scalars(select(CourseCode.code).where(CourseCode.counts_as_cedaw)))


def compliance(s: Session, office_id: int, roc_year: int, rules: Rules = DEFAULT_RULES) -> list[PersonYear]:
    """Every active civil servant of the office with their year's hours and what they still lack;
    three statements whatever the number of people and records. Someone who joined after the year
    is left out; someone who joined during it is marked (``joined``)."""
    first, last = roc_year_bounds(roc_year)
    codes = cedaw_codes(s)
    people: dict[int, PersonYear] = {}
    for u, unit in s.execute(select(User, Unit.name).outerjoin(Unit, Unit.id == User.unit_id)
                             .where(User.office_id == office_id, User.active, User.civil_servant)
                             .order_by(Unit.id, User.id)):
        if u.joined_on is not None and u.joined_on > last:
            continue  # not yet here that year
        joined = u.joined_on if u.joined_on is not None and u.joined_on > first else None
        people[u.id] = PersonYear(u.id, u.display_name, unit or "", bool(u.ge_staff), joined)
    for r in s.execute(select(TrainingRecord.user_id, TrainingRecord.category, TrainingRecord.mode,
                              TrainingRecord.course_code, TrainingRecord.hours)
                       .where(TrainingRecord.office_id == office_id, TrainingRecord.held_on >= first,
                              TrainingRecord.held_on <= last)):
        p = people.get(r.user_id)
        if p is None:
            continue
        p.total_hours += r.hours
        p.gm_hours += r.hours
        if r.mode == "in_person" and r.course_code in codes:
            p.cedaw_hours += r.hours
        p.basic |= r.category == "gm_basic"
        p.advanced |= r.category == "gm_advanced"
    for p in people.values():
        if p.gm_hours < rules.gm_hours:
            lack = rules.gm_hours - p.gm_hours
            p.missing.append((f"性別主流化課程尚缺 {_h(lack)} 小時", f"{_h(lack)} h of gender mainstreaming short"))
        if p.cedaw_hours < rules.cedaw_hours:
            lack = rules.cedaw_hours - p.cedaw_hours
            p.missing.append((f"CEDAW 實體課程尚缺 {_h(lack)} 小時", f"{_h(lack)} h of in-person CEDAW short"))
        if p.ge_staff and p.total_hours < rules.ge_staff_hours:
            lack = rules.ge_staff_hours - p.total_hours
            p.missing.append((f"性別平等業務相關人員全年 {_h(rules.ge_staff_hours)} 小時，尚缺 {_h(lack)} 小時",
                              f"gender-equality staff need {_h(rules.ge_staff_hours)} h: {_h(lack)} h short"))
    return list(people.values())



COMPLIANCE_HEADER = ["姓名", "單位", "性別平等業務相關人員", "年中到職", "性別主流化時數", "CEDAW 實體時數", "合計時數",
                     "達成", "尚缺", "宜參加進階課程"]


def compliance_rows(people: list[PersonYear]) -> list[list[Any]]:
    """The compliance view as a table (what the page shows, for export)."""
    def hours(x: float) -> float | int:  # 2 rather than 2.0 in a CSV cell; still a number in a spreadsheet
        return int(x) if float(x).is_integer() else x

    return [[p.name, p.unit, "是" if p.ge_staff else "", rocdate.short(p.joined) if p.joined else "",
             hours(p.gm_hours), hours(p.cedaw_hours), hours(p.total_hours), "是" if p.met else "否",
             "；".join(zh for zh, _en in p.missing), "是" if p.should_advance else ""] for p in people]

def person_records(s: Session, user_id: int, roc_year: int) -> list[TrainingRecord]:
    first, last = roc_year_bounds(roc_year)
    return list(s.scalars(select(TrainingRecord).where(TrainingRecord.user_id == user_id,
                                                       TrainingRecord.held_on >= first, TrainingRecord.held_on <= last)
                          .order_by(TrainingRecord.held_on, TrainingRecord.id)))


# The training report's table (培力成果表) in its own words: its mode and level choices.
MODE_WORDS = {"in_person": "實體", "digital": "數位", "online": "視訊"}
LEVEL_WORDS = {"gm_basic": "基礎", "gm_advanced": "進階", "cedaw": "進階"}  # CEDAW 實體課程 is beyond 概論
QUARTERS = {"Q1": (1, 3), "Q2": (4, 6), "Q3": (7, 9), "Q4": (10, 12), "Y": (1, 12)}


def period_bounds(roc_year: int, period: str | None) -> tuple[dt.date, dt.date]:
    first_month, last_month = QUARTERS.get(period or "Y", (1, 12))
    year = roc_year_bounds(roc_year)[0].year
    last = dt.date(year + (last_month == 12), 1 if last_month == 12 else last_month + 1, 1) - dt.timedelta(days=1)
    return dt.date(year, first_month, 1), last


def course_rows(s: Session, office_id: int, roc_year: int, period: str | None) -> list[dict[str, Any]]:
    """The period's courses as the result table lists them: one row per course, day, hours, mode,
    level and code, with the people who attended counted by sex (from the register, one query)."""
    first, last = period_bounds(roc_year, period)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in s.execute(
            select(TrainingRecord.course, TrainingRecord.held_on, TrainingRecord.hours, TrainingRecord.mode,
                   TrainingRecord.category, TrainingRecord.course_code, User.sex)
            .join(User, User.id == TrainingRecord.user_id)
            .where(TrainingRecord.office_id == office_id, TrainingRecord.held_on >= first,
                   TrainingRecord.held_on <= last)
            .order_by(TrainingRecord.held_on, TrainingRecord.course, TrainingRecord.id)):
        key = (r.course, r.held_on, r.hours, r.mode, r.category, r.course_code)
        row = rows.setdefault(key, {"course": r.course, "date": r.held_on.isoformat(), "hours": r.hours,
                                    "mode": MODE_WORDS[r.mode], "level": LEVEL_WORDS[r.category],
                                    "cedaw_code": r.course_code or "", "male": 0, "female": 0})
        if r.sex == "M":
            row["male"] += 1
        elif r.sex == "F":
            row["female"] += 1
    return list(rows.values())
