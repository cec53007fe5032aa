"""管理: an office's administrators keep its units, people, roles, delegations, the calendar's
reference data and the document templates. Only users holding ``admin`` in their office see it
(403 for others); objects of another office answer 404 (ids reveal nothing).

Every change is written in one unit of work together with its ``admin_events`` row
(``workflow.admin_log.record``). A refused form is shown again (422) with a zh-TW message next to
the field and everything typed kept (passwords excepted, as browsers do).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import BooleanField, Field, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from documents import templates_admin
from documents.context import RECEIVER, doc_no_prefix
from documents.render import TemplateProblem
from web.access import holds_any
from web.db import database, session
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from web.labels import kind_label
from workflow import admin_log, clock, registry, rocdate
from workflow.models import (
    Delegation,
    Office,
    OfficeClosure,
    PlanObligation,
    PlanPeriod,
    RoleAssignment,
    StepLimit,
    Unit,
    User,
)
from workflow.passwords import MAX_LENGTH as PASSWORD_MAX
from workflow.passwords import MIN_LENGTH as PASSWORD_MIN
from workflow.passwords import hash_password
from workflow.roles import ALL_ROLES, ROLE_LABELS, UNIT_SCOPED, Role

bp = Blueprint("admin", __name__, url_prefix="/admin")
# The liaison must be section-chief level or above (the plan): a title with one of these words.
LIAISON_TITLES = ("課長", "主任", "秘書", "區長")
T = TypeVar("T")


# -- who may come in --------------------------------------------------------------------------
def is_admin() -> bool:
    return holds_any((Role.ADMIN,))


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"is_admin": is_admin}


@bp.before_request
@login_required
def _only_admins() -> None:
    if not is_admin():
        abort(403)


def _own(model: type[T], object_id: int) -> T:
    """The office's own object with this id, else 404 (another office's looks like none at all)."""
    obj = session().get(model, object_id)
    if obj is None or getattr(obj, "office_id", None) != current_user.office_id:
        abort(404)
    return obj


def _write(change: Callable[[Session], None]) -> None:
    with database().unit_of_work() as uow:
        change(uow.session)
        uow.commit()


def _record(s: Session, what: str, **data: Any) -> None:
    admin_log.record(s, current_user.office_id, current_user.id, what, **data)


# -- form pieces ------------------------------------------------------------------------------
DATE_HINT = _l("民國日期（例：115.04.10）或西元日期（例：2026-04-10）")


def _parse_date(text: str | None) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return rocdate.parse(text)
    except ValueError:
        return None


def date_check(_form: FlaskForm, field: Field) -> None:
    text = (field.data or "").strip()
    if not text:
        return
    try:
        rocdate.parse(text)
    except rocdate.NoSuchDate:
        raise ValidationError(_("沒有「%(text)s」這一天，請檢查月份和日期", text=text)) from None
    except ValueError:
        raise ValidationError(_("日期格式不正確，請填民國日期（例：115.04.10）或西元日期（例：2026-04-10）")) from None


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(v, label) for v, label in pairs]


def role_choices() -> list[tuple[str, str]]:
    return [(r, localized(*ROLE_LABELS[r])) for r in sorted(ALL_ROLES)]


def role_label(role: str) -> str:
    return localized(*ROLE_LABELS.get(role, (role, role)))


class OfficeForm(FlaskForm):
    name = StringField(_l("機關全銜"), [DataRequired(_l("請填寫機關全銜，例：桃園市桃園區公所")),
                                    Length(max=100, message=_l("機關全銜最多 100 字"))], filters=[strip])
    name_en = StringField(_l("英文名稱"), [Optional(), Length(max=100, message=_l("名稱最多 100 字"))],
                          filters=[strip])
    address = StringField(_l("地址"), [Optional(), Length(max=200, message=_l("地址最多 200 字"))], filters=[strip])
    phone = StringField(_l("電話"), [Optional(), Length(max=40, message=_l("電話最多 40 字")), Regexp(
        r"^[0-9()+\-#＃ 　轉ext.]*$", message=_l("電話只能有數字、括號、+、-、# 與「轉」，例：(03) 332-2101 轉 123"))],
        filters=[strip])


class UnitForm(FlaskForm):
    code = StringField(_l("代碼（英文小寫）"), [InputRequired(_l("請填寫課室代碼")), Regexp(
        r"^[a-z][a-z0-9_]{1,31}$", message=_l("代碼請用 2 至 32 個英文小寫字母、數字或底線，以字母開頭"))])
    name = StringField(_l("名稱"), [DataRequired(_l("請填寫課室名稱")),
                                  Length(max=100, message=_l("名稱最多 100 字"))], filters=[strip])
    name_en = StringField(_l("英文名稱"), [Optional(), Length(max=100, message=_l("名稱最多 100 字"))],
                          filters=[strip])


class RenameUnitForm(FlaskForm):
    name = StringField(_l("名稱"), [DataRequired(_l("請填寫課室名稱")),
                                  Length(max=100, message=_l("名稱最多 100 字"))], filters=[strip])
    name_en = StringField(_l("英文名稱"), [Optional(), Length(max=100, message=_l("名稱最多 100 字"))],
                          filters=[strip])


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


class DelegationForm(FlaskForm):
    from_user = SelectField(_l("被代理人"), [InputRequired(_l("請選擇被代理人"))], choices=[], validate_choice=False)
    to_user = SelectField(_l("代理人"), [InputRequired(_l("請選擇代理人"))], choices=[], validate_choice=False)
    role = SelectField(_l("代理的角色"), [InputRequired(_l("請選擇角色"))], choices=[], validate_choice=False)
    valid_from = StringField(_l("起始日期"), [InputRequired(_l("請填寫起始日期")), date_check])
    valid_to = StringField(_l("結束日期"), [InputRequired(_l("請填寫結束日期")), date_check])
    reason = StringField(_l("事由"), [Optional(), Length(max=200, message=_l("事由最多 200 字"))], filters=[strip])


class ConfirmForm(FlaskForm):
    confirm = HiddenField(validators=[InputRequired(), AnyOf(["yes"])])


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


class TemplateForm(FlaskForm):
    file = FileField(_l("新範本（.docx）"), [FileRequired(_l("請選擇要上傳的 .docx 檔案"))])


# -- data for the pages -----------------------------------------------------------------------
def _units() -> list[Unit]:
    return list(session().scalars(select(Unit).where(Unit.office_id == current_user.office_id).order_by(Unit.id)))


def _unit_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(str(u.id), localized(u.name, u.name_en)) for u in _units()]


def _users() -> list[User]:
    return list(session().scalars(select(User).where(User.office_id == current_user.office_id)
                                  .order_by(User.active.desc(), User.id)))


def _user_choices() -> list[tuple[str, str]]:
    return [("", _("請選擇"))] + [(str(u.id), f"{u.display_name}（{u.login}）") for u in _users() if u.active]


def _own_id(model: type[Any], raw: str | None) -> Any:
    """An id from a form: the office's own object, or None (a bad or foreign id is just invalid)."""
    if not raw or not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= 2_147_483_647:
        return None  # not an id the database could hold (an overflow, not a 500)
    obj = session().get(model, int(raw))
    return obj if obj is not None and obj.office_id == current_user.office_id else None


def _current(valid_from: dt.date, valid_to: dt.date | None, today: dt.date) -> bool:
    return valid_to is None or valid_to >= today


# -- index --------------------------------------------------------------------------------------
@bp.get("/")
def index() -> str:
    return render_template("admin_index.html")


# -- the office's own details -------------------------------------------------------------------
def _office_page(form: OfficeForm | None = None, status: int = 200) -> tuple[str, int]:
    office = session().get_one(Office, current_user.office_id)
    form = form or OfficeForm(formdata=None, prefix="office", name=office.name, name_en=office.name_en or "",
                              address=office.address, phone=office.phone)
    return render_template("admin_office.html", office=office, form=form, doc_no_prefix=doc_no_prefix(office.name),
                           receiver=RECEIVER, year=clock.current_roc_year()), status


@bp.get("/office")
def office() -> tuple[str, int]:
    return _office_page()


@bp.post("/office")
def edit_office() -> Response | tuple[str, int]:
    form = OfficeForm(prefix="office")
    if not form.validate():
        return _office_page(form, status=422)
    name, name_en = (form.name.data or "").strip(), (form.name_en.data or "").strip() or None
    address, phone = (form.address.data or "").strip(), (form.phone.data or "").strip()
    if session().scalar(select(Office.id).where(Office.name == name, Office.id != current_user.office_id)):
        form.name.errors = [_("已有另一個區公所使用「%(name)s」，請確認機關全銜", name=name)]
        return _office_page(form, status=422)
    office = session().get_one(Office, current_user.office_id)
    old = {"name": office.name, "name_en": office.name_en, "address": office.address, "phone": office.phone}
    new = {"name": name, "name_en": name_en, "address": address, "phone": phone}
    if old == new:
        flash(_("沒有任何變更。"), "info")
        return redirect(url_for(".office"), 303)

    def change(s: Session) -> None:
        row = s.get_one(Office, current_user.office_id)
        row.name, row.name_en, row.address, row.phone = name, name_en, address, phone
        _record(s, "office.edit", old=old, new=new)
    _write(change)
    flash(_("已更新本所資料；之後產生的公文使用「%(name)s」。", name=name), "success")
    return redirect(url_for(".office"), 303)


# -- units --------------------------------------------------------------------------------------
def _units_page(form: UnitForm | None = None, rename: dict[int, RenameUnitForm] | None = None,
                status: int = 200) -> tuple[str, int]:
    units = _units()
    forms = {u.id: RenameUnitForm(formdata=None, prefix=f"u{u.id}", name=u.name, name_en=u.name_en or "")
             for u in units}
    forms.update(rename or {})
    return render_template("admin_units.html", units=units, form=form or UnitForm(formdata=None, prefix="unit"),
                           rename=forms), status


@bp.get("/units")
def units() -> tuple[str, int]:
    return _units_page()


@bp.post("/units")
def add_unit() -> Response | tuple[str, int]:
    form = UnitForm(prefix="unit")
    if form.validate():
        code = (form.code.data or "").strip()
        if session().scalar(select(Unit.id).where(Unit.office_id == current_user.office_id, Unit.code == code)):
            form.code.errors = [_("此課室代碼已經有了，請換一個")]
        else:
            def change(s: Session) -> None:
                u = Unit(office_id=current_user.office_id, code=code, name=(form.name.data or "").strip(),
                         name_en=(form.name_en.data or "").strip() or None)
                s.add(u)
                s.flush()
                _record(s, "unit.add", unit_id=u.id, code=u.code, name=u.name)
            _write(change)
            flash(_("已新增課室「%(name)s」。", name=form.name.data), "success")
            return redirect(url_for(".units"), 303)
    return _units_page(form=form, status=422)


@bp.post("/units/<int:unit_id>")
def rename_unit(unit_id: int) -> Response | tuple[str, int]:
    unit = _own(Unit, unit_id)
    form = RenameUnitForm(prefix=f"u{unit.id}")
    if not form.validate():
        return _units_page(rename={unit.id: form}, status=422)
    old = unit.name

    def change(s: Session) -> None:
        u = s.get_one(Unit, unit_id)
        u.name = (form.name.data or "").strip()
        u.name_en = (form.name_en.data or "").strip() or None
        _record(s, "unit.rename", unit_id=unit_id, old=old, new=u.name, name_en=u.name_en)
    _write(change)
    flash(_("已將「%(old)s」更名為「%(new)s」。", old=old, new=form.name.data), "success")
    return redirect(url_for(".units"), 303)


# -- users --------------------------------------------------------------------------------------
def _roles_by_user(today: dt.date) -> dict[int, list[RoleAssignment]]:
    out: dict[int, list[RoleAssignment]] = {}
    for ra in session().scalars(select(RoleAssignment).where(RoleAssignment.office_id == current_user.office_id)
                                .order_by(RoleAssignment.id)):
        if _current(ra.valid_from, ra.valid_to, today):
            out.setdefault(ra.user_id, []).append(ra)
    return out


def _new_user_form(formdata: bool = True) -> UserForm:
    form = UserForm(prefix="user") if formdata else UserForm(formdata=None, prefix="user")
    form.unit.choices = choices(_unit_choices(_("（不屬於課室）")))
    return form


def _users_page(form: UserForm | None = None, status: int = 200) -> tuple[str, int]:
    today = clock.today()
    return render_template("admin_users.html", users=_users(), roles=_roles_by_user(today),
                           units={u.id: u for u in _units()}, role_label=role_label,
                           form=form or _new_user_form(False)), status


@bp.get("/users")
def users() -> tuple[str, int]:
    return _users_page()


@bp.post("/users")
def add_user() -> Response | tuple[str, int]:
    form = _new_user_form()
    if form.validate():
        login = (form.login.data or "").strip()
        unit = _own_id(Unit, form.unit.data)
        if session().scalar(select(User.id).where(User.login == login)):
            form.login.errors = [_("此帳號已有人使用，請換一個")]
        elif form.unit.data and unit is None:
            form.unit.errors = [_("請從清單選擇課室")]
        else:
            def change(s: Session) -> None:
                u = User(office_id=current_user.office_id, unit_id=unit.id if unit else None, login=login,
                         display_name=(form.display_name.data or "").strip(), sex=form.sex.data,
                         title=(form.title.data or "").strip() or None,
                         email=(form.email.data or "").strip() or None,
                         password_hash=hash_password(form.password.data or ""), created_at=clock.now())
                s.add(u)
                s.flush()
                _record(s, "user.add", user_id=u.id, login=u.login, display_name=u.display_name, sex=u.sex,
                        unit_id=u.unit_id, title=u.title, email=u.email)
                g.new_user_id = u.id
            _write(change)
            flash(_("已新增使用者「%(name)s」；請在下方指派角色。", name=form.display_name.data), "success")
            return redirect(url_for(".user", user_id=g.new_user_id), 303)
    return _users_page(form=form, status=422)


def _grant_form(formdata: bool = True) -> GrantForm:
    form = GrantForm(prefix="grant") if formdata else GrantForm(formdata=None, prefix="grant")
    form.role.choices = choices([("", _("請選擇")), *role_choices()])
    form.unit.choices = choices(_unit_choices(_("（不限課室）")))
    if not formdata:
        form.valid_from.data = rocdate.short(clock.today())
    return form


def _details_form(user: User, formdata: bool = True) -> EditUserForm:
    if formdata:
        form = EditUserForm(prefix="details")
    else:
        form = EditUserForm(formdata=None, prefix="details", display_name=user.display_name, sex=user.sex,
                            unit=str(user.unit_id or ""), title=user.title or "", email=user.email or "")
    form.unit.choices = choices(_unit_choices(_("（不屬於課室）")))
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
        "admin_user.html", user=user, units={u.id: u for u in _units()}, assignments=assignments, today=today,
        role_label=role_label, details=details or _details_form(user, False),
        tied=_roles_text(_tied_to_unit(s, user.id, user.unit_id, today)), grant=grant or _grant_form(False),
        password=password or PasswordForm(formdata=None, prefix="password"), ends=ends,
        active_form=ActiveForm(formdata=None, active="0" if user.active else "1"),
    ), status


@bp.get("/users/<int:user_id>")
def user(user_id: int) -> tuple[str, int]:
    return _user_page(_own(User, user_id))


@bp.post("/users/<int:user_id>")
def edit_user(user_id: int) -> Response | tuple[str, int]:
    """Name, sex, unit, title, e-mail. Moving someone out of a unit ends their staff and chief roles
    there (today is the last day; one not started yet is cancelled), and the delegations of those
    roles they gave, in the same unit of work; without the box ticked the move is refused, saying so."""
    u = _own(User, user_id)
    form = _details_form(u)
    if not form.validate():
        return _user_page(u, details=form, status=422)
    unit = _own_id(Unit, form.unit.data)
    if form.unit.data and unit is None:
        form.unit.errors = [_("請從清單選擇課室")]
        return _user_page(u, details=form, status=422)
    today = clock.today()
    new = {"display_name": (form.display_name.data or "").strip(), "sex": form.sex.data,
           "unit_id": unit.id if unit else None, "title": (form.title.data or "").strip() or None,
           "email": (form.email.data or "").strip() or None}
    old = {k: getattr(u, k) for k in new}
    if new == old:
        flash(_("沒有任何變更。"), "info")
        return redirect(url_for(".user", user_id=user_id), 303)
    units = {x.id: x for x in _units()}
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
        _record(s, "user.edit", user_id=user_id, login=u.login,
                old={k: v for k, v in old.items() if new[k] != v}, new={k: v for k, v in new.items() if old[k] != v})
        for ra_id in tied_ids:
            ra = s.get_one(RoleAssignment, ra_id)
            data = {"assignment_id": ra_id, "user_id": user_id, "role": ra.role, "unit_id": ra.unit_id,
                    "valid_from": ra.valid_from, "old_valid_to": ra.valid_to, "because": "unit_move"}
            if ra.valid_from > today:  # not started: nothing was done under it
                s.delete(ra)
                _record(s, "role.cancel", **data)
            else:
                ra.valid_to = today
                _record(s, "role.end", **data, valid_to=today)
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
                _record(s, "delegation.cancel", **data)
            else:
                d.valid_to = today
                _record(s, "delegation.end", **data, ended_on=today)
        if Role.CHIEF in ended and old_unit is not None:
            chiefless.append(not _has_chief(s, old_unit.id, today + dt.timedelta(days=1)))
    _write(change)
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
    u = _own(User, user_id)
    form = ActiveForm()
    if not form.validate():
        abort(400)
    active = form.active.data == "1"
    if not active and u.id == current_user.id:
        flash(_("不能停用自己的帳號。"), "error")
        return redirect(url_for(".user", user_id=user_id), 303)

    def change(s: Session) -> None:
        s.get_one(User, user_id).active = active
        _record(s, "user.activate" if active else "user.deactivate", user_id=user_id, login=u.login)
    _write(change)
    flash(_("已啟用「%(name)s」的帳號。", name=u.display_name) if active
          else _("已停用「%(name)s」的帳號；此人已無法登入。", name=u.display_name), "success")
    return redirect(url_for(".user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> Response | tuple[str, int]:
    u = _own(User, user_id)
    form = PasswordForm(prefix="password")
    if not form.validate():
        return _user_page(u, password=form, status=422)
    hashed = hash_password(form.password.data or "")

    def change(s: Session) -> None:
        s.get_one(User, user_id).password_hash = hashed  # also ends remember-me cookies (web/auth.py)
        _record(s, "user.password_reset", user_id=user_id, login=u.login)
    _write(change)
    flash(_("已重設「%(name)s」的密碼，請以安全方式告知本人。", name=u.display_name), "success")
    return redirect(url_for(".user", user_id=user_id), 303)


def liaison_warning(role: str, title: str | None) -> str | None:
    """The plan wants the liaison at section-chief level or above: a warning, not a refusal."""
    if role not in (Role.LIAISON, Role.DEPUTY_LIAISON) or any(w in (title or "") for w in LIAISON_TITLES):
        return None
    message = _("請注意：性別議題聯絡人應由課長（含）以上層級擔任（職稱含課長、主任、秘書或區長），"
                "此人職稱為「%(title)s」；角色已指派，請再確認。", title=title or _("未填"))
    return message


@bp.post("/users/<int:user_id>/roles")
def grant(user_id: int) -> Response | tuple[str, int]:
    u = _own(User, user_id)
    form = _grant_form()
    if not form.validate():
        return _user_page(u, grant=form, status=422)
    role = form.role.data or ""
    unit = _own_id(Unit, form.unit.data)
    start, end = _parse_date(form.valid_from.data), _parse_date(form.valid_to.data)
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
        _record(s, "role.grant", assignment_id=ra.id, user_id=u.id, role=role, unit_id=ra.unit_id,
                valid_from=start, valid_to=end)
    _write(change)
    flash(_("已指派「%(role)s」給「%(name)s」。", role=role_label(role), name=u.display_name), "success")
    warning = liaison_warning(role, u.title)
    if warning:
        flash(warning, "warning")
    return redirect(url_for(".user", user_id=user_id), 303)


@bp.post("/roles/<int:assignment_id>/end")
def end_role(assignment_id: int) -> Response | tuple[str, int]:
    ra = _own(RoleAssignment, assignment_id)
    u = session().get_one(User, ra.user_id)
    form = EndForm(prefix=f"ra{ra.id}")
    end = _parse_date(form.valid_to.data) if form.validate() else None
    if end is not None and end < ra.valid_from:
        form.valid_to.errors = [_("結束日期不可早於起始日期（%(start)s）", start=rocdate.short(ra.valid_from))]
    if end is None or form.valid_to.errors:
        return _user_page(u, end={ra.id: form}, status=422)

    def change(s: Session) -> None:
        row = s.get_one(RoleAssignment, assignment_id)
        old = row.valid_to
        row.valid_to = end
        _record(s, "role.end", assignment_id=assignment_id, user_id=u.id, role=row.role, old_valid_to=old,
                valid_to=end)
    _write(change)
    flash(_("「%(role)s」將於 %(day)s 結束。", role=role_label(ra.role), day=rocdate.short(end)), "success")
    return redirect(url_for(".user", user_id=u.id), 303)


# -- delegations ----------------------------------------------------------------------------------
def _delegation_form(formdata: bool = True) -> DelegationForm:
    form = DelegationForm(prefix="delegation") if formdata else DelegationForm(formdata=None, prefix="delegation")
    form.from_user.choices = form.to_user.choices = choices(_user_choices())
    form.role.choices = choices([("", _("請選擇")), *role_choices()])
    return form


def _delegations_page(form: DelegationForm | None = None, status: int = 200) -> tuple[str, int]:
    today = clock.today()
    rows = list(session().scalars(select(Delegation).where(Delegation.office_id == current_user.office_id,
                                                            Delegation.valid_to >= today)
                                  .order_by(Delegation.valid_from, Delegation.id)))
    people = _users()
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
    frm, to = _own_id(User, form.from_user.data), _own_id(User, form.to_user.data)
    role = form.role.data or ""
    start, end = _parse_date(form.valid_from.data), _parse_date(form.valid_to.data)
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
        _record(s, "delegation.add", delegation_id=d.id, from_user_id=frm.id, to_user_id=to.id, role=role,
                valid_from=start, valid_to=end, reason=reason)
    _write(change)
    flash(_("已設定「%(to)s」於 %(a)s 至 %(b)s 代理「%(name)s」的「%(role)s」。", to=to.display_name,
            a=rocdate.short(start), b=rocdate.short(end), name=frm.display_name, role=role_label(role)), "success")
    return redirect(url_for(".delegations"), 303)


@bp.post("/delegations/<int:delegation_id>/end")
def end_delegation(delegation_id: int) -> Response:
    d = _own(Delegation, delegation_id)
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
        _record(s, "delegation.cancel" if cancel else "delegation.end", delegation_id=delegation_id,
                from_user_id=d.from_user_id, to_user_id=d.to_user_id, role=d.role, valid_from=d.valid_from,
                valid_to=d.valid_to, ended_on=None if cancel else today)
    _write(change)
    flash(_("已取消這項尚未開始的代理。") if cancel else _("代理已於今天（%(day)s）結束。", day=rocdate.short(today)),
          "success")
    return redirect(url_for(".delegations"), 303)


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
        confirm=ConfirmForm(formdata=None, confirm="yes"),
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
        _record(s, "plan.obligation", obligation_id=obligation_id, kind=ob.kind, period=ob.period, old=old, new=new)
    _write(change)
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
        _record(s, "plan.step_limit", kind=kind, state=state, old=old, working_days=days)
    _write(change)
    flash(_("已設定步驟期限。"), "success")
    return redirect(url_for(".calendar", _anchor="limits"), 303)


@bp.post("/closures")
def add_closure() -> Response | tuple[str, int]:
    form = ClosureForm(prefix="closure")
    day = _parse_date(form.day.data) if form.validate() else None
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
        _record(s, "closure.add", closure_id=c.id, day=day, reason=reason)
    _write(change)
    flash(_("已登記 %(day)s 為停班日；期限將順延。", day=rocdate.short(day)), "success")
    return redirect(url_for(".calendar", _anchor="closures"), 303)


@bp.post("/closures/<int:closure_id>/delete")
def remove_closure(closure_id: int) -> Response:
    c = _own(OfficeClosure, closure_id)  # city-wide days (no office) are not an office's to remove
    if not ConfirmForm().validate():
        abort(400)

    def change(s: Session) -> None:
        s.execute(delete(OfficeClosure).where(OfficeClosure.id == closure_id))
        _record(s, "closure.remove", closure_id=closure_id, day=c.day, reason=c.reason)
    _write(change)
    flash(_("已移除停班日 %(day)s。", day=rocdate.short(c.day)), "success")
    return redirect(url_for(".calendar", _anchor="closures"), 303)


# -- document templates ---------------------------------------------------------------------------
UPLOAD_OVERHEAD = 64 * 1024


@bp.record_once
def _raise_body_limit(state: Any) -> None:
    """Templates may be larger than the app's small body limit (before CSRFProtect reads the body)."""
    from documents.render import MAX_TEMPLATE_BYTES

    def hook() -> None:
        if request.endpoint == "admin.upload_template":
            request.max_content_length = MAX_TEMPLATE_BYTES + UPLOAD_OVERHEAD

    state.app.before_request_funcs.setdefault(None, []).insert(0, hook)


def _templates_page(errors: dict[str, TemplateForm] | None = None, status: int = 200) -> tuple[str, int]:
    docs = templates_admin.in_force(session(), current_user.office_id)
    forms = {d.name: TemplateForm(formdata=None, prefix=f"t_{d.name}") for d in docs}
    forms.update(errors or {})
    return render_template("admin_templates.html", docs=docs, forms=forms,
                           confirm=ConfirmForm(formdata=None, confirm="yes")), status


@bp.get("/templates")
def templates() -> tuple[str, int]:
    return _templates_page()


def _document(name: str) -> str:
    if name not in templates_admin.document_names():
        abort(404)
    return name


@bp.post("/templates/<name>")
def upload_template(name: str) -> Response | tuple[str, int]:
    _document(name)
    form = TemplateForm(prefix=f"t_{name}")
    if form.validate():
        data = form.file.data.read()
        try:
            stored = templates_admin.upload(database(), current_user.office_id, name, data, current_user.id)
        except TemplateProblem as exc:
            form.file.errors = [localized(exc.message, exc.message_en)]
        else:
            flash(_("已啟用新範本（第 %(v)s 版）；之後產生的文件都會使用它。", v=stored.version), "success")
            return redirect(url_for(".templates", _anchor=f"t_{name}"), 303)
    return _templates_page({name: form}, status=422)


@bp.post("/templates/<name>/revert")
def revert_template(name: str) -> Response:
    _document(name)
    if not ConfirmForm().validate():
        abort(400)
    templates_admin.revert(database(), current_user.office_id, name, current_user.id)
    flash(_("已改回系統內建範本。"), "success")
    return redirect(url_for(".templates", _anchor=f"t_{name}"), 303)
