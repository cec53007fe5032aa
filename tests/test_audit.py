"""The history is append-only and tamper-evident (R8).

The database refuses UPDATE and DELETE on case_history (and TRUNCATE on PostgreSQL). Someone who can
get past that (a superuser with triggers off, or whoever can drop SQLite's trigger) leaves a broken
hash chain, which ``audit.verify`` and ``caseflow audit verify`` name: case and event.

Tampering happens only in databases of this module's own (a SQLite file in a temporary folder, a
PostgreSQL database created and dropped here), never in the suite's shared database, where
``caseflow audit verify`` must keep passing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.conftest import PG_DEFAULT, OfficeFixture, make_office
from tests.helpers import case_state, sqlite_database
from workflow.cases import approval, writes
from workflow.db import Database
from workflow.engine import audit, registry
from workflow.migrate import upgrade
from workflow.models import HistoryEvent

CASEFLOW = str(Path(sys.executable).with_name("caseflow"))


def _pg_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else os.environ.get("CASEFLOW_TEST_PG_URL", PG_DEFAULT)


@pytest.fixture(scope="module")
def private_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = sqlite_database(tmp_path_factory.mktemp("audit") / "audit.db")
    yield database
    database.dispose()


@contextmanager
def own_pg_database() -> Iterator[Database]:
    """A migrated PostgreSQL database created for the caller and dropped after it."""
    url = make_url(Database(_pg_url()).url)
    name = f"caseflow_audit_{uuid.uuid4().hex[:8]}"
    admin = Database(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(database)
        registry.default().sync(database)
        yield database
    finally:
        database.dispose()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def private_pg() -> Iterator[Database]:
    with own_pg_database() as database:
        yield database


@pytest.fixture(params=["sqlite", "postgresql"])
def private_db(request: pytest.FixtureRequest) -> Database:
    """A migrated database of this module's own, on each backend."""
    database: Database = request.getfixturevalue(f"private_{'pg' if request.param == 'postgresql' else 'sqlite'}")
    return database


@pytest.fixture
def office(private_db: Database, _password_hash: str) -> OfficeFixture:
    """A fresh office in this module's own database (tampering never reaches the shared one)."""
    return make_office(private_db, _password_hash)


def reviewed_case(office: OfficeFixture) -> int:
    """A case with five events: created, submitted, returned with a comment, resubmitted, approved."""
    u, db = office.users, office.db
    cid = office.case("training_report")
    approval.submit(cid, u["personnel_staff"], db=db)
    approval.return_for_revision(cid, u["personnel_chief"], "第2列時數請依簽到表更正", db=db)
    approval.submit(cid, u["personnel_staff"], db=db)
    approval.approve(cid, u["personnel_chief"], db=db)
    return cid


def event_id(db: Database, cid: int, seq: int) -> int:
    with db.engine.connect() as conn:
        found = conn.scalar(select(HistoryEvent.id).where(HistoryEvent.case_id == cid, HistoryEvent.seq == seq))
    assert found is not None
    return int(found)


def breaks(db: Database, office_id: int) -> dict[int, audit.Break | None]:
    return dict(audit.verify(db, office_id=office_id))


# -- the database refuses ----------------------------------------------------------------------
REFUSED = {
    "update": "UPDATE case_history SET comment = '已更正' WHERE case_id = :cid AND seq = 3",
    "delete": "DELETE FROM case_history WHERE case_id = :cid AND seq = 5",
    "delete-all": "DELETE FROM case_history WHERE case_id = :cid",
}


@pytest.mark.fault
@pytest.mark.parametrize("statement", sorted(REFUSED))
def test_history_cannot_be_changed(office: OfficeFixture, statement: str) -> None:
    db = office.db
    cid = reviewed_case(office)
    before = case_state(db, cid)
    with db.engine.connect() as conn, pytest.raises(DBAPIError) as err:
        try:
            conn.execute(text(REFUSED[statement]), {"cid": cid})
        finally:
            conn.rollback()  # if the database ever let it through, the shared rows still survive
    assert "append-only" in str(err.value)
    assert case_state(db, cid) == before
    assert breaks(db, office.id) == {cid: None}


@pytest.mark.fault
def test_history_cannot_be_truncated_on_postgres(private_pg: Database, _password_hash: str) -> None:
    office = make_office(private_pg, _password_hash)
    cid = reviewed_case(office)
    with private_pg.engine.connect() as conn, pytest.raises(DBAPIError) as err:
        try:
            conn.execute(text("TRUNCATE case_history"))
        finally:
            conn.rollback()
    assert "append-only" in str(err.value)
    assert case_state(private_pg, cid)[2] == 5


# -- someone gets past it ----------------------------------------------------------------------
def tamper(db: Database, sql: str, **params: Any) -> None:
    """Run ``sql`` on case_history the way an attacker with too many rights would."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            triggers = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'case_history'")).all()
            assert triggers, "the append-only triggers are missing"
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            conn.execute(text(sql), params)
            for _name, create in triggers:
                conn.execute(text(create))
        else:  # a superuser: triggers off for this transaction only
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(sql), params)
        conn.commit()


TAMPERING: dict[str, tuple[str, int, int | None, str]] = {
    # name: (statement, the event verify must name, the row it points at (seq), words in the problem)
    "comment rewritten": ("UPDATE case_history SET comment = '同意' WHERE case_id = :cid AND seq = 3",
                          3, 3, "does not match its hash"),
    "approver swapped": ("UPDATE case_history SET actor_id = actor_id + 1 WHERE case_id = :cid AND seq = 5",
                         5, 5, "does not match its hash"),
    "return removed": ("DELETE FROM case_history WHERE case_id = :cid AND seq = 3", 3, 4, "#3 is missing"),
    "last event removed": ("DELETE FROM case_history WHERE case_id = :cid AND seq = 5", 5, None,
                           "says 5 events, found 4"),
}


@pytest.mark.fault
@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_verify_names_the_tampered_case_and_event(office: OfficeFixture, how: str) -> None:
    db = office.db
    untouched = reviewed_case(office)
    cid = office.case("outreach_event")
    u = office.users
    approval.submit(cid, u["social_staff"], db=db)
    approval.return_for_revision(cid, u["social_chief"], "請補上活動照片說明", db=db)
    approval.submit(cid, u["social_staff"], db=db)
    approval.approve(cid, u["social_chief"], db=db)
    sql, seq, row, words = TAMPERING[how]
    ids = {n: event_id(db, cid, n) for n in range(1, 6)}
    assert breaks(db, office.id) == {untouched: None, cid: None}

    tamper(db, sql, cid=cid)

    found = breaks(db, office.id)
    assert found[untouched] is None
    broken = found[cid]
    assert broken is not None, f"{how}: verify found nothing"
    assert (broken.case_id, broken.seq, broken.event_id) == (cid, seq, ids[row] if row else None)
    assert words in broken.problem
    assert f"case {cid} event #{seq}" in str(broken)


@pytest.mark.fault
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_audit_verify_command_exits_1_naming_the_break(backend: str, tmp_path: Path, _password_hash: str) -> None:
    """`caseflow audit verify` walks the whole database: 0 while intact, 1 naming the broken link after.
    A database of its own: the module's shared one holds the other tests' tampering."""
    with ExitStack() as stack:
        if backend == "sqlite":
            db = sqlite_database(tmp_path / "verify.db")
            stack.callback(db.dispose)
        else:
            db = stack.enter_context(own_pg_database())
        office = make_office(db, _password_hash)
        env = {**os.environ, "DATABASE_URL": db.url, "CASEFLOW_INSTANCE": str(tmp_path)}
        env.pop("REDIS_URL", None)
        cid = reviewed_case(office)
        ok = subprocess.run([CASEFLOW, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
        assert (ok.returncode, ok.stdout.strip()) == (0, "ok: 1 case histories verified"), ok.stderr

        tamper(db, "UPDATE case_history SET comment = '同意' WHERE case_id = :cid AND seq = 3", cid=cid)
        bad = subprocess.run([CASEFLOW, "audit", "verify"], env=env, capture_output=True, text=True, timeout=120)
        assert bad.returncode == 1, (bad.stdout, bad.stderr)
        assert f"case {cid} event #3 (id {event_id(db, cid, 3)})" in bad.stderr
        assert "Traceback" not in bad.stderr


def test_verify_is_not_fooled_by_a_transition_committed_while_it_reads(private_db: Database,
                                                                      office: OfficeFixture) -> None:
    """A busy office must not look tampered: verify reads each case and its events as of one moment."""
    cid = reviewed_case(office)
    other_process = Database(private_db.url)  # another connection pool, like another web worker
    fired: list[writes.Result] = []

    def commit_meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Just before verify reads the events (after it has read the case row), the secretariat
        # approves the case in another process.
        if "FROM case_history" in statement and not fired:
            fired.append(approval.approve(cid, office.users["secretariat"], db=other_process))

    event.listen(private_db.engine, "before_cursor_execute", commit_meanwhile)
    try:
        result = breaks(private_db, office.id)
    finally:
        event.remove(private_db.engine, "before_cursor_execute", commit_meanwhile)
        other_process.dispose()
    assert fired, "the concurrent approval did not happen"
    assert result == {cid: None}, str(result[cid])
    assert breaks(private_db, office.id) == {cid: None}


# -- the history for an auditor ------------------------------------------------------------------
def test_the_history_export_states_each_event_and_the_chain_check(office: OfficeFixture) -> None:
    """What the export prints is the rows: names (代理 included), steps, comments, full hashes, and
    the result of checking the chain, which turns to a failure naming the event once it is tampered."""
    from documents import history_export

    db = office.db
    cid = reviewed_case(office)
    h = history_export.load(db, cid)
    assert h.intact and h.check.startswith("歷程雜湊鏈驗證通過：5 筆紀錄連續、未經修改")
    assert [r[0] for r in h.rows] == ["1", "2", "3", "4", "5"]
    returned = h.rows[2]
    assert returned[3:8] == ["退回修正", "personnel_chief", "", "課長審核 → 退回修正", "第2列時數請依簽到表更正"]
    with db.engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(select(HistoryEvent.hash).where(HistoryEvent.case_id == cid)
                                             .order_by(HistoryEvent.seq))]
    assert [r[8] for r in h.rows] == hashes
    assert history_export.table_rows(h)[-1][:3] == ["驗證", "", h.check]

    tamper(db, "UPDATE case_history SET comment = '同意' WHERE case_id = :cid AND seq = 3", cid=cid)
    after = history_export.load(db, cid)
    assert not after.intact
    assert after.check == "歷程雜湊鏈驗證失敗：第 3 筆紀錄的內容與其雜湊值不符（寫入後被修改過）。"
    assert after.rows[2][7] == "同意"  # it prints what the row now says, and says the row was changed
