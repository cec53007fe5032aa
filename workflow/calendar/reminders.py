"""Deadline reminders that arrive once.

Two phases, each safe to run again at any moment:

1. ``decide``: for every open case that is due soon, overdue, or late in its review step, insert a
   ``reminders`` row keyed (case, step, round, kind) and, in the same transaction, one in-app
   ``notifications`` row per recipient (the holder; for overdue cases also the unit's chief and the
   liaison). The unique key makes a rerun, a retried task or a second worker insert nothing.
   A notification keeps its ``message`` (kind and parameters): the inbox renders it in the
   reader's language (``render``); ``subject`` and ``body`` hold the e-mail copy (``email_text``).
2. ``send_pending``: e-mail every committed notification that has an address and no ``emailed_at``,
   claiming each row first (a lease) so two workers do not both send it; a worker that dies after
   claiming leaves a row another run sends when the lease has expired. Nothing lives only in Redis.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from workflow import clock, metrics, rocdate
from workflow.calendar import deadlines
from workflow.config import Settings
from workflow.db import Database
from workflow.engine import registry
from workflow.models import Case, Notification, Reminder
from workflow.people import holders

log = logging.getLogger(__name__)
CLAIM_SECONDS = 600
KIND_WORDS = {
    "due_soon": ("即將到期", "due soon"),
    "overdue": ("已逾期", "overdue"),
    "step_overdue": ("審核逾時", "review step overdue"),
}


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class SmtpMailer:
    """Plain SMTP (an office relay); one connection per run of ``send_pending``."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(msg)


def reminder_message(kind: str, case_id: int, title: str, step: str, step_label: str, step_label_en: str,
                     deadline: dt.date) -> dict[str, Any]:
    """A reminder notification's ``message``: what ``render`` makes its text of, in either language."""
    return {"kind": kind, "case_id": case_id, "title": title, "step": step, "step_label": step_label,
            "step_label_en": step_label_en, "deadline": deadline.isoformat()}


def render(message: dict[str, Any], lang: str) -> tuple[str, str]:
    """(subject, body) of a notification's ``message`` in ``lang`` ("zh_TW" or "en"), dates as ROC dates.

    Raises KeyError or ValueError for a message it does not know (the caller shows the stored text).
    """
    zh, en = KIND_WORDS[message["kind"]]
    case_id, title = message["case_id"], message["title"]
    deadline = rocdate.short(dt.date.fromisoformat(message["deadline"]))
    if lang == "en":
        return (f"[{en[:1].upper()}{en[1:]}] {title}",
                f"Case {case_id} \"{title}\" is at the step \"{message['step_label_en']}\", "
                f"deadline {deadline} ({en}).")
    return f"【{zh}】{title}", f"案件 {case_id}「{title}」目前在「{message['step_label']}」，期限 {deadline}（{zh}）。"


def email_text(message: dict[str, Any]) -> tuple[str, str]:
    """The e-mail copy: the Chinese subject; the body in Chinese, then in English."""
    subject, zh_body = render(message, "zh_TW")
    _en_subject, en_body = render(message, "en")
    return subject, f"{zh_body}\n\n{en_body}"


def mailer_from_settings(settings: Settings) -> Mailer | None:
    if not settings.smtp_host:
        return None
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)


@dataclass(frozen=True)
class _Candidate:
    case_id: int
    office_id: int
    unit_id: int
    kind: str  # reminder kind
    step: str
    round: int
    deadline: dt.date
    title: str
    case_kind: str
    workflow_version: int
    drafter_id: int | None


def _final_states() -> set[str]:
    return {st.name for d in registry.default().files.values() for st in d.states if st.final}


def decide(db: Database, *, today: dt.date | None = None, days_before: int = 7) -> int:
    """Record today's reminders and their in-app notifications; returns how many were new."""
    today = today or clock.today()
    registry.default().sync(db)
    finals = _final_states()
    cols = (Case.id, Case.office_id, Case.unit_id, Case.state, Case.revision_count, Case.due_date, Case.title,
            Case.kind, Case.workflow_version, Case.drafter_id, Case.entered_state_at)
    candidates: list[_Candidate] = []
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        table = deadlines.limits(s)
        review_states = {state for (_k, state) in table}
        rows = s.execute(select(*cols).where(Case.state.not_in(finals), or_(
            Case.due_date <= today + dt.timedelta(days=days_before), Case.state.in_(review_states)))).all()
        clocks = [deadlines.CaseClock(r.id, r.office_id, r.kind, r.state, r.entered_state_at)
                  for r in rows if r.state in review_states]
        steps = deadlines.step_deadlines(s, clocks, today=today)
        done = {(x.case_id, x.step, x.round, x.kind) for x in s.execute(
            select(Reminder.case_id, Reminder.step, Reminder.round, Reminder.kind)
            .where(Reminder.case_id.in_([r.id for r in rows])))} if rows else set()
        for r in rows:
            found: list[tuple[str, dt.date]] = []
            if r.due_date is not None and r.due_date < today:
                found.append(("overdue", r.due_date))
            elif r.due_date is not None and r.due_date <= today + dt.timedelta(days=days_before):
                found.append(("due_soon", r.due_date))
            sd = steps.get(r.id)
            if sd is not None and sd.overdue(today) and sd.deadline is not None:
                found.append(("step_overdue", sd.deadline))
            for kind, deadline in found:
                if (r.id, r.state, r.revision_count, kind) in done:
                    continue
                candidates.append(_Candidate(r.id, r.office_id, r.unit_id, kind, r.state, r.revision_count,
                                             deadline, r.title, r.kind, r.workflow_version, r.drafter_id))
        roles = holders.office_roles(s, {c.office_id for c in candidates}, today)
    new = 0
    for c in candidates:
        new += _record(db, c, roles[c.office_id])
    return new


def _record(db: Database, c: _Candidate, roles: holders.OfficeRoles) -> int:
    defn = registry.default().get(db, c.case_kind, c.workflow_version)
    recipients = holders.holders(defn, c.step, c.unit_id, c.drafter_id, roles)
    if c.kind != "due_soon":
        recipients += [u for u in holders.chiefs_and_liaisons(c.unit_id, roles) if u not in recipients]
    state = defn.state(c.step)
    message = reminder_message(c.kind, c.case_id, c.title, c.step, state.label, state.label_en, c.deadline)
    subject, body = email_text(message)
    now = clock.now()
    with db.unit_of_work() as uow:
        s = uow.session
        reminder = Reminder(office_id=c.office_id, case_id=c.case_id, step=c.step, round=c.round, kind=c.kind,
                            deadline=c.deadline, created_at=now)
        s.add(reminder)
        try:
            s.flush()
        except IntegrityError:
            return 0  # another run recorded it first: it is theirs to send
        for user_id in recipients:
            s.add(Notification(office_id=c.office_id, user_id=user_id, case_id=c.case_id, reminder_id=reminder.id,
                               subject=subject[:200], body=body, message=message, created_at=now,
                               email_to=roles.emails.get(user_id), email_attempts=0))
        uow.commit()
    metrics.REMINDERS.labels(kind=c.kind).inc()
    return 1


def send_pending(db: Database, mailer: Mailer | None, *, limit: int = 1000) -> int:
    """E-mail committed notifications not yet e-mailed; returns how many were sent."""
    if mailer is None:
        return 0
    now = clock.now()
    stale = now - dt.timedelta(seconds=CLAIM_SECONDS)
    claimable = and_(Notification.emailed_at.is_(None), Notification.email_to.is_not(None),
                     or_(Notification.email_claimed_at.is_(None), Notification.email_claimed_at < stale))
    with db.unit_of_work(write=False) as uow:
        ids = uow.session.scalars(select(Notification.id).where(claimable).order_by(Notification.id)
                                  .limit(limit)).all()
    sent = 0
    for nid in ids:
        with db.unit_of_work() as uow:
            s = uow.session
            claimed = s.connection().execute(update(Notification).where(Notification.id == nid, claimable)
                                .values(email_claimed_at=clock.now(),
                                        email_attempts=Notification.email_attempts + 1)).rowcount
            row = s.get(Notification, nid) if claimed else None
            uow.commit()
        if row is None or row.email_to is None:
            continue
        try:
            mailer.send(row.email_to, row.subject, row.body)
        except Exception as exc:  # leave it for the next run; the claim is released
            log.warning("reminder e-mail %s to %s failed: %s", nid, row.email_to, exc)
            metrics.REMINDER_EMAILS.labels(outcome="failed").inc()
            with db.unit_of_work() as uow:
                uow.session.execute(update(Notification).where(Notification.id == nid)
                                    .values(email_claimed_at=None, email_error=str(exc)[:2000]))
                uow.commit()
            continue
        with db.unit_of_work() as uow:
            uow.session.execute(update(Notification).where(Notification.id == nid)
                                .values(emailed_at=clock.now(), email_error=None))
            uow.commit()
        metrics.REMINDER_EMAILS.labels(outcome="sent").inc()
        sent += 1
    return sent
