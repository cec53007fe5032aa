"""GET /api/v1/notifications lists a person's notifications (what reached them, as a delegate for
whom, deadline reminders), newest first, in the request's language; POST .../read marks one read.
Nobody lists or marks another person's."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from tests.conftest import OfficeFixture
from tests.web.test_api import api_client, token_for
from workflow import clock
from workflow.cases import approval
from workflow.models import OutboxMessage, User
from workflow.notifications import handoffs
from workflow.people import directory


def hand_off(office: OfficeFixture, case_id: int, trigger: str, who: str, comment: str | None = None) -> None:
    result = approval.fire(case_id, trigger, office.users[who], comment, db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        notice = uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.id.in_(result.outbox_ids), OutboxMessage.topic == approval.HANDOFF_TOPIC)).one()
    handoffs.process_outbox(office.db, notice)


def test_a_persons_notifications_newest_first_in_the_requests_language(app: Flask, office: OfficeFixture) -> None:
    first, second = office.case("training_report"), office.case("training_report")
    hand_off(office, first, "submit", "personnel_staff")
    hand_off(office, second, "submit", "personnel_staff")
    chief = token_for(office, "personnel_chief")
    resp = api_client(app, chief)("GET", "/api/v1/notifications")
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()
    assert [i["case_id"] for i in data["items"]] == [second, first] and data["unread_count"] == 2
    assert data["next_cursor"] is None
    item = data["items"][0]
    assert item["kind"] == "handoff" and item["trigger"] == "submit" and item["read_at"] is None
    assert item["subject"] == "【待您處理】training_report test"
    assert item["case_url"] == f"/api/v1/cases/{second}" and item["on_behalf_of"] is None
    english = api_client(app, chief, lang="en")("GET", "/api/v1/notifications").get_json()["items"][0]
    assert english["subject"] == "[Waiting for you] training_report test"
    assert english["body"].startswith(f'Case {second} "training_report test" was submitted for review by')
    staff = api_client(app, token_for(office, "personnel_staff"))("GET", "/api/v1/notifications").get_json()
    assert staff["items"] == [] and staff["unread_count"] == 0  # the chief's are the chief's


def test_paging_and_unread_only(app: Flask, office: OfficeFixture) -> None:
    cases = [office.case("training_report") for _ in range(3)]
    for cid in cases:
        hand_off(office, cid, "submit", "personnel_staff")
    api = api_client(app, token_for(office, "personnel_chief"))
    page1 = api("GET", "/api/v1/notifications?limit=2").get_json()
    assert [i["case_id"] for i in page1["items"]] == [cases[2], cases[1]] and page1["next_cursor"]
    page2 = api("GET", f"/api/v1/notifications?limit=2&cursor={page1['next_cursor']}").get_json()
    assert [i["case_id"] for i in page2["items"]] == [cases[0]] and page2["next_cursor"] is None
    oldest = page2["items"][0]["id"]
    resp = api("POST", f"/api/v1/notifications/{oldest}/read")
    assert resp.status_code == 200 and resp.get_json()["id"] == oldest and resp.get_json()["read_at"]
    again = api("POST", f"/api/v1/notifications/{oldest}/read")
    assert again.status_code == 200 and again.get_json()["read_at"] == resp.get_json()["read_at"]
    unread = api("GET", "/api/v1/notifications?unread=true").get_json()
    assert [i["case_id"] for i in unread["items"]] == [cases[2], cases[1]] and unread["unread_count"] == 2
    assert api("GET", "/api/v1/notifications?limit=0").status_code == 422
    assert api("GET", "/api/v1/notifications?unread=maybe").status_code == 422


def test_a_delegate_sees_for_whom(app: Flask, office: OfficeFixture) -> None:
    today = clock.today()
    with office.db.unit_of_work() as uow:
        s = uow.session
        chief, stand_in = s.get(User, office.users["personnel_chief"]), s.get(User, office.users["civil_chief"])
        assert chief is not None and stand_in is not None
        directory.delegate(s, chief, stand_in, "chief", today, today + dt.timedelta(days=3))
        uow.commit()
    cid = office.case("training_report")
    hand_off(office, cid, "submit", "personnel_staff")
    [item] = api_client(app, token_for(office, "civil_chief"))("GET", "/api/v1/notifications").get_json()["items"]
    assert (item["case_id"], item["on_behalf_of_id"], item["on_behalf_of"]) == (
        cid, office.users["personnel_chief"], "personnel_chief")
    assert item["body"].endswith("您代理 personnel_chief 處理。")


def test_another_persons_notification_cannot_be_marked(app: Flask, office: OfficeFixture) -> None:
    cid = office.case("training_report")
    hand_off(office, cid, "submit", "personnel_staff")
    chief = api_client(app, token_for(office, "personnel_chief"))
    [item] = chief("GET", "/api/v1/notifications").get_json()["items"]
    colleague = api_client(app, token_for(office, "personnel_staff"))
    resp = colleague("POST", f"/api/v1/notifications/{item['id']}/read")
    assert resp.status_code == 404 and resp.get_json()["code"] == "not_found"
    assert chief("GET", "/api/v1/notifications?unread=true").get_json()["unread_count"] == 1
