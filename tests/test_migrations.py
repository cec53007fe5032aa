"""The migrations build exactly the schema the models declare (what a deployment runs is what the
code expects), and the newest one can be undone and redone."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workflow.cases import drafts
from workflow.db import Database
from workflow.models import Base


def _modelled(name: str | None, type_: str, _parent: object) -> bool:
    """The search index (migration 0018) has no model: only its triggers write it, and on SQLite it
    is an FTS5 table with shadow tables of its own (tests/test_search.py checks it)."""
    return not (type_ == "table" and name is not None and name.startswith("case_search"))


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False,
                                                     "include_name": _modelled})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], "the models and the migrations disagree; add a migration:\n" + "\n".join(map(str, diff))


def test_the_newest_migrations_go_down_and_up_again_with_the_rows_and_triggers(tmp_path: Path) -> None:
    """0010 rebuilds SQLite's cases table (SQLite cannot drop a constraint): down to 0008 and up
    again on a file with rows keeps the rows, their foreign keys, the indexes and the triggers."""
    from sqlalchemy import text

    from tests.helpers import sqlite_database
    from workflow.migrate import downgrade, upgrade
    from workflow.people.directory import add_office, add_unit

    db = sqlite_database(tmp_path / "updown.db")
    with db.unit_of_work() as uow:
        office = add_office(uow.session, "updown", "測試區公所")
        unit = add_unit(uow.session, office, "civil", "民政課")
        uow.commit()
    cid = drafts.create_case(kind="training_report", unit_id=unit.id, roc_year=115, period="Q1", title="t",
                             actor=None, office_id=office.id, db=db)

    def schema() -> set[tuple[str, str]]:
        with db.engine.connect() as conn:
            return {(r[0], r[1]) for r in conn.execute(text(
                "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))}

    at_head = schema()
    downgrade(db, "0008")
    assert ("table", "office_revisions") not in schema()
    upgrade(db)
    assert schema() == at_head
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM cases")).scalars().all() == [cid]
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # switched back on after migrating
