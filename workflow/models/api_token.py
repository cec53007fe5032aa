"""Personal API tokens: a user's own credentials for the JSON API (``/api/v1``).

The token itself is shown once, when it is made; only its SHA-256 digest is stored, with a short
prefix (part of the token, not secret on its own) to find the row without scanning.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.clock import now
from workflow.models.base import Base


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # looked up first
    token_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the whole token
    created_at: Mapped[dt.datetime] = mapped_column(default=now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
