"""通知: a person's in-app notifications (deadline reminders, ``workflow.calendar.reminders``, and
hand-offs, ``workflow.notifications.handoffs``), newest first, and marking them read. A
notification belongs to one user; nobody reads or marks another's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from workflow import clock
from workflow.db import Database
from workflow.models import Notification


@dataclass(frozen=True)
class Item:
    id: int
    case_id: int | None
    subject: str
    body: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    message: dict[str, Any] | None = None  # what ``messages.render`` shows in the reader's language


def inbox(s: Session, user_id: int, *, limit: int = 200) -> list[Item]:
    rows = s.execute(
        select(Notification.id, Notification.case_id, Notification.subject, Notification.body,
               Notification.created_at, Notification.read_at, Notification.message)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    ).all()
    return [Item(*r) for r in rows]


def page(s: Session, user_id: int, *, unread_only: bool = False, before_id: int | None = None,
         limit: int = 50) -> tuple[list[Item], bool]:
    """One page of the user's notifications, newest (highest id) first, and whether more follow."""
    q = (select(Notification.id, Notification.case_id, Notification.subject, Notification.body,
                Notification.created_at, Notification.read_at, Notification.message)
         .where(Notification.user_id == user_id))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    if before_id is not None:
        q = q.where(Notification.id < before_id)
    rows = s.execute(q.order_by(Notification.id.desc()).limit(limit + 1)).all()
    return [Item(*r) for r in rows[:limit]], len(rows) > limit


def read_at(s: Session, user_id: int, notification_id: int) -> tuple[bool, dt.datetime | None]:
    """(is it this user's, when it was read)."""
    row = s.execute(select(Notification.read_at).where(Notification.id == notification_id,
                                                       Notification.user_id == user_id)).one_or_none()
    return (row is not None, row[0] if row is not None else None)


def unread_count(s: Session, user_id: int) -> int:
    return int(s.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0)


def mark_read(db: Database, user_id: int, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; returns how many changed.

    0 for an id that is not this user's (or already read): the caller treats it as not found.
    """
    where = [Notification.user_id == user_id, Notification.read_at.is_(None)]
    if notification_id is not None:
        where.append(Notification.id == notification_id)
    with db.unit_of_work() as uow:
        result = uow.session.connection().execute(update(Notification).where(*where).values(read_at=clock.now()))
        n = result.rowcount
        uow.commit()
    return int(n or 0)
