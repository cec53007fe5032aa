"""Each person's choice of how they are told (通知設定): the e-mail copy of every notification as it
comes, one digest a day, or none; and the language of that e-mail. The in-app inbox always has
everything. A person changes only their own choice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.db import Database
from workflow.errors import NotFound, ValidationError
from workflow.models import User
from workflow.models.people import EMAIL_MODES, LANGUAGES

__all__ = ["EMAIL_MODES", "LANGUAGES", "Preferences", "load", "save"]


@dataclass(frozen=True)
class Preferences:
    email_mode: str  # one of EMAIL_MODES
    language: str  # one of LANGUAGES
    email: str | None  # where the e-mail goes (kept by an administrator in 管理)


def load(s: Session, user_id: int) -> Preferences:
    row = s.execute(select(User.notify_email, User.language, User.email).where(User.id == user_id)).one_or_none()
    if row is None:
        raise NotFound(f"找不到使用者 {user_id}", f"no user {user_id}")
    return Preferences(row.notify_email, row.language or "zh_TW", row.email)


def save(db: Database, user_id: int, *, email_mode: str, language: str) -> Preferences:
    """Keep the person's choice; ValidationError (by field, in both languages) for a value there is no
    such choice of. Switching to ``none`` means nothing not yet e-mailed will be."""
    errors: dict[str, tuple[str, str]] = {}
    if email_mode not in EMAIL_MODES:
        errors["email_mode"] = ("請選擇立即寄送、每日摘要或不寄送", "choose immediate, a daily digest or none")
    if language not in LANGUAGES:
        errors["language"] = ("請選擇中文或英文", "choose Chinese or English")
    if errors:
        raise ValidationError(errors, {"email_mode": ("電子郵件", "E-mail"), "language": ("郵件語言", "Language")})
    with db.unit_of_work() as uow:
        s = uow.session
        changed = s.connection().execute(update(User).where(User.id == user_id).values(
            notify_email=email_mode, language=None if language == "zh_TW" else language)).rowcount
        if changed != 1:
            raise NotFound(f"找不到使用者 {user_id}", f"no user {user_id}")
        prefs = load(s, user_id)
        uow.commit()
    return prefs
