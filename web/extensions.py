"""Flask extensions as module singletons; ``create_app`` binds them to an app with ``init_app``.

Only the instances live here. What they are wired to (the user loader, the locale selector, the
login limits) lives next to the code it belongs to: ``auth``, ``i18n``.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from web.i18n import lazy_gettext as _l

login_manager = LoginManager()
# "strong": a session whose IP/User-Agent hash changes is dropped, remember cookie included
# (the default "basic" only marks it non-fresh). Behind a proxy, configure ProxyFix first or
# every user is "the proxy" (and may be logged out when it changes).
login_manager.session_protection = "strong"
login_manager.login_view = "auth.login"
login_manager.login_message = _l("請先登入。")
login_manager.login_message_category = "info"

csrf = CSRFProtect()
babel = Babel()

# No default limits: the login POST is limited per address and per (account, address) (see
# ``auth``), the API per token.
# Storage comes from RATELIMIT_STORAGE_URI (Redis in production, memory:// embedded). If Redis
# is unreachable the limiter falls back to per-process memory: limits then hold per process,
# i.e. the effective limit is multiplied by the number of web processes until Redis is back.
# Every limit of a request is checked (not only up to the first broken one), so a refusal can say
# when the longest of the broken windows ends (``auth.throttled``).
limiter = Limiter(key_func=get_remote_address, in_memory_fallback_enabled=True, fail_on_first_breach=False)


def init_extensions(app: Flask) -> None:
    from web.i18n import select_locale

    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
