"""Small helpers shared by the core tests: a private database, history counts, racing threads."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from workflow.db import Database
from workflow.engine import registry
from workflow.migrate import upgrade
from workflow.models import Case, HistoryEvent, OutboxMessage


def sqlite_database(path: Path) -> Database:
    """A migrated SQLite file of its own, for tests that must not touch the shared database."""
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    registry.default().sync(database)
    return database


def case_state(db: Database, case_id: int) -> tuple[str, int, int, int]:
    """(state, version, history events, outbox rows) of a case, read in one statement."""
    events = select(func.count()).select_from(HistoryEvent).where(HistoryEvent.case_id == case_id)
    outbox = select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.payload["case_id"].as_integer() == case_id)
    with db.engine.connect() as conn:
        state, version, n, m = conn.execute(select(
            Case.state, Case.version, events.scalar_subquery(), outbox.scalar_subquery()).where(Case.id == case_id)
        ).one()
    return state, version, n, m


def run_together(*calls: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Start every call in its own thread at the same moment; return each result or exception."""
    start = threading.Barrier(len(calls), timeout=timeout)
    out: list[Any] = [None] * len(calls)

    def run(i: int, fn: Callable[[], Any]) -> None:
        try:
            start.wait()
            out[i] = fn()
        except BaseException as exc:  # handed back to the test, which asserts on it
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racing thread never finished"
    return out


def task_force_passes(db: Database, office_id: int, *case_ids: int, meeting_case: int | None = None) -> int:
    """A quorate meeting held today passes these cases (seating a task force of six first if the
    office has none): what the task force's approval needs. Returns the meeting's id."""
    from workflow import clock
    from workflow.registers import meetings, task_force

    today = clock.today()
    with db.unit_of_work() as uow:
        s = uow.session
        if not task_force.in_office(s, office_id, today):
            for i, sex in enumerate("FMFMFM"):
                task_force.add_member(s, office_id, None, name=f"委員{i + 1}", sex=sex, internal=i < 4,
                                      role="convener" if i == 0 else "member",
                                      seat="unit_chief" if i < 4 else "external_civil",
                                      term_start=today.replace(month=1, day=1))
        # A meeting's own case has its notice sent a week before (a notice is dated before its meeting).
        notice = today - dt.timedelta(days=7) if meeting_case is not None else None
        m = meetings.hold(s, office_id, None, held_on=today, place="第一會議室", passes=case_ids,
                          meeting_case_id=meeting_case, notice_on=notice)
        uow.commit()
        return m.id


def task_force_decides(db: Database, case_id: int) -> int:
    """``task_force_passes`` for one case awaiting the task force, whatever its kind and office (a
    meeting's own case is approved by holding that meeting)."""
    with db.engine.connect() as conn:
        office_id, kind = conn.execute(select(Case.office_id, Case.kind).where(Case.id == case_id)).one()
    if kind == "task_force_meeting":
        return task_force_passes(db, office_id, meeting_case=case_id)
    return task_force_passes(db, office_id, case_id)
