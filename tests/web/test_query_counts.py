"""The chief's queue, the case page and the secretariat's queue (plain, and filtered and sorted)
run a constant number of SQL statements, whatever the number of cases in the queue and the length
of a case's history (rendered, not the kept page ``web.page_cache`` serves while nothing changed:
that is one statement)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, submitted
from workflow.cases import approval
from workflow.db import Database


def _count(b: Browser, db: Database, url: str) -> int:
    assert b.get(url).status_code == 200  # warm: registry sync, caches
    with db.count_statements() as n:
        assert b.get(url).status_code == 200
    return n[0]


def _grow(office: OfficeFixture, cid: int, rounds: int) -> None:
    """Send the case round the chief's review ``rounds`` times (longer history), ending in review."""
    for _ in range(rounds):
        approval.fire(cid, "return_for_revision", office.users["personnel_chief"], "請補充", db=office.db)
        approval.fire(cid, "submit", office.users["personnel_staff"], db=office.db)


def test_page_queries_do_not_grow_with_cases_or_history(
    app: Flask, as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    app.extensions["caseflow_page_cache"].entries = 0  # the pages' own statements, rendered every time
    first = submitted(office)
    to_secretariat = submitted(office)
    approval.fire(to_secretariat, "approve", office.users["personnel_chief"], db=office.db)
    chief, secretariat = as_user("personnel_chief"), as_user("secretariat")
    # 我的工作 filtered and sorted too: the same single statement for the queue, whatever it holds.
    pages = [(chief, "/"), (chief, f"/cases/{first}"), (secretariat, "/"),
             (chief, "/?sort=due&kind=training_report&year=115"),
             (secretariat, "/?sort=title&state=secretariat_review")]
    before = [_count(b, office.db, url) for b, url in pages]
    for _ in range(8):
        submitted(office)
        cid = submitted(office)
        approval.fire(cid, "approve", office.users["personnel_chief"], db=office.db)
    _grow(office, first, 5)
    after = [_count(b, office.db, url) for b, url in pages]
    assert after == before
