"""我的工作 marks the cases a person holds only as someone's delegate (代理): 「代理 張家豪（課長）」, in
both languages and in the API's queue; their own cases and the away person's own queue stay unmarked;
the mark goes with the delegation; and it costs a constant number of SQL statements."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy import update

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, submitted, text
from workflow import clock
from workflow.cases import approval
from workflow.models import Delegation, User
from workflow.people import api_tokens, directory, permissions
from workflow.views.held_for import HeldFor, held_for
from workflow.views.queues import queue_for

MARK = "代理 張家豪（課長）"
MARK_EN = "On behalf of 張家豪 (Section chief)"


def social(office: OfficeFixture) -> int:
    """A training report of the social unit its staff has sent to its chief: the social chief's own."""
    cid = office.case("training_report", unit="social")
    approval.fire(cid, "submit", office.users["social_staff"], db=office.db)
    return cid


def _delegate(office: OfficeFixture) -> int:
    """The personnel chief (張家豪) is away: the social chief acts as personnel's chief."""
    today = clock.today()
    with office.db.unit_of_work() as uow:
        s = uow.session
        chief = s.get_one(User, office.users["personnel_chief"])
        stand_in = s.get_one(User, office.users["social_chief"])
        chief.display_name = "張家豪"
        d = directory.delegate(s, chief, stand_in, "chief", today - dt.timedelta(days=2), today + dt.timedelta(days=3),
                               "休假")
        uow.commit()
        return d.id


def _row(b: Browser, case_id: int) -> str | None:
    """The text of the queue's row for ``case_id``, None when the queue does not list it."""
    html = b.get("/").get_data(as_text=True)
    for row in re.findall(r"<tr[ >].*?</tr>", html, flags=re.S):
        if f'href="/cases/{case_id}"' in row:
            return " ".join(re.sub(r"<[^>]+>", " ", row).split())
    return None


def test_delegate_sees_whom_they_hold_a_case_for(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    lent, own = submitted(office), social(office)
    _delegate(office)
    stand_in = as_user("social_chief")
    lent_row, own_row = _row(stand_in, lent), _row(stand_in, own)
    assert lent_row is not None and MARK in lent_row
    assert own_row is not None and "代理" not in own_row
    # The away chief's own queue lists the case, unmarked (it is theirs).
    chief_row = _row(as_user("personnel_chief"), lent)
    assert chief_row is not None and "代理" not in chief_row
    stand_in.get("/lang/en")
    assert MARK_EN in (_row(stand_in, lent) or "")
    assert "On behalf of" not in (_row(stand_in, own) or "")
    assert MARK not in text(stand_in.get("/"))


def test_the_mark_goes_with_the_delegation(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    lent = submitted(office)
    d = _delegate(office)
    stand_in = as_user("social_chief")
    assert MARK in (_row(stand_in, lent) or "")
    with office.db.unit_of_work() as uow:  # it ended yesterday
        uow.session.execute(update(Delegation).where(Delegation.id == d)
                            .values(valid_to=clock.today() - dt.timedelta(days=1)))
        uow.commit()
    assert _row(stand_in, lent) is None
    assert MARK not in text(stand_in.get("/"))


def test_held_for_names_the_principal_only_for_delegated_cases(office: OfficeFixture) -> None:
    lent, own = submitted(office), social(office)
    _delegate(office)
    user = office.users["social_chief"]
    items = queue_for(office.db, user)
    assert {i.case_id for i in items} >= {lent, own}
    with office.db.unit_of_work(write=False) as uow:
        found = held_for(office.db, uow.session, user, office.id, items)
        assert found == {lent: HeldFor(office.users["personnel_chief"], "張家豪", "chief")}
        # The away chief holds it in their own right.
        chief = office.users["personnel_chief"]
        assert held_for(office.db, uow.session, chief, office.id, queue_for(office.db, chief)) == {}


def test_held_for_costs_at_most_one_statement_whatever_the_queue(office: OfficeFixture) -> None:
    _delegate(office)
    user, today = office.users["social_chief"], clock.today()
    counts = []
    for n in (1, 6):
        for _ in range(n):
            submitted(office)
            social(office)
        items = queue_for(office.db, user)
        with office.db.unit_of_work(write=False) as uow:
            caps = permissions.capacities(uow.session, user, office.id, today)
            with office.db.count_statements() as counted:
                found = held_for(office.db, uow.session, user, office.id, items, caps=caps)
            counts.append(counted[0])
        assert len(found) == len({i.case_id for i in items if i.unit_id == office.units["personnel"]}) >= n
    assert counts == [1, 1]


def test_queue_page_statements_do_not_grow_with_delegated_cases(
        app: Flask, as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    app.extensions["caseflow_page_cache"].entries = 0  # count the page's own statements, rendered each time
    submitted(office)
    _delegate(office)
    stand_in = as_user("social_chief")

    def count() -> int:
        assert stand_in.get("/").status_code == 200
        with office.db.count_statements() as n:
            assert stand_in.get("/").status_code == 200
        return n[0]

    before = count()
    for _ in range(6):
        submitted(office)
        social(office)
    assert count() == before
    assert text(stand_in.get("/")).count(MARK) == 7


def test_api_queue_says_whom_an_item_is_held_for(app: Flask, office: OfficeFixture) -> None:
    lent, own = submitted(office), social(office)
    _delegate(office)
    token = api_tokens.issue(office.db, office.users["social_chief"], "test").token
    client = app.test_client()
    resp = client.get("/api/v1/queue", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_json()
    items = {i["id"]: i for i in resp.get_json()["items"]}
    assert items[own]["held_for"] is None
    assert items[lent]["held_for"] == {"user_id": office.users["personnel_chief"], "name": "張家豪", "role": "chief",
                                       "role_label": "課長", "label": MARK}
    en = client.get("/api/v1/queue", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert {i["id"]: i for i in en.get_json()["items"]}[lent]["held_for"]["label"] == MARK_EN
