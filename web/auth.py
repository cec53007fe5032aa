"""Logging in and out, and who the current user is (Flask-Login).

A failed login never says whether the account exists: the message is the same, and an unknown
account still costs one password hash check. The login POST is rate limited per IP and per
account name; only failed attempts count.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import cache

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, func, select
from werkzeug.wrappers import Response

from web.db import session as db_session
from web.extensions import limiter, login_manager
from web.forms import LoginForm
from web.i18n import gettext as _
from web.security import safe_next
from workflow.models import Notification, Office, OfficeRevision, User
from workflow.people.passwords import hash_password, verify_password

bp = Blueprint("auth", __name__)


@dataclass(frozen=True, eq=False)
class CurrentUser(UserMixin):
    """The logged-in person as the web app needs them: plain values, no ORM session attached."""

    id: int
    login: str
    display_name: str
    office_id: int
    office_name: str
    unit_id: int | None
    token: str
    unread: int | None = None  # unread notifications, read with the user for the nav (None: not read)
    # The office's revision (``OfficeRevision``), read before anything else the request reads:
    # what ``web.page_cache`` keys a rendered page by. None: not read (a login, an API token).
    revision: int | None = None

    def get_id(self) -> str:
        # Alternative token (Flask-Login docs): id plus a digest of the password hash, so a
        # password change ends every session and remember-me cookie of this user.
        return f"{self.id}:{self.token}"


def _token(user_id: int, password_hash: str | None) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{user_id}:{password_hash or ''}".encode(), hashlib.sha256).hexdigest()[:24]


def _current_user(user: User, office_name: str) -> CurrentUser:
    return CurrentUser(user.id, user.login, user.display_name, user.office_id, office_name, user.unit_id,
                       _token(user.id, user.password_hash))


# Built once: every request of a logged-in user runs it. The nav's unread count comes along, and so
# does the office's revision, in the request's first statement: a page kept under that revision
# can then only be as new as or newer than it (``web.page_cache``).
_LOAD_USER = (
    select(User.id, User.login, User.display_name, User.office_id, User.unit_id, User.password_hash, User.active,
           Office.name.label("office_name"),
           select(func.count()).select_from(Notification)
           .where(Notification.user_id == User.id, Notification.read_at.is_(None))
           .correlate(User).scalar_subquery().label("unread"),
           select(func.coalesce(func.sum(OfficeRevision.revision), 0))
           .where(OfficeRevision.office_id.in_((0, User.office_id)))
           .correlate(User).scalar_subquery().label("revision"))
    .join(Office, Office.id == User.office_id)
    .where(User.id == bindparam("uid"))
)


@login_manager.user_loader
def load_user(user_id: str) -> CurrentUser | None:
    """Load an active user from the session or remember cookie; None ends the session."""
    uid, _sep, token = user_id.partition(":")
    if not uid.isdigit():
        return None
    # Core, not the ORM: plain columns, and every request pays for this statement.
    row = db_session().connection().execute(_LOAD_USER, {"uid": int(uid)}).one_or_none()
    if row is None or not row.active:
        return None
    user = CurrentUser(row.id, row.login, row.display_name, row.office_id, row.office_name, row.unit_id,
                       _token(row.id, row.password_hash), int(row.unread or 0), int(row.revision))
    return user if hmac.compare_digest(token, user.token) else None


@cache
def _dummy_hash() -> str:
    return hash_password("caseflow-timing-equaliser")


def authenticate(login: str, password: str) -> CurrentUser | None:
    row = db_session().execute(
        select(User, Office.name).join(Office, Office.id == User.office_id).where(User.login == login.strip())
    ).one_or_none()
    if row is None or not row[0].active or not row[0].password_hash:
        verify_password(_dummy_hash(), password)  # same cost as a real check: no account probing
        return None
    if not verify_password(row[0].password_hash, password):
        return None
    return _current_user(row[0], row[1])


# -- rate limits on the login POST -------------------------------------------------------------
def _username_key() -> str:
    return "login-user:" + request.form.get("username", "").strip().lower()[:64]


def _ip_key() -> str:
    return "login-ip:" + (get_remote_address() or "unknown")


def _failed(response: Response) -> bool:
    return response.status_code != 303  # a successful login is the only 303 from this view


def _limit(name: str) -> str:
    return str(current_app.config[name])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: _limit("LOGIN_LIMIT_PER_IP"), key_func=_ip_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(lambda: _limit("LOGIN_LIMIT_PER_USER"), key_func=_username_key, methods=["POST"],
               deduct_when=_failed)
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("queues.my_work"), 303)
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session at login: nothing from before carries over
            if lang:
                session["lang"] = lang
            login_user(user, remember=bool(form.remember.data))
            return redirect(safe_next(request.args.get("next")), 303)
        error = _("帳號或密碼錯誤")
    return render_template("login.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout() -> Response:
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("您已登出。"), "info")
    return redirect(url_for("auth.login"), 303)
