"""The e-mail copies of notifications: each as it comes, or one digest a day, in each person's
language, with a link to the case; none for those who want none.

Every notification row is committed before anything is sent, and carries ``email_to`` when an
e-mail copy is owed. How it goes out follows the person's choice *now* (``User.notify_email``):

- ``immediate``: ``send_pending`` claims each row (a lease, so two workers never both send it; a
  worker that dies after claiming leaves a row that another run sends once the lease is over),
  sends it, marks it e-mailed. A failed send releases the claim and keeps the error; the next run
  tries again.
- ``digest``: ``send_digests`` sends each person one e-mail a day (from ``DIGEST_HOUR``, Taipei)
  with everything not yet e-mailed, oldest first. The day is claimed on the person's row first
  (``digest_sent_on``), so the task running twice, or on two workers, sends one digest; a failed
  send gives the day back.
- ``none``: nothing is owed (``email_to`` is cleared), and switching back later does not send the
  old ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from workflow import clock, metrics
from workflow.config import Settings
from workflow.db import Database
from workflow.models import Notification, User
from workflow.notifications import messages

log = logging.getLogger(__name__)
CLAIM_SECONDS = 600
DIGEST_HOUR = 8  # digests go out from 08:00 Taipei (with the day's deadline reminders)


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class SmtpMailer:
    """Plain SMTP (an office relay); one connection per message."""

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


def mailer_from_settings(settings: Settings) -> Mailer | None:
    if not settings.smtp_host:
        return None
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)


@dataclass(frozen=True)
class Links:
    """Where an e-mail's links point: this product's address (``CASEFLOW_PUBLIC_BASE_URL``), or
    paths alone when it is not known."""

    base_url: str = ""

    def case(self, case_id: int) -> str:
        return self.base_url.rstrip("/") + messages.case_path(case_id)

    def settings(self) -> str:
        return self.base_url.rstrip("/") + messages.SETTINGS_PATH


def links_from_settings(settings: Settings) -> Links:
    return Links(settings.base_url)


def _language(lang: str | None) -> str:
    return "en" if lang == "en" else "zh_TW"


def _text(subject: str, body: str, message: dict[str, Any] | None, lang: str) -> tuple[str, str]:
    """The notification in ``lang``; a row without a (known) message as stored."""
    if message is not None:
        try:
            return messages.render(message, lang)
        except (KeyError, ValueError, TypeError):
            pass
    return subject, body


def _unclaimed(now: dt.datetime) -> ColumnElement[bool]:
    stale = now - dt.timedelta(seconds=CLAIM_SECONDS)
    return and_(Notification.emailed_at.is_(None), Notification.email_to.is_not(None),
                or_(Notification.email_claimed_at.is_(None), Notification.email_claimed_at < stale))


def drop_unwanted(db: Database) -> int:
    """Those who now want no e-mail are owed none: clear ``email_to`` on their unsent rows."""
    with db.unit_of_work() as uow:
        n = uow.session.connection().execute(
            update(Notification).where(
                Notification.emailed_at.is_(None), Notification.email_to.is_not(None),
                Notification.user_id.in_(select(User.id).where(User.notify_email == "none")))
            .values(email_to=None)).rowcount
        uow.commit()
    return int(n or 0)


def send_pending(db: Database, mailer: Mailer | None, *, links: Links | None = None,
                 ids: Sequence[int] | None = None, limit: int = 1000) -> int:
    """E-mail committed notifications of people who want each one as it comes (``ids``: only these);
    returns how many were sent."""
    if mailer is None:
        return 0
    links = links or Links()
    drop_unwanted(db)
    wanted = Notification.user_id.in_(select(User.id).where(User.notify_email == "immediate"))
    with db.unit_of_work(write=False) as uow:
        q = select(Notification.id).where(_unclaimed(clock.now()), wanted)
        if ids is not None:
            q = q.where(Notification.id.in_(list(ids)))
        found = uow.session.scalars(q.order_by(Notification.id).limit(limit)).all()
    sent = 0
    for nid in found:
        with db.unit_of_work() as uow:
            s = uow.session
            claimed = s.connection().execute(
                update(Notification).where(Notification.id == nid, _unclaimed(clock.now()), wanted)
                .values(email_claimed_at=clock.now(), email_attempts=Notification.email_attempts + 1)).rowcount
            row = s.execute(select(Notification.email_to, Notification.subject, Notification.body,
                                   Notification.message, Notification.case_id, User.language)
                            .join(User, User.id == Notification.user_id)
                            .where(Notification.id == nid)).one_or_none() if claimed else None
            uow.commit()
        if row is None or row.email_to is None:
            continue
        lang = _language(row.language)
        subject, body = _text(row.subject, row.body, row.message, lang)
        if row.case_id is not None:
            subject, body = messages.email_text(subject, body, links.case(row.case_id), links.settings(), lang)
        try:
            mailer.send(row.email_to, subject, body)
        except Exception as exc:  # leave it for the next run; the claim is released
            log.warning("notification e-mail %s to %s failed: %s", nid, row.email_to, exc)
            metrics.NOTIFICATION_EMAILS.labels(kind="single", outcome="failed").inc()
            _failed(db, [nid], exc, release=True)
            continue
        with db.unit_of_work() as uow:
            uow.session.execute(update(Notification).where(Notification.id == nid)
                                .values(emailed_at=clock.now(), email_error=None))
            uow.commit()
        metrics.NOTIFICATION_EMAILS.labels(kind="single", outcome="sent").inc()
        sent += 1
    return sent


def _failed(db: Database, ids: Sequence[int], exc: Exception, *, release: bool) -> None:
    values: dict[str, Any] = {"email_error": str(exc)[:2000]}
    if release:
        values["email_claimed_at"] = None
    with db.unit_of_work() as uow:
        uow.session.execute(update(Notification).where(Notification.id.in_(list(ids))).values(**values))
        uow.commit()


def send_digests(db: Database, mailer: Mailer | None, *, links: Links | None = None,
                 hour: int = DIGEST_HOUR) -> int:
    """Each person who chose the daily digest and has notifications not yet e-mailed gets one
    e-mail with all of them, once a day from ``hour`` (Taipei); returns how many digests were sent.
    Safe to call at any moment and as often as one likes."""
    if mailer is None or clock.now().astimezone(clock.TAIPEI).hour < hour:
        return 0
    links = links or Links()
    today = clock.today()
    drop_unwanted(db)
    due_today = and_(User.notify_email == "digest", User.email.is_not(None),
                     or_(User.digest_sent_on.is_(None), User.digest_sent_on < today))
    with db.unit_of_work(write=False) as uow:
        people = uow.session.scalars(
            select(User.id).where(due_today, User.id.in_(
                select(Notification.user_id).where(_unclaimed(clock.now())))).order_by(User.id)).all()
    sent = 0
    for user_id in people:
        sent += _digest(db, mailer, links, user_id, today, due_today)
    return sent


def _digest(db: Database, mailer: Mailer, links: Links, user_id: int, today: dt.date,
            due_today: ColumnElement[bool]) -> int:
    with db.unit_of_work() as uow:
        s = uow.session
        person = s.execute(select(User.email, User.language, User.digest_sent_on)
                           .where(User.id == user_id, due_today)).one_or_none()
        claimed = person is not None and s.connection().execute(
            update(User).where(User.id == user_id, due_today).values(digest_sent_on=today)).rowcount == 1
        uow.commit()
    if not claimed or person is None or not person.email:
        return 0
    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(Notification.id, Notification.subject, Notification.body, Notification.message,
                   Notification.case_id)
            .where(Notification.user_id == user_id, _unclaimed(clock.now()))
            .order_by(Notification.created_at, Notification.id)).all()
    if not rows:
        return 0
    lang = _language(person.language)
    items = []
    for r in rows:
        subject, body = _text(r.subject, r.body, r.message, lang)
        items.append((subject, body, links.case(r.case_id) if r.case_id is not None else ""))
    subject, body = messages.digest_text(items, today, links.settings(), lang)
    ids = [r.id for r in rows]
    try:
        mailer.send(person.email, subject, body)
    except Exception as exc:  # give the day back: the next run tries again
        log.warning("digest e-mail to %s failed: %s", person.email, exc)
        metrics.NOTIFICATION_EMAILS.labels(kind="digest", outcome="failed").inc()
        with db.unit_of_work() as uow:
            uow.session.execute(update(User).where(User.id == user_id, User.digest_sent_on == today)
                                .values(digest_sent_on=person.digest_sent_on))
            uow.commit()
        _failed(db, ids, exc, release=False)
        return 0
    with db.unit_of_work() as uow:
        uow.session.execute(update(Notification).where(Notification.id.in_(ids), Notification.emailed_at.is_(None))
                            .values(emailed_at=clock.now(), email_error=None, email_to=person.email))
        uow.commit()
    metrics.NOTIFICATION_EMAILS.labels(kind="digest", outcome="sent").inc()
    return 1
