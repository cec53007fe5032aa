"""案件: the case page, and the actions on it (one POST form per allowed trigger).

Each view is load (through ``access.load_case_for``) → act (one operation) → render or redirect.
A typed error from the operation becomes a flash message and a redirect back to the case; a
stale page (someone acted first) gets a 409 page naming who and when.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from documents import convert, history_export
from documents.service import document_store
from publishing import retry
from web import case_documents, case_page, exports
from web.access import load_case_for
from web.db import database, session
from web.errors import conflict_message, error_message, render_error
from web.forms import ActionForm
from web.i18n import gettext as _
from web.labels import document_label, state_label, trigger_label
from workflow.engine import registry
from workflow.errors import CaseflowError, Conflict
from workflow.models import Case, Document

bp = Blueprint("cases", __name__, url_prefix="/cases")


def case_url(case_id: int) -> str:
    """``url_for("cases.show", case_id=...)`` for pages that link many cases: the route is built
    once per request, not once per row."""
    prefix = g.get("case_url_prefix")
    if prefix is None:
        probe = url_for("cases.show", case_id=1)
        if not probe.endswith("/1"):  # the route changed shape: build every link in full
            return url_for("cases.show", case_id=case_id)
        prefix = g.case_url_prefix = probe[:-1]
    return f"{prefix}{int(case_id)}"


@bp.get("/<int:case_id>")
@login_required
def show(case_id: int) -> str:
    case = load_case_for(current_user, case_id)
    return render_template("case.html", page=case_page.build(database(), session(), current_user.id, case,
                                                                 office_id=current_user.office_id))


MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "pdf": "application/pdf",
}


def ready_document(case: Case, document_id: int, fmt: str) -> tuple[Document, str]:
    """A ready document of ``case`` and the storage key of its ``fmt`` copy; 404 otherwise (another
    case's document, one not rendered yet, a copy not converted). For the page and the API."""
    doc = session().get(Document, document_id)
    if doc is None or doc.case_id != case.id or doc.status != "ready":
        abort(404)
    key = {"docx": doc.storage_key, "odt": doc.odt_key, "pdf": doc.pdf_key}[fmt]
    if key is None:
        abort(404)
    return doc, key


@bp.get("/<int:case_id>/documents")
@login_required
def documents(case_id: int) -> str:
    """The case page's documents section alone, for web/static/documents.js to refresh it while
    documents are being made."""
    case = load_case_for(current_user, case_id)
    defn = registry.default().get(database(), case.kind, case.workflow_version, session())
    page = {"case": case, "documents": case_documents.groups(case_documents.versions(session(), case, defn))}
    return render_template("_case_documents.html", page=page)


@bp.get("/<int:case_id>/documents/<int:document_id>.<any(docx, odt, pdf):fmt>")
@login_required
def download(case_id: int, document_id: int, fmt: str) -> Response:
    case = load_case_for(current_user, case_id)
    doc, key = ready_document(case, document_id, fmt)
    defn = registry.default().get(database(), case.kind, case.workflow_version, session())
    version = next(d.version for d in case_documents.versions(session(), case, defn) if d.id == doc.id)
    name = f"{case.title}-{document_label(doc.name)}-v{version}.{fmt}"
    return send_file(io.BytesIO(document_store().get(key)), mimetype=MEDIA_TYPES[fmt], as_attachment=True,
                     download_name=name, max_age=0, etag=(doc.sha256 or False) if fmt == "docx" else False)


@bp.get("/<int:case_id>/history.<any(csv, ods, xlsx, pdf):fmt>")
@login_required
def history(case_id: int, fmt: str) -> Response | tuple[str, int]:
    """The case's history for an auditor, with the result of its hash chain check: a table (the
    export path of every table) or a PDF (LibreOffice, started for this file: audits are rare)."""
    case = load_case_for(current_user, case_id)
    h = history_export.load(database(), case.id)
    name = f"case-{case.id}-history"
    if fmt != "pdf":
        return exports.download(fmt, f"案件{case.id}歷程", name, history_export.HEADER, history_export.table_rows(h))
    if convert.soffice_path() is None:
        return render_error(503, _("這台伺服器沒有安裝 LibreOffice，無法產生 PDF；請改下載 CSV。"),
                            back=url_for(".show", case_id=case.id))
    try:
        pdf = history_export.to_pdf(h, current_user.display_name, convert.ColdConverter())
    except convert.ConversionError:
        return render_error(503, _("PDF 轉檔失敗，請稍後再試，或改下載 CSV。"), back=url_for(".show", case_id=case.id))
    return send_file(io.BytesIO(pdf), mimetype=MEDIA_TYPES["pdf"], as_attachment=True, download_name=f"{name}.pdf",
                     max_age=0)


@bp.post("/<int:case_id>/actions/<string(maxlength=40):trigger>")
@login_required
def act(case_id: int, trigger: str) -> Response | tuple[str, int]:
    case = load_case_for(current_user, case_id)
    back = url_for(".show", case_id=case.id)
    form = ActionForm(prefix=trigger)
    if not form.validate():
        if form.comment.errors and not form.version.errors:
            flash(_("意見：%(error)s", error=form.comment.errors[0]), "error")
            return redirect(back, 303)
        abort(400)  # a tampered or truncated form: no version to check against
    if trigger in case_page.CONFIRMED_TRIGGERS and not form.confirm.data:
        flash(_("撤回後案件即結案，不能再送出：請先勾選「我確定要撤回」再按撤回。"), "error")
        return redirect(back, 303)
    try:
        result = retry.fire_checked(case.id, trigger, current_user.id, form.comment.data or None,
                                    int(form.version.data), db=database())
    except retry.RetryRefused as exc:  # 重新刊登 was not offered: the page says what to fix
        flash(error_message(exc), "error")
        session().rollback()  # read the case again, with the refusal now in its history
        return render_template("case.html", page=case_page.build(database(), session(), current_user.id,
                                                                 load_case_for(current_user, case.id),
                                                                 office_id=current_user.office_id)), 422
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=back, unsent=form.comment.data)
    except CaseflowError as exc:
        flash(error_message(exc), "error")
        return redirect(back, 303)
    defn = registry.default().get(database(), case.kind, case.workflow_version)
    flash(_("已完成「%(action)s」，案件目前為「%(state)s」。",
            action=trigger_label(trigger), state=state_label(defn, result.to_state)), "success")
    return redirect(back, 303)
