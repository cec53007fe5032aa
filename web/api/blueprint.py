"""The API's blueprint and who is calling: a personal bearer token checked once per request, the
rate limit per token (else per IP), and the CSRF exemption that bearer-only authentication allows.
The routes (``views``) register on ``bp``; the package's ``init_api`` mounts it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge, Unauthorized
from werkzeug.wrappers import Response

from web.api import errors as api_errors
from web.db import database
from web.extensions import csrf, limiter
from workflow import logs
from workflow.people import api_tokens

URL_PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=URL_PREFIX,
               description="案件、佇列與流程動作 / Cases, queues and workflow actions")


@dataclass(frozen=True)
class ApiUser:
    id: int
    office_id: int
    token_id: int
    unit_id: int | None = None
    office_kind: str = "district"


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
    g.api_user = ApiUser(user.user_id, user.office_id, user.token_id, user.unit_id, user.office_kind)
    logs.bind(user_id=user.user_id)  # every log line of this request (a denial too) names who made it


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
