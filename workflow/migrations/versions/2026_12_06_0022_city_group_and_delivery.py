"""the city group as an organisation of its own (offices.kind: district or city), and on each case
when it was last delivered (filed with the city, published): deadlines are judged by it now that a
filed case stays open until the city acknowledges it

Written by hand: plain ADD COLUMNs (batch mode on SQLite would rebuild the tables and drop the
office revision triggers of 0009). Cases already filed or published count as delivered when they
entered that state.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 00:22:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('offices', sa.Column('kind', sa.String(length=10), server_default='district', nullable=False))
    op.add_column('cases', sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE cases SET delivered_at = entered_state_at WHERE state IN ('filed', 'published')"
               " OR (kind = 'plan_amendment' AND state IN ('city_review', 'council_pending'))")


def downgrade() -> None:
    op.drop_column('cases', 'delivered_at')  # SQLite >= 3.35 drops a column in place
    op.drop_column('offices', 'kind')
