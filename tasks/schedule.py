"""The one beat schedule (what runs when, in one place)."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Publish outbox rows the after-commit relay missed (broker down, process died, Redis flushed).
    "sweep-outbox": {"task": "caseflow.sweep_outbox", "schedule": 30.0},
    # The plan's calendar (tasks/calendar.py), in Taipei time: open a plan year's cases once its first
    # working day has come (idempotent, so running every morning catches up after a missed day), then
    # the day's deadline reminders (each sent once, whatever how often this runs), decided before
    # the 08:00 digests so that those who chose a digest get them the same morning.
    "generate-plan-year": {"task": "caseflow.generate_plan_year", "schedule": crontab(hour=6, minute=30)},
    "send-reminders": {"task": "caseflow.send_reminders", "schedule": crontab(hour=7, minute=50)},
    # Notifications' e-mail (tasks/notifications.py): what a failed send left, and each person's daily
    # digest once its hour (CASEFLOW_DIGEST_HOUR, 08:00) has come (one a day, however often this runs).
    "send-notifications": {"task": "caseflow.send_notifications", "schedule": 60.0},
    # ODT and PDF for documents still without them (older ones, failed conversions): the public zone
    # offers documents only as ODF and PDF, never .docx (tasks/documents.py).
    "queue-missing-conversions": {"task": "caseflow.queue_missing_conversions",
                                  "schedule": crontab(hour=2, minute=30)},
}
