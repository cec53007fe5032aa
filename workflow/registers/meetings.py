"""Task force meetings that decide (plan §5.1(3)): a meeting (第N次, 定期 or 臨時) with its notice,
who of the members in office attended, its quorum (more than half of them, configurable), and a
decision per agenda case taken by a majority of those present.

The task force's approval of a case needs such a decision (the ``task_force_decided`` condition):
``approving_decision`` finds it, and the approval writes it into the case's history, where the
函 reads which meeting decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import clock, rocdate
from workflow.errors import NotFound, ValidationError
from workflow.models import Case, TaskForceAttendance, TaskForceDecision, TaskForceMeeting, TaskForceMember
from workflow.models.registers import ATTENDANCE, DECISIONS, MEETING_KINDS
from workflow.people import admin_log
from workflow.registers import task_force
from workflow.registers.task_force import DEFAULT_RULES, Rules
from workflow.rocdate import roc_year_bounds

REVIEW_STATE = "task_force_review"
MEETING_KIND = "task_force_meeting"  # a meeting's own case: its notice and minutes
DECISION_WORDS = {"passed": ("通過", "passed"), "amended": ("修正後通過", "passed as amended"),
                  "returned": ("退回", "returned")}


@dataclass(frozen=True)
class Quorum:
    in_office: int
    present: int  # in person, plus by proxy where the rules count it
    needed: int

    @property
    def met(self) -> bool:
        return self.in_office > 0 and self.present >= self.needed


@dataclass(frozen=True)
class DecisionRef:
    """Which meeting decided (or, for a meeting's own case, was held): what the history and the 函 cite."""

    meeting_id: int
    number: int
    held_on: dt.date
    decision: str  # passed, amended, or "held" for the meeting's own case

    def as_json(self) -> dict[str, Any]:
        return {"meeting_id": self.meeting_id, "number": self.number, "held_on": self.held_on.isoformat(),
                "decision": self.decision}


def _meeting(s: Session, office_id: int, meeting_id: int) -> TaskForceMeeting:
    m = s.get(TaskForceMeeting, meeting_id)
    if m is None or m.office_id != office_id:
        raise NotFound(f"找不到專案小組會議 {meeting_id}", f"no task force meeting {meeting_id}")
    return m


def add_meeting(s: Session, office_id: int, actor_id: int | None, *, kind: str, held_on: dt.date, place: str,
                notice_on: dt.date | None = None, contact_name: str = "", contact_phone: str = "",
                number: int | None = None, case_id: int | None = None) -> TaskForceMeeting:
    """Schedule (or record) a meeting; its number is the next one unless given."""
    place = " ".join((place or "").split())
    errors: dict[str, tuple[str, str]] = {}
    if kind not in MEETING_KINDS:
        errors["kind"] = ("請選擇定期會議或臨時會議", "choose a regular or an ad hoc meeting")
    if not place or len(place) > 100:
        errors["place"] = ("請填寫開會地點（最多 100 字）", "a place of at most 100 characters is required")
    if notice_on is not None and notice_on >= held_on:
        errors["notice_on"] = ("開會通知須在開會日之前發出", "the notice must go out before the meeting")
    if number is not None and number < 1:
        errors["number"] = ("會次須為正整數", "the number must be 1 or more")
    if case_id is not None:
        owner = s.execute(select(Case.office_id, Case.kind).where(Case.id == case_id)).one_or_none()
        if owner is None or owner[0] != office_id or owner[1] != MEETING_KIND:
            errors["case_id"] = ("請選擇本所的專案小組會議案件", "choose a task force meeting case of this office")
    if errors:
        raise ValidationError(errors)
    if number is None:
        number = (s.scalar(select(func.max(TaskForceMeeting.number))
                           .where(TaskForceMeeting.office_id == office_id)) or 0) + 1
    elif s.scalar(select(TaskForceMeeting.id).where(TaskForceMeeting.office_id == office_id,
                                                     TaskForceMeeting.number == number)):
        raise ValidationError({"number": (f"第{number}次會議已經登錄", f"meeting {number} is already recorded")})
    m = TaskForceMeeting(office_id=office_id, number=number, kind=kind, held_on=held_on, place=place,
                         notice_on=notice_on, contact_name=contact_name.strip()[:100],
                         contact_phone=contact_phone.strip()[:40], case_id=case_id)
    s.add(m)
    s.flush()
    admin_log.record(s, office_id, actor_id, "task_force.meeting.add", meeting_id=m.id, number=number, kind=kind,
                     held_on=held_on, place=place, notice_on=notice_on, case_id=case_id)
    return m


def record_attendance(s: Session, office_id: int, actor_id: int | None, meeting_id: int,
                      statuses: Mapping[int, tuple[str, str]]) -> None:
    """Set each member's attendance ``{member_id: (status, proxy name)}``; only members in office
    on the meeting day, and a proxy must be named."""
    m = _meeting(s, office_id, meeting_id)
    members = {x.id: x for x in task_force.in_office(s, office_id, m.held_on)}
    errors: dict[str, tuple[str, str]] = {}
    for member_id, (status, proxy) in statuses.items():
        if member_id not in members:
            errors[f"member_{member_id}"] = ("此人在開會當日不是在任委員", "not a member in office on the meeting day")
        elif status not in ATTENDANCE:
            errors[f"member_{member_id}"] = ("請選擇出席、請假或委託代理", "choose present, excused or proxy")
        elif status == "proxy" and not proxy.strip():
            errors[f"member_{member_id}"] = (f"{members[member_id].name}委託代理出席，請填寫代理人姓名",
                                             f"{members[member_id].name} sent a proxy: name them")
    if errors:
        raise ValidationError(errors)
    before = {a.member_id: a.status for a in s.scalars(
        select(TaskForceAttendance).where(TaskForceAttendance.meeting_id == m.id))}
    for member_id, (status, proxy) in statuses.items():
        row = s.get(TaskForceAttendance, (m.id, member_id))
        if row is None:
            s.add(TaskForceAttendance(meeting_id=m.id, member_id=member_id, status=status,
                                      proxy_name=proxy.strip()[:100] if status == "proxy" else ""))
        else:
            row.status, row.proxy_name = status, (proxy.strip()[:100] if status == "proxy" else "")
    s.flush()
    admin_log.record(s, office_id, actor_id, "task_force.attendance", meeting_id=m.id, before=before,
                     after={k: v[0] for k, v in statuses.items()})


def count_quorum(seated: Collection[int], statuses: Mapping[int, str], rules: Rules = DEFAULT_RULES) -> Quorum:
    """The quorum of a meeting whose members in office were ``seated``, given each one's attendance."""
    counted = {"present", "proxy"} if rules.proxy_counts else {"present"}
    present = sum(1 for i in seated if statuses.get(i) in counted)
    n = len(seated)
    needed = n * rules.quorum_share.numerator // rules.quorum_share.denominator + 1  # more than the share
    return Quorum(n, present, needed)


def quorum(s: Session, meeting: TaskForceMeeting, rules: Rules = DEFAULT_RULES) -> Quorum:
    seated = [x.id for x in task_force.in_office(s, meeting.office_id, meeting.held_on)]
    statuses = {a.member_id: a.status for a in s.scalars(
        select(TaskForceAttendance).where(TaskForceAttendance.meeting_id == meeting.id))}
    return count_quorum(seated, statuses, rules)


def decide(s: Session, office_id: int, actor_id: int | None, meeting_id: int, case_id: int, *, decision: str,
           votes_for: int, note: str = "", rules: Rules = DEFAULT_RULES) -> TaskForceDecision:
    """Record what a held, quorate meeting decided about a case awaiting the task force, by a
    majority of those present; refused, saying why, otherwise."""
    m = _meeting(s, office_id, meeting_id)
    case = s.get(Case, case_id)
    if case is None or case.office_id != office_id:
        raise NotFound(f"找不到案件 {case_id}", f"no case {case_id}")
    if decision not in DECISIONS:
        raise ValidationError({"decision": ("請選擇通過、修正後通過或退回",
                                            "choose passed, passed as amended or returned")})
    if m.held_on > clock.today():
        raise ValidationError({"meeting": (f"第{m.number}次會議尚未召開，不能登錄決議",
                                           f"meeting {m.number} has not been held yet")})
    if case.state != REVIEW_STATE:
        raise ValidationError({"case_id": ("只有待專案小組審議的案件可以登錄決議",
                                           "only a case awaiting the task force can be decided")})
    q = quorum(s, m, rules)
    if not q.met:
        raise ValidationError({"meeting": (
            f"第{m.number}次會議出席 {q.present} 人，未達法定人數"
            f"（在任委員 {q.in_office} 人，須 {q.needed} 人），不能作成決議",
            f"meeting {m.number} had {q.present} present, short of the quorum of {q.needed} of {q.in_office}")})
    majority = q.present // 2 + 1
    if not majority <= votes_for <= q.present:
        raise ValidationError({"votes_for": (
            f"決議須經出席委員過半數同意：出席 {q.present} 人，同意須 {majority} 至 {q.present} 人",
            f"a decision needs a majority of the {q.present} present: {majority} to {q.present} in favour")})
    if s.scalar(select(TaskForceDecision.id).where(TaskForceDecision.meeting_id == m.id,
                                                   TaskForceDecision.case_id == case.id)):
        raise ValidationError({"case_id": (f"第{m.number}次會議已就本案作成決議",
                                           f"meeting {m.number} already decided it")})
    row = TaskForceDecision(office_id=office_id, meeting_id=m.id, case_id=case.id, decision=decision,
                            votes_for=votes_for, note=" ".join(note.split())[:500], recorded_by_id=actor_id,
                            recorded_at=clock.now())
    s.add(row)
    s.flush()
    admin_log.record(s, office_id, actor_id, "task_force.decision", meeting_id=m.id, number=m.number,
                     case_id=case.id, decision=decision, votes_for=votes_for, present=q.present)
    return row


def approving_decision(s: Session, case_id: int, kind: str, since: dt.datetime,
                       rules: Rules = DEFAULT_RULES) -> DecisionRef | None:
    """The decision that lets the task force approve this case now: the latest one recorded since
    the case came to the task force (``since``), if it passed; for a meeting's own case, the
    meeting held (today or before) with its quorum."""
    if kind == MEETING_KIND:
        m = s.scalar(select(TaskForceMeeting).where(TaskForceMeeting.case_id == case_id)
                     .order_by(TaskForceMeeting.held_on.desc()).limit(1))
        if m is None or m.held_on > clock.today() or not quorum(s, m, rules).met:
            return None
        return DecisionRef(m.id, m.number, m.held_on, "held")
    row = s.execute(
        select(TaskForceDecision.decision, TaskForceMeeting.id, TaskForceMeeting.number, TaskForceMeeting.held_on)
        .join(TaskForceMeeting, TaskForceMeeting.id == TaskForceDecision.meeting_id)
        .where(TaskForceDecision.case_id == case_id, TaskForceDecision.recorded_at >= since)
        .order_by(TaskForceDecision.recorded_at.desc(), TaskForceDecision.id.desc()).limit(1)).one_or_none()
    if row is None or row.decision == "returned":
        return None
    return DecisionRef(row.id, row.number, row.held_on, row.decision)


def attendees(s: Session, meeting: TaskForceMeeting) -> list[tuple[TaskForceMember, str, str]]:
    """Every member in office on the meeting day with (status, proxy name); '' when not recorded."""
    marks = {a.member_id: (a.status, a.proxy_name) for a in s.scalars(
        select(TaskForceAttendance).where(TaskForceAttendance.meeting_id == meeting.id))}
    return [(m, *marks.get(m.id, ("", ""))) for m in task_force.in_office(s, meeting.office_id, meeting.held_on)]


def hold(s: Session, office_id: int, actor_id: int | None, *, held_on: dt.date, place: str,
         passes: tuple[int, ...] = (), kind: str = "regular", absent: tuple[int, ...] = (),
         notice_on: dt.date | None = None, contact_name: str = "", contact_phone: str = "",
         meeting_case_id: int | None = None) -> TaskForceMeeting:
    """Record a held meeting in one go: every member in office present but ``absent`` (excused),
    and each case of ``passes`` passed by all present (the same rules as one step at a time)."""
    m = add_meeting(s, office_id, actor_id, kind=kind, held_on=held_on, place=place, notice_on=notice_on,
                    contact_name=contact_name, contact_phone=contact_phone, case_id=meeting_case_id)
    members = [x.id for x in task_force.in_office(s, office_id, held_on)]
    record_attendance(s, office_id, actor_id, m.id,
                      {i: ("excused" if i in absent else "present", "") for i in members})
    present = len(members) - len([i for i in members if i in absent])
    for case_id in passes:
        decide(s, office_id, actor_id, m.id, case_id, decision="passed", votes_for=present)
    return m


KIND_WORDS = {"regular": "定期", "adhoc": "臨時"}
EXPORT_HEADER = ["會次", "類別", "開會日期", "地點", "通知日期", "在任委員", "出席（女）", "出席（男）", "代理出席",
                 "請假", "達法定人數", "決議"]


def export_rows(s: Session, office_id: int, roc_year: int, rules: Rules = DEFAULT_RULES) -> list[list[Any]]:
    """The year's meetings with attendance by sex and each decision; four statements whatever the
    number of meetings."""
    first, last = roc_year_bounds(roc_year)
    held = list(s.scalars(select(TaskForceMeeting).where(
        TaskForceMeeting.office_id == office_id, TaskForceMeeting.held_on >= first, TaskForceMeeting.held_on <= last)
        .order_by(TaskForceMeeting.held_on, TaskForceMeeting.number)))
    if not held:
        return []
    ids = [m.id for m in held]
    members = list(s.scalars(select(TaskForceMember).where(TaskForceMember.office_id == office_id)))
    marks: dict[int, dict[int, str]] = {}
    for a in s.scalars(select(TaskForceAttendance).where(TaskForceAttendance.meeting_id.in_(ids))):
        marks.setdefault(a.meeting_id, {})[a.member_id] = a.status
    decided: dict[int, list[str]] = {}
    for meeting_id, decision, votes, title in s.execute(
            select(TaskForceDecision.meeting_id, TaskForceDecision.decision, TaskForceDecision.votes_for, Case.title)
            .join(Case, Case.id == TaskForceDecision.case_id).where(TaskForceDecision.meeting_id.in_(ids))
            .order_by(TaskForceDecision.id)):
        decided.setdefault(meeting_id, []).append(f"{title}：{DECISION_WORDS[decision][0]}（同意 {votes} 人）")
    out: list[list[Any]] = []
    for m in held:
        seated = [x for x in members if x.term_start <= m.held_on and (x.term_end is None or x.term_end >= m.held_on)]
        status = {x.id: marks.get(m.id, {}).get(x.id, "") for x in seated}
        here = [x for x in seated if status[x.id] in ("present", "proxy")]
        out.append([f"第{m.number}次", KIND_WORDS[m.kind], rocdate.short(m.held_on), m.place,
                    rocdate.short(m.notice_on) if m.notice_on else "", len(seated),
                    sum(1 for x in here if x.sex == "F"), sum(1 for x in here if x.sex == "M"),
                    sum(1 for x in seated if status[x.id] == "proxy"),
                    sum(1 for x in seated if status[x.id] == "excused"),
                    "是" if count_quorum(list(status), status, rules).met else "否", "；".join(decided.get(m.id, []))])
    return out
