"""on each person the day they joined the office (到職日, blank: before the records) and whether
they are one of the office's civil servants, whom the plan's yearly training hours bind

Written by hand. Plain ADD COLUMNs on users (not batch mode, which on SQLite rebuilds the table and
drops the office revision triggers of 0009). Existing people stay civil servants with no joining
day: until an administrator says otherwise they are counted for the whole year, rather than being
shown as joined on the day their account was made.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('joined_on', sa.Date(), nullable=True))
    op.add_column('users', sa.Column('civil_servant', sa.Boolean(), server_default='1', nullable=False))


def downgrade() -> None:
    op.drop_column('users', 'civil_servant')  # SQLite >= 3.35 drops a column in place
    op.drop_column('users', 'joined_on')
