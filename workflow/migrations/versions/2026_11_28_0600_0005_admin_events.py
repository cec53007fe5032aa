"""admin_events: an append-only record of every change an administrator makes

Written by hand (only this change's table and its append-only triggers).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('what', sa.String(length=60), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_admin_events_actor_id_users')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_admin_events_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_events'))
    )
    op.create_index('ix_admin_events_office_at', 'admin_events', ['office_id', 'at'], unique=False)
    _append_only()


# Like case_history: the database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL).
def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION admin_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'admin_events is append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$;
            """
        )
        op.execute("CREATE TRIGGER admin_events_no_change BEFORE UPDATE OR DELETE ON admin_events "
                   "FOR EACH ROW EXECUTE FUNCTION admin_events_append_only()")
        op.execute("CREATE TRIGGER admin_events_no_truncate BEFORE TRUNCATE ON admin_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION admin_events_append_only()")
    else:
        op.execute("CREATE TRIGGER admin_events_no_update BEFORE UPDATE ON admin_events "
                   "BEGIN SELECT RAISE(ABORT, 'admin_events is append-only: UPDATE refused'); END")
        op.execute("CREATE TRIGGER admin_events_no_delete BEFORE DELETE ON admin_events "
                   "BEGIN SELECT RAISE(ABORT, 'admin_events is append-only: DELETE refused'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS admin_events_no_change ON admin_events")
        op.execute("DROP TRIGGER IF EXISTS admin_events_no_truncate ON admin_events")
        op.execute("DROP FUNCTION IF EXISTS admin_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS admin_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS admin_events_no_delete")
    op.drop_index('ix_admin_events_office_at', table_name='admin_events')
    op.drop_table('admin_events')
