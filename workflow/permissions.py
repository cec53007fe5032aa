"""Who may act: a user's capacities today (own roles and delegations), matched against a transition.

A capacity is a role held in an office, for one unit when the role is unit-scoped, either in the
user's own right or on behalf of someone who delegated it (代理) for a period that includes today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from workflow.models import Delegation, RoleAssignment
from workflow.roles import ROLE_LABELS, UNIT_SCOPED


@dataclass(frozen=True)
class Capacity:
    role: str
    unit_id: int | None  # set for unit-scoped roles
    on_behalf_of: int | None = None  # the principal when acting as a delegate


def capacities(session: Session, user_id: int, office_id: int, today: dt.date) -> list[Capacity]:
    """The user's roles valid today in ``office_id``, own ones first, then delegated ones."""
    ra = RoleAssignment
    valid = and_(ra.valid_from <= today, or_(ra.valid_to.is_(None), ra.valid_to >= today))
    own = select(ra.role, ra.unit_id, ra.user_id).where(
        ra.user_id == user_id, ra.office_id == office_id, valid
    )
    d = Delegation
    pra = aliased(RoleAssignment)
    delegated = (
        select(pra.role, pra.unit_id, d.from_user_id)
        .join(pra, and_(pra.user_id == d.from_user_id, pra.role == d.role, pra.office_id == d.office_id))
        .where(
            d.to_user_id == user_id,
            d.office_id == office_id,
            d.valid_from <= today,
            d.valid_to >= today,
            pra.valid_from <= today,
            or_(pra.valid_to.is_(None), pra.valid_to >= today),
        )
    )
    out: list[Capacity] = []
    for role, unit_id, principal in session.execute(own.union_all(delegated)):
        on_behalf = None if principal == user_id else principal
        out.append(Capacity(role, unit_id if role in UNIT_SCOPED else None, on_behalf))
    out.sort(key=lambda c: c.on_behalf_of is not None)
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
