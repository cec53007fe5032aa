"""HTTP hardening in one place: cookie flags, security headers on every response, safe redirects.

The CSP allows nothing inline (no inline script, no style attributes), so templates link one
stylesheet from /static and carry no JavaScript.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, request, url_for
from werkzeug.wrappers import Response

CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": over HTTPS Flask-WTF checks that a POST's Referer is this site.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def cookie_config(secure: bool) -> dict[str, Any]:
    """Session and remember-me cookie flags (ASVS 3.3). ``__Host-`` names need Secure (HTTPS)."""
    prefix = "__Host-" if secure else ""
    return {
        "SESSION_COOKIE_NAME": f"{prefix}caseflow_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_NAME": f"{prefix}caseflow_remember",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
    }


def add_security_headers(response: Response) -> Response:
    """after_request hook; Flask runs it for error pages too (handled and unhandled errors)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Case pages hold personal data: keep them out of shared caches and the back-forward cache
    # after logout. Static files may be cached.
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def safe_next(target: str | None, default_endpoint: str = "queues.my_work") -> str:
    """A redirect target from user input, only if it stays on this site (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/")
                and not target.startswith("//") and "\\" not in target):
            return target
    return url_for(default_endpoint)


def init_security(app: Flask) -> None:
    app.after_request(add_security_headers)
