"""Recording what administrators change: a log line and an ``admin_events`` row in the same
transaction as the change itself (so a change is never kept without its record)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy.orm import Session

from workflow import clock
from workflow.models import AdminEvent

log = logging.getLogger("caseflow.admin")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record(s: Session, office_id: int, actor_id: int | None, what: str, **data: Any) -> AdminEvent:
    """Add the event row to ``s`` (the caller commits with its change) and log it."""
    plain = _plain(data)
    event = AdminEvent(office_id=office_id, actor_id=actor_id, what=what, data=plain, at=clock.now())
    s.add(event)
    s.flush()
    log.info("admin office=%s actor=%s %s %s", office_id, actor_id, what, json.dumps(plain, ensure_ascii=False))
    return event
