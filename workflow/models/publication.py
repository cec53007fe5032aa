"""Publication of a web posting (性別主流化專區): one row per case, created before the first attempt.

The row carries the idempotency key every attempt sends (so the external site can recognise a
repeat), the attempt counter that bounds retries, a short lease so two deliveries of the same
outbox message never post at once, and the outcome (URL, or the reason it failed).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from workflow.clock import now
from workflow.models.base import Base

STATUSES = ("pending", "published", "failed", "manual")


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'published', 'failed', 'manual')", name="status"),
        CheckConstraint("attempts >= 0 AND total_attempts >= attempts", name="attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    # Stored (and committed) before the first attempt; the same key for every attempt and every
    # round, so a retry after an ambiguous failure finds the post instead of making a second one.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    publisher: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # The history seq of the transition into `publishing` this round (a retry starts a new round).
    round_seq: Mapped[int] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # in this round
    total_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    lease_until: Mapped[dt.datetime | None] = mapped_column()
    url: Mapped[str | None] = mapped_column(String(1000))
    remote_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)  # plain language, zh-TW
    last_error_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=now)
    published_at: Mapped[dt.datetime | None] = mapped_column()
