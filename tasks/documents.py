"""Thin tasks: render the document an outbox row asks for, then (on its own queue) add its ODT and
PDF. Ids in, rows out; both are safe to run twice."""

from __future__ import annotations

from celery import Task
from sqlalchemy.exc import DBAPIError, OperationalError

from documents import service
from tasks.app import celery_app
from workflow import db as dbmod
from workflow.config import load_settings

# Transient trouble worth retrying; a broken template or missing case is not.
TRANSIENT = (OperationalError, DBAPIError, OSError)


@celery_app.task(name="caseflow.render_document", bind=True, acks_late=True, reject_on_worker_lost=True,
                 autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, retry_jitter=True, max_retries=5)
def render_document(self: Task, outbox_id: int) -> str:
    db = dbmod.default()
    outcome = service.process_outbox(db, outbox_id)
    if outcome.status == "busy":
        # Another delivery holds the document's lease. If its worker died (a pool child killed
        # mid-render comes straight back here through reject_on_worker_lost, its lease still live),
        # only a later delivery can finish the job: come back once the lease has run out rather than
        # drop the message and leave the document to the sweep minutes later.
        raise self.retry(countdown=load_settings().document_lease_seconds)
    if outcome.follow_up:
        # The conversion row is committed with the ready .docx; if this publish is lost, the sweep
        # sends it.
        from tasks.relay import publish

        publish(outcome.follow_up, db)
    return outcome.status


@celery_app.task(name="caseflow.queue_missing_conversions", autoretry_for=TRANSIENT, retry_backoff=30,
                 max_retries=5)
def queue_missing_conversions() -> int:
    """Daily (beat): an ODT and PDF for every ready document still without them (made before
    conversions existed, or whose conversion failed); each conversion is its own task on the
    ``conversions`` queue. Safe to run twice: a document already queued is not queued again."""
    db = dbmod.default()
    ids = service.queue_missing_conversions(db)
    from tasks.relay import publish

    publish(ids, db)  # what the broker misses, the outbox sweep sends
    return len(ids)


@celery_app.task(name="caseflow.convert_document", acks_late=True, reject_on_worker_lost=True,
                 autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, retry_jitter=True, max_retries=5)
def convert_document(outbox_id: int) -> str:
    """ODT and PDF of a ready document, by the warm LibreOffice of this worker process. Routed to the
    ``conversions`` queue (tasks/app.py) so a slow conversion never delays the next .docx."""
    return service.process_conversion(dbmod.default(), outbox_id).status
