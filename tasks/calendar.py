"""Thin daily tasks of the plan's calendar: generate the year on its first working day, send reminders.

Both are safe to run twice (database unique keys decide what exists or was sent). The worker loads
this module with ``--include tasks.calendar`` (see ``caseflow worker``).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from tasks.app import celery_app
from workflow import clock
from workflow import db as dbmod
from workflow.calendar import plan, reminders
from workflow.config import load_settings
from workflow.engine import registry
from workflow.notifications import mail

TRANSIENT = (OperationalError, DBAPIError, OSError)


@celery_app.task(name="caseflow.generate_plan_year", autoretry_for=TRANSIENT, retry_backoff=30, max_retries=5)
def generate_plan_year() -> int:
    """On or after the first working day of a plan year, open its cases in every office."""
    db = dbmod.default()
    registry.default().sync(db)
    year = plan.first_working_day_due(db, clock.today())
    if year is None:
        return 0
    return sum(len(r.created) for r in plan.generate(db, year))


@celery_app.task(name="caseflow.send_reminders", autoretry_for=TRANSIENT, retry_backoff=30, max_retries=5)
def send_reminders() -> int:
    settings = load_settings()
    db = dbmod.default()
    reminders.decide(db, days_before=settings.remind_days_before)
    return mail.send_pending(db, mail.mailer_from_settings(settings), links=mail.links_from_settings(settings))
