"""offices: the address and telephone printed on the office's 函

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('offices') as batch:
        batch.add_column(sa.Column('address', sa.String(length=200), nullable=False, server_default=''))
        batch.add_column(sa.Column('phone', sa.String(length=40), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('offices') as batch:
        batch.drop_column('phone')
        batch.drop_column('address')
