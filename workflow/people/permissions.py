"""Who may act: a user's capacities today (own roles and delegations), matched against a transition.

A capacity is a role held in an office, for one unit when the role is unit-scoped, either in the
user's own right or on behalf of someone who delegated it (代理) for a period that includes today
and whose account is still active.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Date, Integer, Select, Table, and_, bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from workflow.models import Delegation, RoleAssignment, User
from workflow.roles import ROLE_LABELS, UNIT_SCOPED


@dataclass(frozen=True)
class Capacity:
    role: str
    unit_id: int | None  # set for unit-scoped roles
    on_behalf_of: int | None = None  # the principal when acting as a delegate


def _capacities_statement(office: Any = None) -> Select[str, int | None, int]:
    """Own roles valid today, then roles delegated to the user by an active someone who holds them today.

    Built once with bind parameters: constructing it per call cost more than running it. With
    ``office`` given (an SQL expression), it replaces the ``office_id`` parameter.
    """
    ra = RoleAssignment
    user, today = bindparam("user_id", type_=Integer()), bindparam("today", type_=Date())
    office = bindparam("office_id") if office is None else office
    own = select(ra.role, ra.unit_id, ra.user_id).where(
        ra.user_id == user, ra.office_id == office, ra.valid_from <= today,
        or_(ra.valid_to.is_(None), ra.valid_to >= today),
    )
    d = Delegation
    pra = aliased(RoleAssignment)
    principal = aliased(User)
    # A delegation lends the principal's role only while the principal's account is active: once
    # deactivated (left the office), nobody acts in their name any more.
    delegated = (
        select(pra.role, pra.unit_id, d.from_user_id)
        .join(pra, and_(pra.user_id == d.from_user_id, pra.role == d.role, pra.office_id == d.office_id))
        .join(principal, principal.id == d.from_user_id)
        .where(
            d.to_user_id == user, d.office_id == office, d.valid_from <= today, d.valid_to >= today,
            pra.valid_from <= today, or_(pra.valid_to.is_(None), pra.valid_to >= today), principal.active,
        )
    )
    return own.union_all(delegated)  # type: ignore[return-value]


_CAPACITIES = _capacities_statement()


def capacities_in_own_office() -> Select[str, int | None, int]:
    """The same capacities, in the office the user belongs to (for joining into another query)."""
    users = cast(Table, User.__table__)
    office = select(users.c.office_id).where(users.c.id == bindparam("user_id")).scalar_subquery()
    return _capacities_statement(office)


def capacity_from_row(user_id: int, role: str, unit_id: int | None, principal: int) -> Capacity:
    return Capacity(role, unit_id if role in UNIT_SCOPED else None, None if principal == user_id else principal)


# A read-only session may keep the capacities it loaded in ``session.info[CACHE_KEY]`` (a dict): the
# web app's per-request read session does, so the nav, the page and its helpers ask the database
# once per request. Sessions that write never set it (a role granted in them must count at once).
CACHE_KEY = "caseflow_capacities"


def capacities(session: Session, user_id: int, office_id: int, today: dt.date) -> list[Capacity]:
    """The user's roles valid today in ``office_id``, own ones first, then delegated ones."""
    cache: dict[tuple[int, int, dt.date], list[Capacity]] | None = session.info.get(CACHE_KEY)
    key = (user_id, office_id, today)
    if cache is not None and key in cache:
        return list(cache[key])
    out: list[Capacity] = []
    rows = session.execute(_CAPACITIES, {"user_id": user_id, "office_id": office_id, "today": today})
    for row in rows:
        out.append(capacity_from_row(user_id, *row))
    out.sort(key=lambda c: c.on_behalf_of is not None)
    if cache is not None:
        cache[key] = list(out)
    return out


def match(caps: Iterable[Capacity], roles: Sequence[str], unit_id: int) -> Capacity | None:
    """The first capacity (own before delegated) that holds one of ``roles`` for ``unit_id``."""
    for c in caps:
        if c.role in roles and (c.unit_id is None or c.unit_id == unit_id):
            return c
    return None


def describe_roles(roles: Iterable[str], *, unit_name: str | None = None) -> tuple[str, str]:
    """Words for 'which role is missing': (zh-TW, English)."""
    zh = "、".join(ROLE_LABELS.get(r, (r, r))[0] for r in roles)
    en = ", ".join(ROLE_LABELS.get(r, (r, r))[1] for r in roles)
    scoped = [r for r in roles if r in UNIT_SCOPED]
    if scoped and unit_name:
        zh += f"（{unit_name}）"
        en += f" (of {unit_name})"
    return zh, en
