"""One log line per request, and the ids every log line of a request carries.

The request id comes from the client or proxy (``X-Request-ID``, if it looks like an id) or is
made here, and goes back in the response's ``X-Request-ID``, so a person's report ("it failed at
10:15, the page said ...") and a proxy's log meet the app's. The case id comes from the URL where
a route has one; the user id is bound when the session's user is loaded (``web.auth``).

A request that reached a view and was refused with 403 or 404 (a role or capacity missing, an id of
another office's or an unreadable case: ids reveal nothing, so both mean "not yours") also leaves an
``authz_denied`` record on the ``caseflow.security`` logger: who (user id, or none), method, path,
endpoint and status. An unknown URL (no route matched) is not a denial and leaves none.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request
from werkzeug.wrappers import Response

from workflow import logs

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")  # no spaces, quotes or control characters
log = logging.getLogger("caseflow.request")
security_log = logging.getLogger("caseflow.security")
AUTHZ_DENIED = "authz_denied"
DENIED_STATUSES = (403, 404)


def request_id() -> str:
    supplied = request.headers.get(HEADER, "")
    return supplied if _VALID.match(supplied) else uuid.uuid4().hex


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id()
    logs.clear()
    case_id = (request.view_args or {}).get("case_id")
    logs.bind(request_id=g.request_id, case_id=case_id if isinstance(case_id, int) else None)


def _finish(response: Response) -> Response:
    rid = g.get("request_id")
    if rid:
        response.headers[HEADER] = rid
        started = g.get("request_started", time.perf_counter())
        log.info("%s %s %s", request.method, request.path, response.status_code,
                 extra={"method": request.method, "path": request.path, "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    if response.status_code in DENIED_STATUSES and request.url_rule is not None:
        user_id = logs.current().get("user_id")
        security_log.warning("%s %s %s %s by user %s", AUTHZ_DENIED, request.method, request.path,
                             response.status_code, user_id,
                             extra={"event": AUTHZ_DENIED, "method": request.method, "path": request.path,
                                    "endpoint": request.endpoint, "status": response.status_code,
                                    "denied_user_id": user_id})
    return response


def _teardown(_exc: BaseException | None) -> None:
    logs.clear()


def init_request_log(app: Flask) -> None:
    # First of the before_request hooks: every other hook's log lines carry the ids.
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)
    app.teardown_request(_teardown)
