"""perf indexes: each state's queue in waiting order, index-only

``ix_cases_wait`` (office, state, entered_state_at, id) lets a queue read the oldest cases of each
state in order and stop after the page, whether or not the role is unit-scoped (the secretariat's
queue spans every unit: ``ix_cases_queue`` has the unit before the time). On PostgreSQL it carries
the columns a queue filters on (unit, kind, workflow version, submitter), so the page and its
count never read the table.

Written by hand (one index).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 08:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_wait', 'cases', ['office_id', 'state', 'entered_state_at', 'id'], unique=False,
                    postgresql_include=['unit_id', 'kind', 'workflow_version', 'submitted_by_id'])


def downgrade() -> None:
    op.drop_index('ix_cases_wait', table_name='cases')
