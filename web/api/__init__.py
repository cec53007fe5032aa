"""The JSON API under /api/v1 (flask-smorest: marshmallow schemas, validation, the OpenAPI document).

Authentication is a personal bearer token (``workflow.people.api_tokens``; made on /account/tokens), never
the session cookie, so a browser's ambient credentials cannot act through the API. That is why
this blueprint alone is exempt from CSRF (ASVS 3.5: CSRF defends cookie-authenticated requests).
Every request is rate limited per token (Flask-Limiter, key = the token's public prefix).

Objects are loaded with the same checks as the HTML pages (``web.access``; another office's case
is 404) and changed only through ``workflow.cases``, which decides who may do what (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request
from flask_limiter.util import get_remote_address
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge, Unauthorized
from werkzeug.wrappers import Response

from web.api import errors as api_errors
from web.api.schemas import ErrorSchema
from web.db import database
from web.extensions import csrf, limiter
from workflow.people import api_tokens

URL_PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=URL_PREFIX,
               description="案件、佇列與流程動作 / Cases, queues and workflow actions")


@dataclass(frozen=True)
class ApiUser:
    id: int
    office_id: int
    token_id: int


def api_user() -> ApiUser:
    user: ApiUser = g.api_user
    return user


def _bearer() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _token_user() -> api_tokens.TokenUser | None:
    """The request's bearer token checked once (the rate limiter asks first, then the view)."""
    if "api_token_checked" not in g:
        token = _bearer()
        g.api_token_checked = True
        g.api_token_user = api_tokens.authenticate(database(), token) if token else None
    user: api_tokens.TokenUser | None = g.api_token_user
    return user


@bp.before_request
def _authenticate() -> None:
    user = _token_user()
    if user is None:
        raise Unauthorized()
    g.api_user = ApiUser(user.user_id, user.office_id, user.token_id)


def _rate_key() -> str:
    """Per valid token; everything else (no token, a wrong one, one made up around a real prefix)
    counts against the caller's IP, so neither can a made-up token buy a fresh budget nor can
    someone who saw a token's public prefix spend its owner's."""
    user = _token_user()
    return f"api-token:{user.token_id}" if user else f"api-ip:{get_remote_address()}"


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(e: RequestEntityTooLarge) -> Response:
    # Takes precedence over the app-wide 413 page of web.uploads (a more specific class than
    # HTTPException, which web.errors sends to web.api.errors by path).
    return api_errors.from_http(e)


limiter.limit(lambda: str(current_app.config["API_RATE_LIMIT"]), key_func=_rate_key)(bp)
csrf.exempt(bp)  # bearer tokens only (see the module docstring)


class Api(SmorestApi):
    """flask-smorest's Api, minus its app-wide HTTPException handler (``web.errors`` decides per path)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass


def config() -> dict[str, Any]:
    return {
        "API_TITLE": "caseflow API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": URL_PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        # No Swagger UI / ReDoc: they load their scripts from a CDN, which the CSP (and policy) forbid.
        "API_SPEC_OPTIONS": {
            "info": {"description": (
                "caseflow 的 JSON API：與網頁相同的案件作業。以個人 API 權杖認證（Authorization: Bearer <權杖>），"
                "錯誤訊息預設為正體中文，Accept-Language 偏好 en 時為英文。\n\n"
                "The same case work as the web pages. Authenticate with a personal API token "
                "(Authorization: Bearer <token>, made on /account/tokens). Error messages are in Traditional "
                "Chinese unless Accept-Language prefers English.")},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
        "API_RATE_LIMIT": "300 per minute",
    }


def init_api(app: Flask) -> Api:
    for key, value in config().items():
        app.config.setdefault(key, value)
    from web.api import reference, views

    assert views.bp is bp  # importing views registered the routes on ``bp``
    api = Api(app)
    api.register_blueprint(bp)
    app.register_blueprint(reference.bp)  # /api-docs: the same document as a page (no CDN, no script)
    return api
