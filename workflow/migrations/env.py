"""Alembic environment: the URL and connection come from caseflow (workflow.migrate), not alembic.ini."""

from __future__ import annotations

from alembic import context

from workflow.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        from workflow.db import normalise_url

        engine = create_engine(normalise_url(config.get_main_option("sqlalchemy.url") or ""))
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata,
                              render_as_batch=conn.dialect.name == "sqlite")
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
