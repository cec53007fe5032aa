"""notifications: the message's kind and parameters, so it is shown in the reader's language

A notification stored only as finished text (both languages, ISO dates, state codes) cannot be
shown in one language. ``message`` keeps what the text is made of (see
``workflow.reminders.render``); rows written before it have NULL and are shown as stored.

A plain ADD COLUMN, not batch mode: on SQLite batch mode rebuilds the table and drops the office
revision triggers of 0009.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('notifications', sa.Column(
        'message', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade() -> None:
    op.drop_column('notifications', 'message')  # SQLite >= 3.35 drops a column in place
