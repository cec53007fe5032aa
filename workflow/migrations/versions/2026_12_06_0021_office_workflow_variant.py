"""an office's own variant of some workflows (復興區 files results with its district council too),
and on each stored workflow version the variant it was registered for

Written by hand: plain ADD COLUMNs (batch mode on SQLite would rebuild offices and drop the office
revision triggers of 0009).

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06 00:21:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('offices', sa.Column('workflow_variant', sa.String(length=40), server_default='', nullable=False))
    op.add_column('workflow_versions', sa.Column('variant', sa.String(length=40), server_default='', nullable=False))


def downgrade() -> None:
    op.drop_column('workflow_versions', 'variant')  # SQLite >= 3.35 drops a column in place
    op.drop_column('offices', 'workflow_variant')
