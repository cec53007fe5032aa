"""Every version of every kind's workflow definition, kept so a case finishes on the one it started on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.clock import now
from workflow.models.base import Base


class WorkflowVersion(Base):
    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("kind", "version"), UniqueConstraint("kind", "fingerprint"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column()
    variant: Mapped[str] = mapped_column(String(40), default="", server_default="")  # "" or an office variant
    registered_at: Mapped[dt.datetime] = mapped_column(default=now)
