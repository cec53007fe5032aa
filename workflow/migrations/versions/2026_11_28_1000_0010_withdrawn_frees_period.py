"""withdrawn cases free their period: the one-case-per-period key leaves them out

A withdrawn draft used to keep its office/kind/year/period forever, so a quarterly report withdrawn
by mistake could never be made again. The table's unique constraint becomes a partial unique index
(``WHERE state <> 'withdrawn'``), on PostgreSQL and SQLite alike.

SQLite cannot drop a table's constraint: the table is rebuilt the way SQLite documents (create the
new table, copy, drop the old one, rename, then its indexes and triggers again, exactly as they
were). ``workflow.migrate`` runs SQLite migrations with foreign keys off and checks them before
committing.

Downgrading fails if a withdrawn case and a live one now share a period (the old key cannot hold
both); withdraw or remove one first.

Written by hand.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD = "uq_cases_office_id_kind_roc_year_period"
NEW = "uq_cases_period"
COLUMNS = ["office_id", "kind", "roc_year", "period"]
LIVE = "state <> 'withdrawn'"
_CONSTRAINT_SQL = f"CONSTRAINT {OLD} UNIQUE (office_id, kind, roc_year, period)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_cases(without=_CONSTRAINT_SQL)
    else:
        op.drop_constraint(OLD, "cases", type_="unique")
    op.create_index(NEW, "cases", COLUMNS, unique=True, postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))


def downgrade() -> None:
    op.drop_index(NEW, table_name="cases")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_cases(add=_CONSTRAINT_SQL)
    else:
        op.create_unique_constraint(OLD, "cases", COLUMNS)


def _rebuild_cases(*, without: str = "", add: str = "") -> None:
    """SQLite: the table ``cases`` made again from its own CREATE statement, minus or plus one
    table constraint, with its rows, indexes and triggers as they were."""
    conn = op.get_bind()
    create = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'cases'").scalar()
    others = [r[0] for r in conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'cases' AND type IN ('index', 'trigger') AND sql IS NOT NULL "
        "ORDER BY type, name")]
    assert isinstance(create, str)
    body = create[create.index("(") + 1: create.rindex(")")]
    parts = [p.strip() for p in _split_top_level(body)]
    if without:
        assert without in parts, f"cases has no {without!r}"
        parts.remove(without)
    if add:
        parts.append(add)
    conn.exec_driver_sql("CREATE TABLE _cases_new (\n\t" + ", \n\t".join(parts) + "\n)")
    conn.exec_driver_sql("INSERT INTO _cases_new SELECT * FROM cases")
    conn.exec_driver_sql("DROP TABLE cases")
    conn.exec_driver_sql("ALTER TABLE _cases_new RENAME TO cases")
    for sql in others:
        conn.exec_driver_sql(sql)


def _split_top_level(body: str) -> list[str]:
    """The comma-separated items of a CREATE TABLE body, commas inside parentheses kept."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(body[start:i])
            start = i + 1
    out.append(body[start:])
    return out
