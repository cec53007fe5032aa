"""training register: hours per person and course, lifelong-learning course codes, and on each
person the employee number imports match by and whether they are gender-equality staff (10 h)

Written by hand. Plain ADD COLUMNs on users (not batch mode, which on SQLite rebuilds the table
and drops the office revision triggers of 0009). The six codes the plan names are seeded; their
labels are not published (DOMAIN.md §4), so they start empty.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PLAN_CODES = ("410", "411", "412", "413", "516", "517")


def upgrade() -> None:
    op.add_column('users', sa.Column('employee_no', sa.String(length=32), nullable=True))
    op.add_column('users', sa.Column('ge_staff', sa.Boolean(), server_default='0', nullable=False))
    codes = op.create_table('course_codes',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=100), server_default='', nullable=False),
    sa.Column('counts_as_cedaw', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_course_codes'))
    )
    op.bulk_insert(codes, [{"code": c, "label": "", "counts_as_cedaw": True} for c in PLAN_CODES])
    op.create_table('training_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course', sa.String(length=200), nullable=False),
    sa.Column('course_code', sa.String(length=10), nullable=True),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("category IN ('gm_basic', 'gm_advanced', 'cedaw')", name=op.f('ck_training_records_category')),
    sa.CheckConstraint("mode IN ('in_person', 'online', 'digital')", name=op.f('ck_training_records_mode')),
    sa.CheckConstraint('hours > 0 AND hours <= 24', name=op.f('ck_training_records_hours')),
    sa.ForeignKeyConstraint(['course_code'], ['course_codes.code'], name=op.f('fk_training_records_course_code_course_codes')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_training_records_office_id_offices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_records')),
    sa.UniqueConstraint('user_id', 'course', 'held_on', name=op.f('uq_training_records_user_id_course_held_on'))
    )
    op.create_index('ix_training_records_office_day', 'training_records', ['office_id', 'held_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_training_records_office_day', table_name='training_records')
    op.drop_table('training_records')
    op.drop_table('course_codes')
    op.drop_column('users', 'ge_staff')  # SQLite >= 3.35 drops a column in place
    op.drop_column('users', 'employee_no')
