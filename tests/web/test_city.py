"""The city group's side (issue 14): its reviewers belong to the city's own organisation, see what
every district office has filed, acknowledge it (備查) or send it back with a comment (the case
reopens in its office and its drafter is told), and compare the districts; they never see an
office's own steps, and no district person sees the comparison."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select

from tests.conftest import OfficeFixture
from tests.helpers import task_force_passes
from tests.web.conftest import Browser, text
from tests.web.test_api import api_client
from workflow.cases import approval
from workflow.db import Database
from workflow.models import Case, Notification, OutboxMessage
from workflow.notifications import handoffs
from workflow.people import api_tokens, directory, taoyuan


def filed(office: OfficeFixture, period: str) -> int:
    cid = office.case("training_report", period=period)
    u = office.users
    for trigger, who in (("submit", "personnel_staff"), ("approve", "personnel_chief"), ("approve", "secretariat")):
        approval.fire(cid, trigger, u[who], db=office.db)
    task_force_passes(office.db, office.id, cid)
    approval.fire(cid, "approve", u["convener"], db=office.db)
    approval.fire(cid, "file_with_city_group", u["liaison"], db=office.db)
    return cid


@pytest.fixture
def reviewer(db: Database, _password_hash: str) -> tuple[int, str]:
    """A reviewer of the city group's organisation: (user id, login)."""
    login = f"city.{uuid.uuid4().hex[:8]}"
    with db.unit_of_work() as uow:
        s = uow.session
        city, _created = taoyuan.seed_city(s)
        u = directory.add_user(s, city, login, "市府審查員", sex="F", password_hash=_password_hash)
        directory.grant(s, u, "city_reviewer")
        uow.commit()
        return u.id, login


def test_the_city_reviews_every_districts_filed_cases(browser: Callable[[], Browser], office: OfficeFixture,
                                                       office_factory: Callable[[], OfficeFixture],
                                                       reviewer: tuple[int, str]) -> None:
    other = office_factory()
    ours, theirs = filed(office, "Q1"), filed(other, "Q1")
    draft = office.case("training_report", period="Q2")
    city = browser()
    assert city.login(reviewer[1]).status_code == 303
    assert city.client.get("/").headers["Location"].endswith("/city")  # its work is what was filed
    listed = city.get("/city").get_data(as_text=True)
    assert f"/cases/{ours}" in listed and f"/cases/{theirs}" in listed and f"/cases/{draft}" not in listed
    assert city.get(f"/cases/{draft}").status_code == 404  # an office's own steps are not the city's
    # 備查 on one office's case; the other office's is sent back with a comment.
    assert city.submit(f"/cases/{ours}", f"/cases/{ours}/actions/city_acknowledge").status_code == 303
    back = city.submit(f"/cases/{theirs}", f"/cases/{theirs}/actions/return_for_revision",
                       comment="請補上各場次簽到表。")
    assert back.status_code == 303
    with office.db.unit_of_work(write=False) as uow:
        s = uow.session
        done, reopened = s.get_one(Case, ours), s.get_one(Case, theirs)
        assert done.state == "acknowledged" and done.delivered_at is not None
        assert reopened.state == "returned" and reopened.delivered_at is None  # owed again
        notice = s.scalars(select(OutboxMessage.id).where(OutboxMessage.topic == handoffs.HANDOFF_TOPIC,
                                                          OutboxMessage.office_id == other.id)
                           .order_by(OutboxMessage.id.desc()).limit(1)).one()
    assert handoffs.process_outbox(office.db, notice).status == "told"
    with office.db.unit_of_work(write=False) as uow:
        told = uow.session.scalars(select(Notification).where(Notification.case_id == theirs)
                                   .order_by(Notification.id.desc()).limit(1)).one()
    assert told.user_id == other.users["personnel_staff"]
    # who sent it back, not "the system"
    assert "已由 市府審查員 退回修正，目前在「退回修正」。意見：請補上各場次簽到表。" in told.body
    assert f"/cases/{ours}" in city.get("/city?status=done").get_data(as_text=True)
    assert f"/cases/{ours}" not in city.get("/city").get_data(as_text=True)  # awaiting: no longer
    # Once sent back it is the office's again: the city finds nothing at its address.
    assert city.get(f"/cases/{theirs}").status_code == 404


def test_the_districts_compared_for_the_city_only(browser: Callable[[], Browser], as_user: Callable[[str], Browser],
                                                  office: OfficeFixture, reviewer: tuple[int, str]) -> None:
    cid = filed(office, "Q1")
    with office.db.unit_of_work() as uow:  # due on 115.04.10, filed only now: late
        uow.session.get_one(Case, cid).due_date = dt.date(2026, 4, 10)
        uow.commit()
    city = browser()
    city.login(reviewer[1])
    page = text(city.get("/city/districts?year=115"))
    assert f"桃園市測試{office.code}區公所" in page and "各區準時率" in page
    rows = list(csv.reader(io.StringIO(city.get("/city/districts.csv?year=115").data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["區公所", "第1季準時率"]
    ours = next(r for r in rows if f"測試{office.code}" in r[0])
    # One case due in the year (in its second quarter), filed late; its task force keeps the rule.
    assert ours[1:7] == ["", "0%", "", "", "0%", "1"] and ours[10] == "符合"
    for who in ("liaison", "city", "admin"):  # a district's people, its own city reviewer included
        assert as_user(who).get("/city/districts").status_code == 403


def test_the_city_lists_filed_cases_through_the_api_too(app: object, office: OfficeFixture,
                                                        office_factory: Callable[[], OfficeFixture],
                                                        reviewer: tuple[int, str]) -> None:
    other = office_factory()
    ours, theirs = filed(office, "Q3"), filed(other, "Q3")
    token = api_tokens.issue(office.db, reviewer[0], "city").token
    call = api_client(app, token)  # type: ignore[arg-type]
    listed = {c["id"] for c in call("GET", "/api/v1/cases?limit=200").get_json()["items"]}
    assert {ours, theirs} <= listed
    assert call("GET", f"/api/v1/cases/{ours}").get_json()["state"] == "filed"
