"""管理 › 機關與課室: the office's own details (full name, address, phone on its documents) and its units."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import IntegerField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from documents.context import RECEIVER, doc_no_prefix
from web.admin.common import (
    bp,
    office_units,
    own,
    record,
    strip,
    write,
)
from web.db import session
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from workflow import clock
from workflow.models import (
    Office,
    Unit,
)


class OfficeForm(FlaskForm):
    name = StringField(_l("機關全銜"), [DataRequired(_l("請填寫機關全銜，例：桃園市桃園區公所")),
                                    Length(max=100, message=_l("機關全銜最多 100 字"))], filters=[strip])
    name_en = StringField(_l("英文名稱"), [Optional(), Length(max=100, message=_l("名稱最多 100 字"))],
                          filters=[strip])
    address = StringField(_l("地址"), [Optional(), Length(max=200, message=_l("地址最多 200 字"))], filters=[strip])
    phone = StringField(_l("電話"), [Optional(), Length(max=40, message=_l("電話最多 40 字")), Regexp(
        r"^[0-9()+\-#＃ 　轉ext.]*$", message=_l("電話只能有數字、括號、+、-、# 與「轉」，例：(03) 332-2101 轉 123"))],
        filters=[strip])
    written_approval_min = IntegerField(
        _l("書面審查同意人數"), [InputRequired(_l("請填寫人數；不採書面審查請填 0")),
                         NumberRange(0, 50, _l("請填 0 到 50 的整數；0 表示不採書面審查"))], default=0)


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


# -- index --------------------------------------------------------------------------------------
@bp.get("/")
def index() -> str:
    return render_template("admin_index.html")


# -- the office's own details -------------------------------------------------------------------
def _office_page(form: OfficeForm | None = None, status: int = 200) -> tuple[str, int]:
    office = session().get_one(Office, current_user.office_id)
    form = form or OfficeForm(formdata=None, prefix="office", name=office.name, name_en=office.name_en or "",
                              address=office.address, phone=office.phone,
                              written_approval_min=office.written_approval_min)
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
    written = int(form.written_approval_min.data or 0)
    if session().scalar(select(Office.id).where(Office.name == name, Office.id != current_user.office_id)):
        form.name.errors = [_("已有另一個區公所使用「%(name)s」，請確認機關全銜", name=name)]
        return _office_page(form, status=422)
    office = session().get_one(Office, current_user.office_id)
    old = {"name": office.name, "name_en": office.name_en, "address": office.address, "phone": office.phone,
           "written_approval_min": office.written_approval_min}
    new = {"name": name, "name_en": name_en, "address": address, "phone": phone, "written_approval_min": written}
    if old == new:
        flash(_("沒有任何變更。"), "info")
        return redirect(url_for(".office"), 303)

    def change(s: Session) -> None:
        row = s.get_one(Office, current_user.office_id)
        row.name, row.name_en, row.address, row.phone = name, name_en, address, phone
        row.written_approval_min = written
        record(s, "office.edit", old=old, new=new)
    write(change)
    flash(_("已更新本所資料；之後產生的公文使用「%(name)s」。", name=name), "success")
    return redirect(url_for(".office"), 303)


# -- units --------------------------------------------------------------------------------------
def _units_page(form: UnitForm | None = None, rename: dict[int, RenameUnitForm] | None = None,
                status: int = 200) -> tuple[str, int]:
    units = office_units()
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
                record(s, "unit.add", unit_id=u.id, code=u.code, name=u.name)
            write(change)
            flash(_("已新增課室「%(name)s」。", name=form.name.data), "success")
            return redirect(url_for(".units"), 303)
    return _units_page(form=form, status=422)


@bp.post("/units/<int:unit_id>")
def rename_unit(unit_id: int) -> Response | tuple[str, int]:
    unit = own(Unit, unit_id)
    form = RenameUnitForm(prefix=f"u{unit.id}")
    if not form.validate():
        return _units_page(rename={unit.id: form}, status=422)
    old = unit.name

    def change(s: Session) -> None:
        u = s.get_one(Unit, unit_id)
        u.name = (form.name.data or "").strip()
        u.name_en = (form.name_en.data or "").strip() or None
        record(s, "unit.rename", unit_id=unit_id, old=old, new=u.name, name_en=u.name_en)
    write(change)
    flash(_("已將「%(old)s」更名為「%(new)s」。", old=old, new=form.name.data), "success")
    return redirect(url_for(".units"), 303)
