"""編輯案件: a draft's (or returned case's) form, saved with ``drafts.save_fields`` and sent on
with ``approval.fire(..., "submit")``.

Load (``access.load_case_for``) → save (one operation) → redirect; on a validation error or a
stale version the form is shown again with everything the person typed and each message next to
its field (or table cell). "Add rows" is a submit button: it saves and shows more blank rows, so
it works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from web import case_form
from web.access import load_case_for
from web.db import database, session
from web.errors import conflict_message, error_message, render_error
from web.filters import roc
from web.forms import EditCaseForm, EventPhotosForm, RemoveAttachmentForm, UploadForm
from web.i18n import gettext as _
from web.i18n import localized
from web.labels import kind_label, period_label, state_label
from web.mine import drafting_states, returned_states
from workflow import clock
from workflow.cases import approval, drafts
from workflow.engine import fields as fieldmod
from workflow.engine import registry
from workflow.engine.definitions import Definition
from workflow.errors import CaseflowError, Conflict, ValidationError
from workflow.models import Attachment, Case, HistoryEvent, OutreachEvent, OutreachPhoto, User
from workflow.people import permissions
from workflow.registers import fill

bp = Blueprint("edit", __name__)
# A rows table of 500 rows x 8 columns is 4,000 inputs: more than the app-wide MAX_FORM_PARTS.
FORM_PARTS = 12_000
FORM_MEMORY = 4 * 1024 * 1024


@dataclass(frozen=True)
class ReturnNote:
    comment: str | None
    by: str | None
    at: dt.datetime


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    name: str
    content_type: str
    size: int
    alt_text: str | None
    uploaded_by: str
    uploaded_at: dt.datetime
    caption: str | None = None


def _definition(case: Case) -> Definition:
    return registry.default().get(database(), case.kind, case.workflow_version, session())


def _may_draft(case: Case, defn: Definition) -> bool:
    caps = permissions.capacities(session(), current_user.id, case.office_id, clock.today())
    return permissions.match(caps, defn.drafter_roles, case.unit_id) is not None


def return_note(case: Case, defn: Definition) -> ReturnNote | None:
    if case.state not in returned_states(defn):
        return None
    row = session().execute(
        select(HistoryEvent.comment, User.display_name, HistoryEvent.at)
        .outerjoin(User, User.id == HistoryEvent.actor_id)
        .where(HistoryEvent.case_id == case.id, HistoryEvent.trigger == "return_for_revision")
        .order_by(HistoryEvent.seq.desc()).limit(1)
    ).one_or_none()
    return ReturnNote(row[0], row[1], row[2]) if row else None


def attachments(case_id: int) -> list[AttachmentRow]:
    rows = session().execute(
        select(Attachment, User.display_name).join(User, User.id == Attachment.uploaded_by_id)
        .where(Attachment.case_id == case_id).order_by(Attachment.id)
    ).all()
    return [AttachmentRow(a.id, a.name, a.content_type, a.size, a.alt_text, who, a.uploaded_at, a.caption)
            for a, who in rows]


def event_photos_form(case: Case, defn: Definition) -> EventPhotosForm | None:
    """For a draft that takes photos: the office's 宣導 events that have photos, newest first, to
    copy them in (``drafts.add_event_photos``); None when there are none."""
    if not defn.min_attachments or case.state not in drafting_states(defn):
        return None
    photos = func.count(OutreachPhoto.id)
    rows = session().execute(
        select(OutreachEvent.id, OutreachEvent.name, OutreachEvent.held_on, photos)
        .join(OutreachPhoto, OutreachPhoto.event_id == OutreachEvent.id)
        .where(OutreachEvent.office_id == case.office_id)
        .group_by(OutreachEvent.id, OutreachEvent.name, OutreachEvent.held_on)
        .order_by(OutreachEvent.held_on.desc(), OutreachEvent.id.desc()).limit(50)).all()
    if not rows:
        return None
    form = EventPhotosForm(formdata=None, version=str(case.version))
    form.event.choices = [(str(i), _("%(day)s %(name)s（%(n)s 張照片）", day=roc(held), name=name, n=n))
                          for i, name, held, n in rows]
    return form


def _load(case_id: int) -> tuple[Case, Definition]:
    case = load_case_for(current_user, case_id)
    defn = _definition(case)
    if not _may_draft(case, defn):
        abort(403)
    return case, defn


def render(case: Case, defn: Definition, form: EditCaseForm, values: dict[str, Any], *,
           errors: dict[str, tuple[str, str]] | None = None, extra_rows: dict[str, int] | None = None,
           problem: str | None = None, upload: UploadForm | None = None, status: int = 200) -> tuple[str, int]:
    errors = errors or {}
    upload = upload or UploadForm(formdata=None, version=str(case.version))
    return render_template(
        "edit.html", case=case, form=form, inputs=case_form.inputs(defn, values, errors, extra_rows),
        general=case_form.general_errors(defn, errors), problem=problem,
        field_errors=[(key, localized(*msg)) for key, msg in errors.items()],
        kind_label=kind_label(case.kind), state_label=state_label(defn, case.state),
        period_label=period_label(case.period), note=return_note(case, defn),
        editable=case.state in drafting_states(defn), attachments=attachments(case.id), upload=upload,
        more_rows=case_form.MORE_ROWS,
        fill_source=fill.SOURCES.get(case.kind) if case.state in drafting_states(defn) else None,
        event_photos=event_photos_form(case, defn),
    ), status


@bp.get("/cases/<int:case_id>/edit")
@login_required
def edit(case_id: int) -> tuple[str, int]:
    case, defn = _load(case_id)
    more = request.args.get("more", "")
    extra = {more: case_form.MORE_ROWS * min(int(request.args.get("n", "1") or 1), 20)} \
        if more and request.args.get("n", "1").isdigit() else {}
    form = EditCaseForm(formdata=None, version=str(case.version), title=case.title)
    return render(case, defn, form, case_form.from_case(defn, case.fields or {}), extra_rows=extra)


@bp.post("/cases/<int:case_id>/edit")
@login_required
def save(case_id: int) -> Response | tuple[str, int]:
    case, defn = _load(case_id)
    form = EditCaseForm()
    values = case_form.parse(defn, request.form)
    action = request.form.get("action", "save")
    more = action.removeprefix("more:") if action.startswith("more:") else None
    extra = {more: case_form.MORE_ROWS} if more else None
    if not form.validate():
        if form.version.errors:
            abort(400)  # a tampered or truncated form: no version to check against
        return render(case, defn, form, values, extra_rows=extra, status=422)
    expected = int(form.version.data)
    try:
        version = drafts.save_fields(case.id, current_user.id, case_form.for_domain(defn, values), expected,
                                     title=form.title.data, db=database())
    except ValidationError as exc:
        title_error = exc.errors.pop("title", None)
        if title_error:
            form.title.errors = [localized(*title_error)]
        return render(case, defn, form, values, errors=exc.errors, extra_rows=extra,
                      problem=_("有欄位需要修正，請看各欄位下方的說明；您輸入的內容都還在。"), status=422)
    except Conflict as exc:
        return render(case, defn, form, values, extra_rows=extra, problem=conflict_message(exc), status=409)
    except CaseflowError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for("cases.show", case_id=case.id), 303)
    if more:
        n = request.args.get("n", "0")
        return redirect(url_for(".edit", case_id=case.id, more=more, n=(int(n) if n.isdigit() else 0) + 1,
                                _anchor=case_form.input_name(more)), 303)
    if action != "submit":
        flash(_("已儲存。"), "success")
        return redirect(url_for(".edit", case_id=case.id), 303)
    return _submit(case, defn, version, values)


def _submit(case: Case, defn: Definition, version: int, values: dict[str, Any]) -> Response | tuple[str, int]:
    """Send the saved case on; fields that are still missing are named next to each field."""
    try:
        fieldmod.clean(defn, case_form.for_domain(defn, values), complete=True)
    except ValidationError as exc:
        # Saved: the page now carries the new version (for both of its forms).
        form = EditCaseForm(formdata=None, version=str(version), title=request.form.get("title", case.title))
        return render(case, defn, form, values, errors=exc.errors,
                      upload=UploadForm(formdata=None, version=str(version)),
                      problem=_("內容已儲存，但還有必填欄位未填妥，尚不能送出審核。"), status=422)
    try:
        result = approval.fire(case.id, "submit", current_user.id, None, version, db=database())
    except CaseflowError as exc:
        flash(_("內容已儲存，但無法送出：%(reason)s", reason=error_message(exc)), "error")
        return redirect(url_for(".edit", case_id=case.id), 303)
    flash(_("已送出審核，案件目前為「%(state)s」。", state=state_label(defn, result.to_state)), "success")
    return redirect(url_for("cases.show", case_id=case.id), 303)


@bp.post("/cases/<int:case_id>/fill")
@login_required
def fill_from_registers(case_id: int) -> Response | tuple[str, int]:
    """A result table from the registers (``registers.fill``): the period's rows and counts by sex
    replace the typed ones, saved as a new version (what was filled is what is submitted and kept)."""
    case, _defn = _load(case_id)
    form = RemoveAttachmentForm()  # a version and the CSRF token, nothing else
    if case.kind not in fill.SOURCES or not form.validate():
        abort(400)
    src = fill.SOURCES[case.kind]
    values = fill.fields_for(session(), case.kind, case.office_id, case.roc_year, case.period)
    if not any(isinstance(v, list) and v for v in values.values()):
        flash(_("%(register)s中沒有這一期的資料；請先登錄後再帶入。", register=localized(src.label, src.label_en)),
              "error")
        return redirect(url_for(".edit", case_id=case.id), 303)
    try:
        drafts.save_fields(case.id, current_user.id, {**(case.fields or {}), **values},
                           int(form.version.data), db=database())
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=url_for(".edit", case_id=case.id))
    except ValidationError as exc:
        flash("；".join(localized(*m) for m in exc.errors.values()), "error")
        return redirect(url_for(".edit", case_id=case.id), 303)
    rows = sum(len(v) for v in values.values() if isinstance(v, list))
    flash(_("已從%(register)s帶入 %(n)s 列。", register=localized(src.label, src.label_en), n=rows), "success")
    return redirect(url_for(".edit", case_id=case.id), 303)


@bp.record_once
def _raise_form_limits(state: Any) -> None:
    """Before CSRFProtect reads the body (an app-level before_request hook), give the edit form room
    for its table inputs. Inserted first so it runs before the CSRF check parses the form."""

    def hook() -> None:
        if request.endpoint == "edit.save":
            request.max_form_parts = FORM_PARTS
            request.max_form_memory_size = FORM_MEMORY

    state.app.before_request_funcs.setdefault(None, []).insert(0, hook)
