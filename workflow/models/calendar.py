"""The plan's calendar as data: plan periods, obligations (what is due when), step time limits,
office closure days, and the reminders and in-app notifications sent about deadlines.

Reference rows are seeded by migration 0003 and edited by an administrator; nothing here is code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.clock import now
from workflow.models.base import Base, JsonType


class PlanPeriod(Base):
    """A multi-year plan (e.g. 112-115年性別主流化實施計畫); a following plan is a new row."""

    __tablename__ = "plan_periods"
    __table_args__ = (CheckConstraint("last_year >= first_year", name="years"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # "112-115"
    title: Mapped[str] = mapped_column(String(200))
    first_year: Mapped[int] = mapped_column(Integer)  # ROC years, inclusive
    last_year: Mapped[int] = mapped_column(Integer)


class PlanObligation(Base):
    """One recurring deliverable of a plan: which kind, which period, owned by which unit, due when.

    The due date of year Y is ``(Y + 1911 + due_year_offset)-due_month-due_day``, moved to the next
    working day. Quarterly reports are four rows (Q1..Q4; Q4 is due in January of the next year).
    """

    __tablename__ = "plan_obligations"
    __table_args__ = (
        UniqueConstraint("plan_id", "kind", "period"),
        CheckConstraint("due_month BETWEEN 1 AND 12", name="due_month"),
        CheckConstraint("due_day BETWEEN 1 AND 31", name="due_day"),
        CheckConstraint("due_year_offset BETWEEN 0 AND 1", name="due_year_offset"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_periods.id"))
    kind: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(8))  # Q1..Q4 or Y
    unit_code: Mapped[str] = mapped_column(String(32))  # the owning unit (課室) in every office
    title: Mapped[str] = mapped_column(String(200))  # "{year}年第1季培力成果報告" pattern
    due_month: Mapped[int] = mapped_column(Integer)
    due_day: Mapped[int] = mapped_column(Integer)
    due_year_offset: Mapped[int] = mapped_column(Integer, default=0)
    receiver: Mapped[str] = mapped_column(String(100), default="")  # 受文者, e.g. 桃園市政府性別平等辦公室
    plan_ref: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(default=True)


class StepLimit(Base):
    """Working days a review step may take; kind '*' is the default for every kind.

    ``working_days`` NULL means "until the task force's next meeting" (專案小組審議).
    """

    __tablename__ = "step_limits"
    __table_args__ = (UniqueConstraint("kind", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(40))
    working_days: Mapped[int | None] = mapped_column(Integer)


class OfficeClosure(Base):
    """A day an office does not work although the national calendar says it does (停班: typhoon days).

    ``office_id`` NULL: every office (a city-wide typhoon day).
    """

    __tablename__ = "office_closures"
    __table_args__ = (UniqueConstraint("office_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class Reminder(Base):
    """A reminder decided for (case, step, round, kind): inserted before anything is sent, so a
    rerun finds it and sends nothing twice. ``round`` is the case's revision count (a step entered
    again after a return is a new round)."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("case_id", "step", "round", "kind"),
        CheckConstraint("kind IN ('due_soon', 'overdue', 'step_overdue')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    step: Mapped[str] = mapped_column(String(40))
    round: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    deadline: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)


class Notification(Base):
    """An in-app message to one person, and the e-mail copy of it (sent after the row is committed).

    A deadline reminder (``reminder_id``) or a hand-off: the case reached this person through the
    history event ``(case_id, event_seq)``. ``subject`` and ``body`` are the text as written
    (Chinese, then English); the inbox, the API and the e-mail render ``message`` in the reader's
    language (``workflow.notifications.messages``)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("reminder_id", "user_id"),
        # A hand-off tells each person once, however often its outbox message is delivered. (An
        # index: SQLite adds one to an existing table without rebuilding it.)
        Index("ux_notifications_event", "case_id", "event_seq", "user_id", unique=True),
        Index("ix_notifications_user", "user_id", "read_at"),
        Index("ix_notifications_mail", "emailed_at", "email_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"))
    event_seq: Mapped[int | None] = mapped_column(Integer)  # the hand-off's history event
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # What the text is made of ({"kind": ..., parameters}), shown in the reader's language by
    # ``workflow.notifications.messages.render``; NULL on rows written before it (shown as ``subject``/``body``).
    message: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    read_at: Mapped[dt.datetime | None] = mapped_column()
    email_to: Mapped[str | None] = mapped_column(String(200))
    emailed_at: Mapped[dt.datetime | None] = mapped_column()
    email_claimed_at: Mapped[dt.datetime | None] = mapped_column()
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_error: Mapped[str | None] = mapped_column(Text)
