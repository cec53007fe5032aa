"""The web app: ``create_app`` builds it (the CLI's ``caseflow serve`` and the tests call it).

Settings come from ``workflow.config.load_settings`` (the one module that reads the environment);
``config`` overrides them, e.g. ``{"TESTING": True, "DATABASE_URL": ..., "WTF_CSRF_ENABLED": False,
"RATELIMIT_STORAGE_URI": "memory://"}``. Blueprints are by audience: auth, queues, cases, i18n, ..., and the
JSON API (``web.api``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from jinja2 import StrictUndefined
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from web import (
    auth,
    board,
    cases,
    city,
    edit,
    i18n,
    mine,
    notifications,
    public,
    publishing,
    queues,
    registers,
    search,
    task_force,
    tokens,
    uploads,
)
from web.admin import bp as admin_bp
from web.api import init_api
from web.db import init_db
from web.errors import init_errors
from web.extensions import init_extensions
from web.filters import register_filters
from web.ops import init_ops
from web.page_cache import init_page_cache
from web.request_log import init_request_log
from web.security import cookie_config, init_security
from workflow import logs
from workflow.config import load_settings, metrics_dir


def _defaults() -> dict[str, Any]:
    settings = load_settings()
    return {
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.database_url,
        **cookie_config(settings.cookie_secure),
        "REMEMBER_COOKIE_DURATION": dt.timedelta(days=7),
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=10),
        # A reviewer may leave a case page open for a working day before approving.
        "WTF_CSRF_TIME_LIMIT": 10 * 3600,
        # No uploads yet: small bodies only (the upload views raise their own per-request limit).
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 256 * 1024,
        "MAX_FORM_PARTS": 200,
        # Attachments (web/uploads.py raises the body limit for its own view to this, plus the form).
        "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": i18n.DEFAULT_LOCALE,
        "BABEL_DEFAULT_TIMEZONE": settings.timezone,
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        # Redis when configured (shared by every web process), else this process's memory.
        "RATELIMIT_STORAGE_URI": settings.redis_url or "memory://",
        # A Redis that answers slowly counts as down (the limiter then falls back to this process's
        # memory, web/extensions.py) rather than holding every login for as long as Redis takes.
        "RATELIMIT_STORAGE_OPTIONS": {"socket_timeout": 1.0, "socket_connect_timeout": 1.0},
        "RATELIMIT_KEY_PREFIX": "caseflow",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Failed login attempts only (a successful login does not count), per address and per
        # (account, address); never per account alone, so nobody can lock an owner out from
        # elsewhere (web/auth.py). Each is a ladder: the wait after a refusal grows with the failures.
        "LOGIN_LIMIT_PER_ADDRESS": "20 per minute; 60 per 10 minutes; 200 per hour; 500 per day",
        "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS": "5 per minute; 10 per 10 minutes; 20 per hour; 40 per day",
        # Wire the outbox to background work: Celery when REDIS_URL is set, else an in-process
        # worker thread (the embedded default). Tests that drive the outbox themselves turn it off.
        "BACKGROUND_WORK": True,
        # Rendered 我的工作 pages kept per process while their office's revision is unchanged
        # (web.page_cache): one per person, page and language, about 40 KB each; 0 keeps none.
        "PAGE_CACHE_ENTRIES": 500,
        "REDIS_URL": settings.redis_url,
        # This product's address, for links in e-mail (``caseflow serve`` sets its own when unset).
        "BASE_URL": settings.base_url,
        # Whether notifications also go by e-mail here, and when the daily digests go (通知設定 says so).
        "MAIL_ENABLED": bool(settings.smtp_host),
        "DIGEST_HOUR": settings.digest_hour,
        # Operations (web/ops.py, web/request_log.py, workflow/logs.py; README, Configuration).
        "LOG_FORMAT": settings.log_format,
        "LOG_LEVEL": settings.log_level,
        "METRICS_TOKEN": settings.metrics_token,
        "METRICS_MULTIPROC_DIR": str(metrics_dir()) if metrics_dir() else None,
        "WORKER_HEARTBEAT_SECONDS": settings.heartbeat_seconds,
        "TRUSTED_PROXIES": settings.trusted_proxies,
    }


class DatabaseId(IntegerConverter):
    """``<int:...>`` with the bounds of an id column unless a route says otherwise."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2_147_483_647)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    # Every <int:...> in a URL is a database id: bounded to the 32-bit integer the tables use, so an
    # absurd id is a plain 404 rather than an overflow in the database driver (a 500).
    app.url_map.converters["int"] = DatabaseId
    app.config.from_mapping(_defaults())
    if config:
        app.config.update(config)
    app.jinja_env.undefined = StrictUndefined  # a typo in a template fails loudly, in tests
    # Logging is the process's: configured here for gunicorn and `caseflow serve`; tests leave it
    # to pytest unless they ask (CONFIGURE_LOGGING).
    if app.config.get("CONFIGURE_LOGGING", not app.testing):
        logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
        # The development server's own access lines would repeat web.request_log's, without the ids.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if app.config["TRUSTED_PROXIES"]:
        # The client's address (login limits, /metrics) and scheme from the proxies' headers.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    init_request_log(app)
    database = init_db(app, app.config["DATABASE_URL"])
    if app.config["BACKGROUND_WORK"]:
        from tasks.embedded import install

        install(database, redis_url=app.config["REDIS_URL"], base_url=app.config["BASE_URL"])
    init_extensions(app)
    init_security(app)
    init_page_cache(app)
    init_errors(app)
    register_filters(app)
    app.jinja_env.globals.update(
        localized=i18n.localized,
        html_lang=i18n.html_lang,
        current_language=i18n.current_language,
        here=_here,
        case_url=cases.case_url,
        source_totals=registers.sources.totals,
        source_links=registers.sources.links,
    )
    for bp in (auth.bp, queues.bp, cases.bp, i18n.bp, board.bp, public.bp, publishing.bp):
        app.register_blueprint(bp)
    app.register_blueprint(task_force.bp)
    for bp in registers.BLUEPRINTS:  # 培力紀錄, 宣導紀錄, 性別預算
        app.register_blueprint(bp)
    for bp in (mine.bp, edit.bp, uploads.bp, notifications.bp):  # 我的案件, its form, attachments, inbox
        app.register_blueprint(bp)
    app.register_blueprint(search.bp)  # 搜尋
    app.register_blueprint(city.bp)  # 推動組: what the districts filed, and how they compare
    app.register_blueprint(admin_bp)  # 管理
    app.register_blueprint(tokens.bp)  # API 權杖 (the user's own)
    init_api(app)  # /api/v1: the JSON API and its OpenAPI document
    init_ops(app)  # /healthz, /readyz, /metrics
    return app


def _here() -> str:
    """The current path and query, for 'come back here' links (language switch)."""
    return request.full_path.rstrip("?")
