"""Result tables from the registers (issue: "without typing a number"): for each kind of report,
the fields its period's register rows give (培力成果表 from training, 宣導成果表 from outreach, the
budget review from the gender budget, the annual result table from all of them), and where a
person can see those rows. The case saves what was filled as a new version, so a filed case keeps
what it was filed with whatever the registers say later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from workflow.models import TaskForceAttendance, TaskForceMeeting, TaskForceMember, TrainingRecord, User
from workflow.registers import budget, outreach, training
from workflow.rocdate import roc_year_bounds


@dataclass(frozen=True)
class Source:
    """Where a kind's numbers come from: which register (its page is the web layer's to name)."""

    register: str
    label: str
    label_en: str
    filler: Callable[[Session, int, int, str | None], dict[str, Any]]
    by_period: bool = True


def _training(s: Session, office_id: int, roc_year: int, period: str | None) -> dict[str, Any]:
    return {"courses": training.course_rows(s, office_id, roc_year, period)}


def _outreach(s: Session, office_id: int, roc_year: int, period: str | None) -> dict[str, Any]:
    return {"events": outreach.report_rows(s, office_id, roc_year, period)}


def _budget(s: Session, office_id: int, roc_year: int, _period: str | None) -> dict[str, Any]:
    return budget.review_fields(s, office_id, roc_year)


def annual_items(s: Session, office_id: int, roc_year: int) -> list[dict[str, Any]]:
    """The annual result table's lines, one per register, each counted from its rows."""
    first, last = roc_year_bounds(roc_year)
    items: list[dict[str, Any]] = []
    held = s.execute(select(TaskForceMeeting).where(TaskForceMeeting.office_id == office_id,
                                                    TaskForceMeeting.held_on >= first, TaskForceMeeting.held_on <= last)
                     .order_by(TaskForceMeeting.held_on)).scalars().all()
    if held:
        sexes = dict(s.execute(
            select(TaskForceMember.sex, func.count()).join(TaskForceAttendance,
                                                           TaskForceAttendance.member_id == TaskForceMember.id)
            .where(TaskForceAttendance.meeting_id.in_([m.id for m in held]),
                   TaskForceAttendance.status.in_(("present", "proxy")))
            .group_by(TaskForceMember.sex)).all())
        items.append({"item": "性別平等專案小組會議",
                      "result": f"召開 {len(held)} 次會議（" + "、".join(f"第{m.number}次" for m in held)
                                + "），出席委員人次如右",
                      "male": sexes.get("M", 0), "female": sexes.get("F", 0)})
    courses = training.course_rows(s, office_id, roc_year, None)
    if courses:
        people = dict(s.execute(
            select(User.sex, func.count(distinct(TrainingRecord.user_id))).join(User, User.id == TrainingRecord.user_id)
            .where(TrainingRecord.office_id == office_id, TrainingRecord.held_on >= first,
                   TrainingRecord.held_on <= last).group_by(User.sex)).all())
        year = training.compliance(s, office_id, roc_year)
        items.append({"item": "性別意識培力",
                      "result": f"參訓 {len(courses)} 門課程、{sum(r['male'] + r['female'] for r in courses)} 人次；"
                                f"{sum(1 for p in year if p.met)}/{len(year)} 人達成年度時數，參訓人數如右",
                      "male": people.get("M", 0), "female": people.get("F", 0)})
    events = outreach.report_rows(s, office_id, roc_year, None)
    if events:
        check = outreach.year_check(s, office_id, roc_year)
        items.append({"item": "性別平等宣導",
                      "result": f"辦理 {len(events)} 場宣導活動（社會課公開活動 {check.public_events} 場），"
                                "參與人數如右",
                      "male": sum(e["male"] for e in events), "female": sum(e["female"] for e in events)})
    rows = budget.items(s, office_id, roc_year)
    if rows:
        t = budget.totals(rows)
        items.append({"item": "性別預算",
                      "result": f"編列 {t.items} 項，預算數 {t.budgeted:,} 元，執行數 {t.executed:,} 元"
                                + (f"（執行率 {budget.rate(t.executed, t.budgeted)}）" if t.budgeted else "")})
    return items


def _annual(s: Session, office_id: int, roc_year: int, _period: str | None) -> dict[str, Any]:
    return {"items": annual_items(s, office_id, roc_year - 1)}  # the table reports the year before (result_year)


SOURCES: dict[str, Source] = {
    "training_report": Source("training", "培力紀錄", "training register", _training),
    "outreach_report": Source("outreach", "宣導紀錄", "outreach register", _outreach),
    "budget_review": Source("budget", "性別預算", "gender budget", _budget, by_period=False),
    "annual_result": Source("all", "各項紀錄", "the registers", _annual, by_period=False),
}


def fields_for(s: Session, kind: str, office_id: int, roc_year: int, period: str | None) -> dict[str, Any]:
    """The fields the registers give a case of ``kind`` for its period ({} when nothing is recorded)."""
    src = SOURCES[kind]
    out = src.filler(s, office_id, roc_year, period)
    return {k: v for k, v in out.items() if v}
