"""Backup and restore as the README says (pg_dump in the custom format, pg_restore into a new
database): the restored database has every case, its history and its documents' rows, the history
is still append-only, and ``caseflow audit verify`` passes on it.

Source and target are databases of their own on the test server (made and dropped here), so the
dump holds only this test's office and nothing another test broke on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from documents import service as documents
from tests.conftest import PG_DEFAULT, make_office
from workflow.cases import approval
from workflow.db import Database
from workflow.engine import registry
from workflow.migrate import upgrade
from workflow.models import Case, Document, HistoryEvent, OutboxMessage

pytestmark = [pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[1]


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else os.environ.get("CASEFLOW_TEST_PG_URL", PG_DEFAULT)


def libpq(url: str) -> str:
    """The URL as pg_dump and psql take it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    base = make_url(server_url())
    suffix = uuid.uuid4().hex[:8]
    names = (f"{base.database}_backup_{suffix}", f"{base.database}_restored_{suffix}")
    admin = Database(base.set(database="postgres").render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield tuple(base.set(database=n).render_as_string(hide_password=False) for n in names)  # type: ignore[misc]
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def tools() -> tuple[str, str]:
    dump, restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if dump is None or restore is None:
        pytest.fail("pg_dump and pg_restore are needed (Debian: postgresql-client)")
    return dump, restore


def test_a_pg_dump_restored_into_a_new_database_verifies(databases: tuple[str, str], _password_hash: str,
                                                         tmp_path: Path) -> None:
    pg_dump, pg_restore = tools()
    source_url, target_url = databases
    source = Database(source_url)
    upgrade(source)
    registry.default().sync(source)
    office = make_office(source, _password_hash)
    cases = [office.case("training_report") for _ in range(3)]
    for cid in cases:
        approval.fire(cid, "submit", office.users["personnel_staff"], db=source)
    approval.fire(cases[0], "approve", office.users["personnel_chief"], db=source)
    with source.unit_of_work(write=False) as uow:
        outbox = list(uow.session.scalars(select(OutboxMessage.id).where(OutboxMessage.topic == "document.render")))
    for i in outbox:  # documents too: their rows and their events in the chains
        documents.process_outbox(source, i, convert_formats=False)

    def summary(db: Database) -> tuple[list[tuple[int, str, int, str]], int, int]:
        with db.unit_of_work(write=False) as uow:
            s = uow.session
            heads = [tuple(r) for r in s.execute(select(Case.id, Case.state, Case.history_seq, Case.history_head)
                                                  .order_by(Case.id))]
            return heads, s.scalar(select(func.count()).select_from(HistoryEvent)), \
                s.scalar(select(func.count()).select_from(Document))

    before = summary(source)
    assert before[2] == len(outbox) > 0
    source.dispose()

    dump = tmp_path / "caseflow.dump"
    subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={dump}", libpq(source_url)], check=True,
                   timeout=300)
    subprocess.run([pg_restore, "--no-owner", "--exit-on-error", f"--dbname={libpq(target_url)}", str(dump)],
                   check=True, timeout=300)

    env = {**os.environ, "DATABASE_URL": target_url, "CASEFLOW_INSTANCE": str(tmp_path / "instance")}
    verify = subprocess.run([sys.executable, "-m", "caseflow", "audit", "verify"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.strip() == f"ok: {len(cases)} case histories verified"

    target = Database(target_url)
    try:
        assert summary(target) == before
        # The history's guards came back with it: still append-only.
        with pytest.raises(DBAPIError, match="append-only"), target.engine.begin() as conn:
            conn.execute(text("UPDATE case_history SET comment = 'x'"))
        # And the restored database is at the migrations' head: caseflow init finds nothing to do.
        init = subprocess.run([sys.executable, "-m", "caseflow", "init"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert init.returncode == 0, init.stderr
    finally:
        target.dispose()
