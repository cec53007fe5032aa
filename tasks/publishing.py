"""Thin task: publish the web posting an outbox row asks for (ids in, rows out).

The database decides how many attempts a posting gets (``Publication.attempts`` against the
configured limit), so Celery's own retry count is only a ceiling; the countdown comes from the
backoff the service computed (exponential, with jitter, honouring Retry-After).
"""

from __future__ import annotations

from celery import Task

from publishing import service
from tasks.app import celery_app
from workflow import db as dbmod


@celery_app.task(name="caseflow.publish_posting", bind=True, acks_late=True, reject_on_worker_lost=True,
                 max_retries=100)
def publish_posting(self: Task, outbox_id: int) -> str:
    outcome = service.process_posting(dbmod.default(), outbox_id)
    if outcome.status in ("retry", "busy", "not_due") and outcome.retry_in is not None:
        # Come back when the backoff (or another delivery's lease) is over; if this message is
        # lost, the outbox sweep delivers the row again.
        raise self.retry(countdown=max(0.0, outcome.retry_in))
    return outcome.status
