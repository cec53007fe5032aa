"""hand-off notifications: each person told once per history event, and how they want the e-mail

When a case reaches someone (submitted to them, returned, approved onward, filed, a publication
failed) a notification is written per person who now holds it, keyed by the history event that
moved it: ``notifications.event_seq`` and a unique index on (case, event, person), so a message
delivered twice tells nobody twice. On the person: ``notify_email`` (immediate, a daily digest, or
none), the ``language`` of their e-mail, and ``digest_sent_on``, the day their last digest was
claimed (at most one a day).

Written by hand. Plain ADD COLUMNs and CREATE INDEX (not batch mode, which on SQLite rebuilds the
table and drops the office revision triggers of 0009); the CHECKs are part of the column
definitions, which both databases accept in ADD COLUMN. Everyone starts with immediate e-mail in
Chinese, as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('notifications', sa.Column('event_seq', sa.Integer(), nullable=True))
    op.create_index('ux_notifications_event', 'notifications', ['case_id', 'event_seq', 'user_id'], unique=True)
    op.execute("ALTER TABLE users ADD COLUMN notify_email VARCHAR(10) DEFAULT 'immediate' NOT NULL "
               "CONSTRAINT ck_users_notify_email CHECK (notify_email IN ('immediate', 'digest', 'none'))")
    op.execute("ALTER TABLE users ADD COLUMN language VARCHAR(5) "
               "CONSTRAINT ck_users_language CHECK (language IS NULL OR language IN ('zh_TW', 'en'))")
    op.add_column('users', sa.Column('digest_sent_on', sa.Date(), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place, its own CHECK with it (a CHECK naming only that column).
    op.drop_column('users', 'digest_sent_on')
    op.drop_column('users', 'language')
    op.drop_column('users', 'notify_email')
    op.drop_index('ux_notifications_event', table_name='notifications')
    op.drop_column('notifications', 'event_seq')
