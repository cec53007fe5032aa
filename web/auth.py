"""Logging in and out, and who the current user is (Flask-Login).

A failed login never says whether the account exists: the message is the same, and an unknown
account still costs one password hash check.

Failed logins are limited per address and per (account, address), never per account alone: a hard
lock of an account from everywhere lets anyone who knows a login name keep its owner out (OWASP's
Authentication Cheat Sheet prefers growing delays to lockouts). Each limit is a ladder of windows
(``LOGIN_LIMIT_*``: e.g. 5 a minute, 10 in 10 minutes, 20 an hour), so the wait after a refusal
grows as failures pile up, and the refusal (429) says how long, and until when. Only failed
attempts count; while a limit holds, even the right password waits (no oracle).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from functools import cache

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, func, select
from werkzeug.wrappers import Response

from web.db import database
from web.db import session as db_session
from web.extensions import limiter, login_manager
from web.filters import roc_datetime
from web.forms import LoginForm
from web.i18n import gettext as _
from web.security import safe_next
from workflow import logs
from workflow.models import Notification, Office, OfficeRevision, User
from workflow.people import directory
from workflow.people.passwords import hash_password, verify_password

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


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
    # "district" (a 區公所) or "city" (the city's 性別主流化推動組, whose reviewers read every district's
    # filed cases: ``web.city``).
    office_kind: str = "district"

    def get_id(self) -> str:
        # Alternative token (Flask-Login docs): id plus a digest of the password hash and the
        # session epoch, so a password change or a logout ends every session and remember-me
        # cookie of this user, copies of the cookie included.
        return f"{self.id}:{self.token}"


def _token(user_id: int, password_hash: str | None, epoch: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{user_id}:{password_hash or ''}:{epoch}".encode(), hashlib.sha256).hexdigest()[:24]


def _current_user(user: User, office_name: str, office_kind: str) -> CurrentUser:
    return CurrentUser(user.id, user.login, user.display_name, user.office_id, office_name, user.unit_id,
                       _token(user.id, user.password_hash, user.session_epoch or 0), office_kind=office_kind)


# Built once: every request of a logged-in user runs it. The nav's unread count comes along, and so
# does the office's revision, in the request's first statement: a page kept under that revision
# can then only be as new as or newer than it (``web.page_cache``).
_LOAD_USER = (
    select(User.id, User.login, User.display_name, User.office_id, User.unit_id, User.password_hash, User.session_epoch,
           User.active,
           Office.name.label("office_name"), Office.kind.label("office_kind"),
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
                       _token(row.id, row.password_hash, row.session_epoch), int(row.unread or 0), int(row.revision),
                       office_kind=row.office_kind)
    if not hmac.compare_digest(token, user.token):
        return None
    logs.bind(user_id=user.id)  # every log line of this request names who made it
    return user


@cache
def _dummy_hash() -> str:
    return hash_password("caseflow-timing-equaliser")


def authenticate(login: str, password: str) -> CurrentUser | None:
    row = db_session().execute(
        select(User, Office.name, Office.kind).join(Office, Office.id == User.office_id)
        .where(User.login == login.strip())
    ).one_or_none()
    if row is None or not row[0].active or not row[0].password_hash:
        verify_password(_dummy_hash(), password)  # same cost as a real check: no account probing
        return None
    if not verify_password(row[0].password_hash, password):
        return None
    return _current_user(row[0], row[1], row[2])


# -- rate limits on the login POST -------------------------------------------------------------
def client_address() -> str:
    """Where a login attempt comes from, as the limits count it: an IPv4 address as it is, an IPv6
    address by its /64 (what one subscriber gets; counting single IPv6 addresses counts nothing).
    Behind a reverse proxy this is only right with ``CASEFLOW_TRUSTED_PROXIES`` set (ProxyFix)."""
    addr = get_remote_address() or "unknown"
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _address_key() -> str:
    return "login-address:" + client_address()


def _account_address_key() -> str:
    account = request.form.get("username", "").strip().lower()[:64]
    return f"login-account:{account}@{client_address()}"


def _failed(response: Response) -> bool:
    """A failed attempt counts; a success (the only 303 of this view) and a refusal (429) do not:
    a refused attempt checked no password, and "try again at 14:05" stays true for whoever reloads."""
    return response.status_code not in (303, 429)


def _limit(name: str) -> str:
    return str(current_app.config[name])


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return str(_("%(n)d 秒", n=seconds))
    if seconds < 3600:
        return str(_("%(n)d 分鐘", n=math.ceil(seconds / 60)))
    return str(_("%(n)d 小時", n=math.ceil(seconds / 3600)))


@bp.errorhandler(RateLimitExceeded)
def throttled(_exc: RateLimitExceeded) -> Response:
    """The login form again (what was typed kept, the password not), with how long to wait and
    until when: the latest end of every limit this request broke (with several windows broken,
    the longest decides)."""
    now = time.time()
    ends = [lim.window.reset_time for lim in limiter.current_limits if lim.breached]
    seconds = max(1, math.ceil(max(ends, default=now + 60) - now))
    # Shown to the minute: rounded up, so "at 14:06" is never before the wait is over.
    until = dt.datetime.fromtimestamp(math.ceil((now + seconds) / 60) * 60, dt.UTC)
    form = LoginForm()
    form.password.data = ""
    error = _("從這個網路位址登入失敗的次數過多：為保護帳號，請於 %(wait)s後（%(until)s）再試。"
              "忘記密碼請洽系統管理者。", wait=_wait_words(seconds), until=roc_datetime(until))
    log.warning("login throttled for %s s", seconds, extra={"address": client_address()})
    response = make_response(render_template("login.html", form=form, error=error), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: _limit("LOGIN_LIMIT_PER_ADDRESS"), key_func=_address_key, methods=["POST"],
               deduct_when=_failed)
@limiter.limit(lambda: _limit("LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"), key_func=_account_address_key,
               methods=["POST"], deduct_when=_failed)
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
            logs.bind(user_id=user.id)
            return redirect(safe_next(request.args.get("next")), 303)
        error = _("帳號或密碼錯誤")
    return render_template("login.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout() -> Response:
    lang = session.get("lang")
    with database().unit_of_work() as uow:  # the cookie, and any copy of it, is refused from now on
        directory.end_sessions(uow.session, current_user.id)
        uow.commit()
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("您已登出。"), "info")
    return redirect(url_for("auth.login"), 303)
