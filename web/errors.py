"""Generic error pages (zh-TW first), and the words for caseflow's typed errors.

Pages say what happened and what to do, never how the server is built: no tracebacks, no SQL,
no ids of other offices' objects.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from web.api import errors as api_errors
from web.filters import roc_datetime
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from workflow.errors import CaseflowError, Conflict, NotFound, PermissionDenied

PAGES: dict[int, tuple[LazyString, LazyString]] = {
    400: (_l("無法處理這個請求"), _l("送出的資料不完整或格式不對，請回上一頁重新整理後再試。")),
    403: (_l("沒有權限"), _l("您沒有權限檢視這個頁面或執行這個動作。")),
    404: (_l("找不到頁面"), _l("這個頁面不存在，或您沒有權限檢視。")),
    405: (_l("不支援的操作"), _l("這個網址不接受這種操作，請從頁面上的按鈕進行。")),
    409: (_l("案件已有變動"), _l("案件在您開啟頁面後已有變動，請重新載入後再操作。")),
    413: (_l("資料太大"), _l("送出的資料超過上限。")),
    429: (_l("嘗試次數過多"), _l("短時間內嘗試太多次，請稍候幾分鐘後再試。")),
    500: (_l("系統發生錯誤"), _l("系統暫時無法完成這個動作，請稍後再試；若持續發生，請聯絡系統管理者。")),
    503: (_l("系統暫時無法使用"), _l("資料庫暫時無法連線，這次的動作沒有儲存。請稍候一分鐘後再試一次。")),
}
# Seconds a client is asked to wait after the database was unreachable (Retry-After).
RETRY_AFTER_DATABASE = 30
log = logging.getLogger(__name__)


def error_message(exc: CaseflowError) -> str:
    """The error's own sentence in the request's language (zh-TW unless English was chosen)."""
    return localized(exc.message, exc.message_en)


def conflict_message(exc: Conflict) -> str:
    """Who acted first and when, with the time as a ROC date in Taipei time."""
    when = roc_datetime(exc.at) if exc.at else _("剛才")
    if exc.by and current_user.is_authenticated and exc.by == current_user.display_name:
        return str(_("這個案件您已在另一個視窗或分頁於 %(when)s 處理過，這一頁已過期。請重新載入案件頁後再操作。",
                     when=when))
    who = exc.by or _("另一位使用者")
    return str(_("這個案件已由%(who)s於 %(when)s 處理，您看到的頁面已過期。請重新載入案件頁後再操作。",
                 who=who, when=when))


def render_error(code: int, message: str | None = None, *, back: str | None = None,
                 unsent: str | None = None) -> tuple[str, int]:
    """The error page; ``unsent``: text the person typed that was not saved (a comment on a stale
    page), shown for them to copy rather than lost."""
    title, default = PAGES.get(code, PAGES[500])
    return render_template("error.html", code=code, title=title, message=message or default, back=back,
                           unsent=unsent or None), code


def _http(e: HTTPException) -> tuple[str, int] | Response:
    if api_errors.is_api():
        return api_errors.from_http(e)
    return render_error(e.code or 500)


def _csrf(_e: CSRFError) -> tuple[str, int]:
    return render_error(400, _("表單已逾時或缺少安全驗證碼，請重新整理頁面後再送出。"))


def _caseflow(e: CaseflowError) -> tuple[str, int] | Response:
    """Safety net for a typed error a view did not handle itself."""
    if api_errors.is_api():
        return api_errors.from_domain(e)
    if isinstance(e, NotFound):
        return render_error(404)
    if isinstance(e, Conflict):
        return render_error(409, conflict_message(e))
    if isinstance(e, PermissionDenied):
        return render_error(403, error_message(e))
    return render_error(400, error_message(e))


def _unexpected(e: InternalServerError) -> tuple[str, int] | Response:
    # Flask logs the original exception itself; with TESTING it propagates instead of coming here.
    try:
        if api_errors.is_api():
            return api_errors.response(500)
        return render_error(500)
    except Exception:  # the page itself failed (database down?): a bare page, still generic
        return "500 系統發生錯誤 / Internal error", 500


def _database_unavailable(e: OperationalError | InterfaceError) -> tuple[str, int, dict[str, str]] | Response:
    """The database went away under the request (down, restarted, its connection killed): 503, not
    a 500. Nothing was half-written: every write is one transaction, which the server rolled back
    when the connection died, and the after-commit hooks run only after a commit. The pool drops
    the dead connection (pool_pre_ping checks the others), so the retry the page asks for works
    once the database answers again."""
    log.warning("database unavailable: %s", type(e.orig).__name__ if e.orig is not None else type(e).__name__)
    headers = {"Retry-After": str(RETRY_AFTER_DATABASE)}
    if api_errors.is_api():
        resp = api_errors.response(503)
        resp.headers.update(headers)
        return resp
    try:
        body, code = render_error(503)
    except Exception:  # the page itself needed the database
        body, code = "503 系統暫時無法使用 / Service unavailable", 503
    return body, code, headers


def init_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(CaseflowError, _caseflow)
    app.register_error_handler(InternalServerError, _unexpected)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InterfaceError, _database_unavailable)
