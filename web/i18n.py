"""Languages: Traditional Chinese (zh_TW) first, English on request.

Interface strings are written in Traditional Chinese in the code and templates (they are the
msgids); ``translations/en/LC_MESSAGES/messages.po`` gives their English. zh_TW needs no catalog.
Domain words (kind, state and field labels, error messages) already come in both languages from
``workflow``; ``localized`` picks the one for the current request.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session
from flask_babel import get_locale
from flask_babel import gettext as gettext
from flask_babel import lazy_gettext as lazy_gettext
from werkzeug.wrappers import Response

from web.security import safe_next

SUPPORTED = ("zh_TW", "en")
DEFAULT_LOCALE = "zh_TW"
# BCP 47 tags for <html lang>: zh-Hant-TW tells screen readers and fonts it is Traditional Chinese.
HTML_LANG = {"zh_TW": "zh-Hant-TW", "en": "en"}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The language kept in the session (chosen with the switch link), else zh_TW.

    The JSON API has no session: there, English if Accept-Language prefers it, else zh_TW.
    """
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(["zh-TW", "zh", "en"])
        return "en" if best == "en" else DEFAULT_LOCALE
    lang = session.get("lang")
    return lang if lang in SUPPORTED else DEFAULT_LOCALE


def current_language() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh_TW"


def is_english() -> bool:
    return current_language() == "en"


def localized(zh: str, en: str | None) -> str:
    """The domain's own two-language text, in the request's language (zh-TW if no English)."""
    return en if en and is_english() else zh


def html_lang() -> str:
    return HTML_LANG[current_language()]


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    """Remember the chosen language in the session and go back where the user was."""
    if code not in SUPPORTED:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.args.get("next")), 303)
