"""管理 › 課程代碼: the lifelong-learning course codes (終身學習課程代碼) training hours are filed
under, and which of them count as the CEDAW in-person course. Shared by every office; codes are
added and relabelled, never removed (training records refer to them)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField

from web.admin.common import bp
from web.db import database, session
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from workflow.errors import NotFound, ValidationError
from workflow.models import CourseCode
from workflow.registers import course_codes as register

# The domain checks the values (workflow.registers.course_codes); the forms carry them and the CSRF token.


class EditCourseCodeForm(FlaskForm):
    label = StringField(_l("課程名稱"))
    counts_as_cedaw = BooleanField(_l("計為 CEDAW 實體課程"))


class CourseCodeForm(EditCourseCodeForm):
    code = StringField(_l("課程代碼"))


def _row_form(c: CourseCode) -> EditCourseCodeForm:
    return EditCourseCodeForm(formdata=None, prefix=f"c{c.code}", label=c.label, counts_as_cedaw=c.counts_as_cedaw)


def _page(form: CourseCodeForm | None = None, edit: dict[str, EditCourseCodeForm] | None = None,
          status: int = 200) -> tuple[str, int]:
    codes = register.list_codes(session())
    forms = {c.code: _row_form(c) for c in codes}
    forms.update(edit or {})
    return render_template("admin_course_codes.html", codes=codes, edit=forms,
                           form=form or CourseCodeForm(formdata=None, prefix="new")), status


def _show_errors(form: FlaskForm, exc: ValidationError) -> None:
    for key, message in exc.errors.items():
        getattr(form, key, form["label"]).errors = [localized(*message)]


@bp.get("/course-codes")
def course_codes() -> tuple[str, int]:
    return _page()


@bp.post("/course-codes")
def add_course_code() -> Response | tuple[str, int]:
    form = CourseCodeForm(prefix="new")
    if not form.validate():
        return _page(form=form, status=422)
    try:
        with database().unit_of_work() as uow:
            row = register.add_code(uow.session, current_user.office_id, current_user.id, form.code.data or "",
                                        form.label.data, bool(form.counts_as_cedaw.data))
            uow.commit()
            code = row.code
    except ValidationError as exc:
        _show_errors(form, exc)
        return _page(form=form, status=422)
    flash(_("已新增課程代碼 %(code)s。", code=code), "success")
    return redirect(url_for(".course_codes", _anchor=f"code-{code}"), 303)


@bp.post("/course-codes/<code>")
def update_course_code(code: str) -> Response | tuple[str, int]:
    if session().get(CourseCode, code) is None:
        abort(404)
    form = EditCourseCodeForm(prefix=f"c{code}")
    if not form.validate():
        return _page(edit={code: form}, status=422)
    try:
        with database().unit_of_work() as uow:
            changed = register.update_code(uow.session, current_user.office_id, current_user.id, code,
                                               form.label.data, bool(form.counts_as_cedaw.data))
            uow.commit()
    except NotFound:
        abort(404)
    except ValidationError as exc:
        _show_errors(form, exc)
        return _page(edit={code: form}, status=422)
    if changed:
        flash(_("已更新課程代碼 %(code)s；統計培力時數時即依新設定計算。", code=code), "success")
    else:
        flash(_("沒有任何變更。"), "info")
    return redirect(url_for(".course_codes", _anchor=f"code-{code}"), 303)
