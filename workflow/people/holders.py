"""Who holds a case now: the people who can move it on from its state (its drafter while it is a
draft or returned), including those acting for them (代理), and for whom each delegate acts. One
query per office set, then a lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflow.engine.definitions import Definition
from workflow.models import Delegation, Office, RoleAssignment, User
from workflow.roles import SYSTEM, UNIT_SCOPED, Role


@dataclass
class OfficeRoles:
    """role -> [(user id, unit id for unit-scoped roles)], each user's name, e-mail address and how
    they want their notifications' e-mail (``User.notify_email``), and who lent a delegate each role:
    (role, delegate, unit) -> the principal (代理 for whom)."""

    by_role: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    emails: dict[int, str | None] = field(default_factory=dict)
    mail_modes: dict[int, str] = field(default_factory=dict)
    active: set[int] = field(default_factory=set)
    acting_for: dict[tuple[str, int, int | None], int] = field(default_factory=dict)

    def holding(self, role: str, unit_id: int | None) -> list[int]:
        return [u for u, unit in self.by_role.get(role, []) if role not in UNIT_SCOPED or unit == unit_id]

    def principal(self, user_id: int, roles: Iterable[str], unit_id: int | None) -> int | None:
        """For whom ``user_id`` holds one of ``roles`` (for ``unit_id``): None when they hold one
        in their own right, else the person who delegated it to them."""
        lent: int | None = None
        for role in sorted(roles):
            unit = unit_id if role in UNIT_SCOPED else None
            for u, held_unit in self.by_role.get(role, []):
                if u != user_id or (role in UNIT_SCOPED and held_unit != unit_id):
                    continue
                principal = self.acting_for.get((role, user_id, unit))
                if principal is None:
                    return None
                lent = lent or principal
        return lent

    def with_city(self, city: Iterable[OfficeRoles]) -> OfficeRoles:
        """These roles plus the city group's reviewers, who hold what a district has filed."""
        out = OfficeRoles({r: list(v) for r, v in self.by_role.items()}, dict(self.names), dict(self.emails),
                          dict(self.mail_modes), set(self.active), dict(self.acting_for))
        for other in city:
            out.by_role.setdefault(Role.CITY_REVIEWER, []).extend(other.by_role.get(Role.CITY_REVIEWER, []))
            for uid, _unit in other.by_role.get(Role.CITY_REVIEWER, []):
                out.names[uid], out.emails[uid] = other.names.get(uid, ""), other.emails.get(uid)
                out.mail_modes[uid] = other.mail_modes.get(uid, "immediate")
                if uid in other.active:
                    out.active.add(uid)
        return out

    def email_to(self, user_id: int) -> str | None:
        """Where the e-mail copy of a notification for ``user_id`` goes: None if they have no
        address or want none."""
        if self.mail_modes.get(user_id, "immediate") == "none":
            return None
        return self.emails.get(user_id)


def office_roles(s: Session, office_ids: Iterable[int], today: dt.date) -> dict[int, OfficeRoles]:
    ids = set(office_ids)
    out = {o: OfficeRoles() for o in ids}
    if not ids:
        return out
    ra = RoleAssignment
    own = s.execute(select(ra.office_id, ra.role, ra.user_id, ra.unit_id).join(User, User.id == ra.user_id).where(
        ra.office_id.in_(ids), ra.valid_from <= today, or_(ra.valid_to.is_(None), ra.valid_to >= today),
        User.active)).all()
    delegated = s.execute(select(Delegation.office_id, Delegation.role, Delegation.from_user_id,
                                 Delegation.to_user_id).where(
        Delegation.office_id.in_(ids), Delegation.valid_from <= today, Delegation.valid_to >= today)).all()
    for office_id, role, user_id, unit_id in own:
        out[office_id].by_role.setdefault(role, []).append((user_id, unit_id))
    for office_id, role, from_id, to_id in delegated:
        units = [unit for u, unit in out[office_id].by_role.get(role, []) if u == from_id]
        for unit in units:
            out[office_id].by_role[role].append((to_id, unit))
            out[office_id].acting_for.setdefault((role, to_id, unit if role in UNIT_SCOPED else None), from_id)
    for office_id, uid, name, email, mode, active in s.execute(
            select(User.office_id, User.id, User.display_name, User.email, User.notify_email, User.active)
            .where(User.office_id.in_(ids))):
        out[office_id].names[uid] = name
        out[office_id].emails[uid] = email
        out[office_id].mail_modes[uid] = mode
        if active:
            out[office_id].active.add(uid)
    return out


def drafting_states(defn: Definition) -> set[str]:
    return {t.source for t in defn.transitions if t.trigger == "submit"}


def holders(defn: Definition, state: str, unit_id: int, drafter_id: int | None, roles: OfficeRoles) -> list[int]:
    """The people who hold a case in ``state`` now (unique, in a stable order).

    A draft (or a returned case) is its drafter's while they can still work on it; once they cannot
    (moved to another unit, their role ended, deactivated), it is with whoever of its unit can."""
    wanted = defn.actor_roles(state) - {SYSTEM}
    if state in drafting_states(defn) and drafter_id is not None and any(
            drafter_id in roles.holding(r, unit_id) for r in wanted):
        return [drafter_id]
    out: list[int] = []
    for role in sorted(wanted):
        for u in roles.holding(role, unit_id):
            if u not in out:
                out.append(u)
    return out


def holders_for(defn: Definition, state: str, unit_id: int, drafter_id: int | None,
                roles: OfficeRoles) -> list[tuple[int, int | None]]:
    """``holders``, each with the person they act for (代理) or None when it is their own role."""
    wanted = defn.actor_roles(state) - {SYSTEM}
    return [(u, roles.principal(u, wanted, unit_id)) for u in holders(defn, state, unit_id, drafter_id, roles)]


def chiefs_and_liaisons(unit_id: int, roles: OfficeRoles) -> list[int]:
    """Who else hears of an overdue case: the unit's chief and the office's liaison and deputy."""
    out: list[int] = []
    for u in (*roles.holding(Role.CHIEF, unit_id), *roles.holding(Role.LIAISON, None),
              *roles.holding(Role.DEPUTY_LIAISON, None)):
        if u not in out:
            out.append(u)
    return out


def city_office_ids(s: Session) -> list[int]:
    """The city group's organisations (offices of kind "city")."""
    return list(s.scalars(select(Office.id).where(Office.kind == "city")))
