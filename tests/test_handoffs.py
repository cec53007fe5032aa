"""Hand-offs: when a case reaches someone, the people who now hold it are told, once, and only they.

Each transition writes a notice to the outbox; ``handoffs.process_outbox`` (what the worker runs)
turns it into notifications. The tests fire real transitions on a fresh office and then deliver the
notice, as the worker would, and read who was told what, in both languages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from sqlalchemy import select, update

from publishing import service as publishing_service
from publishing.publishers import PublicZonePublisher
from tests.conftest import OfficeFixture, make_office
from tests.helpers import run_together, task_force_decides
from tests.publishing_helpers import FAST, to_publishing
from workflow import clock
from workflow.cases import approval, writes
from workflow.db import Database
from workflow.models import Notification, Office, OutboxMessage, User
from workflow.notifications import handoffs, messages
from workflow.people import directory


def notice_of(db: Database, result: writes.Result) -> int:
    """The hand-off notice a transition wrote (exactly one)."""
    with db.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.id.in_(result.outbox_ids), OutboxMessage.topic == approval.HANDOFF_TOPIC)))
    assert len(ids) == 1, ids
    return ids[0]


def told_about(office: OfficeFixture, case_id: int, seq: int) -> dict[str, Notification]:
    """Who of the office was told of the event (by STAFFING key), and their notification. Reviewers
    of the city's own organisation (other tests make one) are told of filed cases too: left out here,
    anyone else outside the office fails the test."""
    keys = {v: k for k, v in office.users.items()}
    with office.db.unit_of_work(write=False) as uow:
        s = uow.session
        rows = s.scalars(select(Notification).where(
            Notification.case_id == case_id, Notification.event_seq == seq)).all()
        city_people = set(s.scalars(select(User.id).join(Office, Office.id == User.office_id)
                                    .where(Office.kind == "city")))
        strangers = [n.user_id for n in rows if n.user_id not in keys and n.user_id not in city_people]
        assert not strangers, f"told outside the office: {strangers}"
        return {keys[n.user_id]: n for n in rows if n.user_id in keys}


def act(office: OfficeFixture, case_id: int, trigger: str, who: str, comment: str | None = None,
        *, deliver: bool = True) -> dict[str, Notification]:
    """Fire a transition as ``who``, deliver its notice; returns who was told."""
    result = approval.fire(case_id, trigger, office.users[who], comment, db=office.db)
    if deliver:
        assert handoffs.process_outbox(office.db, notice_of(office.db, result)).status in ("told", "nobody")
    return told_about(office, case_id, result.event_seq)


def text(n: Notification, lang: str = "zh_TW") -> tuple[str, str]:
    assert n.message is not None
    return messages.render(n.message, lang)


def test_submitted_to_the_chief_then_returned_to_the_drafter_with_the_comment(office: OfficeFixture) -> None:
    cid = office.case("training_report")
    told = act(office, cid, "submit", "personnel_staff")
    assert set(told) == {"personnel_chief"}  # the unit's chief; not the drafter who acted, nobody else
    subject, body = text(told["personnel_chief"])
    assert subject == "【待您處理】training_report test"
    assert body == f"案件 {cid}「training_report test」已由 personnel_staff 送出審核，目前在「課長審核」。"
    told = act(office, cid, "return_for_revision", "personnel_chief", "第2列時數請依簽到表更正。")
    assert set(told) == {"personnel_staff"}
    subject, body = text(told["personnel_staff"])
    assert subject == "【退回修正】training_report test"
    assert body.endswith("已由 personnel_chief 退回修正，目前在「退回修正」。意見：第2列時數請依簽到表更正。")
    subject, body = text(told["personnel_staff"], "en")
    assert subject == "[Returned for revision] training_report test"
    assert body == (f'Case {cid} "training_report test" was returned for revision by personnel_chief; it is now '
                    'at "Returned for revision". Comment: 第2列時數請依簽到表更正。')


def test_approved_onward_tells_each_next_holder_and_filing_tells_the_drafter(office: OfficeFixture) -> None:
    cid = office.case("training_report")
    act(office, cid, "submit", "personnel_staff")
    assert set(act(office, cid, "approve", "personnel_chief")) == {"secretariat"}
    assert set(act(office, cid, "approve", "secretariat")) == {"convener", "deputy_convener"}
    task_force_decides(office.db, cid)
    told = act(office, cid, "approve", "convener")
    assert set(told) == {"liaison", "deputy_liaison"}  # who files it with the city group
    assert text(told["liaison"])[0] == "【待您處理】training_report test"
    told = act(office, cid, "file_with_city_group", "liaison")
    # The city group's reviewer holds it now; the drafter (who also submitted it) hears it went, once.
    assert set(told) == {"city", "personnel_staff"}
    assert text(told["city"])[0] == "【待您處理】training_report test"
    _subject, body = text(told["personnel_staff"])
    assert "已由 liaison 函送推動組備查，目前在「已函送推動組（待備查）」。" in body
    told = act(office, cid, "city_acknowledge", "city")
    assert set(told) == {"personnel_staff"}  # done: 推動組已備查
    assert text(told["personnel_staff"], "en")[0] == "[Acknowledged by the city group] training_report test"


def test_a_delegate_is_told_for_the_person_they_act_for_and_named_so_when_they_act(office: OfficeFixture) -> None:
    today = clock.today()
    with office.db.unit_of_work() as uow:
        s = uow.session
        chief, stand_in = s.get(User, office.users["personnel_chief"]), s.get(User, office.users["civil_chief"])
        assert chief is not None and stand_in is not None
        directory.delegate(s, chief, stand_in, "chief", today, today + dt.timedelta(days=7), "公假")
        uow.commit()
    cid = office.case("training_report")
    told = act(office, cid, "submit", "personnel_staff")
    assert set(told) == {"personnel_chief", "civil_chief"}  # the chief, and who acts for him
    assert told["personnel_chief"].message is not None and told["personnel_chief"].message["for_name"] is None
    subject, body = text(told["civil_chief"])
    assert subject == "【待您處理】training_report test"
    assert body.endswith("目前在「課長審核」。您代理 personnel_chief 處理。")
    assert text(told["civil_chief"], "en")[1].endswith("You hold it for personnel_chief (delegation).")
    told = act(office, cid, "approve", "civil_chief")  # in the chief's name
    assert set(told) == {"secretariat"}
    assert "已由 civil_chief（代理 personnel_chief） 核准" in text(told["secretariat"])[1]
    assert "was approved by civil_chief (for personnel_chief)" in text(told["secretariat"], "en")[1]


def test_sent_back_by_the_city_group_tells_the_drafter(office: OfficeFixture) -> None:
    cid = office.case("plan_amendment")
    act(office, cid, "submit", "secretariat_staff")
    act(office, cid, "approve", "secretariat_chief")
    act(office, cid, "approve", "secretariat")
    task_force_decides(office.db, cid)
    act(office, cid, "approve", "convener")
    # The city reviewer holds it; the drafter hears it went to the city.
    assert set(act(office, cid, "file_with_city_group", "liaison")) == {"city", "secretariat_staff"}
    told = act(office, cid, "return_for_revision", "city", "修正對照表第3點請補充說明。")
    assert set(told) == {"secretariat_staff"}
    assert text(told["secretariat_staff"])[1].endswith(
        "已由 city 退回修正，目前在「退回修正」。意見：修正對照表第3點請補充說明。")


def test_a_failed_publication_tells_the_secretariat_why_in_each_language(office: OfficeFixture) -> None:
    cid, outbox = to_publishing(office, alt=None)  # a photo without alt text fails its own checks
    assert publishing_service.process_posting(office.db, outbox, publisher=PublicZonePublisher(),
                                              settings=FAST).status == "failed"
    with office.db.unit_of_work(write=False) as uow:
        notice = uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.topic == approval.HANDOFF_TOPIC, OutboxMessage.office_id == office.id)
            .order_by(OutboxMessage.id.desc()).limit(1)).one()
    assert handoffs.process_outbox(office.db, notice).status == "told"
    with office.db.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(select(Notification).where(
            Notification.case_id == cid, Notification.message["trigger"].as_string() == "mark_publish_failed")).all()
    assert [r.user_id for r in rows] == [office.users["secretariat"]]
    subject, body = text(rows[0])
    assert subject == "【刊登失敗】web_posting test"
    assert body.startswith(f"案件 {cid}「web_posting test」刊登失敗，目前在「刊登失敗」。原因：")
    assert "替代文字" in body
    subject, body = text(rows[0], "en")
    assert subject == "[Publishing failed] web_posting test"
    assert "publishing failed" in body and "Reason: " in body and "alt" in body and "替代文字" not in body


def test_each_notice_tells_each_person_once_however_often_it_is_delivered(office: OfficeFixture) -> None:
    cid = office.case("training_report")
    result = approval.fire(cid, "submit", office.users["personnel_staff"], db=office.db)
    notice = notice_of(office.db, result)
    first = handoffs.process_outbox(office.db, notice)
    assert first.status == "told" and len(first.notification_ids) == 1
    assert handoffs.process_outbox(office.db, notice) == handoffs.Outcome("done")
    # A redelivery after the row was released (a restored database, a hand-cleared flag) still
    # tells nobody twice: the unique key on (case, event, person).
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == notice).values(processed_at=None))
        uow.commit()
    assert handoffs.process_outbox(office.db, notice).status == "done"
    assert len(told_about(office, cid, result.event_seq)) == 1
    with office.db.unit_of_work(write=False) as uow:  # and the row is handled, not left to the sweep
        assert uow.session.scalar(select(OutboxMessage.processed_at).where(OutboxMessage.id == notice)) is not None


@pytest.mark.postgres
def test_two_workers_delivering_one_notice_at_once_tell_once(pg_db: Database, _password_hash: str) -> None:
    office = make_office(pg_db, _password_hash)
    for _round in range(5):
        cid = office.case("training_report")
        result = approval.fire(cid, "submit", office.users["personnel_staff"], db=pg_db)
        notice = notice_of(pg_db, result)
        outcomes = run_together(lambda n=notice: handoffs.process_outbox(pg_db, n),
                                lambda n=notice: handoffs.process_outbox(pg_db, n))
        assert sorted(o.status for o in outcomes) == ["done", "told"], outcomes
        assert set(told_about(office, cid, result.event_seq)) == {"personnel_chief"}


def test_a_notice_handled_after_the_case_moved_on_tells_nobody(office: OfficeFixture) -> None:
    cid = office.case("training_report")
    submitted = approval.fire(cid, "submit", office.users["personnel_staff"], db=office.db)
    approved = approval.fire(cid, "approve", office.users["personnel_chief"], db=office.db)
    # The worker was down: by the time the submission's notice is handled, the chief has approved.
    assert handoffs.process_outbox(office.db, notice_of(office.db, submitted)).status == "moved_on"
    assert told_about(office, cid, submitted.event_seq) == {}
    assert handoffs.process_outbox(office.db, notice_of(office.db, approved)).status == "told"
    assert set(told_about(office, cid, approved.event_seq)) == {"secretariat"}


def test_nobody_is_told_of_what_they_did_themselves(office: OfficeFixture) -> None:
    cid = office.case("training_report")
    assert act(office, cid, "withdraw", "personnel_staff") == {}  # final, but the drafter withdrew it


def test_the_e_mail_copy_is_owed_only_to_those_with_an_address_who_want_one(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id.in_([office.users["convener"], office.users["deputy_convener"]]))
                            .values(email=User.login + "@example.invalid"))
        uow.session.execute(update(User).where(User.id == office.users["deputy_convener"]).values(notify_email="none"))
        uow.commit()
    cid = office.case("training_report")
    act(office, cid, "submit", "personnel_staff")  # the chief has no address
    act(office, cid, "approve", "personnel_chief")
    told = act(office, cid, "approve", "secretariat")
    owed: dict[str, Any] = {k: n.email_to for k, n in told.items()}
    assert owed == {"convener": f"{office.logins['convener']}@example.invalid", "deputy_convener": None}


def test_every_transition_writes_its_notice_with_the_case_and_event() -> None:
    """The notice's payload is what the consumer reads: the case and the history event."""
    message = messages.handoff_message(case_id=7, title="年度成果", trigger="approve", state="secretariat_review",
                                       state_label="秘書室審核", state_label_en="Secretariat review", final=False,
                                       actor="吳美玲", actor_for="陳志明", comment="同意", for_id=None, for_name=None)
    assert messages.render(message, "zh_TW") == (
        "【待您處理】年度成果", "案件 7「年度成果」已由 吳美玲（代理 陳志明） 核准，目前在「秘書室審核」。意見：同意")
    assert messages.render(message, "en") == (
        "[Waiting for you] 年度成果",
        'Case 7 "年度成果" was approved by 吳美玲 (for 陳志明); it is now at "Secretariat review". Comment: 同意')


def test_a_late_notice_is_dated_when_the_case_reached_them(office: OfficeFixture) -> None:
    cid = office.case("training_report")
    at = dt.datetime(2026, 5, 4, 9, 30, tzinfo=clock.TAIPEI)
    with time_machine.travel(at, tick=False):
        result = approval.fire(cid, "submit", office.users["personnel_staff"], db=office.db)
    with time_machine.travel(at + dt.timedelta(hours=1), tick=False):  # the worker was down for an hour
        assert handoffs.process_outbox(office.db, notice_of(office.db, result)).status == "told"
    assert told_about(office, cid, result.event_seq)["personnel_chief"].created_at == at
