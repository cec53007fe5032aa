"""Queues as queries: the cases a user can act on now, oldest first, with days waiting.

Which states are in whose queue comes from the declarations (``Definition.actor_roles``); the
user's capacities today (own roles and delegations, unit-scoped where the role is) narrow it.
One SELECT, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from workflow import clock, permissions, registry
from workflow.db import Database
from workflow.models import Case, Unit, User, WorkflowVersion
from workflow.roles import SYSTEM


@dataclass(frozen=True)
class QueueItem:
    case_id: int
    kind: str
    title: str
    state: str
    unit_name: str
    roc_year: int
    period: str | None
    version: int
    entered_state_at: dt.datetime
    days_waiting: int
    due_date: dt.date | None
    submitted_by: str | None
    revision_count: int
    unit_id: int = 0
    submitted_by_id: int | None = None  # for "may this user approve it" (never what they submitted)
    workflow_version: int = 0


def _state_sets(db: Database, s: Session) -> list[tuple[str, int, str, frozenset[str]]]:
    """(kind, version, state, roles that act there) for every stored workflow version."""
    reg = registry.default()
    out = []
    for kind, version in s.execute(select(WorkflowVersion.kind, WorkflowVersion.version)):
        defn = reg.get(db, kind, version, s)
        drafting = {t.source for t in defn.transitions if t.trigger == "submit"}
        for st in defn.states:
            roles = defn.actor_roles(st.name) - {SYSTEM}
            if roles:
                marker = {"__draft__"} if st.name in drafting else set()
                out.append((kind, version, st.name, frozenset(roles | marker)))
    return out


def queue_for(db: Database, user_id: int, *, today: dt.date | None = None, limit: int = 500,
              offset: int = 0) -> list[QueueItem]:
    today = today or clock.today()
    registry.default().sync(db)
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        user = s.get(User, user_id)
        if user is None or not user.active:
            return []
        caps = permissions.capacities(s, user.id, user.office_id, today)
        if not caps:
            return []
        clauses = []
        for kind, version, state, roles in _state_sets(db, s):
            for cap in caps:
                if cap.role not in roles:
                    continue
                c = and_(Case.kind == kind, Case.workflow_version == version, Case.state == state)
                if cap.unit_id is not None:
                    c = and_(c, Case.unit_id == cap.unit_id)
                if "__draft__" not in roles:
                    # Nobody reviews what they (or their principal) submitted: not in their queue.
                    barred = {user.id} | ({cap.on_behalf_of} if cap.on_behalf_of else set())
                    c = and_(c, or_(Case.submitted_by_id.is_(None), Case.submitted_by_id.not_in(barred)))
                clauses.append(c)
        if not clauses:
            return []
        submitter = User.__table__.alias("submitter")
        q = (
            select(Case.id, Case.kind, Case.title, Case.state, Unit.name, Case.roc_year, Case.period,
                   Case.version, Case.entered_state_at, Case.due_date, submitter.c.display_name,
                   Case.revision_count, Case.unit_id, Case.submitted_by_id,
                   Case.workflow_version)
            .join(Unit, Unit.id == Case.unit_id)
            .outerjoin(submitter, submitter.c.id == Case.submitted_by_id)
            .where(Case.office_id == user.office_id, or_(false(), *clauses))
            .order_by(Case.entered_state_at, Case.id)
            .limit(limit)
            .offset(offset)
        )
        items = []
        for r in s.execute(q):
            entered = r.entered_state_at
            waited = (today - entered.astimezone(clock.TAIPEI).date()).days
            items.append(QueueItem(r.id, r.kind, r.title, r.state, r.name, r.roc_year, r.period, r.version,
                                   entered, max(waited, 0), r.due_date, r.display_name, r.revision_count,
                                   r.unit_id, r.submitted_by_id, r.workflow_version))
        return items
