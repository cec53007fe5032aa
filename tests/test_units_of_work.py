"""How units of work end: a read-only unit commits (keeping the connection's prepared statements),
and never writes what was changed in it; an uncommitted write unit leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from tests.conftest import OfficeFixture
from workflow.db import Database
from workflow.models import Case


@pytest.fixture
def one_connection(pg_db: Database) -> Iterator[Database]:
    """A database whose units all run on the same single connection (what the assertions read)."""
    database = Database(pg_db.url, pool_size=1)
    yield database
    database.dispose()


@pytest.mark.postgres
def test_read_units_keep_the_statements_postgresql_prepared(one_connection: Database) -> None:
    # psycopg prepares a statement on its fifth run and forgets them all on a ROLLBACK: read units
    # that ended by rolling back (every web request's) had PostgreSQL plan each statement anew.
    for _ in range(7):
        with one_connection.unit_of_work(write=False) as uow:
            assert uow.session.execute(text("SELECT 424242 + :n"), {"n": 1}).scalar() == 424243
    with one_connection.unit_of_work(write=False) as uow:
        prepared = uow.session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert any("424242" in statement for statement in prepared), prepared


def test_a_change_made_in_a_read_unit_is_not_written(db: Database, office: OfficeFixture) -> None:
    cid = office.case("training_report")
    with db.unit_of_work(write=False) as uow:
        case = uow.session.get_one(Case, cid)
        title = case.title
        case.title = "不該寫入的標題"  # a read unit holding a change ends by rolling back
    with db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(Case.title).where(Case.id == cid)) == title


def test_an_uncommitted_write_unit_leaves_nothing(db: Database, office: OfficeFixture) -> None:
    cid = office.case("training_report")
    with db.unit_of_work() as uow:
        title = uow.session.get_one(Case, cid).title
        uow.session.get_one(Case, cid).title = "沒有提交"
        uow.session.flush()
    with db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(Case.title).where(Case.id == cid)) == title
