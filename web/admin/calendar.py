"""管理 › 行事曆: the plan's obligations (due dates, receivers), step limits in working days and the
office's closure days."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from web.admin.common import (
    ConfirmForm,
    bp,
    choices,
    date_check,
    own,
    parse_date,
    record,
    strip,
    write,
)
from web.db import session
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.labels import kind_label, period_label
from workflow import clock, rocdate
from workflow.engine import registry
from workflow.models import (
    OfficeClosure,
    PlanObligation,
    PlanPeriod,
    StepLimit,
)


class ObligationForm(FlaskForm):
    due_month = IntegerField(_l("到期月"), [InputRequired(_l("請填寫月份")),
                                          NumberRange(1, 12, message=_l("月份須為 1 至 12"))])
    due_day = IntegerField(_l("到期日"), [InputRequired(_l("請填寫日期")),
                                        NumberRange(1, 31, message=_l("日期須為 1 至 31"))])
    due_year_offset = SelectField(_l("年度"), choices=[SelectChoice("0", _l("當年")), SelectChoice("1", _l("次年"))])
    receiver = StringField(_l("受文者"), [Optional(), Length(max=100, message=_l("受文者最多 100 字"))],
                           filters=[strip])


class StepLimitForm(FlaskForm):
    kind = SelectField(_l("案件類別"), [InputRequired(_l("請選擇案件類別"))], choices=[], validate_choice=False)
    state = StringField(_l("步驟（狀態代碼）"), [InputRequired(_l("請填寫步驟")), Regexp(
        r"^[a-z_]{2,40}$", message=_l("步驟請填狀態代碼，例：section_review"))])
    working_days = StringField(_l("工作天數（空白表示至下次專案小組會議）"), [Optional(), Regexp(
        r"^\s*[0-9]{1,3}\s*$", message=_l("工作天數請填 0 至 999 的整數"))])


class ClosureForm(FlaskForm):
    day = StringField(_l("日期"), [InputRequired(_l("請填寫日期")), date_check])
    reason = StringField(_l("原因"), [DataRequired(_l("請填寫原因，例：颱風停班")),
                                    Length(max=200, message=_l("原因最多 200 字"))], filters=[strip])


# -- the calendar's reference data (shared by every office: plan obligations and step limits;
#    closure days are the office's own) ------------------------------------------------------------
def _step_limit_form(formdata: bool = True) -> StepLimitForm:
    form = StepLimitForm(prefix="limit") if formdata else StepLimitForm(formdata=None, prefix="limit")
    kinds = [(k, kind_label(k)) for k in registry.default().kinds()]
    form.kind.choices = choices([("*", _("所有類別（預設）")), *kinds])
    return form


def _calendar_page(*, obligation: dict[int, ObligationForm] | None = None, limit: StepLimitForm | None = None,
                   closure: ClosureForm | None = None, status: int = 200) -> tuple[str, int]:
    s = session()
    plans = list(s.scalars(select(PlanPeriod).order_by(PlanPeriod.first_year)))
    obligations = list(s.scalars(select(PlanObligation).order_by(PlanObligation.plan_id, PlanObligation.id)))
    forms = {o.id: ObligationForm(formdata=None, prefix=f"ob{o.id}", due_month=o.due_month, due_day=o.due_day,
                                  due_year_offset=str(o.due_year_offset), receiver=o.receiver)
             for o in obligations}
    forms.update(obligation or {})
    limits = list(s.scalars(select(StepLimit).order_by(StepLimit.kind, StepLimit.state)))
    closures = list(s.scalars(select(OfficeClosure).where(or_(OfficeClosure.office_id == current_user.office_id,
                                                                OfficeClosure.office_id.is_(None)))
                              .where(OfficeClosure.day >= clock.today() - dt.timedelta(days=366))
                              .order_by(OfficeClosure.day)))
    return render_template(
        "admin_calendar.html", plans=plans, obligations=obligations, ob_forms=forms, limits=limits,
        limit_form=limit or _step_limit_form(False), closures=closures,
        closure_form=closure or ClosureForm(formdata=None, prefix="closure"), kind_label=kind_label,
        period_label=period_label, year=clock.current_roc_year(), confirm=ConfirmForm(formdata=None, confirm="yes"),
    ), status


@bp.get("/calendar")
def calendar() -> tuple[str, int]:
    return _calendar_page()


@bp.post("/obligations/<int:obligation_id>")
def edit_obligation(obligation_id: int) -> Response | tuple[str, int]:
    ob = session().get(PlanObligation, obligation_id)
    if ob is None:
        abort(404)
    form = ObligationForm(prefix=f"ob{ob.id}")
    if not form.validate():
        return _calendar_page(obligation={ob.id: form}, status=422)
    old = {"due_month": ob.due_month, "due_day": ob.due_day, "due_year_offset": ob.due_year_offset,
           "receiver": ob.receiver}
    new = {"due_month": int(form.due_month.data or 0), "due_day": int(form.due_day.data or 0),
           "due_year_offset": int(form.due_year_offset.data or 0), "receiver": (form.receiver.data or "").strip()}

    def change(s: Session) -> None:
        row = s.get_one(PlanObligation, obligation_id)
        for k, v in new.items():
            setattr(row, k, v)
        record(s, "plan.obligation", obligation_id=obligation_id, kind=ob.kind, period=ob.period, old=old, new=new)
    write(change)
    flash(_("已更新「%(title)s」的到期日與受文者。", title=ob.title), "success")
    return redirect(url_for(".calendar", _anchor=f"ob{ob.id}"), 303)


def _states_of(kind: str) -> set[str]:
    reg = registry.default()
    kinds = reg.kinds() if kind == "*" else [kind]
    return {st for k in kinds for st in reg.latest(k).state_names}


@bp.post("/step-limits")
def set_step_limit() -> Response | tuple[str, int]:
    form = _step_limit_form()
    valid = form.validate()
    kind, state = form.kind.data or "", (form.state.data or "").strip()
    if valid:
        kind, state = form.kind.data or "", (form.state.data or "").strip()
        if kind != "*" and kind not in registry.default().kinds():
            form.kind.errors = [_("請從清單選擇案件類別")]
        elif state not in _states_of(kind):
            form.state.errors = [_("「%(state)s」不是這個類別的步驟；可用：%(states)s", state=state,
                                   states="、".join(sorted(_states_of(kind))))]
    if not valid or form.errors:
        return _calendar_page(limit=form, status=422)
    raw = (form.working_days.data or "").strip()
    days = int(raw) if raw else None

    def change(s: Session) -> None:
        row = s.scalar(select(StepLimit).where(StepLimit.kind == kind, StepLimit.state == state))
        old = row.working_days if row else "none"
        if row is None:
            s.add(StepLimit(kind=kind, state=state, working_days=days))
        else:
            row.working_days = days
        record(s, "plan.step_limit", kind=kind, state=state, old=old, working_days=days)
    write(change)
    flash(_("已設定步驟期限。"), "success")
    return redirect(url_for(".calendar", _anchor="limits"), 303)


@bp.post("/closures")
def add_closure() -> Response | tuple[str, int]:
    form = ClosureForm(prefix="closure")
    day = parse_date(form.day.data) if form.validate() else None
    if day is not None and session().scalar(select(OfficeClosure.id).where(
            OfficeClosure.office_id == current_user.office_id, OfficeClosure.day == day)):
        form.day.errors = [_("這一天已經登記為停班日")]
    if day is None or form.day.errors:
        return _calendar_page(closure=form, status=422)
    reason = (form.reason.data or "").strip()

    def change(s: Session) -> None:
        c = OfficeClosure(office_id=current_user.office_id, day=day, reason=reason, created_at=clock.now())
        s.add(c)
        s.flush()
        record(s, "closure.add", closure_id=c.id, day=day, reason=reason)
    write(change)
    flash(_("已登記 %(day)s 為停班日；期限將順延。", day=rocdate.short(day)), "success")
    return redirect(url_for(".calendar", _anchor="closures"), 303)


@bp.post("/closures/<int:closure_id>/delete")
def remove_closure(closure_id: int) -> Response:
    c = own(OfficeClosure, closure_id)  # city-wide days (no office) are not an office's to remove
    if not ConfirmForm().validate():
        abort(400)

    def change(s: Session) -> None:
        s.execute(delete(OfficeClosure).where(OfficeClosure.id == closure_id))
        record(s, "closure.remove", closure_id=closure_id, day=c.day, reason=c.reason)
    write(change)
    flash(_("已移除停班日 %(day)s。", day=rocdate.short(c.day)), "success")
    return redirect(url_for(".calendar", _anchor="closures"), 303)
