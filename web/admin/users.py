"""管理 › 人員: people of the office, their details, passwords, active flag and role assignments
(the liaison's rank check included)."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
)

from web.admin.common import (
    bp,
    choices,
    date_check,
    is_current,
    office_units,
    office_users,
    own,
    own_id,
    parse_date,
    record,
    role_choices,
    role_label,
    strip,
    unit_choices,
    write,
)
from web.db import session
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from workflow import clock, rocdate
from workflow.models import (
    Delegation,
    RoleAssignment,
    Unit,
    User,
)
from workflow.people.passwords import MAX_LENGTH as PASSWORD_MAX
from workflow.people.passwords import MIN_LENGTH as PASSWORD_MIN
from workflow.people.passwords import hash_password
from workflow.registers.task_force import title_rank_ok
from workflow.roles import ALL_ROLES, UNIT_SCOPED, Role

PASSWORD_RULES = [InputRequired(_l("請輸入密碼")), Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=_l(
    "密碼長度須為 %(min)s 至 %(max)s 個字元", min=PASSWORD_MIN, max=PASSWORD_MAX))]


class UserDetailsForm(FlaskForm):
    """What an administrator may change about a person (the login stays: it is how they sign in)."""

    display_name = StringField(_l("姓名"), [DataRequired(_l("請填寫姓名")),
                                          Length(max=100, message=_l("姓名最多 100 字"))], filters=[strip])
    sex = SelectField(_l("性別"), [InputRequired(_l("請選擇性別"))],
                      choices=[SelectChoice("F", _l("女")), SelectChoice("M", _l("男")),
                               SelectChoice("X", _l("不提供"))])
    unit = SelectField(_l("課室"), choices=[], validate_choice=False)
    title = StringField(_l("職稱"), [Optional(), Length(max=64, message=_l("職稱最多 64 字"))], filters=[strip])
    employee_no = StringField(_l("員工編號"), [Optional(), Length(max=32, message=_l("員工編號最多 32 字")), Regexp(
        r"^[A-Za-z0-9-]*$", message=_l("員工編號只能有英文字母、數字與連字號"))], filters=[strip])
    ge_staff = BooleanField(_l("性別平等業務相關人員（每年培力 10 小時）"))
    civil_servant = BooleanField(_l("本所公務人員（適用每年培力時數規定；外聘委員、系統帳號不勾選）"), default=True)
    joined_on = StringField(_l("到職日（可空白）"), [Optional(), date_check])
    email = StringField(_l("電子郵件"), [Optional(), Length(max=200), Regexp(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("電子郵件格式不正確，例：name@example.gov.tw"))])


class UserForm(UserDetailsForm):
    login = StringField(_l("帳號"), [InputRequired(_l("請填寫帳號")), Regexp(
        r"^[A-Za-z0-9._-]{3,64}$", message=_l("帳號請用 3 至 64 個英文字母、數字、點、底線或連字號"))])
    password = PasswordField(_l("初始密碼"), PASSWORD_RULES)


class EditUserForm(UserDetailsForm):
    end_unit_roles = BooleanField(_l("調動課室：結束此人在原課室的承辦人、課長角色（今天為最後一天）"))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("新密碼"), PASSWORD_RULES)


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[InputRequired(), AnyOf(["0", "1"])])


class GrantForm(FlaskForm):
    role = SelectField(_l("角色"), [InputRequired(_l("請選擇角色"))], choices=[], validate_choice=False)
    unit = SelectField(_l("課室"), choices=[], validate_choice=False)
    valid_from = StringField(_l("起始日期"), [InputRequired(_l("請填寫起始日期")), date_check])
    valid_to = StringField(_l("結束日期（可空白）"), [Optional(), date_check])


class EndForm(FlaskForm):
    valid_to = StringField(_l("結束日期"), [InputRequired(_l("請填寫結束日期")), date_check])


# -- users --------------------------------------------------------------------------------------
def _roles_by_user(today: dt.date) -> dict[int, list[RoleAssignment]]:
    out: dict[int, list[RoleAssignment]] = {}
    for ra in session().scalars(select(RoleAssignment).where(RoleAssignment.office_id == current_user.office_id)
                                .order_by(RoleAssignment.id)):
        if is_current(ra.valid_from, ra.valid_to, today):
            out.setdefault(ra.user_id, []).append(ra)
    return out


def _new_user_form(formdata: bool = True) -> UserForm:
    form = UserForm(prefix="user") if formdata else UserForm(formdata=None, prefix="user")
    form.unit.choices = choices(unit_choices(_("（不屬於課室）")))
    return form


def _users_page(form: UserForm | None = None, status: int = 200) -> tuple[str, int]:
    today = clock.today()
    return render_template("admin_users.html", users=office_users(), roles=_roles_by_user(today),
                           units={u.id: u for u in office_units()}, role_label=role_label,
                           form=form or _new_user_form(False)), status


@bp.get("/users")
def users() -> tuple[str, int]:
    return _users_page()


@bp.post("/users")
def add_user() -> Response | tuple[str, int]:
    form = _new_user_form()
    if form.validate():
        login = (form.login.data or "").strip()
        unit = own_id(Unit, form.unit.data)
        if session().scalar(select(User.id).where(User.login == login)):
            form.login.errors = [_("此帳號已有人使用，請換一個")]
        elif taken := _employee_no_taken(form.employee_no.data, None):
            form.employee_no.errors = [_("員工編號已用於「%(name)s」", name=taken)]
        elif form.unit.data and unit is None:
            form.unit.errors = [_("請從清單選擇課室")]
        else:
            def change(s: Session) -> None:
                u = User(office_id=current_user.office_id, unit_id=unit.id if unit else None, login=login,
                         display_name=(form.display_name.data or "").strip(), sex=form.sex.data,
                         title=(form.title.data or "").strip() or None,
                         email=(form.email.data or "").strip() or None,
                         employee_no=form.employee_no.data or None, ge_staff=bool(form.ge_staff.data),
                         civil_servant=bool(form.civil_servant.data), joined_on=parse_date(form.joined_on.data),
                         password_hash=hash_password(form.password.data or ""), created_at=clock.now())
                s.add(u)
                s.flush()
                record(s, "user.add", user_id=u.id, login=u.login, display_name=u.display_name, sex=u.sex,
                        unit_id=u.unit_id, title=u.title, email=u.email)
                g.new_user_id = u.id
            write(change)
            flash(_("已新增使用者「%(name)s」；請在下方指派角色。", name=form.display_name.data), "success")
            return redirect(url_for(".user", user_id=g.new_user_id), 303)
    return _users_page(form=form, status=422)


def _grant_form(formdata: bool = True) -> GrantForm:
    form = GrantForm(prefix="grant") if formdata else GrantForm(formdata=None, prefix="grant")
    form.role.choices = choices([("", _("請選擇")), *role_choices()])
    form.unit.choices = choices(unit_choices(_("（不限課室）")))
    if not formdata:
        form.valid_from.data = rocdate.short(clock.today())
    return form


def _employee_no_taken(no: str | None, user_id: int | None) -> str | None:
    """Who else in the office has this employee number (training imports find people by it)."""
    if not no:
        return None
    return session().scalar(select(User.display_name).where(
        User.office_id == current_user.office_id, User.employee_no == no, User.id != (user_id or 0)))


def _details_form(user: User, formdata: bool = True) -> EditUserForm:
    if formdata:
        form = EditUserForm(prefix="details")
    else:
        form = EditUserForm(formdata=None, prefix="details", display_name=user.display_name, sex=user.sex,
                            unit=str(user.unit_id or ""), title=user.title or "", email=user.email or "",
                            employee_no=user.employee_no or "", ge_staff=user.ge_staff,
                            civil_servant=user.civil_servant,
                            joined_on=rocdate.short(user.joined_on) if user.joined_on else "")
    form.unit.choices = choices(unit_choices(_("（不屬於課室）")))
    return form


def _tied_to_unit(s: Session, user_id: int, unit_id: int | None, today: dt.date) -> list[RoleAssignment]:
    """The person's staff and chief assignments for ``unit_id`` that still run after today: what a
    move out of that unit must end (the roles are the unit's, not the person's)."""
    if unit_id is None:
        return []
    return list(s.scalars(select(RoleAssignment).where(
        RoleAssignment.user_id == user_id, RoleAssignment.unit_id == unit_id, RoleAssignment.role.in_(UNIT_SCOPED),
        or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to > today)).order_by(RoleAssignment.id)))


def _roles_text(assignments: list[RoleAssignment]) -> str:
    return "、".join(dict.fromkeys(role_label(ra.role) for ra in assignments))


def _user_page(user: User, *, details: EditUserForm | None = None, grant: GrantForm | None = None,
               password: PasswordForm | None = None, end: dict[int, EndForm] | None = None,
               status: int = 200) -> tuple[str, int]:
    s = session()
    today = clock.today()
    assignments = list(s.scalars(select(RoleAssignment).where(RoleAssignment.user_id == user.id)
                                 .order_by(RoleAssignment.valid_from.desc(), RoleAssignment.id.desc())))
    ends = {ra.id: EndForm(formdata=None, prefix=f"ra{ra.id}", valid_to=rocdate.short(today))
            for ra in assignments}
    ends.update(end or {})
    return render_template(
        "admin_user.html", user=user, units={u.id: u for u in office_units()}, assignments=assignments, today=today,
        role_label=role_label, details=details or _details_form(user, False),
        tied=_roles_text(_tied_to_unit(s, user.id, user.unit_id, today)), grant=grant or _grant_form(False),
        password=password or PasswordForm(formdata=None, prefix="password"), ends=ends,
        active_form=ActiveForm(formdata=None, active="0" if user.active else "1"),
    ), status


@bp.get("/users/<int:user_id>")
def user(user_id: int) -> tuple[str, int]:
    return _user_page(own(User, user_id))


@bp.post("/users/<int:user_id>")
def edit_user(user_id: int) -> Response | tuple[str, int]:
    """Name, sex, unit, title, e-mail. Moving someone out of a unit ends their staff and chief roles
    there (today is the last day; one not started yet is cancelled), and the delegations of those
    roles they gave, in the same unit of work; without the box ticked the move is refused, saying so."""
    u = own(User, user_id)
    form = _details_form(u)
    if not form.validate():
        return _user_page(u, details=form, status=422)
    unit = own_id(Unit, form.unit.data)
    if form.unit.data and unit is None:
        form.unit.errors = [_("請從清單選擇課室")]
        return _user_page(u, details=form, status=422)
    today = clock.today()
    new = {"display_name": (form.display_name.data or "").strip(), "sex": form.sex.data,
           "unit_id": unit.id if unit else None, "title": (form.title.data or "").strip() or None,
           "email": (form.email.data or "").strip() or None, "employee_no": form.employee_no.data or None,
           "ge_staff": bool(form.ge_staff.data), "civil_servant": bool(form.civil_servant.data),
           "joined_on": parse_date(form.joined_on.data)}
    if taken := _employee_no_taken(new["employee_no"], u.id):
        form.employee_no.errors = [_("員工編號已用於「%(name)s」", name=taken)]
        return _user_page(u, details=form, status=422)
    old = {k: getattr(u, k) for k in new}
    if new == old:
        flash(_("沒有任何變更。"), "info")
        return redirect(url_for(".user", user_id=user_id), 303)
    units = {x.id: x for x in office_units()}
    old_unit = units.get(u.unit_id) if u.unit_id is not None else None
    tied = _tied_to_unit(session(), u.id, u.unit_id, today) if new["unit_id"] != old["unit_id"] else []
    if tied and not form.end_unit_roles.data:
        assert old_unit is not None
        form.unit.errors = [_("「%(name)s」目前是「%(unit)s」的%(roles)s，調動課室須一併結束這些角色：請勾選"
                              "「結束此人在原課室的承辦人、課長角色」後再儲存，或先在下方角色表結束它們。",
                              name=u.display_name, unit=old_unit.name, roles=_roles_text(tied))]
        return _user_page(u, details=form, status=422)
    tied_ids = [ra.id for ra in tied]
    ended = {ra.role for ra in tied}
    chiefless: list[bool] = []

    def change(s: Session) -> None:
        row = s.get_one(User, user_id)
        for k, v in new.items():
            setattr(row, k, v)
        record(s, "user.edit", user_id=user_id, login=u.login,
                old={k: v for k, v in old.items() if new[k] != v}, new={k: v for k, v in new.items() if old[k] != v})
        for ra_id in tied_ids:
            ra = s.get_one(RoleAssignment, ra_id)
            data = {"assignment_id": ra_id, "user_id": user_id, "role": ra.role, "unit_id": ra.unit_id,
                    "valid_from": ra.valid_from, "old_valid_to": ra.valid_to, "because": "unit_move"}
            if ra.valid_from > today:  # not started: nothing was done under it
                s.delete(ra)
                record(s, "role.cancel", **data)
            else:
                ra.valid_to = today
                record(s, "role.end", **data, valid_to=today)
        s.flush()
        # Delegations of a role the person no longer holds after today end with it.
        still = set(s.scalars(select(RoleAssignment.role).where(
            RoleAssignment.user_id == user_id, RoleAssignment.role.in_(ended),
            or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to > today))))
        for d in list(s.scalars(select(Delegation).where(
                Delegation.from_user_id == user_id, Delegation.role.in_(ended - still), Delegation.valid_to > today)
                .order_by(Delegation.id))):
            data = {"delegation_id": d.id, "from_user_id": d.from_user_id, "to_user_id": d.to_user_id, "role": d.role,
                    "valid_from": d.valid_from, "valid_to": d.valid_to, "because": "unit_move"}
            if d.valid_from > today:
                s.delete(d)
                record(s, "delegation.cancel", **data)
            else:
                d.valid_to = today
                record(s, "delegation.end", **data, ended_on=today)
        if Role.CHIEF in ended and old_unit is not None:
            chiefless.append(not _has_chief(s, old_unit.id, today + dt.timedelta(days=1)))
    write(change)
    flash(_("已更新「%(name)s」的基本資料。", name=new["display_name"]), "success")
    if tied and old_unit is not None:
        flash(_("「%(name)s」在「%(unit)s」的%(roles)s於今天（%(day)s）結束。", name=new["display_name"],
                unit=old_unit.name, roles=_roles_text(tied), day=rocdate.short(today)), "info")
        new_unit = units.get(new["unit_id"] or 0)
        if new_unit is not None:
            flash(_("若「%(name)s」在「%(unit)s」擔任承辦人或課長，請在下方「指派角色」新增。",
                    name=new["display_name"], unit=new_unit.name), "info")
        if any(chiefless):
            flash(_("「%(unit)s」明天起沒有課長，送課長審核的案件將無人核准：請為該課室指派課長或設定代理。",
                    unit=old_unit.name), "warning")
    if new["title"] != old["title"]:
        for role in {ra.role for ra in _roles_by_user(today).get(user_id, [])}:
            warning = liaison_warning(role, new["title"])
            if warning:
                flash(warning, "warning")
    return redirect(url_for(".user", user_id=user_id), 303)


def _has_chief(s: Session, unit_id: int, day: dt.date) -> bool:
    """Does an active person hold the unit's chief role on ``day``?"""
    return s.scalar(select(RoleAssignment.id).join(User, User.id == RoleAssignment.user_id).where(
        RoleAssignment.unit_id == unit_id, RoleAssignment.role == Role.CHIEF, RoleAssignment.valid_from <= day,
        or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to >= day), User.active).limit(1)) is not None


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int) -> Response:
    u = own(User, user_id)
    form = ActiveForm()
    if not form.validate():
        abort(400)
    active = form.active.data == "1"
    if not active and u.id == current_user.id:
        flash(_("不能停用自己的帳號。"), "error")
        return redirect(url_for(".user", user_id=user_id), 303)

    def change(s: Session) -> None:
        s.get_one(User, user_id).active = active
        record(s, "user.activate" if active else "user.deactivate", user_id=user_id, login=u.login)
    write(change)
    flash(_("已啟用「%(name)s」的帳號。", name=u.display_name) if active
          else _("已停用「%(name)s」的帳號；此人已無法登入。", name=u.display_name), "success")
    return redirect(url_for(".user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> Response | tuple[str, int]:
    u = own(User, user_id)
    form = PasswordForm(prefix="password")
    if not form.validate():
        return _user_page(u, password=form, status=422)
    hashed = hash_password(form.password.data or "")

    def change(s: Session) -> None:
        s.get_one(User, user_id).password_hash = hashed  # also ends remember-me cookies (web/auth.py)
        record(s, "user.password_reset", user_id=user_id, login=u.login)
    write(change)
    flash(_("已重設「%(name)s」的密碼，請以安全方式告知本人。", name=u.display_name), "success")
    return redirect(url_for(".user", user_id=user_id), 303)


def liaison_warning(role: str, title: str | None) -> str | None:
    """The plan wants the liaison at section-chief level or above: a warning, not a refusal."""
    if role not in (Role.LIAISON, Role.DEPUTY_LIAISON) or title_rank_ok(title):
        return None
    message = _("請注意：性別議題聯絡人應由課長（含）以上層級擔任（職稱含課長、主任、秘書或區長），"
                "此人職稱為「%(title)s」；角色已指派，請再確認。", title=title or _("未填"))
    return message


@bp.post("/users/<int:user_id>/roles")
def grant(user_id: int) -> Response | tuple[str, int]:
    u = own(User, user_id)
    form = _grant_form()
    if not form.validate():
        return _user_page(u, grant=form, status=422)
    role = form.role.data or ""
    unit = own_id(Unit, form.unit.data)
    start, end = parse_date(form.valid_from.data), parse_date(form.valid_to.data)
    assert start is not None
    if role not in ALL_ROLES:
        form.role.errors = [_("請從清單選擇角色")]
    elif form.unit.data and unit is None:
        form.unit.errors = [_("請從清單選擇課室")]
    elif role in UNIT_SCOPED and unit is None:
        form.unit.errors = [_("「%(role)s」須指定課室", role=role_label(role))]
    elif end is not None and end < start:
        form.valid_to.errors = [_("結束日期不可早於起始日期")]
    else:
        unit_id = unit.id if unit is not None and role in UNIT_SCOPED else None
        held = session().scalars(select(RoleAssignment).where(
            RoleAssignment.user_id == u.id, RoleAssignment.role == role,
            RoleAssignment.unit_id.is_(None) if unit_id is None else RoleAssignment.unit_id == unit_id,
            or_(RoleAssignment.valid_to.is_(None), RoleAssignment.valid_to >= start),
            *([] if end is None else [RoleAssignment.valid_from <= end])).limit(1)).first()
        if held is not None:
            form.valid_from.errors = [_(
                "「%(name)s」在這段期間已有「%(role)s」（%(a)s 起），不必重複指派；要改期間請先結束原來的指派",
                name=u.display_name, role=role_label(role), a=rocdate.short(held.valid_from))]
    if form.errors:
        return _user_page(u, grant=form, status=422)

    def change(s: Session) -> None:
        ra = RoleAssignment(office_id=u.office_id, user_id=u.id, role=role,
                            unit_id=unit.id if unit is not None and role in UNIT_SCOPED else None,
                            valid_from=start, valid_to=end)
        s.add(ra)
        s.flush()
        record(s, "role.grant", assignment_id=ra.id, user_id=u.id, role=role, unit_id=ra.unit_id,
                valid_from=start, valid_to=end)
    write(change)
    flash(_("已指派「%(role)s」給「%(name)s」。", role=role_label(role), name=u.display_name), "success")
    warning = liaison_warning(role, u.title)
    if warning:
        flash(warning, "warning")
    return redirect(url_for(".user", user_id=user_id), 303)


@bp.post("/roles/<int:assignment_id>/end")
def end_role(assignment_id: int) -> Response | tuple[str, int]:
    ra = own(RoleAssignment, assignment_id)
    u = session().get_one(User, ra.user_id)
    form = EndForm(prefix=f"ra{ra.id}")
    end = parse_date(form.valid_to.data) if form.validate() else None
    if end is not None and end < ra.valid_from:
        form.valid_to.errors = [_("結束日期不可早於起始日期（%(start)s）", start=rocdate.short(ra.valid_from))]
    if end is None or form.valid_to.errors:
        return _user_page(u, end={ra.id: form}, status=422)

    def change(s: Session) -> None:
        row = s.get_one(RoleAssignment, assignment_id)
        old = row.valid_to
        row.valid_to = end
        record(s, "role.end", assignment_id=assignment_id, user_id=u.id, role=row.role, old_valid_to=old,
                valid_to=end)
    write(change)
    flash(_("「%(role)s」將於 %(day)s 結束。", role=role_label(ra.role), day=rocdate.short(end)), "success")
    return redirect(url_for(".user", user_id=u.id), 303)
