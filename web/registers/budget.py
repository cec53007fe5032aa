"""性別預算: the gender budget register's page: a year's items by category with budgeted and
executed amounts and the execution rate, a form to add an item and one per item to correct it or
record what was executed (every change kept with its before and after), and exports.

Anyone in the office may read it (public budget figures); the accounting office (會計室) and the
liaisons keep it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from web.access import holds_any
from web.admin.common import strip
from web.db import database, session
from web.exports import FORMATS, download
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from web.registers.common import roc_year_arg
from workflow.errors import NotFound, ValidationError
from workflow.models import Unit
from workflow.registers import budget
from workflow.roles import Role

bp = Blueprint("budget", __name__, url_prefix="/registers/budget")
KEEPERS = frozenset({Role.LIAISON, Role.DEPUTY_LIAISON})
KEEPING_UNIT = "accounting"  # 會計室: its staff and chief keep the register too
AMOUNT = [NumberRange(0, budget.MAX_AMOUNT, _l("金額須為 0 以上的整數（元）"))]


class ItemForm(FlaskForm):
    category = SelectField(_l("類別"), coerce=int, choices=[SelectChoice(k, f"{k} {v}")
                                                                  for k, v in budget.CATEGORY_WORDS.items()])
    item = StringField(_l("項目"), [DataRequired(_l("請填寫預算項目")), Length(max=200)], filters=[strip])
    unit_id = SelectField(_l("編列單位"), coerce=int)
    budgeted = IntegerField(_l("預算數（元）"), [InputRequired(_l("請填寫預算數")), *AMOUNT])
    executed = IntegerField(_l("執行數（元，可空白）"), [Optional(), *AMOUNT])


class ExecutedForm(FlaskForm):
    executed = IntegerField(_l("執行數（元）"), [InputRequired(_l("請填寫執行數")), *AMOUNT])


def can_keep() -> bool:
    if holds_any(KEEPERS):
        return True
    unit = session().scalar(select(Unit.code).where(Unit.id == current_user.unit_id))
    return unit == KEEPING_UNIT and holds_any(frozenset({Role.STAFF, Role.CHIEF}))



def _form(formdata: Any = None) -> ItemForm:
    form = ItemForm(formdata=formdata, prefix="item")
    form.unit_id.choices = [SelectChoice(i, n) for i, n in session().execute(
        select(Unit.id, Unit.name).where(Unit.office_id == current_user.office_id).order_by(Unit.id))]
    return form


def _page(status: int = 200, *, form: ItemForm | None = None, problem: str | None = None,
          row_errors: dict[int, str] | None = None) -> tuple[str, int]:
    year = roc_year_arg()
    rows = budget.items(session(), current_user.office_id, year)
    return render_template("registers_budget.html", year=year, rows=rows, totals=budget.totals(rows), rate=budget.rate,
                           words=budget.CATEGORY_WORDS, can_keep=can_keep(), form=form or _form(),
                           executed_form=ExecutedForm(formdata=None), problem=problem, row_errors=row_errors or {},
                           formats=sorted(FORMATS)), status


@bp.get("")
@login_required
def show() -> tuple[str, int]:
    return _page()


def _fix_message() -> str:
    return _("有欄位需要修正，請看各欄位下方的說明；您輸入的內容都還在。")


@bp.post("")
@login_required
def add() -> Response | tuple[str, int]:
    if not can_keep():
        abort(403)
    form = _form(request.form)
    if not form.validate():
        return _page(422, form=form, problem=_fix_message())
    try:
        with database().unit_of_work() as uow:
            budget.add_item(uow.session, current_user.office_id, current_user.id, roc_year=roc_year_arg(),
                            category=form.category.data, item=form.item.data, unit_id=form.unit_id.data,
                            budgeted=form.budgeted.data, executed=form.executed.data)
            uow.commit()
    except ValidationError as exc:
        for key, msg in exc.errors.items():
            target = getattr(form, key if hasattr(form, key) else "item")
            target.errors = [*target.errors, localized(*msg)]
        return _page(422, form=form, problem=_fix_message())
    flash(_("已新增預算項目「%(item)s」。", item=form.item.data), "success")
    return redirect(url_for(".show", year=roc_year_arg()), 303)


@bp.post("/<int:item_id>/executed")
@login_required
def set_executed(item_id: int) -> Response | tuple[str, int]:
    if not can_keep():
        abort(403)
    form = ExecutedForm()
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        return _page(422, row_errors={item_id: "；".join(str(m) for m in form.executed.errors)})
    try:
        with database().unit_of_work() as uow:
            budget.update_item(uow.session, current_user.office_id, current_user.id, item_id,
                               executed=form.executed.data)
            uow.commit()
    except NotFound:
        abort(404)
    except ValidationError as exc:
        return _page(422, row_errors={item_id: "；".join(localized(*m) for m in exc.errors.values())})
    flash(_("已登錄執行數。"), "success")
    return redirect(url_for(".show", year=roc_year_arg()), 303)


@bp.get("/export.<any(csv, ods, xlsx):fmt>")
@login_required
def export(fmt: str) -> Response:
    year = roc_year_arg()
    return download(fmt, _("%(year)s年性別預算", year=year), f"gender-budget-{year}", budget.EXPORT_HEADER,
                    budget.export_rows(session(), current_user.office_id, year))
