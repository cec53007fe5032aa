"""刊登失敗處理: the secretariat's queue of web postings that could not be published (plan
§5.5(2)), with retry, fix-and-retry, a manual posting, or sending the posting back to its unit.

A posting that fails its own pre-publication checks is not offered 重新刊登 (it would fail again):
its row says what to fix and leads to the fix page; a forced retry is refused with the same words
and counted (``publishing.retry``). Every row waits from its first failure.

Each view is load (``access.load_case_for``) → act (one operation) → redirect; a refused form is
shown again (422) with what was typed and a message next to the field. Who may do what is
decided by the workflow (only the secretariat fires these triggers); the queue itself is shown to
the secretariat, the liaisons and the administrator. The liaison's board can show
``workflow.cases.posting.failed_postings_count``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from publishing import checks, retry
from web.access import holds_any, load_case_for
from web.db import database, session
from web.errors import conflict_message, error_message, render_error
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from workflow import clock
from workflow.cases import approval, posting
from workflow.errors import CaseflowError, Conflict, ValidationError
from workflow.models import Case

bp = Blueprint("publishing", __name__, url_prefix="/publishing")
VIEWERS = frozenset({"secretariat", "liaison", "deputy_liaison", "admin"})


class VersionForm(FlaskForm):
    version = HiddenField(validators=[InputRequired(), Regexp(r"^[1-9][0-9]{0,9}$")])


class ManualForm(VersionForm):
    url = StringField(_l("刊登網址"), [InputRequired(_l("請填寫刊登網址")), Length(max=1000)])
    note = TextAreaField(_l("說明"), [InputRequired(_l("請說明如何刊登")), Length(max=4000)])


class ReturnForm(VersionForm):
    comment = TextAreaField(_l("退回原因"), [InputRequired(_l("請填寫退回原因")), Length(max=4000)])


class FixForm(VersionForm):
    heading = StringField(_l("標題"), [InputRequired(_l("請填寫標題")), Length(max=200)])
    body = TextAreaField(_l("內文"), [InputRequired(_l("請填寫內文")), Length(max=10000)])


class RetryForm(VersionForm):
    comment = TextAreaField(_l("意見"), [Optional(), Length(max=4000)])


def can_see_failed_postings() -> bool:
    return holds_any(VIEWERS)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"can_see_failed_postings": can_see_failed_postings}


def _may_view() -> None:
    if not can_see_failed_postings():
        abort(403)


@bp.get("/failed")
@login_required
def failed() -> tuple[str, int]:
    _may_view()
    return _failed_page()


def _failed_page(typed: VersionForm | None = None, typed_for: int | None = None,
                 status: int = 200, refused: retry.RetryRefused | None = None) -> tuple[str, int]:
    """The queue; ``typed`` is a refused form of row ``typed_for``, shown again with its messages;
    ``refused``: a retry of row ``typed_for`` the checks refused."""
    _may_view()  # the actions are the workflow's to refuse, but the queue is shown to its viewers only
    rows = posting.failed_postings(session(), current_user.office_id)
    now = clock.now()
    problems = {r.case_id: [localized(p.message, p.message_en) for p in _problems(r.case_id)] for r in rows}

    def form(cls: type[VersionForm], name: str) -> Any:
        def make(r: posting.FailedPosting) -> VersionForm:
            if typed is not None and typed_for == r.case_id and isinstance(typed, cls):
                return typed
            return cls(formdata=None, prefix=f"{name}{r.case_id}", version=r.version)
        return make

    problem = None
    title = next((r.title for r in rows if r.case_id == typed_for), "")
    if refused is not None:
        problem = _("「%(title)s」未重新刊登：刊登前檢查未通過，送出也會再次失敗（本次已記錄為第 %(n)s 次嘗試）。"
                    "請先按「修正後重新刊登」修正下列問題。", title=title, n=refused.attempt)
    elif typed is not None:
        problem = _("「%(title)s」的表單有欄位需要修正，請看欄位下方的說明；您輸入的內容都還在。", title=title)
    return render_template("publishing_failed.html", rows=rows, now=now, problems=problems,
                           waiting={r.case_id: r.waiting(now) for r in rows},
                           reasons={r.case_id: _reason(r, problems[r.case_id]) for r in rows},
                           in_progress=posting.publishing_now(session(), current_user.office_id),
                           retry_form=form(RetryForm, "retry"), manual_form=form(ManualForm, "manual"),
                           return_form=form(ReturnForm, "return"), problem=problem, typed_for=typed_for,
                           unsent=typed.comment.data if refused is not None and isinstance(typed, RetryForm)
                           else None), status


def _reason(r: posting.FailedPosting, problems: list[str]) -> str:
    """Why the posting did not go out: the recorded reason, else what the checks find now."""
    if r.reason:
        return localized(r.reason, r.reason_en)
    if problems:  # listed under the row as what to fix
        return _("刊登前檢查未通過（須修正的項目如下）")
    return _("刊登失敗（原因未記錄）")


def _fire(case_id: int, trigger: str, form: VersionForm, comment: str | None, done: str) -> Response | tuple[str, int]:
    back = url_for(".failed")
    try:
        approval.fire(case_id, trigger, current_user.id, comment, int(form.version.data), db=database())
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=back)
    except CaseflowError as exc:
        flash(error_message(exc), "error")
        return redirect(back, 303)
    flash(done, "success")
    return redirect(back, 303)


@bp.post("/<int:case_id>/retry", endpoint="retry")  # the view's name would shadow the module
@login_required
def retry_posting(case_id: int) -> Response | tuple[str, int]:
    case = load_case_for(current_user, case_id)
    form = RetryForm(prefix=f"retry{case.id}")
    if not form.validate():
        abort(400)
    back = url_for(".failed")
    try:
        retry.retry_publish(case.id, current_user.id, form.comment.data or None, int(form.version.data),
                            db=database())
    except retry.RetryRefused as exc:  # a forced POST: the page did not offer it
        session().rollback()  # read the queue again, the refused attempt counted
        return _failed_page(form, case.id, status=422, refused=exc)
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=back, unsent=form.comment.data)
    except CaseflowError as exc:
        flash(error_message(exc), "error")
        return redirect(back, 303)
    flash(_("已重新送出刊登：「%(title)s」。", title=case.title), "success")
    return redirect(back, 303)


@bp.post("/<int:case_id>/manual")
@login_required
def manual(case_id: int) -> Response | tuple[str, int]:
    case = load_case_for(current_user, case_id)
    form = ManualForm(prefix=f"manual{case.id}")
    if not form.validate():
        if form.version.errors:
            abort(400)  # a tampered or truncated form: no version to check against
        return _failed_page(form, case.id, status=422)
    try:
        posting.record_manual_posting(case.id, current_user.id, form.url.data or "", form.note.data or "",
                                      int(form.version.data), db=database())
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=url_for(".failed"))
    except ValidationError as exc:
        url_error = exc.errors.pop("url", None)
        form.url.errors = [localized(*url_error)] if url_error else []
        form.note.errors = [localized(*v) for v in exc.errors.values()]
        return _failed_page(form, case.id, status=422)
    except CaseflowError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for(".failed"), 303)
    flash(_("已登錄人工刊登：「%(title)s」。", title=case.title), "success")
    return redirect(url_for(".failed"), 303)


@bp.post("/<int:case_id>/return")
@login_required
def send_back(case_id: int) -> Response | tuple[str, int]:
    case = load_case_for(current_user, case_id)
    form = ReturnForm(prefix=f"return{case.id}")
    if not form.validate():
        if form.version.errors:
            abort(400)
        return _failed_page(form, case.id, status=422)
    return _fire(case.id, "return_for_revision", form, form.comment.data,
                 _("已退回承辦課室：「%(title)s」。", title=case.title))


@bp.route("/<int:case_id>/fix", methods=["GET", "POST"])
@login_required
def fix(case_id: int) -> Response | tuple[str, int]:
    _may_view()
    case = load_case_for(current_user, case_id)
    if case.kind != posting.KIND or case.state != posting.FAILED:
        abort(404)
    if request.method == "GET":
        form = FixForm(formdata=None, prefix="fix", version=case.version,
                       heading=(case.fields or {}).get("heading"), body=(case.fields or {}).get("body"))
        return _fix_page(case, form)
    form = FixForm(prefix="fix")
    photos = {a.id for a in case.attachments}
    alts = {a: request.form.get(f"alt-{a}", "") for a in photos if f"alt-{a}" in request.form}
    captions = {a: request.form.get(f"caption-{a}", "") for a in photos if f"caption-{a}" in request.form}
    if not form.validate():
        if form.version.errors:
            abort(400)  # a tampered or truncated form: no version to check against
        return _fix_page(case, form, alts, captions, status=422)
    try:
        version = posting.edit_posting(case.id, current_user.id, heading=form.heading.data, body=form.body.data,
                                       alt_texts=alts, captions=captions, expected_version=int(form.version.data),
                                       db=database())
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=url_for(".fix", case_id=case.id))
    except ValidationError as exc:
        for name in ("heading", "body"):
            error = exc.errors.pop(name, None)
            if error:
                getattr(form, name).errors = [localized(*error)]
        return _fix_page(case, form, alts, captions, general=[localized(*v) for v in exc.errors.values()],
                         status=422)
    except CaseflowError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for(".fix", case_id=case.id), 303)
    try:
        retry.retry_publish(case.id, current_user.id, None, version, db=database())
    except retry.RetryRefused as exc:
        flash(_("已儲存修改，但刊登前檢查仍未通過，尚未重新刊登（已記錄為第 %(n)s 次嘗試）；請修正下列問題。",
                n=exc.attempt), "error")
        return redirect(url_for(".fix", case_id=case.id), 303)
    except CaseflowError as exc:
        flash(error_message(exc), "error")
        return redirect(url_for(".fix", case_id=case.id), 303)
    flash(_("已修正並重新送出刊登：「%(title)s」。", title=case.title), "success")
    return redirect(url_for(".failed"), 303)


def _fix_page(case: Case, form: FixForm, alts: dict[int, str] | None = None, captions: dict[int, str] | None = None,
              *, general: list[str] | None = None, status: int = 200) -> tuple[str, int]:
    """The fix page; after a refused POST, ``alts`` and ``captions`` are the texts as typed (kept, not re-read)."""
    typed, typed_captions = alts or {}, captions or {}
    alt_values = {a.id: typed.get(a.id, a.alt_text or "") for a in case.attachments}
    caption_values = {a.id: typed_captions.get(a.id, a.caption or "") for a in case.attachments}
    problem = _("有欄位需要修正，請看各欄位下方的說明；您輸入的內容都還在。") if status == 422 else None
    return render_template("publishing_fix.html", case=case, form=form, problems=_problems(case.id),
                           attachments=case.attachments, alt_values=alt_values, caption_values=caption_values,
                           problem=problem, general=general or []), status


def _problems(case_id: int) -> list[checks.Problem]:
    """The checks on the posting as now committed (a fresh read, not this request's snapshot)."""
    with database().unit_of_work(write=False) as uow:
        case = uow.session.get(Case, case_id)
        if case is None or case.office_id != current_user.office_id:
            abort(404)
        return retry.check_case(uow.session, case)
