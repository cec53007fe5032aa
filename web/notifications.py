"""通知: the logged-in user's notifications inbox, newest first, with the unread count in the nav; and
通知設定, how they want the e-mail copy (each as it comes, a daily digest, none) and its language."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from web.db import database, session
from web.forms import MarkReadForm, NotificationSettingsForm
from web.i18n import current_language, localized
from web.i18n import gettext as _
from workflow.errors import ValidationError
from workflow.models import Notification
from workflow.notifications import messages, preferences
from workflow.views import inbox

bp = Blueprint("notifications", __name__)


def unread_count() -> int:
    if not current_user.is_authenticated:
        return 0
    if "unread_count" not in g:
        # Read along with the logged-in user (web.auth.load_user), else now.
        known = getattr(current_user, "unread", None)
        g.unread_count = known if known is not None else inbox.unread_count(session(), current_user.id)
    return int(g.unread_count)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"unread_count": unread_count}


def in_language(item: inbox.Item, lang: str) -> inbox.Item:
    """The item with its subject and body in ``lang``; a row without a (known) message as stored."""
    if item.message is None:
        return item
    try:
        subject, body = messages.render(item.message, lang)
    except (KeyError, ValueError, TypeError):
        return item
    return dataclasses.replace(item, subject=subject, body=body)


@bp.get("/notifications")
@login_required
def show() -> str:
    lang = current_language()
    items = [in_language(it, lang) for it in inbox.inbox(session(), current_user.id)]
    return render_template("notifications.html", items=items, form=MarkReadForm(formdata=None))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark(notification_id: int) -> Response:
    if not MarkReadForm().validate():
        abort(400)
    n = session().get(Notification, notification_id)
    if n is None or n.user_id != current_user.id:
        abort(404)  # someone else's: as if it did not exist
    inbox.mark_read(database(), current_user.id, notification_id)
    return redirect(url_for(".show", _anchor=f"n{notification_id}"), 303)


@bp.post("/notifications/read")
@login_required
def mark_all() -> Response:
    if not MarkReadForm().validate():
        abort(400)
    count = inbox.mark_read(database(), current_user.id)
    flash(_("已將 %(n)s 則通知標為已讀。", n=count), "success")
    return redirect(url_for(".show"), 303)


# -- 通知設定 ------------------------------------------------------------------------------------
def _settings_page(form: NotificationSettingsForm, prefs: preferences.Preferences,
                   status: int = 200) -> tuple[str, int]:
    return render_template("notification_settings.html", form=form, prefs=prefs,
                           mail_enabled=current_app.config["MAIL_ENABLED"],
                           digest_hour=current_app.config["DIGEST_HOUR"]), status


@bp.get("/account/notifications")
@login_required
def settings() -> tuple[str, int]:
    prefs = preferences.load(session(), current_user.id)
    form = NotificationSettingsForm(formdata=None, email_mode=prefs.email_mode, language=prefs.language)
    return _settings_page(form, prefs)


@bp.post("/account/notifications")
@login_required
def save_settings() -> Response | tuple[str, int]:
    form = NotificationSettingsForm()
    prefs = preferences.load(session(), current_user.id)
    if not form.validate():
        return _settings_page(form, prefs, 422)
    try:
        preferences.save(database(), current_user.id, email_mode=form.email_mode.data or "",
                         language=form.language.data or "")
    except ValidationError as exc:
        for name, message in exc.errors.items():
            getattr(form, name).errors = [localized(*message)]
        return _settings_page(form, prefs, 422)
    flash(_("已儲存通知設定。"), "success")
    return redirect(url_for(".settings"), 303)
