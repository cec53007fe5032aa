"""培力紀錄: the personnel office's training register page: import a year's CSV (all or nothing,
every error by row and column), see who is short of what, export the register (CSV, ODS, XLSX).

Named rosters are personal data (個人資料保護法): only the personnel office and the liaisons see
this page; the page says what is collected and why. Public and city-facing outputs use totals.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response

from web.access import holds_any
from web.db import database, session
from web.exports import FORMATS, download
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.registers.common import roc_year_arg
from workflow.registers import training, training_import
from workflow.registers.training_import import ImportRefused
from workflow.roles import Role

bp = Blueprint("registers", __name__, url_prefix="/registers")
ROSTER_VIEWERS = frozenset({Role.PERSONNEL, Role.LIAISON, Role.DEPUTY_LIAISON})
IMPORTERS = frozenset({Role.PERSONNEL})
MAX_BYTES = 5 * 1024 * 1024


class ImportForm(FlaskForm):
    file = FileField(_l("培力紀錄 CSV 檔"), [FileRequired(_l("請選擇要匯入的 CSV 檔"))])


def can_see_training() -> bool:
    return holds_any(ROSTER_VIEWERS)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"can_see_training": can_see_training}



def _page(status: int = 200, *, form: ImportForm | None = None, errors: list[Any] | None = None,
          year: int | None = None) -> tuple[str, int]:
    year = year or roc_year_arg()
    people = training.compliance(session(), current_user.office_id, year)
    return render_template("registers_training.html", year=year, people=people,
                           short=sum(1 for p in people if not p.met), form=form or ImportForm(formdata=None),
                           errors=errors or [], can_import=holds_any(IMPORTERS), formats=sorted(FORMATS),
                           rules=training.DEFAULT_RULES), status


@bp.get("/training")
@login_required
def show() -> tuple[str, int]:
    if not can_see_training():
        abort(403)
    return _page()


@bp.post("/training/import")
@login_required
def import_training() -> Response | tuple[str, int]:
    if not holds_any(IMPORTERS):
        abort(403)
    form = ImportForm()
    if not form.validate():
        return _page(422, form=form)
    content = form.file.data.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        form.file.errors = [_("檔案超過 5 MB；請分成幾個檔案匯入")]
        return _page(422, form=form)
    try:
        with database().unit_of_work() as uow:
            summary = training_import.import_csv(uow.session, current_user.office_id, current_user.id, content)
            uow.commit()
    except ImportRefused as exc:
        return _page(422, form=form, errors=exc.errors)
    flash(summary.line(), "success")
    return redirect(url_for(".show", year=roc_year_arg()), 303)


@bp.get("/training/mine")
@login_required
def mine() -> str:
    """Anyone's own hours (個人資料: a person may always see what is held about them)."""
    year = roc_year_arg()
    me = next((p for p in training.compliance(session(), current_user.office_id, year)
               if p.user_id == current_user.id), None)
    records = training.person_records(session(), current_user.id, year)
    return render_template("registers_training_mine.html", year=year, me=me, records=records,
                           rules=training.DEFAULT_RULES)


@bp.get("/training.<any(csv, ods, xlsx):fmt>")
@login_required
def export_training(fmt: str) -> Response:
    if not can_see_training():
        abort(403)
    year = roc_year_arg()
    rows = training_import.export_rows(session(), current_user.office_id, year)
    return download(fmt, _("%(year)s年培力紀錄", year=year), f"training-{year}", training_import.EXPORT_HEADER, rows)


@bp.get("/training/compliance.<any(csv, ods, xlsx):fmt>")
@login_required
def export_compliance(fmt: str) -> Response:
    """Who has done how much against the plan's hours (the table on the page), for the year."""
    if not can_see_training():
        abort(403)
    year = roc_year_arg()
    rows = training.compliance_rows(training.compliance(session(), current_user.office_id, year))
    return download(fmt, _("%(year)s年培力時數達成情形", year=year), f"training-compliance-{year}",
                    training.COMPLIANCE_HEADER, rows)
