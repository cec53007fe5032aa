"""The migrations build exactly the schema the models declare (what a deployment runs is what the
code expects), and the newest one can be undone and redone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workflow.db import Database
from workflow.models import Base


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], "the models and the migrations disagree; add a migration:\n" + "\n".join(map(str, diff))
