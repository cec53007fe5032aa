"""Thin task: render the document an outbox row asks for (ids in, rows out)."""

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
    status = service.process_outbox(dbmod.default(), outbox_id).status
    if status == "busy":
        # Another delivery holds the document's lease. If its worker died (a pool child killed
        # mid-render comes straight back here through reject_on_worker_lost, its lease still live),
        # only a later delivery can finish the job: come back once the lease has run out rather than
        # drop the message and leave the document to the sweep minutes later.
        raise self.retry(countdown=load_settings().document_lease_seconds)
    return status
