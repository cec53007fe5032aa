"""JSON errors for the API: ``{"code": ..., "message": ...}`` with the message in the request's
language (zh-TW unless Accept-Language prefers English), never an HTML page, never a traceback.

``web.errors`` sends every error of a path under ``/api/`` here (routing errors included: a 404 or
405 on an unknown API path happens before any blueprint is chosen).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from web.i18n import localized
from workflow.errors import (
    CaseflowError,
    ConditionFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    ValidationError,
)

PREFIX = "/api/"

# status -> (code, zh-TW, English)
HTTP: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "請求的格式不對（例如 JSON 無法解析），請檢查後再送出。",
          "The request is malformed (e.g. the JSON does not parse); check it and send it again."),
    401: ("unauthorized",
          "需要有效的 API 權杖：請在 Authorization 標頭加上「Bearer <權杖>」。權杖可在「API 權杖」頁建立。",
          "A valid API token is needed: send 'Authorization: Bearer <token>'. Create one on the API tokens page."),
    403: ("forbidden", "您沒有權限執行這個動作。", "You are not allowed to do this."),
    404: ("not_found", "找不到這個資源，或您沒有權限檢視。", "Not found, or not yours to see."),
    405: ("method_not_allowed", "這個網址不接受這種 HTTP 方法。", "This URL does not accept this HTTP method."),
    406: ("not_acceptable", "無法提供您要求的格式。", "The requested format is not available."),
    409: ("conflict", "案件已有變動，請重新讀取後再操作。", "The case has changed; read it again and retry."),
    413: ("too_large", "送出的資料超過上限（1 MB）。", "The request body is over the limit (1 MB)."),
    415: ("unsupported_media_type", "請以 application/json 送出。", "Send application/json."),
    422: ("validation_error", "有欄位需要修正，請看 errors。", "Some fields need fixing; see errors."),
    429: ("rate_limited", "短時間內請求太多次，請稍候再試。", "Too many requests; wait a little and retry."),
    500: ("server_error", "系統暫時無法完成這個動作，請稍後再試。",
          "The server could not do this now; try again later."),
    503: ("unavailable", "資料庫暫時無法連線，這次的動作沒有儲存，請稍後再試。",
          "The database is unreachable; nothing was saved. Try again later."),
}

# marshmallow's and webargs' messages, in Traditional Chinese (English is the original).
_ZH = {
    "Unknown field.": "沒有這個欄位（請檢查拼字）",
    "Missing data for required field.": "必填",
    "Field may not be null.": "不可為 null",
    "Not a valid integer.": "須為整數",
    "Not a valid number.": "須為數字",
    "Not a valid string.": "須為字串",
    "Not a valid boolean.": "須為 true 或 false",
    "Not a valid mapping type.": "須為 JSON 物件",
    "Not a valid list.": "須為 JSON 陣列",
    "Invalid input type.": "資料型別不對",
    "Invalid value.": "值不正確",
    "Invalid key.": "鍵不正確",
    "Invalid JSON body.": "JSON 格式錯誤，無法解析",
}


def is_api() -> bool:
    return request.path.startswith(PREFIX)


def _zh(msg: str) -> str:
    if msg in _ZH:
        return _ZH[msg]
    if msg.startswith("Must be greater than or equal to") or msg.startswith("Must be less than or equal to"):
        return "超出允許範圍：" + msg
    if msg.startswith("Longer than maximum length") or msg.startswith("Shorter than minimum length"):
        return "長度不符：" + msg
    return msg


def _flatten(messages: Any, path: str, out: dict[str, str]) -> None:
    """marshmallow's nested messages as {"a.b": "first message"}."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            _flatten(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out[path or "_"] = localized("；".join(_zh(m) for m in messages), "; ".join(messages))
        else:
            for m in messages:
                _flatten(m, path, out)
    else:
        out[path or "_"] = localized(_zh(str(messages)), str(messages))


def response(status: int, code: str | None = None, message: str | None = None, **extra: Any) -> Response:
    default_code, zh, en = HTTP.get(status, HTTP[500] if status >= 500 else HTTP[400])
    body: dict[str, Any] = {"code": code or default_code, "message": message or localized(zh, en)}
    body.update({k: v for k, v in extra.items() if v is not None})
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="caseflow"'
    return resp


def from_http(e: HTTPException) -> Response:
    status = e.code or 500
    data = getattr(e, "data", None)
    errors: dict[str, str] = {}
    if isinstance(data, Mapping) and isinstance(data.get("messages"), Mapping):
        for _location, messages in data["messages"].items():  # {"json": {...}, "query": {...}}
            _flatten(messages, "", errors)
    resp = response(status, errors=errors or None)
    for key, value in e.get_headers():
        if key in ("Allow", "Retry-After"):
            resp.headers[key] = value
    return resp


def from_domain(e: CaseflowError) -> Response:
    """A typed error of ``workflow.cases``, with its own two-language sentence."""
    message = localized(e.message, e.message_en)
    if isinstance(e, NotFound):
        return response(404)  # the same for "no such case" and "another office's case"
    if isinstance(e, Conflict):
        return response(409, e.code, message, by=e.by, at=e.at.isoformat() if e.at else None,
                        current_version=e.current_version)
    if isinstance(e, PermissionDenied):
        return response(403, e.code, message)
    if isinstance(e, TransitionNotAllowed):
        return response(409, e.code, message, allowed=e.allowed)
    if isinstance(e, ConditionFailed):
        return response(422, e.code, message, condition=e.condition)
    if isinstance(e, ValidationError):
        return response(422, e.code, message, errors={k: localized(*v) for k, v in e.errors.items()})
    return response(400, e.code, message)
