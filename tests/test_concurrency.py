"""Two people acting on the same case at once (R2): exactly one wins, the other gets Conflict naming
who acted first, and nothing is half-applied.

PostgreSQL has real row locks, so the race is run there: both threads load the case, meet at a barrier
just before their compare-and-set, then write together. SQLite serialises writers (BEGIN IMMEDIATE), so
there the portable guard is the expected version, tested on a database file of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OfficeFixture, make_office
from tests.helpers import case_state, run_together, sqlite_database, task_force_decides
from workflow.cases import approval, one_trip, writes
from workflow.db import Database
from workflow.errors import Conflict, TransitionNotAllowed

# Every transition also writes one outbox row that tells whoever now holds the case (its hand-off).
NOTICE = 1
TO_TASK_FORCE = [("submit", "secretariat_staff"), ("approve", "secretariat_chief"), ("approve", "secretariat")]


def at_task_force(office: OfficeFixture) -> int:
    """A task force meeting case waiting for the convener (entering `approved` queues its minutes)."""
    cid = office.case("task_force_meeting")
    for trigger, who in TO_TASK_FORCE:
        approval.fire(cid, trigger, office.users[who], db=office.db)
    task_force_decides(office.db, cid)  # the meeting is held: the convener may approve its case
    return cid


@pytest.fixture
def pg_office(pg_db: Database, _password_hash: str) -> OfficeFixture:
    return make_office(pg_db, _password_hash)


@contextmanager
def both_loaded_first() -> Iterator[None]:
    """Within the block, every writer waits at a barrier for the other just before its
    compare-and-set: both racers have loaded the case before either writes, the window where a lost
    update would happen without the version check."""
    barrier = threading.Barrier(2, timeout=30)
    # A transition's compare-and-set (on PostgreSQL one statement with its history and outbox rows).
    real = one_trip.write_transition

    def write_after_both_loaded(*args: Any, **kwargs: Any) -> tuple[int, ...]:
        barrier.wait()
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(one_trip, "write_transition", write_after_both_loaded)
        yield


def _one_winner(results: list[Any], names: list[str]) -> tuple[int, Conflict]:
    winners = [i for i, r in enumerate(results) if isinstance(r, writes.Result)]
    losers = [r for r in results if not isinstance(r, writes.Result)]
    assert len(winners) == 1, f"expected exactly one success, got {results}"
    assert len(losers) == 1 and isinstance(losers[0], Conflict), f"the other must get Conflict, got {losers}"
    conflict = losers[0]
    winner = names[winners[0]]
    assert conflict.by == winner
    assert f"changed by {winner} at" in conflict.message_en  # who acted first, in words
    assert f"已由{winner}於" in conflict.message
    return winners[0], conflict


@pytest.mark.fault
@pytest.mark.postgres
@pytest.mark.parametrize("with_version", [False, True], ids=["no-expected-version", "expected-version"])
@pytest.mark.parametrize("second", ["approve", "return_for_revision"])
def test_two_conveners_at_once_on_postgres(pg_office: OfficeFixture, with_version: bool, second: str) -> None:
    db = pg_office.db
    cid = at_task_force(pg_office)
    state, version, events, outbox = case_state(db, cid)
    assert state == "task_force_review"
    expected = version if with_version else None
    u = pg_office.users
    calls: list[Callable[[], Any]] = [
        lambda: approval.approve(cid, u["convener"], expected_version=expected, db=db),
        lambda: approval.fire(cid, second, u["deputy_convener"], "請補充會議紀錄", expected, db=db),
    ]
    with both_loaded_first():
        results = run_together(*calls)
    won, conflict = _one_winner(results, ["convener", "deputy_convener"])
    assert conflict.current_version == version + 1
    dest = "approved" if won == 0 or second == "approve" else "returned"
    minutes = 1 if dest == "approved" else 0  # entering `approved` queues the minutes, once
    assert case_state(db, cid) == (dest, version + 1, events + 1, outbox + minutes + NOTICE)


@pytest.mark.fault
@pytest.mark.postgres
def test_double_click_on_postgres(pg_office: OfficeFixture) -> None:
    """The same chief approving twice at once (two tabs, a double click): one approval."""
    db = pg_office.db
    cid = pg_office.case("training_report")
    approval.submit(cid, pg_office.users["personnel_staff"], db=db)
    _state, version, events, outbox = case_state(db, cid)
    chief = pg_office.users["personnel_chief"]
    with both_loaded_first():
        results = run_together(lambda: approval.approve(cid, chief, db=db),
                               lambda: approval.approve(cid, chief, db=db))
    _one_winner(results, ["personnel_chief", "personnel_chief"])
    # secretariat_review queues the memo and the result table for this kind.
    assert case_state(db, cid) == ("secretariat_review", version + 1, events + 1, outbox + 2 + NOTICE)


@pytest.mark.fault
@pytest.mark.postgres
def test_many_rounds_without_instrumentation_on_postgres(pg_office: OfficeFixture) -> None:
    """Plain threads released together, with the version each saw: never two winners."""
    db = pg_office.db
    u = pg_office.users
    for _round in range(5):
        cid = at_task_force(pg_office)
        _state, version, events, _outbox = case_state(db, cid)
        results = run_together(
            lambda cid=cid, v=version: approval.approve(cid, u["convener"], expected_version=v, db=db),
            lambda cid=cid, v=version: approval.approve(cid, u["deputy_convener"], expected_version=v, db=db),
        )
        _one_winner(results, ["convener", "deputy_convener"])
        assert case_state(db, cid)[:3] == ("approved", version + 1, events + 1)


# -- SQLite -------------------------------------------------------------------------------------
@pytest.fixture
def sqlite_office(tmp_path: Path, _password_hash: str) -> Iterator[OfficeFixture]:
    db = sqlite_database(tmp_path / "race.db")
    office = make_office(db, _password_hash)
    yield office
    db.dispose()


@pytest.mark.fault
def test_stale_expected_version_on_sqlite(sqlite_office: OfficeFixture) -> None:
    db = sqlite_office.db
    u = sqlite_office.users
    cid = at_task_force(sqlite_office)
    _state, seen, _events, _outbox = case_state(db, cid)  # both conveners open the page at this version
    approval.approve(cid, u["deputy_convener"], expected_version=seen, db=db)
    after = case_state(db, cid)
    with pytest.raises(Conflict) as err:
        approval.return_for_revision(cid, u["convener"], "議程第二案請修正", expected_version=seen, db=db)
    assert (err.value.by, err.value.expected_version, err.value.current_version) == ("deputy_convener", seen, seen + 1)
    assert "changed by deputy_convener at" in err.value.message_en
    assert case_state(db, cid) == after  # nothing written by the stale attempt


@pytest.mark.fault
def test_racing_threads_on_sqlite(sqlite_office: OfficeFixture) -> None:
    """SQLite serialises the writers; with the version both saw, the later one gets Conflict."""
    db = sqlite_office.db
    u = sqlite_office.users
    cid = at_task_force(sqlite_office)
    _state, version, events, outbox = case_state(db, cid)
    results = run_together(
        lambda: approval.approve(cid, u["convener"], expected_version=version, db=db),
        lambda: approval.approve(cid, u["deputy_convener"], expected_version=version, db=db),
    )
    _one_winner(results, ["convener", "deputy_convener"])
    assert case_state(db, cid) == ("approved", version + 1, events + 1, outbox + 1 + NOTICE)


@pytest.mark.fault
def test_racing_threads_without_versions_on_sqlite(sqlite_office: OfficeFixture) -> None:
    """Without a version, the later writer sees the new state: a clear refusal, still one approval."""
    db = sqlite_office.db
    u = sqlite_office.users
    cid = at_task_force(sqlite_office)
    _state, version, events, outbox = case_state(db, cid)
    results = run_together(lambda: approval.approve(cid, u["convener"], db=db),
                           lambda: approval.approve(cid, u["deputy_convener"], db=db))
    assert sum(isinstance(r, writes.Result) for r in results) == 1, results
    loser = next(r for r in results if not isinstance(r, writes.Result))
    assert isinstance(loser, Conflict | TransitionNotAllowed), loser
    assert case_state(db, cid) == ("approved", version + 1, events + 1, outbox + 1 + NOTICE)


def test_the_conflict_names_who_acted_not_the_worker_that_wrote_a_document_since(
        sqlite_office: OfficeFixture) -> None:
    """The staff member submits; the worker then records the generated 簽 in the history; a chief
    approving from the page loaded before the submit is told the staff member acted first."""
    from sqlalchemy import select

    from documents import service as documents
    from workflow.models import HistoryEvent, OutboxMessage

    db, u = sqlite_office.db, sqlite_office.users
    cid = sqlite_office.case("training_report")
    _state, seen, _events, _outbox = case_state(db, cid)  # the chief's page, before the submit
    approval.submit(cid, u["personnel_staff"], db=db)
    with db.unit_of_work(write=False) as uow:
        outbox = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == cid)))
        submit_at = uow.session.scalars(select(HistoryEvent.at).where(
            HistoryEvent.case_id == cid, HistoryEvent.trigger == "submit")).one()
    for i in outbox:
        documents.process_outbox(db, i, convert_formats=False)
    with db.unit_of_work(write=False) as uow:
        last = uow.session.scalars(select(HistoryEvent).where(HistoryEvent.case_id == cid)
                                   .order_by(HistoryEvent.seq.desc()).limit(1)).one()
        assert (last.event, last.actor_id) == ("document", None)  # the worker's, after the submit
    with pytest.raises(Conflict) as err:
        approval.approve(cid, u["personnel_chief"], expected_version=seen, db=db)
    assert (err.value.by, err.value.at) == ("personnel_staff", submit_at)
    assert "已由personnel_staff於" in err.value.message and "changed by personnel_staff at" in err.value.message_en


def test_only_worker_events_are_appended_without_a_version() -> None:
    with pytest.raises(ValueError, match="not an appended event"):
        writes.record_event(1, "transition", data={})


def test_concurrent_transitions_in_one_office_each_raise_its_revision_once(pg_office: OfficeFixture) -> None:
    """The office revision (``office_revisions``, what ``web.page_cache`` keys 我的工作 by) is raised
    once per transaction, although each approval writes several rows the triggers watch (the case,
    its history, notifications): eight approvals committing together in one office all succeed, and
    none of their raises is lost or doubled, so it moves by exactly eight."""
    from sqlalchemy import func, select

    from workflow.models import OfficeRevision

    db = pg_office.db
    cases = []
    for _ in range(8):
        cid = pg_office.case("training_report")
        approval.fire(cid, "submit", pg_office.users["personnel_staff"], db=db)
        cases.append(cid)

    def revision() -> int:
        with db.engine.connect() as conn:
            return int(conn.scalar(select(func.coalesce(func.sum(OfficeRevision.revision), 0))
                                   .where(OfficeRevision.office_id.in_((0, pg_office.id)))) or 0)

    before = revision()
    results = run_together(*[
        (lambda c=cid: approval.fire(c, "approve", pg_office.users["personnel_chief"], db=db)) for cid in cases])
    assert all(isinstance(r, writes.Result) for r in results), results
    assert revision() == before + 8
