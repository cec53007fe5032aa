"""Thin tasks: tell the people a transition handed a case to (ids in, rows out), and send the
e-mail copies of notifications (each as it comes; the daily digests). All safe to run twice.

The worker loads this module through ``tasks.relay`` (the ``notify.handoff`` topic's task) and the
Celery app's ``include``; beat runs ``send_notifications`` every minute (retries of failed e-mail,
and the digests once their hour has come).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from tasks.app import celery_app
from workflow import db as dbmod
from workflow.config import load_settings
from workflow.db import Database
from workflow.notifications import handoffs, mail

TRANSIENT = (OperationalError, DBAPIError, OSError)


def deliver_handoff(db: Database, outbox_id: int, *, links: mail.Links | None = None) -> handoffs.Outcome:
    """Write the hand-off's notifications, then e-mail those who want each one as it comes (a
    failed send is left to ``send_notifications``: the notifications are committed either way)."""
    outcome = handoffs.process_outbox(db, outbox_id)
    if outcome.notification_ids:
        settings = load_settings()
        mail.send_pending(db, mail.mailer_from_settings(settings), links=links or mail.links_from_settings(settings),
                          ids=outcome.notification_ids)
    return outcome


def send_mail(db: Database, *, links: mail.Links | None = None) -> int:
    """E-mail every notification still owed to someone who wants each one, then the digests due now."""
    settings = load_settings()
    mailer = mail.mailer_from_settings(settings)
    links = links or mail.links_from_settings(settings)
    return (mail.send_pending(db, mailer, links=links)
            + mail.send_digests(db, mailer, links=links, hour=settings.digest_hour))


@celery_app.task(name="caseflow.notify_handoff", acks_late=True, reject_on_worker_lost=True,
                 autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=60, retry_jitter=True, max_retries=5)
def notify_handoff(outbox_id: int) -> str:
    return deliver_handoff(dbmod.default(), outbox_id).status


@celery_app.task(name="caseflow.send_notifications", autoretry_for=TRANSIENT, retry_backoff=30, max_retries=3)
def send_notifications() -> int:
    return send_mail(dbmod.default())
