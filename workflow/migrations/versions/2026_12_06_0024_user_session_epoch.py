"""users.session_epoch: logging out ends the sessions already handed out

Sessions are signed cookies; the id Flask-Login keeps in them carries a digest of the user's
password hash and of this number. Logging out adds one to it, so a copy of the cookie taken before
the logout (and every other session and remember-me cookie of the account) no longer loads a user.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 00:24:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place (a batch rebuild would rewrite the table's CHECKs).
    op.drop_column("users", "session_epoch")
