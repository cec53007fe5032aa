"""附件: uploading files to a draft and downloading them (RELIABILITY.md §4, uploads).

A file's type is decided by its content, never its name or the browser's claim
(``workflow.filetypes``, shared with publishing): JPEG and PNG that Pillow opens, PDF, and .docx
and .odt packages opened within caps on the entry count and the uncompressed size (zip bombs).
Files are stored by ``drafts.add_attachment`` in the content-addressed store outside the web root
(generated names); downloads go through ``access.load_case_for`` and are always sent as attachments.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from web.access import load_case_for
from web.db import database, session
from web.errors import conflict_message, render_error
from web.filters import filesize
from web.forms import EventPhotosForm, RemoveAttachmentForm, UploadForm
from web.i18n import gettext as _
from web.i18n import localized
from workflow import filetypes, storage
from workflow.cases import drafts, posting
from workflow.errors import CaseflowError, Conflict, NotFound, ValidationError
from workflow.models import Attachment

bp = Blueprint("uploads", __name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # UPLOAD_MAX_BYTES
ZIP_MAX_ENTRIES = 2000  # UPLOAD_ZIP_MAX_ENTRIES
ZIP_MAX_UNCOMPRESSED = 100 * 1024 * 1024  # UPLOAD_ZIP_MAX_UNCOMPRESSED
FORM_OVERHEAD = 64 * 1024  # the multipart envelope, CSRF token, version and alt text
EXTENSIONS = {filetypes.JPEG: ".jpg", filetypes.PNG: ".png", filetypes.PDF: ".pdf", filetypes.DOCX: ".docx",
              filetypes.ODT: ".odt"}
PHOTOS = frozenset({filetypes.JPEG, filetypes.PNG})


@dataclass(frozen=True)
class Refused:
    message: str  # zh-TW (msgid) already translated for the request


def _limit(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def max_bytes() -> int:
    return _limit("UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES)


def sniff(content: bytes) -> str | Refused:
    """The media type of an allowed file, from its content (``workflow.filetypes``); or why it is refused."""
    kind = filetypes.identify(content, filetypes.ZipLimits(
        _limit("UPLOAD_ZIP_MAX_ENTRIES", ZIP_MAX_ENTRIES), _limit("UPLOAD_ZIP_MAX_UNCOMPRESSED", ZIP_MAX_UNCOMPRESSED)))
    if kind.media_type in EXTENSIONS:
        return kind.media_type
    if kind.problem == filetypes.BAD_IMAGE:
        return Refused(_("這張照片無法開啟（內容不是完整的 %(label)s 圖片，可能已損壞）；請重新存檔後再上傳。",
                         label=kind.label))
    if kind.problem == filetypes.ZIP_ENTRIES:
        return Refused(_("文件內含的項目過多，系統不接受（可能是惡意的壓縮檔）。"))
    if kind.problem == filetypes.ZIP_SIZE:
        return Refused(_("文件解壓縮後過大，系統不接受（可能是惡意的壓縮檔）。"))
    if content.startswith(filetypes.ZIP_MAGIC):
        return Refused(_("這個壓縮檔不是可接受的 Word（.docx）或 ODF（.odt）文件。"))
    return Refused(_("只接受 JPEG、PNG 照片，PDF，以及 Word（.docx）或 ODF 文字文件（.odt）；"
                     "這個檔案的內容不是這些格式。"))


def safe_name(raw: str, media_type: str) -> str:
    """A display name with no path, no control characters, and the extension of its real type."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # "../../x" or "C:\\x" → "x"
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip().lstrip(".").strip()
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[:150].strip() or _("附件")
    return f"{stem}{EXTENSIONS[media_type]}"


def _back(case_id: int) -> str:
    return url_for("edit.edit", case_id=case_id, _anchor="attachments")


@bp.post("/cases/<int:case_id>/attachments")
@login_required
def upload(case_id: int) -> Response | tuple[str, int]:
    case = load_case_for(current_user, case_id)
    form = UploadForm()
    if not form.validate():
        if form.version.errors:
            abort(400)
        for msg in (*form.file.errors, *form.alt_text.errors, *form.caption.errors):
            flash(_("附件：%(error)s", error=msg), "error")
        return redirect(_back(case.id), 303)
    content = form.file.data.read(max_bytes() + 1)
    if len(content) > max_bytes():
        return too_large()
    kind = sniff(content)
    if isinstance(kind, Refused):
        flash(_("附件未上傳：%(reason)s", reason=kind.message), "error")
        return redirect(_back(case.id), 303)
    alt = (form.alt_text.data or "").strip()
    caption = (form.caption.data or "").strip() if kind in PHOTOS else ""
    if kind in PHOTOS and not alt:
        flash(_("附件未上傳：照片須填寫替代文字（說明照片內容，供視障者使用）。"), "error")
        return redirect(_back(case.id), 303)
    name = safe_name(form.file.data.filename or "", kind)
    try:
        att_id = drafts.add_attachment(case.id, current_user.id, name=name, content_type=kind, content=content,
                                       expected_version=int(form.version.data), db=database())
        if alt or caption:
            # add_attachment takes no alt text or caption (yet): set them right after, on the version it produced.
            posting.edit_posting(case.id, current_user.id, alt_texts={att_id: alt} if alt else None,
                                 captions={att_id: caption} if caption else None,
                                 expected_version=int(form.version.data) + 1, db=database())
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=url_for("edit.edit", case_id=case.id))
    except ValidationError as exc:
        flash(_("附件：%(error)s", error="；".join(localized(*m) for m in exc.errors.values())), "error")
        return redirect(_back(case.id), 303)
    except CaseflowError as exc:
        flash(localized(exc.message, exc.message_en), "error")
        return redirect(_back(case.id), 303)
    flash(_("已上傳「%(name)s」（%(size)s）。", name=name, size=filesize(len(content))), "success")
    return redirect(_back(case.id), 303)


@bp.post("/cases/<int:case_id>/attachments/from-event")
@login_required
def from_event(case_id: int) -> Response | tuple[str, int]:
    """A posting's photos from a 宣導 event of the register (the edit page's 從宣導紀錄加入照片)."""
    case = load_case_for(current_user, case_id)
    form = EventPhotosForm()
    if not form.validate():
        if form.version.errors:
            abort(400)  # a tampered or truncated form: no version to check against
        flash(_("從宣導紀錄加入照片：%(error)s", error="；".join(str(e) for e in form.event.errors)), "error")
        return redirect(_back(case.id), 303)
    try:
        event_id = int(form.event.data) if str(form.event.data or "").isdigit() else 0
        added = drafts.add_event_photos(case.id, current_user.id, event_id, int(form.version.data), db=database())
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=url_for("edit.edit", case_id=case.id))
    except NotFound:
        abort(404)  # not an event of this office
    except CaseflowError as exc:
        flash(_("從宣導紀錄加入照片：%(error)s", error=localized(exc.message, exc.message_en)), "error")
        return redirect(_back(case.id), 303)
    flash(_("已從宣導紀錄加入 %(n)s 張照片，連同照片說明與替代文字；送出前請再確認。", n=len(added)), "success")
    return redirect(_back(case.id), 303)


@bp.post("/cases/<int:case_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove(case_id: int, attachment_id: int) -> Response | tuple[str, int]:
    """Take a wrongly uploaded file off a draft (the edit page's 移除 button, one per attachment)."""
    case = load_case_for(current_user, case_id)
    form = RemoveAttachmentForm()
    if not form.validate():
        abort(400)  # a tampered or truncated form: no version to check against
    try:
        name = drafts.remove_attachment(case.id, current_user.id, attachment_id, int(form.version.data),
                                        db=database())
    except Conflict as exc:
        return render_error(409, conflict_message(exc), back=url_for("edit.edit", case_id=case.id))
    except NotFound:
        abort(404)
    except CaseflowError as exc:
        flash(localized(exc.message, exc.message_en), "error")
        return redirect(_back(case.id), 303)
    flash(_("已移除附件「%(name)s」。", name=name), "success")
    return redirect(_back(case.id), 303)


@bp.get("/cases/<int:case_id>/attachments/<int:attachment_id>")
@login_required
def download(case_id: int, attachment_id: int) -> Response:
    case = load_case_for(current_user, case_id)
    att = session().get(Attachment, attachment_id)
    if att is None or att.case_id != case.id:
        abort(404)
    data = storage.default().get(att.storage_key)
    return send_file(io.BytesIO(data), mimetype=att.content_type, as_attachment=True, download_name=att.name,
                     max_age=0, etag=att.sha256)


def too_large() -> tuple[str, int]:
    return render_error(413, _("檔案太大：附件最大 %(limit)s，請壓縮或縮小後再上傳。", limit=filesize(max_bytes())),
                        back=_back(request.view_args["case_id"]) if request.view_args else None)


@bp.app_errorhandler(RequestEntityTooLarge)
def _too_large(_e: RequestEntityTooLarge) -> tuple[str, int]:
    if request.endpoint == "uploads.upload":
        return too_large()
    return render_error(413)


@bp.record_once
def _raise_body_limit(state: Any) -> None:
    """The app's MAX_CONTENT_LENGTH is small (no other form needs more); the upload view gets its
    own limit before CSRFProtect (an app-level before_request hook) reads the body."""

    def hook() -> None:
        if request.endpoint == "uploads.upload":
            request.max_content_length = max_bytes() + FORM_OVERHEAD

    state.app.before_request_funcs.setdefault(None, []).insert(0, hook)


@bp.app_context_processor
def _limits() -> dict[str, Any]:
    return {"upload_limit": max_bytes}
