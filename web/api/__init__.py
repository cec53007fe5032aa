"""The JSON API under /api/v1 (flask-smorest: marshmallow schemas, validation, the OpenAPI document).

Authentication is a personal bearer token (``workflow.people.api_tokens``; made on /account/tokens), never
the session cookie, so a browser's ambient credentials cannot act through the API. That is why
this blueprint alone is exempt from CSRF (ASVS 3.5: CSRF defends cookie-authenticated requests).
Every request is rate limited per token (Flask-Limiter, key = the token's public prefix).

Objects are loaded with the same checks as the HTML pages (``web.access``; another office's case
is 404) and changed only through ``workflow.cases``, which decides who may do what (403).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api as SmorestApi

from web.api.blueprint import URL_PREFIX, bp
from web.api.schemas import ErrorSchema


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
    from web.api import reference, views, work  # importing them registers the routes on ``bp``

    assert views.bp is bp and work.bp is bp
    api = Api(app)
    api.register_blueprint(bp)
    app.register_blueprint(reference.bp)  # /api-docs: the same document as a page (no CDN, no script)
    return api
