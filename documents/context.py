"""Case → plain dict per document (JSON-serialisable, so it is stored with the document and a
rerender reproduces the same text)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from workflow import clock, rocdate
from workflow.db import Database
from workflow.engine import registry
from workflow.models import (
    Attachment,
    Case,
    HistoryEvent,
    Office,
    PlanObligation,
    PlanPeriod,
    RoleAssignment,
    TaskForceDecision,
    TaskForceMeeting,
    Unit,
    User,
)
from workflow.registers import meetings
from workflow.registers.task_force import ROLE_WORDS, SEAT_WORDS

# Reference data that DOMAIN.md marks [unverified]. The 函's receiver is the plan obligation's
# (管理 → 行事曆參考資料); this one is for cases no obligation covers (ad hoc kinds).
RECEIVER = "桃園市政府性別平等辦公室（性別主流化推動組）"
COPIES = "本所秘書室、人事室"
PERIOD_LABELS = {"Q1": "第1季", "Q2": "第2季", "Q3": "第3季", "Q4": "第4季", "Y": "年度", None: ""}
TRIGGER_LABELS = {
    "submit": "送出審核", "approve": "核准", "return_for_revision": "退回修正", "withdraw": "撤回", "take_back": "收回",
    "submit_to_council": "送區民代表會備查", "file_with_city_group": "函送推動組備查", "city_approve": "推動組審查通過",
    "city_acknowledge": "推動組備查",
    "record_council_noted": "性平會備查", "retry_publish": "重新刊登", "record_manual_posting": "登錄人工刊登",
    "mark_published": "刊登完成", "mark_publish_failed": "刊登失敗",
}
_NUMERALS = "一二三四五六七八九十"


def chinese_number(n: int) -> str:
    if 1 <= n <= 10:
        return _NUMERALS[n - 1]
    if n < 20:
        return "十" + _NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return _NUMERALS[tens - 1] + "十" + (_NUMERALS[ones - 1] if ones else "")


def _num(v: Any) -> int | float:
    if isinstance(v, bool) or v is None or v == "":
        return 0
    return float(v) if isinstance(v, float) else int(v)


def _fmt(n: int | float) -> str:
    """Thousands separators; halves kept (course hours), no trailing .0."""
    if isinstance(n, float) and not n.is_integer():
        return f"{Decimal(str(n)).normalize():,}"
    return f"{int(n):,}"


def doc_no_prefix(office_name: str) -> str:
    """The 發文字號's 字 (e.g. 桃園性字) from the office's full name (管理 → 本所資料)."""
    return f"{office_name.removeprefix('桃園市')[:2]}性字"


def _date(iso: str | None) -> str:
    return rocdate.short(dt.date.fromisoformat(iso)) if iso else ""


def _explanations(*texts: str) -> list[dict[str, str]]:
    return [{"no": chinese_number(i), "text": t} for i, t in enumerate(texts, start=1) if t]


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


_cases, _offices, _units = _table(Case), _table(Office), _table(Unit)
_users, _history, _roles = _table(User), _table(HistoryEvent), _table(RoleAssignment)

# The statements ``Loaded`` runs, built once: plain Core with bound parameters, so each execution
# is a hit in SQLAlchemy's compiled cache (no statement building, no cache-key walk, no ORM
# loading). The case's columns are the ones the builders read (``templates_admin.sample_context``
# lists the same), each row read as a named tuple.
_LOAD_CASE = (
    select(_cases.c.id, _cases.c.office_id, _cases.c.unit_id, _cases.c.kind, _cases.c.workflow_version,
           _cases.c.roc_year, _cases.c.period, _cases.c.title, _cases.c.version, _cases.c.fields,
           _cases.c.drafter_id, _cases.c.revision_count,
           _offices.c.name.label("office_name"), _offices.c.address.label("office_address"),
           _offices.c.phone.label("office_phone"), _units.c.name.label("unit_name"))
    .select_from(_cases.join(_offices, _offices.c.id == _cases.c.office_id)
                 .join(_units, _units.c.id == _cases.c.unit_id))
    .where(_cases.c.id == bindparam("case_id"))
)
_LOAD_NAMES = select(_users.c.id, _users.c.display_name).where(_users.c.office_id == bindparam("office_id"))
_LOAD_HISTORY = (
    select(_history.c.seq, _history.c.event, _history.c.at, _history.c.actor_id, _history.c.trigger,
           _history.c.comment, _history.c.from_state, _history.c.data, _history.c.on_behalf_of_id)
    .where(_history.c.case_id == bindparam("case_id"), _history.c.seq <= bindparam("cause_seq"))
    .order_by(_history.c.seq)
)
# The unit's chief and the office's convener, for signature lines (one query).
_LOAD_SIGNERS = (
    select(_roles.c.role, _users.c.display_name).join(_users, _users.c.id == _roles.c.user_id)
    .where(_roles.c.office_id == bindparam("office_id"),
           ((_roles.c.role == "chief") & (_roles.c.unit_id == bindparam("unit_id")))
           | (_roles.c.role == "convener"))
    .order_by(_roles.c.id.desc())
)


@dataclass(frozen=True)
class OfficeInfo:
    name: str
    address: str | None
    phone: str | None


@dataclass(frozen=True)
class UnitInfo:
    name: str


class Loaded:
    """What the context builders read, loaded once per document, as plain rows (attribute access
    like the ORM objects: ``case.title``, ``office.name``, ``e.at`` for each history event)."""

    def __init__(self, s: Session, db: Database, case_id: int, cause_seq: int) -> None:
        conn = s.connection()
        # The case with its office and unit, in one query.
        row = conn.execute(_LOAD_CASE, {"case_id": case_id}).one()
        self.case: Any = row
        self.office = OfficeInfo(row.office_name, row.office_address, row.office_phone)
        self.unit = UnitInfo(row.unit_name)
        self.defn = registry.default().get(db, row.kind, row.workflow_version, s)
        self.names: dict[int, str] = dict(conn.execute(_LOAD_NAMES, {"office_id": row.office_id}).all())
        self.history: list[Any] = list(conn.execute(_LOAD_HISTORY, {"case_id": case_id, "cause_seq": cause_seq}))
        self.cause = self.history[-1] if self.history else None
        signers = dict(conn.execute(_LOAD_SIGNERS, {"office_id": row.office_id, "unit_id": row.unit_id}).all())
        self.chief = signers.get("chief", "")
        self.convener = signers.get("convener", "")
        self._session = s

    @functools.cached_property
    def attachments(self) -> list[Attachment]:
        """Read only by the documents that list or show attachments (photos, the 函's 附件)."""
        return list(self._session.scalars(select(Attachment).where(Attachment.case_id == self.case.id)
                                          .order_by(Attachment.id)))

    @functools.cached_property
    def register_meeting(self) -> TaskForceMeeting | None:
        """The task force register's meeting whose own case this is (read only by the meeting's
        notice and minutes): its attendance and decisions are what the minutes state."""
        return self._session.scalar(select(TaskForceMeeting).where(TaskForceMeeting.case_id == self.case.id)
                                    .order_by(TaskForceMeeting.held_on.desc()).limit(1))

    @property
    def session(self) -> Session:
        return self._session

    @functools.cached_property
    def receiver(self) -> str:
        """The 受文者 of the plan obligation this case fulfils ("" when none covers it); read only by
        the 函."""
        c = self.case
        return self._session.scalar(
            select(PlanObligation.receiver).join(PlanPeriod, PlanPeriod.id == PlanObligation.plan_id)
            .where(PlanObligation.kind == c.kind, PlanObligation.period == c.period,
                   PlanPeriod.first_year <= c.roc_year, PlanPeriod.last_year >= c.roc_year)
            .limit(1)) or ""


def signer(d: Loaded, e: Any) -> str:
    """Who acted in event ``e``, as documents print it: 「姓名（代理 原承辦人）」 when a delegate acted."""
    if not e.actor_id:
        return "系統"
    name = d.names.get(e.actor_id, "")
    principal = getattr(e, "on_behalf_of_id", None)
    return f"{name}（代理 {d.names.get(principal, '')}）" if principal else name


def chief_signer(d: Loaded) -> str:
    """The unit chief line: whoever approved the case at section review (a delegate named as such),
    the latest time it happened; before anyone has, the unit's chief who is to sign."""
    for e in reversed(d.history):
        if e.event == "transition" and e.trigger == "approve" and getattr(e, "from_state", None) == "section_review":
            return signer(d, e)
    return d.chief


def common(d: Loaded) -> dict[str, Any]:
    c = d.case
    when = (d.cause.at if d.cause else clock.now()).astimezone(clock.TAIPEI).date()
    return {
        "office_name": d.office.name,
        "unit_name": d.unit.name,
        "case_title": c.title,
        "kind_label": d.defn.label,
        "roc_year": c.roc_year,
        "period_label": PERIOD_LABELS.get(c.period, c.period or ""),
        "date_long": rocdate.long(when),
        "date_short": rocdate.short(when),
        "drafter": d.names.get(c.drafter_id, "") if c.drafter_id else "",
        "chief": chief_signer(d),
        "doc_no": f"{doc_no_prefix(d.office.name)}第{c.roc_year}{c.id:07d}號",
        "footer_text": f"{d.office.name}　案件編號 {c.id}　案件版本 {c.version}",
    }


def _rows_with_totals(rows: list[dict[str, Any]], keys: tuple[str, ...] = ("male", "female")) -> tuple[
        list[dict[str, Any]], dict[str, str]]:
    out, totals = [], {"male": 0, "female": 0, "total": 0}
    for i, r in enumerate(rows, start=1):
        m, f = _num(r.get(keys[0])), _num(r.get(keys[1]))
        totals["male"] += int(m)
        totals["female"] += int(f)
        totals["total"] += int(m + f)
        out.append({**{k: ("" if v is None else v) for k, v in r.items()}, "no": i, "male": _fmt(m),
                    "female": _fmt(f), "total": _fmt(m + f), "date": _date(r.get("date"))})
    return out, {k: _fmt(v) for k, v in totals.items()}


def sign_memo(d: Loaded) -> dict[str, Any]:
    trail = [
        {"date": rocdate.short(e.at.astimezone(clock.TAIPEI).date()),
         "actor": signer(d, e),
         "action": TRIGGER_LABELS.get(e.trigger or "", e.trigger or ""), "comment": e.comment or ""}
        for e in d.history if e.event == "transition"
    ]
    return {**common(d), "subject": f"陳報{d.case.title}，請鑒核。",
            "explanations": _explanations(
                f"依本所性別主流化實施計畫{d.defn.plan_ref}辦理。",
                f"檢陳{d.defn.label}（{d.case.roc_year}年{PERIOD_LABELS.get(d.case.period, '')}）如附。",
                f"本案經退回修正 {d.case.revision_count} 次。" if d.case.revision_count else ""),
            "proposal": "奉核後，依程序陳送專案小組審議並函送市府性別主流化推動組備查。", "trail": trail}


def training_results(d: Loaded) -> dict[str, Any]:
    f = d.case.fields
    rows, totals = _rows_with_totals(f.get("courses", []))
    for r in rows:
        r["hours"] = _fmt(_num(r.get("hours")))
        r.setdefault("cedaw_code", "")
    totals["hours"] = _fmt(sum(_num(r.get("hours")) for r in f.get("courses", [])))
    return {**common(d), "rows": rows, "totals": totals, "summary": f.get("summary", "")}


def outreach_results(d: Loaded) -> dict[str, Any]:
    f = d.case.fields
    rows, totals = _rows_with_totals(f.get("events", []))
    for r in rows:
        r.setdefault("materials", "")
    photos = [{"storage_key": a.storage_key, "caption": a.name.rsplit(".", 1)[0]}
              for a in d.attachments if a.content_type.startswith("image/")][:4]
    return {**common(d), "rows": rows, "totals": totals, "summary": f.get("summary", ""), "photos": photos}


def annual_results(d: Loaded) -> dict[str, Any]:
    f = d.case.fields
    rows, totals = _rows_with_totals(f.get("items", []))
    return {**common(d), "rows": rows, "totals": totals, "summary": f.get("summary", ""),
            "result_year": d.case.roc_year - 1}


def _rate(executed: float, budgeted: float) -> str:
    return f"{executed / budgeted * 100:.1f}%" if budgeted else "—"


def budget_review_table(d: Loaded) -> dict[str, Any]:
    f = d.case.fields
    rows, tb, te = [], 0, 0
    for r in f.get("items", []):
        b, e = _num(r.get("budgeted")), _num(r.get("executed"))
        tb, te = tb + int(b), te + int(e)
        rows.append({"category": r.get("category", ""), "item": r.get("item", ""), "budgeted": _fmt(b),
                     "executed": _fmt(e), "rate": _rate(e, b)})
    return {**common(d), "rows": rows, "previous_year_note": f.get("previous_year_note", ""),
            "totals": {"budgeted": _fmt(tb), "executed": _fmt(te), "rate": _rate(te, tb)}}


def _meeting_common(d: Loaded) -> dict[str, Any]:
    f = d.case.fields
    meeting = f.get("meeting_date")
    return {**common(d), "session_no": f.get("session_no", ""), "place": f.get("place", ""),
            "chair": f.get("chair", ""),
            "meeting_date_long": rocdate.long(dt.date.fromisoformat(meeting)) if meeting else "",
            "attendees": "本所性別平等專案小組委員", "observers": "本所各課室主管",
            "recipients": "本所性別平等專案小組委員"}


SEX_WORDS = {"F": "女", "M": "男"}


def _from_register(d: Loaded, out: dict[str, Any]) -> dict[str, Any]:
    """The meeting as the register records it: when and where, who attended (by name, seat and
    sex, with counts), who was excused, and what it decided; the case's typed fields otherwise."""
    m = getattr(d, "register_meeting", None)
    if m is None:
        return out
    rows = meetings.attendees(d.session, m)
    here = [(x, status, proxy) for x, status, proxy in rows if status in ("present", "proxy")]
    away = [x for x, status, _proxy in rows if status not in ("present", "proxy")]

    def who(x: Any) -> str:
        return f"{x.name}（{ROLE_WORDS[x.role]}・{SEAT_WORDS[x.seat]}・{SEX_WORDS[x.sex]}）"

    names = "、".join(who(x) + (f"由{proxy}代理" if status == "proxy" else "") for x, status, proxy in here)
    women = sum(1 for x, _s, _p in here if x.sex == "F")
    external = sum(1 for x, _s, _p in here if not x.internal)
    counts = (f"（出席 {len(here)} 人：女 {women} 人、男 {len(here) - women} 人，外聘 {external} 人；"
              f"在任委員 {len(rows)} 人）")
    decided = d.session.execute(
        select(TaskForceDecision.decision, TaskForceDecision.votes_for, Case.title)
        .join(Case, Case.id == TaskForceDecision.case_id)
        .where(TaskForceDecision.meeting_id == m.id).order_by(TaskForceDecision.id)).all()
    out = {**out, "session_no": f"第{m.number}次", "place": m.place, "meeting_date_long": rocdate.long(m.held_on),
           "attendees": (names or "無") + counts, "absent": "、".join(who(x) for x in away) or "無"}
    if decided:
        out["discussions"] = [
            {"no": chinese_number(i), "subject": title,
             "outcome": f"{meetings.DECISION_WORDS[decision][0]}（出席委員 {len(here)} 人，同意 {votes} 人）"}
            for i, (decision, votes, title) in enumerate(decided, start=1)]
    return out


class NoticeTooLate(ValueError):
    """A notice whose every possible date is on or after the meeting it calls: not printed."""


def _notice_facts(d: Loaded, out: dict[str, Any]) -> dict[str, Any]:
    """The notice's date and 聯絡人/電話: the register's notice date, else the day the case was
    first sent on (when the notice went out); the register's contact, else the drafter and the
    office's telephone. A notice dated on or after its meeting is refused, not printed."""
    m = getattr(d, "register_meeting", None)
    first_submit = next((e.at.astimezone(clock.TAIPEI).date() for e in d.history
                         if e.event == "transition" and e.trigger == "submit"), None)
    sent = (m.notice_on if m is not None else None) or first_submit \
        or (d.cause.at if d.cause else clock.now()).astimezone(clock.TAIPEI).date()
    raw = d.case.fields.get("meeting_date")
    meeting = m.held_on if m is not None else (dt.date.fromisoformat(raw) if raw else None)
    if meeting is not None and sent >= meeting:
        raise NoticeTooLate(f"開會通知單的發文日期（{rocdate.long(sent)}）不早於開會日期（{rocdate.long(meeting)}）："
                            "請在「專案小組」頁登錄通知發出日期，或更正開會日期")
    contact = (m.contact_name if m is not None else "") or out.get("drafter", "")
    phone = (m.contact_phone if m is not None else "") or d.office.phone or ""
    return {**out, "date_long": rocdate.long(sent), "date_short": rocdate.short(sent),
            "contact_name": contact, "contact_phone": phone}


def meeting_notice(d: Loaded) -> dict[str, Any]:
    agenda = [{"section": a.get("section", ""), "subject": a.get("subject", "")}
              for a in d.case.fields.get("agenda", [])]
    out = _meeting_common(d)
    m = getattr(d, "register_meeting", None)
    if m is not None:
        seated = [x.name for x, _status, _proxy in meetings.attendees(d.session, m)]
        out = {**out, "session_no": f"第{m.number}次", "place": m.place, "meeting_date_long": rocdate.long(m.held_on),
               "attendees": "本所性別平等專案小組委員" + (f"{'、'.join(seated)}" if seated else "")}
    return _notice_facts(d, {**out, "agenda": agenda})


def meeting_minutes(d: Loaded) -> dict[str, Any]:
    def part(section: str) -> list[dict[str, Any]]:
        items = [a for a in d.case.fields.get("agenda", []) if a.get("section") == section]
        return [{"no": chinese_number(i), "subject": a.get("subject", ""), "outcome": a.get("outcome", "")}
                for i, a in enumerate(items, start=1)]

    return _from_register(d, {
        **_meeting_common(d), "recorder": d.names.get(d.case.drafter_id, "") if d.case.drafter_id else "",
        "absent": "無", "reports": part("報告事項"), "discussions": part("討論事項"), "motions": part("臨時動議")})


def amendment_table(d: Loaded) -> dict[str, Any]:
    f = d.case.fields
    return {**common(d), "reason": f.get("reason", ""), "rows": [
        {"amended": r.get("amended", ""), "current": r.get("current", ""), "explanation": r.get("explanation", "")}
        for r in f.get("changes", [])]}


DECIDED_WORDS = {"passed": "審議通過", "amended": "審議修正後通過"}


def task_force_sentence(d: Loaded) -> str:
    """What the history shows the task force did: the meeting whose decision approved the case
    (written into the approval's history event), or, on a workflow version that asked for none,
    only the convener's approval; never a meeting that did not decide."""
    for e in reversed(d.history):
        if e.event != "transition" or e.trigger != "approve" or getattr(e, "from_state", None) != "task_force_review":
            continue
        ref = (getattr(e, "data", None) or {}).get("task_force_decision")
        if not ref:
            when = rocdate.long(e.at.astimezone(clock.TAIPEI).date())
            return f"本案經本所性別平等專案小組召集人核准（{when}）。"
        held = rocdate.long(dt.date.fromisoformat(ref["held_on"]))
        if ref["decision"] == "written":
            return (f"本案業經本所性別平等專案小組委員{ref['approvals']}人書面審查同意（在任委員{ref['of']}人，"
                    f"最後一位於{held}同意）。")
        if ref["decision"] == "held":
            return f"本所性別平等專案小組第{ref['number']}次會議已於{held}召開，會議紀錄如附。"
        return f"本案業經本所性別平等專案小組第{ref['number']}次會議{DECIDED_WORDS[ref['decision']]}（{held}）。"
    return ""


def city_letter(d: Loaded) -> dict[str, Any]:
    docs = [d.defn.label] + [a.name for a in d.attachments]
    # The office's own contact lines (管理 → 本所資料); blank until an administrator fills them in.
    return {**common(d), "office_address": d.office.address or "", "office_phone": d.office.phone or "",
            "receiver": d.receiver or RECEIVER, "copies": COPIES, "attachments_text": "、".join(docs),
            "subject": f"檢送本所{d.case.title}，請查照備查。",
            "explanations": _explanations(
                f"依本所性別主流化實施計畫{d.defn.plan_ref}辦理。",
                task_force_sentence(d)),
            "signatory": f"區長　{d.convener}" if d.convener else "區長"}


BUILDERS: dict[str, Callable[[Loaded], dict[str, Any]]] = {
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

DOCUMENT_LABELS = {
    "sign_memo": "簽", "training_results": "培力成果表", "outreach_results": "宣導成果表",
    "annual_results": "年度性平執行成果表", "budget_review_table": "性別預算審議表",
    "meeting_notice": "開會通知單", "meeting_minutes": "會議紀錄", "amendment_table": "修正對照表",
    "city_letter": "函",
}


def build(s: Session, db: Database, case_id: int, name: str, cause_seq: int) -> dict[str, Any]:
    return BUILDERS[name](Loaded(s, db, case_id, cause_seq))
