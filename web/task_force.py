"""專案小組: the cases waiting for task force approval, as the agenda of the next meeting, and the
task force register: its members today against the one-third rule, and the meetings that decide.

The meeting date comes from the office's task force meeting cases (``deadlines.next_meetings``):
the first one from today on. Items are grouped as the agenda of a 性別平等專案小組 meeting is:
報告事項 (results to note) and 討論事項 (plans, budgets and amendments to decide on).

The secretariat and the liaison keep the register here (``workflow.registers``): seat a member,
record a departure, record a held meeting with its attendance and a decision per agenda case. A
refused form comes back (422) with every value kept and the reason next to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from web.access import holds_any
from web.admin.common import date_check, strip
from web.db import database, session
from web.exports import FORMATS, download
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from web.labels import kind_label, period_label
from web.registers.common import roc_year_arg
from workflow import clock, rocdate
from workflow.calendar import deadlines
from workflow.errors import NotFound, ValidationError
from workflow.models import Case, TaskForceDecision, TaskForceMeeting, Unit
from workflow.registers import meetings, task_force, written
from workflow.roles import Role

bp = Blueprint("task_force", __name__)
VIEWERS = frozenset({Role.CONVENER, Role.DEPUTY_CONVENER, Role.MEMBER, Role.LIAISON, Role.DEPUTY_LIAISON,
                     Role.SECRETARIAT})
EDITORS = frozenset({Role.SECRETARIAT, Role.LIAISON, Role.DEPUTY_LIAISON})  # keep the register
STATE = "task_force_review"
# Kinds the task force decides on; every other kind is reported to it.
DISCUSSION_KINDS = frozenset({"plan_amendment", "budget_review", "local_programme"})
SECTIONS = (("report", _l("報告事項")), ("discussion", _l("討論事項")))


def can_see_task_force() -> bool:
    return holds_any(VIEWERS)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"can_see_task_force": can_see_task_force}


@dataclass(frozen=True)
class AgendaItem:
    case_id: int
    kind_label: str
    title: str
    unit_name: str
    period: str
    roc_year: int
    since: dt.datetime


def next_meeting(office_id: int, today: dt.date) -> dt.date | None:
    days = deadlines.next_meetings(session(), [office_id]).get(office_id, [])
    return next((d for d in days if d >= today), None)


def agenda(office_id: int) -> dict[str, list[AgendaItem]]:
    rows = session().execute(
        select(Case.id, Case.kind, Case.title, Case.roc_year, Case.period, Case.entered_state_at, Unit.name)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.office_id == office_id, Case.state == STATE, Case.kind != deadlines.MEETING_KIND)
        .order_by(Case.entered_state_at, Case.id)
    )
    out: dict[str, list[AgendaItem]] = {key: [] for key, _label in SECTIONS}
    for r in rows:
        section = "discussion" if r.kind in DISCUSSION_KINDS else "report"
        out[section].append(AgendaItem(r.id, kind_label(r.kind), r.title, r.name, period_label(r.period),
                                       r.roc_year, r.entered_state_at))
    return out


SEX_LABELS = {"F": _l("女"), "M": _l("男")}
ROLE_LABELS = {"convener": _l("召集人"), "deputy_convener": _l("副召集人"), "member": _l("委員")}
SEAT_LABELS = {"unit_chief": _l("課室主管"), "liaison": _l("性別議題聯絡人"), "ge_qualified": _l("具性平資格人員"),
               "external_city": _l("外聘（市府機關）"), "external_civil": _l("外聘（民間團體、學者）")}
ATTENDANCE_LABELS = {"present": _l("出席"), "excused": _l("請假"), "proxy": _l("委託代理")}
DECISION_LABELS = {"passed": _l("通過"), "amended": _l("修正後通過"), "returned": _l("退回")}


class MemberForm(FlaskForm):
    name = StringField(_l("姓名"), [DataRequired(_l("請填寫委員姓名")), Length(max=100, message=_l("姓名最多 100 字"))],
                       filters=[strip])
    sex = SelectField(_l("性別"), [InputRequired(_l("請選擇性別"))],
                      choices=[SelectChoice(k, v) for k, v in SEX_LABELS.items()])
    role = SelectField(_l("職務"), choices=[SelectChoice(k, v) for k, v in ROLE_LABELS.items()], default="member")
    seat = SelectField(_l("席次"), choices=[SelectChoice(k, v) for k, v in SEAT_LABELS.items()])
    affiliation = StringField(_l("服務單位與職稱"), [Optional(), Length(max=100, message=_l("最多 100 字"))],
                              filters=[strip])
    term_start = StringField(_l("任期開始"), [InputRequired(_l("請填寫任期開始日")), date_check])
    term_end = StringField(_l("任期結束（可空白）"), [Optional(), date_check])


class EndTermForm(FlaskForm):
    last_day = StringField(_l("卸任日（最後在任日）"), [InputRequired(_l("請填寫卸任日")), date_check])


class MeetingForm(FlaskForm):
    kind = SelectField(_l("會議類別"), choices=[SelectChoice("regular", _l("定期會議")),
                                                SelectChoice("adhoc", _l("臨時會議"))])
    held_on = StringField(_l("開會日期"), [InputRequired(_l("請填寫開會日期")), date_check])
    place = StringField(_l("開會地點"), [DataRequired(_l("請填寫開會地點")),
                                     Length(max=100, message=_l("最多 100 字"))], filters=[strip])
    notice_on = StringField(_l("開會通知發文日（可空白）"), [Optional(), date_check])
    contact_name = StringField(_l("聯絡人"), [Optional(), Length(max=100, message=_l("最多 100 字"))], filters=[strip])
    contact_phone = StringField(_l("聯絡電話"), [Optional(), Length(max=40, message=_l("最多 40 字"))],
                                filters=[strip])


class WrittenForm(FlaskForm):
    member_id = SelectField(_l("委員"), coerce=int)
    approved_on = StringField(_l("同意日期"), [InputRequired(_l("請填寫同意日期")), date_check])


def _written(office_id: int) -> dict[str, Any]:
    """Written approval, where the office allows it: each case before the task force with the
    members' approvals so far, against the number required."""
    s = session()
    need = written.required(s, office_id)
    if need <= 0:
        return {"need": 0, "cases": []}
    cases = s.scalars(select(Case).where(Case.office_id == office_id, Case.state == STATE,
                                         Case.kind != deadlines.MEETING_KIND).order_by(Case.entered_state_at)).all()
    return {"need": need, "cases": [(c, written.approvals(s, c)) for c in cases]}


def _written_form(formdata: Any = None) -> WrittenForm:
    form = WrittenForm(formdata=formdata, prefix="written")
    seated = task_force.in_office(session(), current_user.office_id, clock.today())
    form.member_id.choices = [SelectChoice(m.id, m.name) for m in seated]
    if formdata is None:
        form.approved_on.data = rocdate.short(clock.today())
    return form


def can_keep_register() -> bool:
    return holds_any(EDITORS)


def _meetings(office_id: int) -> list[dict[str, Any]]:
    s = session()
    out = []
    for m in s.scalars(select(TaskForceMeeting).where(TaskForceMeeting.office_id == office_id)
                       .order_by(TaskForceMeeting.number.desc()).limit(10)):
        decided = s.execute(select(TaskForceDecision.case_id, TaskForceDecision.decision, Case.title)
                            .join(Case, Case.id == TaskForceDecision.case_id)
                            .where(TaskForceDecision.meeting_id == m.id).order_by(TaskForceDecision.id)).all()
        out.append({"m": m, "quorum": meetings.quorum(s, m), "decisions": decided})
    return out


def _missing(comp: task_force.Composition, need: int) -> str:
    return "、".join(_("%(sex)s %(n)s 人", sex=SEX_LABELS[sex], n=n) for sex, n in comp.missing(need).items())


def _page(status: int = 200, *, member: MemberForm | None = None, meeting: MeetingForm | None = None,
          typed: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> tuple[str, int]:
    office_id, today = current_user.office_id, clock.today()
    s = session()
    items = agenda(office_id)
    members = task_force.in_office(s, office_id, today)
    comp = task_force.composition(members)
    decidable = [it for key, _label in SECTIONS for it in items[key]]
    meeting_cases = s.execute(select(Case.id, Case.title).where(
        Case.office_id == office_id, Case.state == STATE, Case.kind == deadlines.MEETING_KIND)).all()
    return render_template(
        "task_force.html", meeting=next_meeting(office_id, today),
        sections=[(key, label, items[key]) for key, label in SECTIONS], total=sum(len(v) for v in items.values()),
        members=members, comp=comp, shortfall=comp.shortfall(), liaison=task_force.liaison(s, office_id, today),
        meetings=_meetings(office_id), can_edit=can_keep_register(), decidable=decidable, meeting_cases=meeting_cases,
        formats=sorted(FORMATS), year=clock.current_roc_year(),
        member_form=member or MemberForm(formdata=None, prefix="members"),
        meeting_form=meeting or MeetingForm(formdata=None, prefix="meetings"),
        end_form=EndTermForm(formdata=None, prefix="end", last_day=rocdate.short(today)),
        written=_written(office_id), written_form=_written_form(),
        today=today, missing_target=_missing(comp, comp.target_per_sex),
        typed=typed or {}, errors=errors or {}, labels={"sex": SEX_LABELS, "role": ROLE_LABELS, "seat": SEAT_LABELS,
                                                        "attendance": ATTENDANCE_LABELS, "decision": DECISION_LABELS},
    ), status


@bp.get("/task-force")
@login_required
def show() -> tuple[str, int]:
    if not can_see_task_force():
        abort(403)
    return _page()


def _editor() -> None:
    if not can_keep_register():
        abort(403)


def _messages(exc: ValidationError) -> dict[str, str]:
    return {k: localized(*v) for k, v in exc.errors.items()}


@bp.post("/task-force/members")
@login_required
def add_member() -> Response | tuple[str, int]:
    _editor()
    form = MemberForm(prefix="members")
    if not form.validate():
        return _page(422, member=form)
    try:
        with database().unit_of_work() as uow:
            task_force.add_member(
                uow.session, current_user.office_id, current_user.id, name=form.name.data or "",
                sex=form.sex.data or "", internal=not (form.seat.data or "").startswith("external"),
                role=form.role.data or "", seat=form.seat.data or "", affiliation=form.affiliation.data or "",
                term_start=rocdate.parse(form.term_start.data or ""),
                term_end=rocdate.parse(form.term_end.data) if form.term_end.data else None)
            uow.commit()
    except ValidationError as exc:
        for key, message in _messages(exc).items():
            getattr(form, key, form.name).errors = [message]
        return _page(422, member=form)
    flash(_("已新增委員「%(name)s」。", name=form.name.data), "success")
    return redirect(url_for(".show", _anchor="members"), 303)


@bp.post("/task-force/members/<int:member_id>/end")
@login_required
def end_member(member_id: int) -> Response | tuple[str, int]:
    _editor()
    form = EndTermForm(prefix="end")
    if not form.validate():
        return _page(422, errors={f"end_{member_id}": "；".join(str(e) for e in form.last_day.errors)})
    try:
        with database().unit_of_work() as uow:
            m = task_force.end_term(uow.session, current_user.office_id, current_user.id, member_id,
                                    rocdate.parse(form.last_day.data or ""))
            uow.commit()
            name = m.name
    except NotFound:
        abort(404)
    except ValidationError as exc:
        return _page(422, errors={f"end_{member_id}": "；".join(_messages(exc).values())})
    flash(_("已登錄「%(name)s」卸任。", name=name), "success")
    return redirect(url_for(".show", _anchor="members"), 303)


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else None


@bp.post("/task-force/meetings")
@login_required
def add_meeting() -> Response | tuple[str, int]:
    """A held meeting: its details, each member's attendance and a decision per agenda case."""
    _editor()
    form = MeetingForm(prefix="meetings")
    typed = {k: v for k, v in request.form.items() if k.startswith(("att_", "proxy_", "dec_", "votes_", "own_"))}
    if not form.validate():
        return _page(422, meeting=form, typed=typed)
    held_on = rocdate.parse(form.held_on.data or "")
    errors: dict[str, str] = {}
    try:
        with database().unit_of_work() as uow:
            s = uow.session
            own = _int(request.form.get("own_case"))
            m = meetings.add_meeting(
                s, current_user.office_id, current_user.id, kind=form.kind.data or "", held_on=held_on,
                place=form.place.data or "",
                notice_on=rocdate.parse(form.notice_on.data) if form.notice_on.data else None,
                contact_name=form.contact_name.data or "", contact_phone=form.contact_phone.data or "", case_id=own)
            marks = {x.id: (request.form.get(f"att_{x.id}", "present"), request.form.get(f"proxy_{x.id}", ""))
                     for x in task_force.in_office(s, current_user.office_id, held_on)}
            meetings.record_attendance(s, current_user.office_id, current_user.id, m.id, marks)
            for key, value in request.form.items():
                if not key.startswith("dec_") or not value:
                    continue
                case_id = _int(key.removeprefix("dec_"))
                votes = _int(request.form.get(f"votes_{case_id}"))
                if case_id is None:
                    continue
                try:
                    meetings.decide(s, current_user.office_id, current_user.id, m.id, case_id, decision=value,
                                    votes_for=votes if votes is not None else -1)
                except ValidationError as exc:
                    errors[f"dec_{case_id}"] = "；".join(_messages(exc).values())
            if errors:
                raise ValidationError({})
            uow.commit()
            number = m.number
    except ValidationError as exc:
        for key, message in _messages(exc).items():
            field = getattr(form, key, None)
            if field is not None:
                field.errors = [message]
            else:
                errors[key] = message
        return _page(422, meeting=form, typed=typed, errors=errors)
    flash(_("已登錄第 %(n)s 次會議及其決議。", n=number), "success")
    return redirect(url_for(".show", _anchor="meetings"), 303)


@bp.post("/task-force/cases/<int:case_id>/written")
@login_required
def add_written(case_id: int) -> Response | tuple[str, int]:
    """One member's written approval of a case before the task force (書面審查)."""
    if session().scalar(select(Case.office_id).where(Case.id == case_id)) != current_user.office_id:
        abort(404)
    _editor()
    form = _written_form(request.form)
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        return _page(422, errors={f"written_{case_id}": "；".join(str(m) for f in (form.member_id, form.approved_on)
                                                                    for m in f.errors)})
    try:
        with database().unit_of_work() as uow:
            written.record(uow.session, current_user.office_id, current_user.id, case_id, form.member_id.data,
                           rocdate.parse(form.approved_on.data or ""))
            uow.commit()
    except NotFound:
        abort(404)
    except ValidationError as exc:
        return _page(422, errors={f"written_{case_id}": "；".join(_messages(exc).values())})
    flash(_("已登錄書面同意。"), "success")
    return redirect(url_for(".show", _anchor=f"written-{case_id}"), 303)


@bp.get("/task-force/<any(members, meetings):table>.<any(csv, ods, xlsx):fmt>")
@login_required
def export(table: str, fmt: str) -> Response:
    """The year's members (terms touching it) or meetings (attendance by sex, decisions)."""
    if not can_see_task_force():
        abort(403)
    year = roc_year_arg()
    if table == "members":
        return download(fmt, _("%(year)s年專案小組委員", year=year), f"task-force-members-{year}",
                        task_force.EXPORT_HEADER, task_force.export_rows(session(), current_user.office_id, year))
    return download(fmt, _("%(year)s年專案小組會議", year=year), f"task-force-meetings-{year}",
                    meetings.EXPORT_HEADER, meetings.export_rows(session(), current_user.office_id, year))
