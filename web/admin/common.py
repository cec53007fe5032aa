"""Shared pieces of the 管理 pages: the blueprint, who may come in (the office's administrators),
the office's own objects by id (404 otherwise), one unit of work with its admin log row, and the
form parts every page uses (ROC dates, choices, role labels)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import Field, HiddenField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    InputRequired,
    ValidationError,
)

from web.access import holds_any
from web.db import database, session
from web.i18n import gettext as _
from web.i18n import lazy_gettext as _l
from web.i18n import localized
from workflow import rocdate
from workflow.models import (
    Unit,
    User,
)
from workflow.people import admin_log
from workflow.roles import ALL_ROLES, ROLE_LABELS, Role

bp = Blueprint("admin", __name__, url_prefix="/admin")
T = TypeVar("T")


# -- who may come in --------------------------------------------------------------------------
def is_admin() -> bool:
    return holds_any((Role.ADMIN,))


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"is_admin": is_admin}


@bp.before_request
@login_required
def _only_admins() -> None:
    if not is_admin():
        abort(403)


def own(model: type[T], object_id: int) -> T:
    """The office's own object with this id, else 404 (another office's looks like none at all)."""
    obj = session().get(model, object_id)
    if obj is None or getattr(obj, "office_id", None) != current_user.office_id:
        abort(404)
    return obj


def write(change: Callable[[Session], None]) -> None:
    with database().unit_of_work() as uow:
        change(uow.session)
        uow.commit()


def record(s: Session, what: str, **data: Any) -> None:
    admin_log.record(s, current_user.office_id, current_user.id, what, **data)


# -- form pieces ------------------------------------------------------------------------------
DATE_HINT = _l("民國日期（例：115.04.10）或西元日期（例：2026-04-10）")


def parse_date(text: str | None) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return rocdate.parse(text)
    except ValueError:
        return None


def date_check(_form: FlaskForm, field: Field) -> None:
    text = (field.data or "").strip()
    if not text:
        return
    try:
        rocdate.parse(text)
    except rocdate.NoSuchDate:
        raise ValidationError(_("沒有「%(text)s」這一天，請檢查月份和日期", text=text)) from None
    except ValueError:
        raise ValidationError(_("日期格式不正確，請填民國日期（例：115.04.10）或西元日期（例：2026-04-10）")) from None


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(v, label) for v, label in pairs]


def role_choices() -> list[tuple[str, str]]:
    return [(r, localized(*ROLE_LABELS[r])) for r in sorted(ALL_ROLES)]


def role_label(role: str) -> str:
    return localized(*ROLE_LABELS.get(role, (role, role)))


class ConfirmForm(FlaskForm):
    confirm = HiddenField(validators=[InputRequired(), AnyOf(["yes"])])


# -- data for the pages -----------------------------------------------------------------------
def office_units() -> list[Unit]:
    return list(session().scalars(select(Unit).where(Unit.office_id == current_user.office_id).order_by(Unit.id)))


def unit_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [(str(u.id), localized(u.name, u.name_en)) for u in office_units()]


def office_users() -> list[User]:
    return list(session().scalars(select(User).where(User.office_id == current_user.office_id)
                                  .order_by(User.active.desc(), User.id)))


def user_choices() -> list[tuple[str, str]]:
    return [("", _("請選擇"))] + [(str(u.id), f"{u.display_name}（{u.login}）") for u in office_users() if u.active]


def own_id(model: type[Any], raw: str | None) -> Any:
    """An id from a form: the office's own object, or None (a bad or foreign id is just invalid)."""
    if not raw or not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= 2_147_483_647:
        return None  # not an id the database could hold (an overflow, not a 500)
    obj = session().get(model, int(raw))
    return obj if obj is not None and obj.office_id == current_user.office_id else None


def is_current(valid_from: dt.date, valid_to: dt.date | None, today: dt.date) -> bool:
    return valid_to is None or valid_to >= today
