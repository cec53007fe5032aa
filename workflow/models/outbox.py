"""Outbox: messages written in the same transaction as the state change, relayed to Celery afterwards."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.clock import now
from workflow.models.base import Base


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "dispatched_at", "available_at"),
        # The backlog /metrics reads and the sweep's candidates (migration 0019).
        Index("ix_outbox_unprocessed", "topic", "created_at", postgresql_where=text("processed_at IS NULL"),
              sqlite_where=text("processed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    topic: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    available_at: Mapped[dt.datetime] = mapped_column(default=now)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column()
    # Set by the consumer when its effect is committed; a dispatched row without it is sent again
    # by the sweep after a while (the broker may have lost the message).
    processed_at: Mapped[dt.datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
