"""A transition sends a fixed, small number of SQL statements, whatever the case's history holds
(issue 15: the speed of ``approval.fire`` is its round trips). On PostgreSQL: the load (the case,
the actor, their roles and delegations, the attachment count) and one statement that writes the
case, its history row and its outbox rows, which is its own transaction (no BEGIN, no COMMIT). On
SQLite: BEGIN IMMEDIATE, the load, the compare-and-set, the history row and one INSERT of every
outbox row. The speed itself lives in ``caseflow bench transitions``; this holds the shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import OfficeFixture
from workflow.cases import approval
from workflow.db import Database
from workflow.errors import TransitionNotAllowed

# Statements per transition (SQLAlchemy's before_cursor_execute: what the driver is asked to run).
EXPECTED = {"postgresql": 2, "sqlite": 5}


def _fire_counted(db: Database, *args: Any, **kwargs: Any) -> int:
    with db.count_statements() as n:
        approval.fire(*args, db=db, **kwargs)
    return n[0]


def test_a_transition_is_a_fixed_number_of_statements(office: OfficeFixture) -> None:
    db = office.db
    staff, chief = office.users["personnel_staff"], office.users["personnel_chief"]
    cid = office.case("training_report")
    approval.fire(cid, "submit", staff, db=db)  # warm: the registry's sync, compiled statements
    counts = []
    for _ in range(5):  # a longer history each round, with comments in the search index
        counts.append(_fire_counted(db, cid, "return_for_revision", chief, "請補正第二頁"))
        counts.append(_fire_counted(db, cid, "submit", staff))  # checks the attachments too
    # Entering secretariat review queues two documents and the hand-off: still one INSERT.
    counts.append(_fire_counted(db, cid, "approve", chief))
    assert counts == [EXPECTED[db.dialect]] * len(counts)


def test_a_refused_transition_writes_nothing_and_reads_once(office: OfficeFixture) -> None:
    db = office.db
    staff = office.users["personnel_staff"]
    cid = office.case("training_report")
    approval.fire(cid, "submit", staff, db=db)
    with db.count_statements() as n, pytest.raises(TransitionNotAllowed):
        approval.fire(cid, "submit", staff, db=db)  # submitted already
    assert n[0] == (1 if db.dialect == "postgresql" else 2)  # the load (after BEGIN IMMEDIATE on SQLite)
