"""Written approval (書面審查) in place of a meeting, where the office allows it: each member's
approval of a case recorded with its date; ``offices.written_approval_min`` of the members in
office on the last of those dates make the task force's approval (0: the office does not allow it).

Approvals count for the round the case is in: recorded after it last came to the task force.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import clock
from workflow.errors import NotFound, ValidationError
from workflow.models import Case, Office, TaskForceMember, WrittenApproval
from workflow.people import admin_log
from workflow.registers import task_force

REVIEW_STATE = "task_force_review"


def required(s: Session, office_id: int) -> int:
    return int(s.scalar(select(Office.written_approval_min).where(Office.id == office_id)) or 0)


def _round(s: Session, case: Case) -> list[tuple[WrittenApproval, TaskForceMember]]:
    return [(w, m) for w, m in s.execute(
        select(WrittenApproval, TaskForceMember).join(TaskForceMember, TaskForceMember.id == WrittenApproval.member_id)
        .where(WrittenApproval.case_id == case.id, WrittenApproval.recorded_at >= case.entered_state_at)
        .order_by(WrittenApproval.approved_on, WrittenApproval.id))]


def record(s: Session, office_id: int, actor_id: int | None, case_id: int, member_id: int,
           approved_on: dt.date) -> WrittenApproval:
    """Record one member's written approval of a case before the task force."""
    need = required(s, office_id)
    case = s.get(Case, case_id)
    if case is None or case.office_id != office_id:
        raise NotFound("找不到這個案件", f"no case {case_id}")
    if need <= 0:
        raise ValidationError({"member_id": ("本所未採書面審查：專案小組須開會決議（管理 → 本所資料可設定）",
                                             "this office does not allow written approval")})
    errors: dict[str, tuple[str, str]] = {}
    if case.state != REVIEW_STATE:
        errors["case_id"] = ("案件不在專案小組審議中，不能登錄書面審查", "the case is not before the task force")
    if approved_on > clock.today():
        errors["approved_on"] = ("同意日期不可晚於今天", "the date cannot be in the future")
    elif approved_on < case.entered_state_at.astimezone(clock.TAIPEI).date():
        errors["approved_on"] = ("同意日期不可早於案件送交專案小組的日期",
                                 "the date cannot be before the case came to the task force")
    members = {m.id: m for m in task_force.in_office(s, office_id, approved_on)}
    if member_id not in members:
        errors["member_id"] = ("這位不是當日在任的專案小組委員", "not a member in office on that day")
    elif any(m.id == member_id for _w, m in _round(s, case)):
        errors["member_id"] = (f"{members[member_id].name} 已登錄過書面同意", "already recorded for this member")
    if errors:
        raise ValidationError(errors)
    row = WrittenApproval(office_id=office_id, case_id=case.id, member_id=member_id, approved_on=approved_on,
                          recorded_by_id=actor_id, recorded_at=clock.now())
    s.add(row)
    s.flush()
    admin_log.record(s, office_id, actor_id, "task_force.written_approval", case_id=case.id, member_id=member_id,
                     name=members[member_id].name, approved_on=approved_on, before=None,
                     after={"approved_on": approved_on})
    return row


def approvals(s: Session, case: Case) -> list[tuple[WrittenApproval, TaskForceMember]]:
    return _round(s, case)


def approving(s: Session, case: Case) -> dict[str, Any] | None:
    """The written approvals that let the task force approve now (what the history and the 函
    cite), or None: too few, or the office does not allow it. Members count who were in office
    on the day the last of them approved."""
    need = required(s, case.office_id)
    rows = _round(s, case)
    if need <= 0 or not rows:
        return None
    last = max(w.approved_on for w, _m in rows)
    seated = {m.id for m in task_force.in_office(s, case.office_id, last)}
    valid = [(w, m) for w, m in rows if m.id in seated]
    if len(valid) < need:
        return None
    return {"decision": "written", "approvals": len(valid), "of": len(seated), "held_on": last.isoformat(),
            "names": [m.name for _w, m in valid]}
