"""Deadline reminders that arrive once.

Two phases, each safe to run again at any moment:

1. ``decide``: for every open case that is due soon, overdue, or late in its review step, insert a
   ``reminders`` row keyed (case, step, round, kind) and, in the same transaction, one in-app
   ``notifications`` row per recipient (the holder; for overdue cases also the unit's chief and the
   liaison). The unique key makes a rerun, a retried task or a second worker insert nothing.
   A notification keeps its ``message`` (kind and parameters): the inbox, the API and the e-mail
   render it in the reader's language (``workflow.notifications.messages``).
2. The e-mail copies go out like every notification's (``workflow.notifications.mail``): each as it
   comes or in the day's digest, as each person chose, or none.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from workflow import clock, metrics
from workflow.calendar import deadlines
from workflow.db import Database
from workflow.engine import registry
from workflow.models import Case, Notification, Reminder
from workflow.notifications import messages
from workflow.people import holders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Candidate:
    case_id: int
    office_id: int
    unit_id: int
    kind: str  # reminder kind
    step: str
    round: int
    deadline: dt.date
    title: str
    case_kind: str
    workflow_version: int
    drafter_id: int | None


def _final_states() -> set[str]:
    """States no reminder is for: final ones, and those where the city group has the case."""
    return {st.name for d in registry.default().current_definitions() for st in d.states if st.final or st.city}


def decide(db: Database, *, today: dt.date | None = None, days_before: int = 7) -> int:
    """Record today's reminders and their in-app notifications; returns how many were new."""
    today = today or clock.today()
    registry.default().sync(db)
    finals = _final_states()
    cols = (Case.id, Case.office_id, Case.unit_id, Case.state, Case.revision_count, Case.due_date, Case.title,
            Case.kind, Case.workflow_version, Case.drafter_id, Case.entered_state_at)
    candidates: list[_Candidate] = []
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        table = deadlines.limits(s)
        review_states = {state for (_k, state) in table}
        rows = s.execute(select(*cols).where(Case.state.not_in(finals), or_(
            Case.due_date <= today + dt.timedelta(days=days_before), Case.state.in_(review_states)))).all()
        clocks = [deadlines.CaseClock(r.id, r.office_id, r.kind, r.state, r.entered_state_at)
                  for r in rows if r.state in review_states]
        steps = deadlines.step_deadlines(s, clocks, today=today)
        done = {(x.case_id, x.step, x.round, x.kind) for x in s.execute(
            select(Reminder.case_id, Reminder.step, Reminder.round, Reminder.kind)
            .where(Reminder.case_id.in_([r.id for r in rows])))} if rows else set()
        for r in rows:
            found: list[tuple[str, dt.date]] = []
            if r.due_date is not None and r.due_date < today:
                found.append(("overdue", r.due_date))
            elif r.due_date is not None and r.due_date <= today + dt.timedelta(days=days_before):
                found.append(("due_soon", r.due_date))
            sd = steps.get(r.id)
            if sd is not None and sd.overdue(today) and sd.deadline is not None:
                found.append(("step_overdue", sd.deadline))
            for kind, deadline in found:
                if (r.id, r.state, r.revision_count, kind) in done:
                    continue
                candidates.append(_Candidate(r.id, r.office_id, r.unit_id, kind, r.state, r.revision_count,
                                             deadline, r.title, r.kind, r.workflow_version, r.drafter_id))
        roles = holders.office_roles(s, {c.office_id for c in candidates}, today)
    new = 0
    for c in candidates:
        new += _record(db, c, roles[c.office_id])
    return new


def _record(db: Database, c: _Candidate, roles: holders.OfficeRoles) -> int:
    defn = registry.default().get(db, c.case_kind, c.workflow_version)
    recipients = holders.holders(defn, c.step, c.unit_id, c.drafter_id, roles)
    if c.kind != "due_soon":
        recipients += [u for u in holders.chiefs_and_liaisons(c.unit_id, roles) if u not in recipients]
    state = defn.state(c.step)
    message = messages.reminder_message(c.kind, c.case_id, c.title, c.step, state.label, state.label_en,
                                        c.deadline)
    subject, body = messages.stored_text(message)
    now = clock.now()
    with db.unit_of_work() as uow:
        s = uow.session
        reminder = Reminder(office_id=c.office_id, case_id=c.case_id, step=c.step, round=c.round, kind=c.kind,
                            deadline=c.deadline, created_at=now)
        s.add(reminder)
        try:
            s.flush()
        except IntegrityError:
            return 0  # another run recorded it first: it is theirs to send
        for user_id in recipients:
            s.add(Notification(office_id=c.office_id, user_id=user_id, case_id=c.case_id, reminder_id=reminder.id,
                               subject=subject[:200], body=body, message=message, created_at=now,
                               email_to=roles.email_to(user_id), email_attempts=0))
        uow.commit()
    metrics.REMINDERS.labels(kind=c.kind).inc()
    return 1
