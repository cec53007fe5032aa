"""Thin task: render the document an outbox row asks for (ids in, rows out)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from documents import service
from tasks.app import celery_app
from workflow import db as dbmod

# Transient trouble worth retrying; a broken template or missing case is not.
TRANSIENT = (OperationalError, DBAPIError, OSError)


@celery_app.task(name="caseflow.render_document", bind=True, acks_late=True, reject_on_worker_lost=True,
                 autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, retry_jitter=True, max_retries=5)
def render_document(self: object, outbox_id: int) -> str:
    return service.process_outbox(dbmod.default(), outbox_id).status
