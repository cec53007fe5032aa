"""task force register: members with their terms, meetings, attendance and decisions

Written by hand (only this change's tables). No office revision triggers: no page kept by
``web.page_cache`` reads them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_force_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('seat', sa.String(length=20), nullable=False),
    sa.Column('affiliation', sa.String(length=100), server_default='', nullable=False),
    sa.Column('term_start', sa.Date(), nullable=False),
    sa.Column('term_end', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sex IN ('F', 'M')", name=op.f('ck_task_force_members_sex')),
    sa.CheckConstraint("role IN ('convener', 'deputy_convener', 'member')", name=op.f('ck_task_force_members_role')),
    sa.CheckConstraint("seat IN ('unit_chief', 'liaison', 'ge_qualified', 'external_city', 'external_civil')",
                       name=op.f('ck_task_force_members_seat')),
    sa.CheckConstraint('term_end IS NULL OR term_end >= term_start', name=op.f('ck_task_force_members_term')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_task_force_members_office_id_offices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_task_force_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_force_members'))
    )
    op.create_index('ix_task_force_members_office', 'task_force_members', ['office_id', 'term_start'], unique=False)
    op.create_table('task_force_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('notice_on', sa.Date(), nullable=True),
    sa.Column('contact_name', sa.String(length=100), server_default='', nullable=False),
    sa.Column('contact_phone', sa.String(length=40), server_default='', nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('regular', 'adhoc')", name=op.f('ck_task_force_meetings_kind')),
    sa.CheckConstraint('number >= 1', name=op.f('ck_task_force_meetings_number')),
    sa.CheckConstraint('notice_on IS NULL OR notice_on < held_on', name=op.f('ck_task_force_meetings_notice_before')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_task_force_meetings_case_id_cases')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_task_force_meetings_office_id_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_force_meetings')),
    sa.UniqueConstraint('office_id', 'number', name=op.f('uq_task_force_meetings_office_id_number'))
    )
    op.create_table('task_force_attendance',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proxy_name', sa.String(length=100), server_default='', nullable=False),
    sa.CheckConstraint("status IN ('present', 'excused', 'proxy')", name=op.f('ck_task_force_attendance_status')),
    sa.ForeignKeyConstraint(['meeting_id'], ['task_force_meetings.id'],
                            name=op.f('fk_task_force_attendance_meeting_id_task_force_meetings')),
    sa.ForeignKeyConstraint(['member_id'], ['task_force_members.id'],
                            name=op.f('fk_task_force_attendance_member_id_task_force_members')),
    sa.PrimaryKeyConstraint('meeting_id', 'member_id', name=op.f('pk_task_force_attendance'))
    )
    op.create_table('task_force_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('votes_for', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), server_default='', nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('passed', 'amended', 'returned')", name=op.f('ck_task_force_decisions_decision')),
    sa.CheckConstraint('votes_for >= 0', name=op.f('ck_task_force_decisions_votes_for')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_task_force_decisions_case_id_cases')),
    sa.ForeignKeyConstraint(['meeting_id'], ['task_force_meetings.id'],
                            name=op.f('fk_task_force_decisions_meeting_id_task_force_meetings')),
    sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_task_force_decisions_office_id_offices')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_task_force_decisions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_force_decisions')),
    sa.UniqueConstraint('meeting_id', 'case_id', name=op.f('uq_task_force_decisions_meeting_id_case_id'))
    )
    op.create_index('ix_task_force_decisions_case', 'task_force_decisions', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_task_force_decisions_case', table_name='task_force_decisions')
    op.drop_table('task_force_decisions')
    op.drop_table('task_force_attendance')
    op.drop_table('task_force_meetings')
    op.drop_index('ix_task_force_members_office', table_name='task_force_members')
    op.drop_table('task_force_members')
