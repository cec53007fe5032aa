"""管理 › 文件範本: an office's own .docx templates, checked before they are used, and reverting to
the built-in ones."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response

from documents import templates_admin
from documents.render import TemplateProblem
from web.admin.common import (
    ConfirmForm,
    bp,
)
from web.db import database, session
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized


class TemplateForm(FlaskForm):
    file = FileField(_l("新範本（.docx）"), [FileRequired(_l("請選擇要上傳的 .docx 檔案"))])


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
