"""Reminders arrive once: recorded before sending, across repeated runs and a worker that died."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from tests.conftest import OfficeFixture
from workflow import clock
from workflow.calendar import plan, reminders
from workflow.engine import registry
from workflow.models import Notification, Reminder, User


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = _Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield inbox, port
    finally:
        ctl.stop()
    asyncio.set_event_loop(asyncio.new_event_loop())


def _count(office: OfficeFixture, model: Any) -> int:
    with office.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(model.office_id == office.id)) or 0


def test_reminders_are_sent_once_across_runs_and_a_worker_restart(
        office: OfficeFixture, smtp: tuple[_Inbox, int]) -> None:
    inbox, port = smtp
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.office_id == office.id)
                            .values(email=User.login + "@example.invalid"))
        uow.commit()
    mailer = reminders.SmtpMailer("127.0.0.1", port, "caseflow@example.invalid")
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
        # A worker claims the first e-mail and dies before sending it.
        with office.db.unit_of_work() as uow:
            first = uow.session.scalar(select(func.min(Notification.id)).where(Notification.office_id == office.id))
            uow.session.execute(update(Notification).where(Notification.id == first)
                                .values(email_claimed_at=clock.now()))
            uow.commit()
        sent = reminders.send_pending(office.db, mailer)
        assert sent == notes - 1 and len(inbox.messages) == notes - 1
        assert reminders.send_pending(office.db, mailer) == 0  # sent ones are never sent again
    with time_machine.travel(dt.datetime(2026, 4, 13, 8, 15, tzinfo=clock.TAIPEI), tick=False):
        assert reminders.send_pending(office.db, mailer) == 1  # the dead worker's claim expired
        assert reminders.decide(office.db, days_before=7) == 0
        assert reminders.send_pending(office.db, mailer) == 0
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
        assert reminders.send_pending(office.db, None) == 0
    assert _count(office, Notification) > 0


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


def test_the_e_mail_says_roc_dates_and_state_labels_in_chinese_then_english(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.office_id == office.id)
                            .values(email=User.login + "@example.invalid"))
        uow.commit()
    outbox = _Outbox()
    with time_machine.travel(dt.datetime(2026, 4, 13, 8, tzinfo=clock.TAIPEI), tick=False):
        plan.generate(office.db, 115, office_codes=[office.code])
        reminders.decide(office.db, days_before=7)
        reminders.send_pending(office.db, outbox)
    ours = [m for m in outbox.sent if m[0].startswith(office.code + ".")]
    assert ours
    draft = registry.default().latest("training_report").state("draft")
    for _to, subject, body in ours:
        assert subject.startswith(("【已逾期】", "【即將到期】"))
        zh, en = body.split("\n\n")
        assert f"目前在「{draft.label}」，期限 115.04.1" in zh
        assert f'is at the step "{draft.label_en}", deadline 115.04.1' in en
        assert "2026-04-1" not in body and "step draft" not in body


def test_a_step_overdue_message_in_each_language() -> None:
    message = reminders.reminder_message("step_overdue", 12, "年度成果", "secretariat_review", "秘書室審核",
                                         "Secretariat review", dt.date(2026, 11, 4))
    assert reminders.render(message, "zh_TW") == (
        "【審核逾時】年度成果", "案件 12「年度成果」目前在「秘書室審核」，期限 115.11.04（審核逾時）。")
    assert reminders.render(message, "en") == (
        "[Review step overdue] 年度成果",
        'Case 12 "年度成果" is at the step "Secretariat review", deadline 115.11.04 (review step overdue).')
