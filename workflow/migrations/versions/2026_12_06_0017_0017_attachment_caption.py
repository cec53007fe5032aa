"""a caption on each attachment: the words under a photo in the public zone's album, beside its alt
text (which a screen reader says in the photo's place)

Written by hand. A plain ADD COLUMN on attachments (not batch mode, which on SQLite rebuilds the
table). Existing photos have no caption; the album then shows none.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 00:17:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('attachments', sa.Column('caption', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column('attachments', 'caption')  # SQLite >= 3.35 drops a column in place
