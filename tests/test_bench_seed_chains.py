"""The benches' bulk-seeded cases carry real hash chains: the audit check passes on a seeded database."""

from __future__ import annotations

import random

from sqlalchemy import select

from caseflow.bench import chains, plan_calendar, search, web
from workflow.db import Database
from workflow.engine import audit
from workflow.models import Case, HistoryEvent, Office


def _breaks(db: Database, office_id: int) -> list[tuple[int, audit.Break | None]]:
    return [(cid, brk) for cid, brk in audit.verify(db, office_id=office_id) if brk is not None]


def _office_id(db: Database, code: str) -> int:
    with db.unit_of_work(write=False) as uow:
        oid = uow.session.scalar(select(Office.id).where(Office.code == code))
    assert oid is not None, code
    return oid


def test_the_web_bench_seed_verifies_and_a_changed_event_still_breaks_it(db: Database) -> None:
    seeded = web.seed(db, cases=60, offices=2)
    offices = [_office_id(db, code) for code in [*seeded["offices"], seeded["small"]]]
    with db.unit_of_work(write=False) as uow:
        events = uow.session.scalar(select(HistoryEvent.id).where(HistoryEvent.office_id == offices[0]).limit(1))
        longest = uow.session.scalar(select(Case.history_seq).where(Case.office_id == offices[0])
                                     .order_by(Case.history_seq.desc()).limit(1))
    assert events is not None and longest is not None and longest > 1  # chains of several events were seeded
    for oid in offices:
        assert _breaks(db, oid) == []
    # The check still bites on seeded data: a case whose head no longer matches its events is named.
    with db.unit_of_work() as uow:
        ev = uow.session.get(HistoryEvent, events)
        assert ev is not None
        tampered = ev.case_id
        uow.session.execute(Case.__table__.update().where(Case.id == tampered).values(history_head="0" * 64))
        uow.commit()
    found = _breaks(db, offices[0])
    assert [cid for cid, _ in found] == [tampered]


def test_the_search_and_calendar_bench_seeds_verify(db: Database) -> None:
    code = search.seed(db, 40)
    assert _breaks(db, _office_id(db, code)) == []
    code, office_id, _uid, units = plan_calendar._office(db)
    plan_calendar._fill(db, office_id, units, 30, random.Random(1))
    with db.unit_of_work(write=False) as uow:
        n = uow.session.scalar(select(Case.id).where(Case.office_id == office_id).limit(1))
    assert n is not None
    assert _breaks(db, office_id) == []


def test_seal_links_each_case_from_the_genesis_as_a_transition_would() -> None:
    import datetime as dt

    at = dt.datetime(2026, 4, 10, 1, 2, 3, tzinfo=dt.UTC)
    rows = [{"case_id": c, "seq": s, "event": "created" if s == 1 else "transition", "at": at, "data": {}}
            for c in (7, 8) for s in (1, 2)]
    heads = chains.seal(rows)
    assert rows[0]["prev_hash"] == audit.GENESIS and rows[2]["prev_hash"] == audit.GENESIS
    assert rows[1]["prev_hash"] == rows[0]["hash"] and heads == {7: rows[1]["hash"], 8: rows[3]["hash"]}
    assert rows[0]["hash"] != rows[2]["hash"]  # the case id is in the hash
