"""Personal API tokens: issue, list, revoke, and authenticate a bearer token.

A token reads ``cf_<prefix>_<secret>``: the 12-character prefix finds the row, the SHA-256 digest
of the whole token (compared in constant time) proves it. The token itself is never stored, so it
is shown to its owner once, when it is issued. A token stops working when it is revoked, when it
expires (90 days by default), or when its owner's account is deactivated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow import clock
from workflow.db import Database
from workflow.errors import PermissionDenied, ValidationError
from workflow.models import ApiToken, Office, User
from workflow.people import admin_log

PREFIX = "cf_"
PREFIX_CHARS = 12
DEFAULT_DAYS = 90
MAX_DAYS = 365
NAME_MAX = 100
MAX_ACTIVE = 20  # live tokens per person: enough for a few scripts, not a leak of forgotten ones
# last_used_at is written at most this often per token (not on every request).
TOUCH_EVERY = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Issued:
    id: int
    token: str  # shown once
    prefix: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class TokenUser:
    """Who a valid token speaks for."""

    token_id: int
    user_id: int
    office_id: int
    unit_id: int | None = None
    office_kind: str = "district"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_name(name: str) -> str:
    text = " ".join((name or "").split())
    if not text or len(text) > NAME_MAX:
        raise ValidationError({"name": (f"請填寫權杖名稱（最多 {NAME_MAX} 字）",
                                        f"a name of at most {NAME_MAX} characters is required")})
    return text


def issue(db: Database, user_id: int, name: str, *, days: int = DEFAULT_DAYS) -> Issued:
    """A new token for ``user_id`` (active users only), valid for ``days`` days."""
    name = _clean_name(name)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": (f"有效天數須在 1 到 {MAX_DAYS} 之間",
                                        f"days must be between 1 and {MAX_DAYS}")})
    now = clock.now()
    with db.unit_of_work() as uow:
        s = uow.session
        user = s.get(User, user_id)
        if user is None or not user.active:
            raise PermissionDenied("找不到此使用者或帳號已停用", f"user {user_id} does not exist or is inactive")
        if len(active(s, user_id)) >= MAX_ACTIVE:
            raise ValidationError({"name": (f"有效的權杖最多 {MAX_ACTIVE} 個，請先撤銷不用的權杖",
                                            f"at most {MAX_ACTIVE} live tokens; revoke one you no longer use")})
        prefix = secrets.token_hex(PREFIX_CHARS // 2)
        token = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiToken(office_id=user.office_id, user_id=user.id, name=name, prefix=prefix, token_hash=digest(token),
                       created_at=now, expires_at=now + dt.timedelta(days=days))
        s.add(row)
        s.flush()
        # A security event, kept with the office's administrative record (never the token itself).
        admin_log.record(s, user.office_id, user.id, "api_token.issue", token_id=row.id, name=name,
                         prefix=prefix, expires_at=row.expires_at)
        issued = Issued(row.id, token, prefix, row.expires_at)
        uow.commit()
    return issued


def listing(s: Session, user_id: int) -> list[ApiToken]:
    """All of a user's tokens, newest first (revoked and expired ones too, marked as such)."""
    return list(s.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                          .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def active(s: Session, user_id: int) -> list[ApiToken]:
    now = clock.now()
    return [t for t in listing(s, user_id) if t.revoked_at is None and t.expires_at > now]


def revoke(db: Database, user_id: int, token_id: int) -> bool:
    """Revoke one of ``user_id``'s own tokens (again is fine); False if there is no such token of theirs."""
    with db.unit_of_work() as uow:
        s = uow.session
        row = s.execute(select(ApiToken.id, ApiToken.office_id, ApiToken.prefix)
                        .where(ApiToken.id == token_id, ApiToken.user_id == user_id)).one_or_none()
        if row is None:
            return False
        res = s.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                        .values(revoked_at=clock.now()))
        if res.rowcount == 1:  # type: ignore[attr-defined]
            admin_log.record(s, row.office_id, user_id, "api_token.revoke", token_id=token_id, prefix=row.prefix)
        uow.commit()
    return True


def _split(token: str) -> str | None:
    """The lookup prefix of a well-formed token, else None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    rest = token[len(PREFIX):]
    prefix, sep, secret = rest[:PREFIX_CHARS], rest[PREFIX_CHARS:PREFIX_CHARS + 1], rest[PREFIX_CHARS + 1:]
    if sep != "_" or not secret or any(c not in "0123456789abcdef" for c in prefix) or len(prefix) != PREFIX_CHARS:
        return None
    return prefix


def lookup_prefix(token: str) -> str | None:
    """For rate-limit keys: the token's prefix (not secret), or None if it is not a token at all."""
    return _split(token)


def authenticate(db: Database, token: str) -> TokenUser | None:
    """The user a bearer token speaks for, or None (unknown, wrong, revoked, expired, user inactive)."""
    prefix = _split(token)
    if prefix is None:
        return None
    now = clock.now()
    with db.unit_of_work(write=False) as uow:
        row = uow.session.execute(
            select(ApiToken.id, ApiToken.token_hash, ApiToken.expires_at, ApiToken.revoked_at,
                   ApiToken.last_used_at, User.id.label("user_id"), User.office_id, User.unit_id, User.active,
                   Office.kind.label("office_kind"))
            .join(User, User.id == ApiToken.user_id).join(Office, Office.id == User.office_id)
            .where(ApiToken.prefix == prefix)
        ).one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest(token)):
        return None
    if row.revoked_at is not None or row.expires_at <= now or not row.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        with db.unit_of_work() as uow:
            uow.session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
            uow.commit()
    return TokenUser(row.id, row.user_id, row.office_id, row.unit_id, row.office_kind)
