"""Reminders arrive once: recorded before sending, across repeated runs and a worker that died."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from sqlalchemy import func, select, update

from tests.conftest import OfficeFixture
from tests.mail_helpers import SmtpInbox
from workflow import clock
from workflow.calendar import plan, reminders
from workflow.engine import registry
from workflow.models import Notification, Reminder, User
from workflow.notifications import mail, messages


def _count(office: OfficeFixture, model: Any) -> int:
    with office.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(model.office_id == office.id)) or 0


def test_reminders_are_sent_once_across_runs_and_a_worker_restart(
        office: OfficeFixture, smtp: tuple[SmtpInbox, int]) -> None:
    inbox, port = smtp
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.office_id == office.id)
                            .values(email=User.login + "@example.invalid"))
        uow.commit()
    mailer = mail.SmtpMailer("127.0.0.1", port, "caseflow@example.invalid")
    with time_machine.travel(dt.datetime(2026, 4, 13, 8, tzinfo=clock.TAIPEI), tick=False):
        plan.generate(office.db, 115, office_codes=[office.code])
        reminders.decide(office.db, days_before=7)  # every office's (other tests' offices too)
        # Q1 training and outreach reports (due 4/10) are overdue; annual result (4/15) is due soon.
        assert _count(office, Reminder) == 3
        assert reminders.decide(office.db, days_before=7) == 0  # a rerun decides nothing new
        with office.db.unit_of_work(write=False) as uow:
            kinds = sorted(uow.session.scalars(select(Reminder.kind).where(Reminder.office_id == office.id)))
        assert kinds == ["due_soon", "overdue", "overdue"]
        notes = _count(office, Notification)
        with office.db.unit_of_work(write=False) as uow:  # this office's only (other tests' rows are theirs)
            ours = list(uow.session.scalars(select(Notification.id).where(Notification.office_id == office.id)))
        # A worker claims the first e-mail and dies before sending it.
        with office.db.unit_of_work() as uow:
            first = uow.session.scalar(select(func.min(Notification.id)).where(Notification.office_id == office.id))
            uow.session.execute(update(Notification).where(Notification.id == first)
                                .values(email_claimed_at=clock.now()))
            uow.commit()
        sent = mail.send_pending(office.db, mailer, ids=ours)
        assert sent == notes - 1 and len(inbox.messages) == notes - 1
        assert mail.send_pending(office.db, mailer, ids=ours) == 0  # sent ones are never sent again
    with time_machine.travel(dt.datetime(2026, 4, 13, 8, 15, tzinfo=clock.TAIPEI), tick=False):
        assert mail.send_pending(office.db, mailer, ids=ours) == 1  # the dead worker's claim expired
        assert reminders.decide(office.db, days_before=7) == 0
        assert mail.send_pending(office.db, mailer, ids=ours) == 0
    recipients = sorted(r for rcpts, _c in inbox.messages for r in rcpts)
    assert len(recipients) == len(set(recipients)) or len(recipients) == notes
    assert len(inbox.messages) == notes
    assert any(office.logins["liaison"] in r for r in recipients)  # overdue ones reach the liaison
    assert any(office.logins["personnel_chief"] in r for r in recipients)  # and the unit's chief


def test_without_smtp_only_in_app_notifications(office: OfficeFixture) -> None:
    with time_machine.travel(dt.datetime(2026, 4, 13, 8, tzinfo=clock.TAIPEI), tick=False):
        plan.generate(office.db, 115, office_codes=[office.code])
        reminders.decide(office.db)
        assert _count(office, Reminder) == 3
        assert mail.send_pending(office.db, None) == 0
    assert _count(office, Notification) > 0


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


def test_the_e_mail_is_in_each_persons_language_with_roc_dates_state_labels_and_a_link(
        office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.office_id == office.id)
                            .values(email=User.login + "@example.invalid"))
        uow.session.execute(update(User).where(User.id == office.users["liaison"]).values(language="en"))
        uow.commit()
    outbox = _Outbox()
    with time_machine.travel(dt.datetime(2026, 4, 13, 8, tzinfo=clock.TAIPEI), tick=False):
        plan.generate(office.db, 115, office_codes=[office.code])
        reminders.decide(office.db, days_before=7)
        mail.send_pending(office.db, outbox, links=mail.Links("https://caseflow.example.gov.tw/"))
    ours = [m for m in outbox.sent if m[0].startswith(office.code + ".")]
    english = [m for m in ours if m[0].startswith(office.logins["liaison"] + "@")]
    chinese = [m for m in ours if m not in english]
    assert english and chinese
    draft = registry.default().latest("training_report").state("draft")
    for _to, subject, body in chinese:
        assert subject.startswith(("【已逾期】", "【即將到期】"))
        assert f"目前在「{draft.label}」，期限 115.04.1" in body
        assert "開啟案件：https://caseflow.example.gov.tw/cases/" in body
        assert "變更通知方式：https://caseflow.example.gov.tw/account/notifications" in body
        assert "deadline" not in body and draft.label_en not in body  # Chinese only
    for _to, subject, body in english:
        assert subject.startswith("[Overdue]")
        assert f'is at the step "{draft.label_en}", deadline 115.04.1' in body
        assert "Open the case: https://caseflow.example.gov.tw/cases/" in body
        assert "期限" not in body and f"「{draft.label}」" not in body  # English only
    for _to, _subject, body in ours:
        assert "2026-04-1" not in body and "step draft" not in body


def test_a_step_overdue_message_in_each_language() -> None:
    message = messages.reminder_message("step_overdue", 12, "年度成果", "secretariat_review", "秘書室審核",
                                         "Secretariat review", dt.date(2026, 11, 4))
    assert messages.render(message, "zh_TW") == (
        "【審核逾時】年度成果", "案件 12「年度成果」目前在「秘書室審核」，期限 115.11.04（審核逾時）。")
    assert messages.render(message, "en") == (
        "[Review step overdue] 年度成果",
        'Case 12 "年度成果" is at the step "Secretariat review", deadline 115.11.04 (review step overdue).')
