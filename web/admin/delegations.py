"""管理 › 代理: who acts for whom, in which role, over which days."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import (
    InputRequired,
    Length,
    Optional,
)

from web.admin.common import (
    ConfirmForm,
    bp,
    choices,
    date_check,
    office_users,
    own,
    own_id,
    parse_date,
    record,
    role_choices,
    role_label,
    strip,
    user_choices,
    write,
)
from web.db import session
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from workflow import clock, rocdate
from workflow.models import (
    Delegation,
    RoleAssignment,
    User,
)
from workflow.roles import ALL_ROLES


class DelegationForm(FlaskForm):
    from_user = SelectField(_l("被代理人"), [InputRequired(_l("請選擇被代理人"))], choices=[], validate_choice=False)
    to_user = SelectField(_l("代理人"), [InputRequired(_l("請選擇代理人"))], choices=[], validate_choice=False)
    role = SelectField(_l("代理的角色"), [InputRequired(_l("請選擇角色"))], choices=[], validate_choice=False)
    valid_from = StringField(_l("起始日期"), [InputRequired(_l("請填寫起始日期")), date_check])
    valid_to = StringField(_l("結束日期"), [InputRequired(_l("請填寫結束日期")), date_check])
    reason = StringField(_l("事由"), [Optional(), Length(max=200, message=_l("事由最多 200 字"))], filters=[strip])


# -- delegations ----------------------------------------------------------------------------------
def _delegation_form(formdata: bool = True) -> DelegationForm:
    form = DelegationForm(prefix="delegation") if formdata else DelegationForm(formdata=None, prefix="delegation")
    form.from_user.choices = form.to_user.choices = choices(user_choices())
    form.role.choices = choices([("", _("請選擇")), *role_choices()])
    return form


def _delegations_page(form: DelegationForm | None = None, status: int = 200) -> tuple[str, int]:
    today = clock.today()
    rows = list(session().scalars(select(Delegation).where(Delegation.office_id == current_user.office_id,
                                                            Delegation.valid_to >= today)
                                  .order_by(Delegation.valid_from, Delegation.id)))
    people = office_users()
    names = {u.id: u.display_name for u in people}
    inactive = {u.id for u in people if not u.active}  # their delegations lend nothing (workflow.permissions)
    return render_template("admin_delegations.html", rows=rows, names=names, inactive=inactive,
                           role_label=role_label, today=today,
                           form=form or _delegation_form(False), confirm=ConfirmForm(formdata=None, confirm="yes")
                           ), status


@bp.get("/delegations")
def delegations() -> tuple[str, int]:
    return _delegations_page()


def _check_delegation(form: DelegationForm) -> tuple[User, User, str, dt.date, dt.date] | None:
    s = session()
    frm, to = own_id(User, form.from_user.data), own_id(User, form.to_user.data)
    role = form.role.data or ""
    start, end = parse_date(form.valid_from.data), parse_date(form.valid_to.data)
    if frm is None:
        form.from_user.errors = [_("請從清單選擇被代理人")]
    if to is None:
        form.to_user.errors = [_("請從清單選擇代理人")]
    if role not in ALL_ROLES:
        form.role.errors = [_("請從清單選擇角色")]
    if form.errors or frm is None or to is None or start is None or end is None:
        return None
    if frm.id == to.id:
        form.to_user.errors = [_("代理人不能是被代理人本人，請選擇另一位同仁")]
    if end < start:
        form.valid_to.errors = [_("結束日期不可早於起始日期")]
    elif end < clock.today():
        form.valid_to.errors = [_("結束日期已經過了（今天是 %(today)s），這個代理不會生效",
                                  today=rocdate.short(clock.today()))]
    held = s.scalar(select(RoleAssignment.id).where(
        RoleAssignment.user_id == frm.id, RoleAssignment.role == role, RoleAssignment.valid_from <= end,
        or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to >= start)).limit(1))
    if held is None:
        form.role.errors = [_("「%(name)s」在這段期間沒有「%(role)s」的角色，無從代理",
                              name=frm.display_name, role=role_label(role))]
    if form.errors:
        return None
    overlapping = select(Delegation).where(Delegation.role == role, Delegation.valid_from <= end,
                                           Delegation.valid_to >= start)
    same = s.scalars(overlapping.where(Delegation.from_user_id == frm.id).limit(1)).first()
    if same is not None:
        form.valid_from.errors = [_("「%(name)s」的「%(role)s」在 %(a)s 至 %(b)s 已由「%(to)s」代理，期間不可重疊",
                                    name=frm.display_name, role=role_label(role), a=rocdate.short(same.valid_from),
                                    b=rocdate.short(same.valid_to), to=same.to_user.display_name)]
    back = s.scalars(overlapping.where(Delegation.from_user_id == to.id, Delegation.to_user_id == frm.id)
                     .limit(1)).first()
    if back is not None:
        form.to_user.errors = [_("「%(to)s」在這段期間正由「%(name)s」代理同一角色，兩人不能互為代理",
                                 to=to.display_name, name=frm.display_name)]
    if form.errors:
        return None
    return frm, to, role, start, end


@bp.post("/delegations")
def add_delegation() -> Response | tuple[str, int]:
    form = _delegation_form()
    checked = _check_delegation(form) if form.validate() else None
    if checked is None:
        return _delegations_page(form=form, status=422)
    frm, to, role, start, end = checked
    reason = (form.reason.data or "").strip()

    def change(s: Session) -> None:
        d = Delegation(office_id=current_user.office_id, from_user_id=frm.id, to_user_id=to.id, role=role,
                       valid_from=start, valid_to=end, reason=reason)
        s.add(d)
        s.flush()
        record(s, "delegation.add", delegation_id=d.id, from_user_id=frm.id, to_user_id=to.id, role=role,
                valid_from=start, valid_to=end, reason=reason)
    write(change)
    flash(_("已設定「%(to)s」於 %(a)s 至 %(b)s 代理「%(name)s」的「%(role)s」。", to=to.display_name,
            a=rocdate.short(start), b=rocdate.short(end), name=frm.display_name, role=role_label(role)), "success")
    return redirect(url_for(".delegations"), 303)


@bp.post("/delegations/<int:delegation_id>/end")
def end_delegation(delegation_id: int) -> Response:
    d = own(Delegation, delegation_id)
    if not ConfirmForm().validate():
        abort(400)
    today = clock.today()
    cancel = d.valid_from > today  # not started yet: nothing was done under it, so it goes

    def change(s: Session) -> None:
        row = s.get_one(Delegation, delegation_id)
        if cancel:
            s.execute(delete(Delegation).where(Delegation.id == delegation_id))
        else:
            row.valid_to = min(row.valid_to, today)
        record(s, "delegation.cancel" if cancel else "delegation.end", delegation_id=delegation_id,
                from_user_id=d.from_user_id, to_user_id=d.to_user_id, role=d.role, valid_from=d.valid_from,
                valid_to=d.valid_to, ended_on=None if cancel else today)
    write(change)
    flash(_("已取消這項尚未開始的代理。") if cancel else _("代理已於今天（%(day)s）結束。", day=rocdate.short(today)),
          "success")
    return redirect(url_for(".delegations"), 303)
