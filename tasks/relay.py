"""Outbox relay: publish committed outbox rows to Celery right after commit, and sweep for any row
not yet processed (the broker was down, a process died between commit and publish, Redis lost its
data). At least once: the consumers are idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from celery.signals import worker_init, worker_process_init
from sqlalchemy import or_, select, update

from documents.service import CONVERT_TOPIC
from tasks.app import celery_app
from workflow import clock
from workflow import db as dbmod
from workflow.cases import approval, writes
from workflow.db import Database
from workflow.engine.definitions import TASK_TOPICS
from workflow.models import OutboxMessage

log = logging.getLogger(__name__)
REDISPATCH_AFTER = dt.timedelta(minutes=2)
TOPIC_TASKS = {
    approval.DOCUMENT_TOPIC: "caseflow.render_document",
    CONVERT_TOPIC: "caseflow.convert_document",
    TASK_TOPICS["publish_posting"]: "caseflow.publish_posting",
    approval.HANDOFF_TOPIC: "caseflow.notify_handoff",
}


def publish(outbox_ids: Iterable[int], db: Database | None = None) -> int:
    """Send each row to its task (task id = the row id, so duplicates are recognisable); mark it
    dispatched. A broker error leaves the row for the sweep and does not raise."""
    database = db or dbmod.default()
    ids = list(outbox_ids)
    if not ids:
        return 0
    with database.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(OutboxMessage.id, OutboxMessage.topic)
                                   .where(OutboxMessage.id.in_(ids))).all()
    sent = []
    for row_id, topic in rows:
        task = TOPIC_TASKS.get(topic)
        if task is None:
            continue
        try:
            celery_app.send_task(task, args=[row_id], task_id=f"outbox-{row_id}-{clock.now().timestamp():.0f}")
        except Exception as exc:  # broker down: the sweep will send it
            log.warning("could not publish outbox row %s: %s", row_id, exc)
            _record_error(database, row_id, str(exc))
            break
        sent.append(row_id)
    if sent:
        with database.unit_of_work() as uow:
            uow.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(sent))
                                .values(dispatched_at=clock.now(), attempts=OutboxMessage.attempts + 1)
                                .execution_options(synchronize_session=False))
            uow.commit()
    return len(sent)


def _record_error(db: Database, row_id: int, error: str) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                            .values(last_error=error[:2000]).execution_options(synchronize_session=False))
        uow.commit()


def due_for_dispatch(db: Database, *, limit: int = 500, redispatch_after: dt.timedelta = REDISPATCH_AFTER) -> list[int]:
    cutoff = clock.now() - redispatch_after
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.processed_at.is_(None),
                or_(OutboxMessage.dispatched_at.is_(None), OutboxMessage.dispatched_at < cutoff))
            .order_by(OutboxMessage.id).limit(limit)))


def sweep(db: Database | None = None, *, redispatch_after: dt.timedelta = REDISPATCH_AFTER,
          send: Callable[[list[int]], int] | None = None) -> int:
    database = db or dbmod.default()
    ids = due_for_dispatch(database, redispatch_after=redispatch_after)
    return (send or (lambda i: publish(i, database)))(ids)


@celery_app.task(name="caseflow.sweep_outbox", acks_late=True)
def sweep_outbox() -> int:
    return sweep()


def publish_committed(outbox_ids: tuple[int, ...]) -> None:
    publish(outbox_ids)


@worker_init.connect
@worker_process_init.connect
def _publish_after_commit(**_kw: object) -> None:
    """In a worker, a transition a task fires (a publication's outcome) has its outbox rows published
    right after its commit too, as in the web processes: the secretariat hears of a failed
    publication at once, not at the next sweep. (The same listener once per process.)"""
    writes.on_committed(publish_committed)


# The worker loads this module (tasks/app.py's include); importing the task modules the topics name
# registers their tasks there too.
import tasks.notifications  # noqa: E402
import tasks.publishing  # noqa: E402,F401
