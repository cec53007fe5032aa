"""The cases a person submitted that are now under review (我的案件's 審核中), narrowed and sorted
like the queue (``queues.QueueFilter``), a page at a time with the total, and whose desk each one
is on: the names of the people who hold it now (``people.holders``, 代理 included).

A fixed number of statements whatever the number of cases: the page with its total, then the
office's roles and delegations once (``holders.office_roles``) for everyone's names.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from workflow import clock
from workflow.db import Database
from workflow.engine import registry
from workflow.models import Case, Unit
from workflow.people import holders
from workflow.views.queues import DUE_SOON_DAYS, NO_FILTER, QueueFilter


@dataclass(frozen=True)
class SubmittedItem:
    case_id: int
    kind: str
    workflow_version: int
    title: str
    state: str
    unit_id: int
    unit_name: str
    unit_name_en: str | None
    roc_year: int
    period: str | None
    due_date: dt.date | None
    entered_state_at: dt.datetime
    holders: tuple[str, ...]  # who has it on their desk now (delegates included)


@dataclass(frozen=True)
class SubmittedPage:
    items: list[SubmittedItem]
    total: int


# Computed once per registry and list of stored versions (a stored version never changes).
_REVIEWING: weakref.WeakKeyDictionary[registry.Registry, tuple[tuple[tuple[str, int], ...],
                                                             dict[str, frozenset[str]]]] = weakref.WeakKeyDictionary()


def reviewing_states(db: Database, s: Session) -> dict[str, frozenset[str]]:
    """kind -> the states in which a case of that kind is with its reviewers: neither a drafting
    state (draft, returned) nor final, in any stored version of the kind."""
    reg = registry.default()
    stored = tuple(reg.stored_versions(db, s))
    hit = _REVIEWING.get(reg)
    if hit is not None and hit[0] == stored:
        return hit[1]
    out: dict[str, set[str]] = {}
    for kind, version in stored:
        defn = reg.get(db, kind, version, s)
        drafting = holders.drafting_states(defn)
        out.setdefault(kind, set()).update(st.name for st in defn.states if not st.final and st.name not in drafting)
    found = {k: frozenset(v) for k, v in out.items()}
    _REVIEWING[reg] = (stored, found)
    return found


_ORDER: dict[str, tuple[Any, ...]] = {
    "waiting": (Case.entered_state_at, Case.id),
    "newest": (Case.entered_state_at.desc(), Case.id.desc()),
    "due": (case((Case.due_date.is_(None), 1), else_=0), Case.due_date, Case.entered_state_at, Case.id),
    "title": (Case.title, Case.id),
}


def _statement(states: dict[str, frozenset[str]], user_id: int, office_id: int, f: QueueFilter, today: dt.date,
               limit: int, offset: int) -> Select[*tuple[Any, ...]]:
    clauses = [and_(Case.kind == kind, Case.state.in_(sorted(st))) for kind, st in sorted(states.items()) if st]
    under_review = or_(*clauses) if clauses else false()
    where = [Case.office_id == office_id, Case.submitted_by_id == user_id, under_review]
    if f.kind is not None:
        where.append(Case.kind == f.kind)
    if f.unit_id is not None:
        where.append(Case.unit_id == f.unit_id)
    if f.state is not None:
        where.append(Case.state == f.state)
    if f.year is not None:
        where.append(Case.roc_year == f.year)
    if f.due == "overdue":
        where.append(Case.due_date < today)
    elif f.due == "soon":
        where.append(and_(Case.due_date >= today, Case.due_date <= today + dt.timedelta(days=DUE_SOON_DAYS)))
    return (select(Case.id, Case.kind, Case.workflow_version, Case.title, Case.state, Case.unit_id, Unit.name,
                   Unit.name_en, Case.roc_year, Case.period, Case.due_date, Case.entered_state_at, Case.drafter_id,
                   func.count().over().label("total"))
            .join(Unit, Unit.id == Case.unit_id).where(*where)
            .order_by(*_ORDER[f.sort]).limit(limit).offset(offset))


def submitted_page(db: Database, s: Session, user_id: int, office_id: int, *, filters: QueueFilter = NO_FILTER,
                   limit: int = 50, offset: int = 0, today: dt.date | None = None) -> SubmittedPage:
    """One page of the cases ``user_id`` submitted that are with their reviewers now, with the
    total and each one's holders, read in ``s``."""
    today = today or clock.today()
    states = reviewing_states(db, s)
    stmt = _statement(states, user_id, office_id, filters, today, limit, offset)
    rows = s.execute(stmt).all()
    if rows:
        total = int(rows[0].total)
    elif offset:
        total = int(s.scalar(select(func.count()).select_from(
            _statement(states, user_id, office_id, filters, today, 1, 0).order_by(None).limit(None).offset(None)
            .subquery())) or 0)
    else:
        total = 0
    if not rows:
        return SubmittedPage([], total)
    roles = holders.office_roles(s, [office_id], today)[office_id]
    reg = registry.default()
    items = []
    for r in rows:
        defn = reg.get(db, r.kind, r.workflow_version, s)
        who = tuple(roles.names.get(u, "?") for u in holders.holders(defn, r.state, r.unit_id, r.drafter_id, roles))
        items.append(SubmittedItem(r.id, r.kind, r.workflow_version, r.title, r.state, r.unit_id, r.name, r.name_en,
                                   r.roc_year, r.period, r.due_date, r.entered_state_at, who))
    return SubmittedPage(items, total)
