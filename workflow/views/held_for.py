"""Whom a person holds each case of their queue for: the principal when only a delegation (代理) puts it there.

A queue (``workflow.views.queues``) is built from the viewer's capacities, own and delegated
(``permissions.capacities``). A case that one of their own roles reaches is theirs; one that only a
delegated role reaches is held for the person who lent it, and the queue says so (「代理 張家豪（課長）」).
The matching mirrors the queue's own: the roles that act in the case's state, the capacity's unit
for unit-scoped roles, and nobody reviews what they or their principal submitted.

Cost: the capacities (cached per read session in the web app) and, only when some case is held for
someone, one SELECT of the principals' names; never a statement per case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import clock
from workflow.db import Database
from workflow.engine import registry
from workflow.errors import NotFound
from workflow.models import User
from workflow.people import permissions
from workflow.roles import SYSTEM
from workflow.views.queues import QueueItem


@dataclass(frozen=True)
class HeldFor:
    """The person a delegate acts for on a case, and the role they lent (``workflow.roles``)."""

    user_id: int
    name: str
    role: str


def _roles(db: Database, s: Session, item: QueueItem) -> tuple[frozenset[str], bool]:
    """The roles that act on ``item`` in its state, and whether that state is a draft's."""
    reg = registry.default()
    try:
        defn = reg.get(db, item.kind, item.workflow_version, s) if item.workflow_version else reg.latest(item.kind)
    except NotFound:
        return frozenset(), False
    drafting = any(t.trigger == "submit" and t.source == item.state for t in defn.transitions)
    return frozenset(defn.actor_roles(item.state) - {SYSTEM}), drafting


def _reaches(cap: permissions.Capacity, roles: frozenset[str], drafting: bool, user_id: int,
             item: QueueItem) -> bool:
    """Whether ``cap`` puts ``item`` in the queue (the same test as the queue's SQL)."""
    if cap.role not in roles or (cap.unit_id is not None and cap.unit_id != item.unit_id):
        return False
    if drafting or item.submitted_by_id is None:
        return True
    return item.submitted_by_id not in {user_id, cap.on_behalf_of}


def principals(db: Database, s: Session, user_id: int, items: Iterable[QueueItem],
               caps: Sequence[permissions.Capacity]) -> dict[int, tuple[int, str]]:
    """case id -> (principal, role) for the items only a delegated capacity reaches (no SQL)."""
    delegated = [c for c in caps if c.on_behalf_of is not None]
    if not delegated:
        return {}
    own = [c for c in caps if c.on_behalf_of is None]
    found: dict[tuple[str, int, str], tuple[frozenset[str], bool]] = {}
    out: dict[int, tuple[int, str]] = {}
    for item in items:
        key = (item.kind, item.workflow_version, item.state)
        if key not in found:
            found[key] = _roles(db, s, item)
        roles, drafting = found[key]
        if any(_reaches(c, roles, drafting, user_id, item) for c in own):
            continue
        for c in delegated:
            if c.on_behalf_of is not None and _reaches(c, roles, drafting, user_id, item):
                out[item.case_id] = (c.on_behalf_of, c.role)
                break
    return out


def held_for(db: Database, s: Session, user_id: int, office_id: int, items: Iterable[QueueItem], *,
             caps: Sequence[permissions.Capacity] | None = None,
             today: dt.date | None = None) -> dict[int, HeldFor]:
    """case id -> whom ``user_id`` holds it for, for the items of their queue they hold only as a
    delegate (cases held in their own right are absent). At most two statements: the capacities
    (none when given or cached) and the principals' names (none when nothing is delegated)."""
    if caps is None:
        caps = permissions.capacities(s, user_id, office_id, today or clock.today())
    lent = principals(db, s, user_id, items, caps)
    if not lent:
        return {}
    ids = {p for p, _role in lent.values()}
    names: dict[int, str] = {uid: name for uid, name in s.execute(
        select(User.id, User.display_name).where(User.id.in_(ids)))}
    return {cid: HeldFor(p, names.get(p, ""), role) for cid, (p, role) in lent.items()}
