"""case search: a comment appended to a case's index costs the comment, not the case's whole history

Migration 0018's BEFORE trigger on ``case_search`` folded the title, the fields' text and every
comment again, and took every character pair of the result again, on each change, so a case's
1,000th commented transition paid for its 999 earlier comments. When a change only appends to
``comments`` (what the history trigger does: the old comments, a line feed, the new comment), the
new ``norm`` is the old one followed by the folded appended text, and the new ``doc`` is the old
one joined with the appended text's terms: exactly what the full computation gives, because a line
feed neither composes with anything under NFKC nor is a word character, so no fold and no run of
word characters crosses it. Any other change (title, fields, office, a rewrite of the comments)
computes everything as before.

PostgreSQL only: SQLite's FTS5 table (0018) has no such function to change.

Written by hand (a function replaced).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 00:23:00
"""

from __future__ import annotations

from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_FULL = """
            NEW.norm := case_search_fold(NEW.title || ' ' || NEW.fields_text || ' ' || NEW.comments);
            NEW.doc := case_search_terms(NEW.norm);"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION case_search_prepare() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            added text;
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.comments <> '' AND NEW.title = OLD.title
                    AND NEW.fields_text = OLD.fields_text
                    AND starts_with(NEW.comments, OLD.comments || E'\\n') THEN
                -- Only appended: the line feed and what follows it.
                added := case_search_fold(substr(NEW.comments, char_length(OLD.comments) + 1));
                NEW.norm := OLD.norm || added;
                NEW.doc := OLD.doc || case_search_terms(added);
                RETURN NEW;
            END IF;{_FULL}
            RETURN NEW;
        END $$
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION case_search_prepare() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN{_FULL}
            RETURN NEW;
        END $$
    """)
