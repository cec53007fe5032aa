"""Creating offices, units, users and role assignments (used by the demo, the CLI and tests), and
ending a user's sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.models import Delegation, Office, RoleAssignment, Unit, User
from workflow.people.passwords import hash_password
from workflow.roles import ALL_ROLES, UNIT_SCOPED


def add_office(s: Session, code: str, name: str, name_en: str | None = None) -> Office:
    office = Office(code=code, name=name, name_en=name_en)
    s.add(office)
    s.flush()
    return office


def add_unit(s: Session, office: Office, code: str, name: str, name_en: str | None = None) -> Unit:
    unit = Unit(office_id=office.id, code=code, name=name, name_en=name_en)
    s.add(unit)
    s.flush()
    return unit


def add_user(
    s: Session,
    office: Office,
    login: str,
    display_name: str,
    *,
    sex: str,
    unit: Unit | None = None,
    title: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    email: str | None = None,
) -> User:
    user = User(
        office_id=office.id, unit_id=unit.id if unit else None, login=login, display_name=display_name,
        sex=sex, title=title, email=email,
        password_hash=password_hash or (hash_password(password) if password else None),
    )
    s.add(user)
    s.flush()
    return user


def grant(
    s: Session, user: User, role: str, *, unit: Unit | None = None,
    valid_from: dt.date = dt.date(2023, 1, 1), valid_to: dt.date | None = None,
) -> RoleAssignment:
    if role not in ALL_ROLES:
        raise ValueError(f"unknown role {role!r}")
    if role in UNIT_SCOPED and unit is None:
        raise ValueError(f"role {role!r} needs a unit")
    ra = RoleAssignment(office_id=user.office_id, user_id=user.id, role=role,
                        unit_id=unit.id if unit and role in UNIT_SCOPED else None,
                        valid_from=valid_from, valid_to=valid_to)
    s.add(ra)
    s.flush()
    return ra


def delegate(
    s: Session, from_user: User, to_user: User, role: str, valid_from: dt.date, valid_to: dt.date, reason: str = ""
) -> Delegation:
    d = Delegation(office_id=from_user.office_id, from_user_id=from_user.id, to_user_id=to_user.id, role=role,
                   valid_from=valid_from, valid_to=valid_to, reason=reason)
    s.add(d)
    s.flush()
    return d


def user_by_login(s: Session, login: str) -> User | None:
    return s.scalar(select(User).where(User.login == login))


def end_sessions(s: Session, user_id: int) -> None:
    """Every session and remember-me cookie handed out to the user stops loading them (web.auth):
    what logging out does, so a copy of the cookie taken before is refused too."""
    s.execute(update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1))
