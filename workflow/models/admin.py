"""What administrators changed: one append-only row per change (who, in which office, what, the data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.clock import now
from workflow.models.base import Base


class AdminEvent(Base):
    """One administrative change (a unit added, a role granted, a template uploaded, ...).

    Rows are only ever inserted: the database refuses UPDATE and DELETE (migration 0005).
    """

    __tablename__ = "admin_events"
    __table_args__ = (Index("ix_admin_events_office_at", "office_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    what: Mapped[str] = mapped_column(String(60))  # e.g. "user.add", "role.grant", "template.upload"
    data: Mapped[dict[str, Any]] = mapped_column()
    at: Mapped[dt.datetime] = mapped_column(default=now)
