"""Hand-offs: when a transition hands a case to someone, the people who now hold it are told, once.

Every transition writes a ``notify.handoff`` outbox row (``approval.HANDOFF_TOPIC``) in its own
transaction; ``process_outbox`` is its consumer (the Celery task, or the embedded worker). In one
transaction it claims the row (marks it processed: a second delivery, even a concurrent one, finds
nothing to do), works out who is told and writes their notifications. A worker that dies before
committing leaves the row for the next delivery; the unique key (case, event, person) backs "once".

Who is told about the event that brought the case to a state:
- the people who hold it there (``holders``): the chief it was submitted to, the drafter it was
  returned to (by a reviewer or by the city group), the secretariat when a publication failed, ...,
  and delegates (代理) too, each told for whom they act;
- when the state is final (acknowledged, published, noted) or delivers the case (filed with the
  city, whose reviewers then hold it), its drafter and whoever submitted it;
- never the person who acted; and nobody once the case has moved on again before the message was
  handled (the notice would send them to a case that is no longer with them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow import clock
from workflow.cases.approval import HANDOFF_TOPIC
from workflow.db import Database
from workflow.engine import registry
from workflow.engine.definitions import Definition
from workflow.models import Case, HistoryEvent, Notification, OutboxMessage, User
from workflow.notifications import messages
from workflow.people import holders

__all__ = ["HANDOFF_TOPIC", "Outcome", "process_outbox", "recipients"]


@dataclass(frozen=True)
class Outcome:
    """``status``: skipped (not a hand-off row), done (handled before), told (``notification_ids``
    written), nobody (no one to tell), moved_on (the case left that state before this ran)."""

    status: str
    notification_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Event:
    case_id: int
    seq: int
    at: dt.datetime
    trigger: str
    to_state: str
    actor_id: int | None
    on_behalf_of_id: int | None
    comment: str | None
    data: dict[str, Any]


def process_outbox(db: Database, outbox_id: int) -> Outcome:
    """Handle one ``notify.handoff`` message. Safe to run any number of times, concurrently too."""
    with db.unit_of_work() as uow:
        s = uow.session
        row = s.execute(select(OutboxMessage.topic, OutboxMessage.payload, OutboxMessage.processed_at)
                        .where(OutboxMessage.id == outbox_id)).one_or_none()
        if row is None or row.topic != HANDOFF_TOPIC:
            return Outcome("skipped")
        if row.processed_at is not None:
            return Outcome("done")
        # The claim: on PostgreSQL a concurrent delivery waits on this row and then matches nothing.
        claimed = s.connection().execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.processed_at.is_(None))
            .values(processed_at=clock.now())).rowcount
        if claimed != 1:
            return Outcome("done")
        try:
            outcome = _tell(s, db, int(row.payload["case_id"]), int(row.payload["event_seq"]))
            uow.commit()
            return outcome
        except IntegrityError:  # they were told already (the unique key): only the claim is left to keep
            s.rollback()
    with db.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id,
                                                        OutboxMessage.processed_at.is_(None))
                            .values(processed_at=clock.now()))
        uow.commit()
    return Outcome("done")


def _tell(s: Session, db: Database, case_id: int, seq: int) -> Outcome:
    ev = s.execute(select(HistoryEvent).where(HistoryEvent.case_id == case_id, HistoryEvent.seq == seq,
                                              HistoryEvent.event == "transition")).scalar_one_or_none()
    case = s.get(Case, case_id)
    if ev is None or case is None or ev.trigger is None or ev.to_state is None:
        return Outcome("nobody")
    event = _Event(case_id, seq, ev.at, ev.trigger, ev.to_state, ev.actor_id, ev.on_behalf_of_id, ev.comment,
                   dict(ev.data or {}))
    defn = registry.default().get(db, case.kind, case.workflow_version, s)
    final = defn.state(event.to_state).final
    later = s.scalar(select(func.max(HistoryEvent.seq)).where(
        HistoryEvent.case_id == case_id, HistoryEvent.event == "transition"))
    if not final and later is not None and later > seq:
        return Outcome("moved_on")
    roles = holders.office_roles(s, [case.office_id], clock.today())[case.office_id]
    if defn.state(event.to_state).city == "holds":  # filed: the city group's reviewers hold it now
        city = holders.office_roles(s, holders.city_office_ids(s), clock.today())
        roles = roles.with_city(city.values())
    told = recipients(defn, case, event.to_state, event.actor_id, roles)
    if not told:
        return Outcome("nobody")
    state = defn.state(event.to_state)
    # Who acted need not be among the office's holders (the city group sending a case back).
    acted = {i for i in (event.actor_id, event.on_behalf_of_id) if i is not None and i not in roles.names}
    names = dict(roles.names) | dict(s.execute(select(User.id, User.display_name).where(User.id.in_(acted))).all()
                                     if acted else [])
    rows = []
    for user_id, for_id in told:
        message = messages.handoff_message(
            case_id=case_id, title=case.title, trigger=event.trigger, state=state.name, state_label=state.label,
            state_label_en=state.label_en, final=final,
            actor=names.get(event.actor_id) if event.actor_id is not None else None,
            actor_for=names.get(event.on_behalf_of_id) if event.on_behalf_of_id is not None else None,
            comment=event.comment, comment_en=_str(event.data.get("reason_en")),
            for_id=for_id, for_name=roles.names.get(for_id) if for_id is not None else None)
        subject, body = messages.stored_text(message)
        rows.append(Notification(office_id=case.office_id, user_id=user_id, case_id=case_id, event_seq=seq,
                                 # when the case reached them, not when a worker got to it
                                 subject=subject[:200], body=body, message=message, created_at=event.at,
                                 email_to=roles.email_to(user_id), email_attempts=0))
    s.add_all(rows)
    s.flush()
    return Outcome("told", tuple(n.id for n in rows))


def recipients(defn: Definition, case: Case, state: str, actor_id: int | None,
               roles: holders.OfficeRoles) -> list[tuple[int, int | None]]:
    """(person, for whom they hold it or None) told that ``case`` reached ``state`` (in ``defn``, the
    case's own workflow version); never the person who acted."""
    st = defn.state(state)
    people: list[tuple[int, int | None]] = []
    if not st.final:
        people += holders.holders_for(defn, state, case.unit_id, case.drafter_id, roles)
    if st.final or st.delivers:  # done as far as the office goes: its drafter and submitter hear
        people += [(u, None) for u in dict.fromkeys((case.drafter_id, case.submitted_by_id))
                   if u is not None and u in roles.active]
    out: dict[int, int | None] = {}
    for u, principal in people:
        if u != actor_id and u not in out:
            out[u] = principal
    return list(out.items())


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
