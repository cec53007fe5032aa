"""Notifications by e-mail, against a real SMTP server on 127.0.0.1: each person gets what they
chose (each one as it comes, one digest a day, or none), once, in their language, with a link to
the case; a server that is down loses nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, update

from tasks.notifications import deliver_handoff
from tests.conftest import OfficeFixture
from tests.mail_helpers import SmtpInbox, body_of, free_port
from workflow import clock
from workflow.cases import approval
from workflow.config import load_settings
from workflow.errors import ValidationError
from workflow.models import Notification, OutboxMessage, User
from workflow.notifications import handoffs, mail, preferences

LINKS = mail.Links("https://caseflow.example.gov.tw")
MONDAY = dt.datetime(2026, 5, 4, tzinfo=clock.TAIPEI)  # 115.05.04, a working day


@pytest.fixture
def mail_to(smtp: tuple[SmtpInbox, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SmtpInbox]:
    """The SMTP server the product is configured with (as CASEFLOW_SMTP_HOST/PORT would say)."""
    inbox, port = smtp
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    monkeypatch.setenv("CASEFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CASEFLOW_SMTP_PORT", str(port))
    yield inbox


def with_email(office: OfficeFixture, *keys: str, mode: str = "immediate", language: str | None = None) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id.in_([office.users[k] for k in keys])).values(
            email=User.login + "@example.invalid", notify_email=mode, language=language))
        uow.commit()


def submit(office: OfficeFixture, cid: int | None = None) -> tuple[int, int]:
    """A training report sent to the personnel chief; (case id, its notice's outbox row)."""
    cid = cid or office.case("training_report")
    result = approval.fire(cid, "submit", office.users["personnel_staff"], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        notice = uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.id.in_(result.outbox_ids), OutboxMessage.topic == approval.HANDOFF_TOPIC)).one()
    return cid, notice


def ours(inbox: SmtpInbox, office: OfficeFixture) -> list[tuple[str, str, str]]:
    """(to, subject, body) of every e-mail to this office's people."""
    return [(str(m["To"]), str(m["Subject"]), body_of(m)) for m in inbox.mails(office.code + ".")]


def test_each_as_it_comes_once_in_their_language_with_a_link(office: OfficeFixture, mail_to: SmtpInbox) -> None:
    with_email(office, "personnel_chief")
    with_email(office, "secretariat", language="en")
    cid, notice = submit(office)
    assert deliver_handoff(office.db, notice, links=LINKS).status == "told"
    assert deliver_handoff(office.db, notice, links=LINKS).status == "done"  # delivered twice: one e-mail
    [(to, subject, body)] = ours(mail_to, office)
    assert to == f"{office.logins['personnel_chief']}@example.invalid"
    assert subject == "【待您處理】training_report test"
    assert body.startswith(f"案件 {cid}「training_report test」已由 personnel_staff 送出審核，目前在「課長審核」。")
    assert f"開啟案件：https://caseflow.example.gov.tw/cases/{cid}" in body
    assert "變更通知方式：https://caseflow.example.gov.tw/account/notifications" in body
    assert "Case " not in body  # Chinese only, for a Chinese reader
    result = approval.fire(cid, "approve", office.users["personnel_chief"], db=office.db)
    for i in result.outbox_ids:  # the memo's render rows are not its business: "skipped"
        deliver_handoff(office.db, i, links=LINKS)
    to, subject, body = ours(mail_to, office)[-1]
    assert to == f"{office.logins['secretariat']}@example.invalid"
    assert subject == "[Waiting for you] training_report test"
    assert body.startswith(f'Case {cid} "training_report test" was approved by personnel_chief; it is now at '
                           '"Secretariat review".')
    assert f"Open the case: https://caseflow.example.gov.tw/cases/{cid}" in body and "案件" not in body


def test_the_daily_digest_comes_once_a_day_from_eight_with_everything_since(
        office: OfficeFixture, mail_to: SmtpInbox) -> None:
    with_email(office, "personnel_chief", mode="digest")
    mailer = mail.mailer_from_settings(load_settings())
    with time_machine.travel(MONDAY.replace(hour=7), tick=False):
        first, n1 = submit(office)
        second, n2 = submit(office)
        for n in (n1, n2):
            assert deliver_handoff(office.db, n, links=LINKS).status == "told"
        assert ours(mail_to, office) == []  # not one by one
        assert mail.send_digests(office.db, mailer, links=LINKS) == 0  # before 08:00, nobody's
    with time_machine.travel(MONDAY.replace(hour=8, minute=30), tick=False):
        mail.send_digests(office.db, mailer, links=LINKS)
        mail.send_digests(office.db, mailer, links=LINKS)  # twice (a retried task, a second worker)
        [(to, subject, body)] = ours(mail_to, office)
        assert to == f"{office.logins['personnel_chief']}@example.invalid"
        assert subject == "caseflow 每日通知摘要（115.05.04）：2 則"
        assert body.index(f"案件 {first}「") < body.index(f"案件 {second}「")  # oldest first
        assert f"https://caseflow.example.gov.tw/cases/{first}" in body
        assert f"https://caseflow.example.gov.tw/cases/{second}" in body
    with time_machine.travel(MONDAY.replace(hour=10), tick=False):
        _third, n3 = submit(office)
        deliver_handoff(office.db, n3, links=LINKS)
    with time_machine.travel(MONDAY.replace(hour=17), tick=False):
        mail.send_digests(office.db, mailer, links=LINKS)
        assert len(ours(mail_to, office)) == 1  # one digest a day: the third waits for tomorrow
    with time_machine.travel(MONDAY.replace(day=5, hour=8, minute=1), tick=False):
        mail.send_digests(office.db, mailer, links=LINKS)
        _to, subject, body = ours(mail_to, office)[-1]
        assert subject == "caseflow 每日通知摘要（115.05.05）：1 則" and body.count("【待您處理】") == 1
    with office.db.unit_of_work(write=False) as uow:
        unsent = uow.session.scalars(select(Notification.id).where(
            Notification.user_id == office.users["personnel_chief"], Notification.emailed_at.is_(None))).all()
    assert unsent == []


def test_an_english_digest(office: OfficeFixture, mail_to: SmtpInbox) -> None:
    with_email(office, "personnel_chief", mode="digest", language="en")
    mailer = mail.mailer_from_settings(load_settings())
    with time_machine.travel(MONDAY.replace(hour=9), tick=False):
        cid, notice = submit(office)
        deliver_handoff(office.db, notice, links=LINKS)
        assert mail.send_digests(office.db, mailer, links=LINKS) >= 1
    [(_to, subject, body)] = ours(mail_to, office)
    assert subject == "caseflow daily digest, 115.05.04: 1 notification"
    assert f'[Waiting for you] training_report test\nCase {cid} "training_report test" was submitted' in body
    assert "案件" not in body


def test_none_means_none_now_and_after_switching_back(office: OfficeFixture, mail_to: SmtpInbox) -> None:
    with_email(office, "personnel_chief", mode="none")
    _cid, notice = submit(office)
    assert deliver_handoff(office.db, notice, links=LINKS).status == "told"  # told in the app all the same
    # Told while they wanted e-mail, unsent when they switch it off: not sent either.
    preferences.save(office.db, office.users["personnel_chief"], email_mode="immediate", language="zh_TW")
    _cid, notice = submit(office)
    assert handoffs.process_outbox(office.db, notice).status == "told"  # written, not yet e-mailed
    preferences.save(office.db, office.users["personnel_chief"], email_mode="none", language="zh_TW")
    mailer = mail.mailer_from_settings(load_settings())
    mail.send_pending(office.db, mailer, links=LINKS)
    preferences.save(office.db, office.users["personnel_chief"], email_mode="immediate", language="zh_TW")
    mail.send_pending(office.db, mailer, links=LINKS)
    with time_machine.travel(clock.now().astimezone(clock.TAIPEI).replace(hour=9), tick=False):
        mail.send_digests(office.db, mailer, links=LINKS)
    assert ours(mail_to, office) == []  # switching back does not send the old ones
    with office.db.unit_of_work(write=False) as uow:
        count = len(uow.session.scalars(select(Notification.id).where(
            Notification.user_id == office.users["personnel_chief"])).all())
    assert count == 2  # the inbox has both


def test_a_server_that_is_down_loses_nothing(office: OfficeFixture, mail_to: SmtpInbox,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with_email(office, "personnel_chief")
    monkeypatch.setenv("CASEFLOW_SMTP_PORT", str(free_port()))  # nothing listens there
    cid, notice = submit(office)
    assert deliver_handoff(office.db, notice, links=LINKS).status == "told"  # the notice is kept regardless
    with office.db.unit_of_work(write=False) as uow:
        row = uow.session.execute(select(Notification).where(Notification.case_id == cid)).scalar_one()
    assert row.emailed_at is None and row.email_claimed_at is None and row.email_error
    assert row.email_attempts == 1
    monkeypatch.setenv("CASEFLOW_SMTP_PORT", str(mail_to.port))  # the server is back
    mailer = mail.mailer_from_settings(load_settings())
    assert mail.send_pending(office.db, mailer, links=LINKS, ids=[row.id]) == 1
    assert mail.send_pending(office.db, mailer, links=LINKS, ids=[row.id]) == 0
    assert len(ours(mail_to, office)) == 1


def test_a_digest_that_fails_gives_the_day_back(office: OfficeFixture, smtp: tuple[SmtpInbox, int]) -> None:
    inbox, port = smtp
    with_email(office, "personnel_chief", mode="digest")
    _cid, notice = submit(office)
    handoffs.process_outbox(office.db, notice)
    down = mail.SmtpMailer("127.0.0.1", free_port(), "caseflow@example.invalid", timeout=2)
    up = mail.SmtpMailer("127.0.0.1", port, "caseflow@example.invalid")
    with time_machine.travel(MONDAY.replace(hour=9), tick=False):
        mail.send_digests(office.db, down, links=LINKS)
        with office.db.unit_of_work(write=False) as uow:
            assert uow.session.scalar(select(User.digest_sent_on).where(
                User.id == office.users["personnel_chief"])) is None
        mail.send_digests(office.db, up, links=LINKS)
    assert len(ours(inbox, office)) == 1


def test_a_choice_there_is_no_such_choice_of_is_refused_by_field(office: OfficeFixture) -> None:
    with pytest.raises(ValidationError) as err:
        preferences.save(office.db, office.users["personnel_chief"], email_mode="weekly", language="fr")
    assert set(err.value.errors) == {"email_mode", "language"}
    assert "電子郵件：請選擇立即寄送、每日摘要或不寄送" in err.value.message
    with office.db.unit_of_work(write=False) as uow:
        assert preferences.load(uow.session, office.users["personnel_chief"]) == preferences.Preferences(
            "immediate", "zh_TW", None)
