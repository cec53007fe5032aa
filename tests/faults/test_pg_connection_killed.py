"""PostgreSQL connections killed mid-transaction (pg_terminate_backend): a 503, nothing half-written, no task sent."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine, event

from tests.conftest import OfficeFixture, make_office
from tests.helpers import case_state
from tests.web.conftest import Browser, forms, submitted, text
from web import create_app
from workflow.cases import writes
from workflow.db import Database
from workflow.engine import audit
from workflow.models import Case
from workflow.people import api_tokens

pytestmark = [pytest.mark.fault, pytest.mark.postgres]

# Where an approval is cut. On PostgreSQL a transition reads the case with the actor's roles, then
# writes the compare-and-set of the case row, its history event and its outbox rows in one statement
# (workflow.cases.one_trip): the connection dies at the read, or as the write is sent.
KILL_POINTS = {
    "case-load": r"SELECT\b.*\bactor_office\b",
    "transition-write": r"WITH upd AS\b",
}
# Where a saved draft's transaction is cut after its first write: the case row is updated, the
# history event (writes.write, several statements in one transaction) is not yet written.
EDIT_HISTORY_INSERT = r"INSERT INTO case_history\b"


@dataclass
class Killer:
    """Arms on a statement pattern; the next statement of the app's engine that matches has its
    connection's server process terminated (pg_terminate_backend, from a connection of our own)
    just before it is sent, once."""

    dsn: str
    pattern: re.Pattern[str] | None = None
    killed: list[int] = field(default_factory=list)

    def arm(self, pattern: str) -> None:
        self.pattern = re.compile(r"^\s*" + pattern, re.IGNORECASE | re.DOTALL)

    def __call__(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if self.pattern is None or not self.pattern.match(statement):
            return
        self.pattern = None
        pid = cursor.connection.info.backend_pid
        with psycopg.connect(self.dsn, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
            deadline = time.monotonic() + 30
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                assert time.monotonic() < deadline, f"backend {pid} still alive after pg_terminate_backend"
                time.sleep(0.02)
        self.killed.append(pid)


@dataclass
class Setup:
    app: Flask
    office: OfficeFixture
    killer: Killer
    told: list[tuple[int, ...]]  # what the after-commit hook (the relay) was handed


@pytest.fixture
def setup(db: Database, pg_db: Database, _password_hash: str, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    del db  # requested so that, with DATABASE_URL on PostgreSQL, the session's database exists and is migrated
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "DATABASE_URL": pg_db.url, "RATELIMIT_STORAGE_URI": "memory://",
                      "BACKGROUND_WORK": False})
    engine: Engine = app.extensions["caseflow_db"].engine
    assert engine.dialect.name == "postgresql"
    killer = Killer(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    told: list[tuple[int, ...]] = []
    writes.clear_listeners()
    writes.on_committed(told.append)  # stands in for the relay: "a task sent" is a call here
    event.listen(engine, "before_cursor_execute", killer)
    yield Setup(app, make_office(pg_db, _password_hash), killer, told)
    event.remove(engine, "before_cursor_execute", killer)
    writes.clear_listeners()


def _chief(s: Setup) -> Browser:
    b = Browser(s.app.test_client())
    assert b.login(s.office.logins["personnel_chief"]).status_code == 303
    return b


def _approve_form(b: Browser, cid: int) -> tuple[str, dict[str, str]]:
    action = f"/cases/{cid}/actions/approve"
    found = forms(b.get(f"/cases/{cid}").get_data(as_text=True))
    assert action in found
    return action, found[action]


def _no_breaks(s: Setup) -> None:
    breaks = [(cid, b) for cid, b in audit.verify(s.office.db, office_id=s.office.id) if b is not None]
    assert breaks == []


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_approval_whose_connection_dies_mid_transaction_is_a_503_and_writes_nothing(setup: Setup, point: str) -> None:
    s = setup
    cid = submitted(s.office)
    b = _chief(s)
    action, data = _approve_form(b, cid)
    before = case_state(s.office.db, cid)  # (state, version, history events, outbox rows)
    assert before[0] == "section_review"
    s.told.clear()

    s.killer.arm(KILL_POINTS[point])
    resp = b.client.post(action, data=data)
    assert len(s.killer.killed) == 1, "the kill point was never reached"
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
    assert "資料庫暫時無法連線" in text(resp) and "沒有儲存" in text(resp)
    # Oracle: the case row, its history and its outbox are exactly as before; nothing was sent.
    assert case_state(s.office.db, cid) == before
    assert s.told == []

    # The same form sent again (what the page asks) goes through once, on a fresh connection.
    resp = b.client.post(action, data=data)
    assert resp.status_code == 303, text(resp)
    state, version, events, outbox = case_state(s.office.db, cid)
    assert (state, version, events) == ("secretariat_review", before[1] + 1, before[2] + 1)
    assert outbox > before[3] and len(s.told) == 1 and len(s.told[0]) == outbox - before[3]
    _no_breaks(s)


def test_api_transition_whose_connection_dies_is_a_json_503_and_writes_nothing(setup: Setup) -> None:
    s = setup
    cid = submitted(s.office)
    token = api_tokens.issue(s.office.db, s.office.users["personnel_chief"], "fault").token
    client, headers = s.app.test_client(), {"Authorization": f"Bearer {token}"}
    before = case_state(s.office.db, cid)
    s.told.clear()
    body = {"trigger": "approve", "version": before[1]}

    s.killer.arm(KILL_POINTS["transition-write"])
    resp = client.post(f"/api/v1/cases/{cid}/transitions", json=body, headers=headers)
    assert len(s.killer.killed) == 1
    assert resp.status_code == 503 and resp.is_json and resp.get_json()["code"] == "unavailable"
    assert case_state(s.office.db, cid) == before and s.told == []

    resp = client.post(f"/api/v1/cases/{cid}/transitions", json=body, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["version"] == before[1] + 1
    assert case_state(s.office.db, cid)[:3] == ("secretariat_review", before[1] + 1, before[2] + 1)
    assert len(s.told) == 1
    _no_breaks(s)


def test_a_draft_save_whose_connection_dies_after_its_first_write_is_a_503_and_rolled_back(setup: Setup) -> None:
    s = setup
    cid = s.office.case("training_report")
    b = Browser(s.app.test_client())
    assert b.login(s.office.logins["personnel_staff"]).status_code == 303
    action = f"/cases/{cid}/edit"
    data = forms(b.get(action).get_data(as_text=True))[action]
    data["title"] = "115年第1季性別意識培力成果（改）"
    before = case_state(s.office.db, cid)
    with s.office.db.unit_of_work(write=False) as uow:
        title_before = uow.session.get_one(Case, cid).title
    seen: list[str] = []
    event.listen(s.app.extensions["caseflow_db"].engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: seen.append(statement.lstrip()[:20]))
    s.killer.arm(EDIT_HISTORY_INSERT)
    resp = b.client.post(action, data=data)
    assert len(s.killer.killed) == 1, "the kill point was never reached"
    assert any(st.upper().startswith("UPDATE CASES") for st in seen)  # cut after the case row's write
    assert resp.status_code == 503 and "沒有儲存" in text(resp)
    # Oracle: the UPDATE that ran before the kill was rolled back with its connection.
    assert case_state(s.office.db, cid) == before
    with s.office.db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(Case, cid).title == title_before
    assert b.client.post(action, data=data).status_code == 303  # sent again: saved once
    state, version, events, _outbox = case_state(s.office.db, cid)
    assert (state, version, events) == ("draft", before[1] + 1, before[2] + 1)
    _no_breaks(s)


def test_a_page_whose_read_connection_dies_is_a_503_and_the_next_one_loads(setup: Setup) -> None:
    s = setup
    cid = submitted(s.office)
    b = _chief(s)
    s.killer.arm(r"SELECT\b")  # the request's first read (the session's user)
    resp = b.get(f"/cases/{cid}")
    assert len(s.killer.killed) == 1
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
    assert b.get(f"/cases/{cid}").status_code == 200  # the pool replaced the dead connection
