"""Generated documents (one row per case, document name and the history event that caused it) and
the templates an administrator uploaded to replace the built-in ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.clock import now
from workflow.models.base import Base

DOCUMENT_STATUSES = ("pending", "rendering", "ready", "failed")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        # A document's identity: exactly one row, whatever how often its task is delivered.
        UniqueConstraint("case_id", "name", "cause_seq"),
        CheckConstraint("status IN ('pending', 'rendering', 'ready', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    cause_seq: Mapped[int] = mapped_column(Integer)  # the case history event that asked for it
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    case_version: Mapped[int | None] = mapped_column(Integer)
    template_sha256: Mapped[str | None] = mapped_column(String(64))
    template_version: Mapped[int | None] = mapped_column(Integer)
    context: Mapped[dict[str, Any] | None] = mapped_column()  # the exact inputs, for rerendering
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    odt_key: Mapped[str | None] = mapped_column(String(200))
    pdf_key: Mapped[str | None] = mapped_column(String(200))
    conversion_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    rendered_at: Mapped[dt.datetime | None] = mapped_column()


class DocumentTemplate(Base):
    """An uploaded replacement for a built-in template (version 0 is the file shipped with caseflow)."""

    __tablename__ = "document_templates"
    __table_args__ = (UniqueConstraint("office_id", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    name: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=now)
    active: Mapped[bool] = mapped_column(default=True)
