"""a partial index on the outbox rows not yet processed, by topic and age

Written by hand. /metrics reads the backlog per topic and the age of its oldest row at every
scrape, and the relay's sweep looks for unprocessed rows every 30 s; the outbox keeps every
processed row, so without this both read the whole table. The index holds only the unprocessed
rows (a handful in a healthy system), on PostgreSQL and SQLite alike. A plain CREATE INDEX: no
table is rebuilt, so the office revision triggers of 0009 stay.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 00:19:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_unprocessed', 'outbox', ['topic', 'created_at'], unique=False,
                    postgresql_where=sa.text('processed_at IS NULL'), sqlite_where=sa.text('processed_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_outbox_unprocessed', table_name='outbox')
