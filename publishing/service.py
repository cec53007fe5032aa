"""The publishing step, exactly once: what the ``posting.publish`` outbox message asks for.

At least once in, exactly once out (RELIABILITY.md §1):
- the posting's ``Publication`` row and its idempotency key are committed before the first attempt;
- each attempt first takes a short lease and counts itself (committed), then talks to the
  publisher, then records what happened as a ``publication`` event in the case history;
- any attempt after the first looks the posting up by its key before posting again, so a timeout
  after the site accepted it, or a worker killed mid-request, never makes a second post;
- transient errors wait (exponential backoff with jitter) up to ``max_attempts``; permanent errors,
  failed checks and exhausted retries fire ``mark_publish_failed`` with the reason; success fires
  ``mark_published`` with the URL. The outbox row is marked processed only after that.

``process_posting`` is called by the Celery task (which turns ``retry_in`` into a countdown) and by
the embedded worker (whose sweep simply comes back later; an early delivery is a no-op).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publishing import checks
from publishing.publishers import (
    Posting,
    PostingFile,
    Published,
    Publisher,
    PublishError,
    configured_name,
    publisher_for,
)
from publishing.sniff import sniff
from workflow import clock, logs, metrics, storage
from workflow.cases import approval, writes
from workflow.config import PublishSettings, load_publish_settings
from workflow.db import Database
from workflow.engine.definitions import TASK_TOPICS
from workflow.errors import CaseflowError
from workflow.models import Attachment, Case, Office, OutboxMessage, Publication, Unit

log = logging.getLogger(__name__)
POSTING_TOPIC = TASK_TOPICS["publish_posting"]
PUBLISHING = "publishing"
INTERRUPTED = ("上次嘗試未在時限內回報結果（處理程序可能中斷），重試前會先向網站查詢",
               "the last attempt did not report back within its lease (worker killed?); looked up before retrying")


@dataclass(frozen=True)
class Outcome:
    """``status``: skipped (not ours), done (nothing left to do), busy (another delivery holds it),
    not_due (waiting for its backoff), retry (failed for now), published, failed."""

    status: str
    retry_in: float | None = None
    reason: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class _Claimed:
    publication_id: int
    case_id: int
    key: str
    attempt: int
    round_seq: int
    look_up_first: bool
    posting: Posting
    total: int  # this attempt's number over all rounds, refused ones included


def backoff(attempt: int, settings: PublishSettings, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): doubling, capped, with
    'equal jitter' (half fixed, half random) so many postings failing together spread out."""
    base = min(settings.backoff_max_seconds, settings.backoff_seconds * 2 ** max(0, attempt - 1))
    return base / 2 + (rng or random).uniform(0, base / 2)


def process_posting(db: Database, outbox_id: int, *, publisher: Publisher | None = None,
                    settings: PublishSettings | None = None, rng: random.Random | None = None) -> Outcome:
    """Handle one ``posting.publish`` message. Safe to run any number of times, concurrently too."""
    outcome = _process_posting(db, outbox_id, publisher, settings, rng)
    metrics.PUBLICATIONS.labels(outcome=outcome.status).inc()
    return outcome


def _process_posting(db: Database, outbox_id: int, publisher: Publisher | None, settings: PublishSettings | None,
                     rng: random.Random | None) -> Outcome:
    settings = settings or load_publish_settings()
    claimed = _claim(db, outbox_id, settings, publisher)
    if isinstance(claimed, Outcome):
        return claimed
    pub = publisher
    try:
        pub = pub or publisher_for(claimed.posting.office_code, settings)
        result: Published | None = None
        if claimed.look_up_first:
            result = pub.lookup(claimed.posting, claimed.key)
        if result is None:
            result = pub.publish(claimed.posting, claimed.key)
    except PublishError as exc:
        return _failed_attempt(db, outbox_id, claimed, pub.name if pub else "?", exc, settings, rng)
    except Exception as exc:  # a bug or an unexpected library error: retry, bounded, and say so
        log.exception("publishing case %s failed unexpectedly", claimed.case_id)
        err = PublishError("發布時發生非預期的錯誤，稍後會自動重試", f"unexpected error: {exc!r}", transient=True,
                           ambiguous=True)
        return _failed_attempt(db, outbox_id, claimed, pub.name if pub else "?", err, settings, rng)
    return _succeeded(db, outbox_id, claimed, pub.name, result)


# -- claim --------------------------------------------------------------------------------------
def _claim(db: Database, outbox_id: int, settings: PublishSettings,
           publisher: Publisher | None) -> _Claimed | Outcome:
    now = clock.now()
    with db.unit_of_work() as uow:
        s = uow.session
        msg = s.get(OutboxMessage, outbox_id)
        if msg is None or msg.topic != POSTING_TOPIC:
            return Outcome("skipped")
        if msg.processed_at is not None:
            return Outcome("done")
        case_id, seq = int(msg.payload["case_id"]), int(msg.payload["event_seq"])
        logs.bind(case_id=case_id)
        case = s.get(Case, case_id)
        row = s.scalar(select(Publication).where(Publication.case_id == case_id).with_for_update())
        if case is None or case.state != PUBLISHING or (row is not None and row.round_seq > seq):
            # Published, failed, sent back or retried under a newer message meanwhile: nothing to do.
            _mark_processed(s, outbox_id)
            uow.commit()
            return Outcome("done")
        if row is None:
            row = Publication(office_id=case.office_id, case_id=case_id, idempotency_key=uuid.uuid4().hex,
                              publisher=publisher.name if publisher else configured_name(settings), status="pending",
                              round_seq=seq, attempts=0, total_attempts=0, created_at=now, updated_at=now)
            s.add(row)
        elif row.round_seq < seq:  # a new round (the secretariat pressed retry): fresh attempts
            row.round_seq, row.attempts, row.status = seq, 0, "pending"
            row.next_attempt_at = row.lease_until = None
        if row.status == "published":  # the post exists; a crash came before the transition
            url = row.url or ""
            uow.commit()
            return _finish(db, outbox_id, case_id, "mark_published", {"url": url, "publisher": row.publisher})
        if row.lease_until is not None and row.lease_until > now:
            s.flush()
            uow.commit()
            return Outcome("busy", retry_in=(row.lease_until - now).total_seconds())
        if row.lease_until is not None:  # an expired lease: that attempt never reported back
            row.lease_until = None
            row.last_error, row.last_error_en = INTERRUPTED
            writes.record_event(case_id, "publication", session=s, data={
                "round": row.round_seq, "attempt": row.attempts, "publisher": row.publisher,
                "outcome": "interrupted", "error": INTERRUPTED[0], "error_en": INTERRUPTED[1]})
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            uow.commit()
            return Outcome("not_due", retry_in=(row.next_attempt_at - now).total_seconds())
        if row.attempts >= settings.max_attempts:  # the last attempt was recorded, its outcome was not
            reason, reason_en = row.last_error or "多次嘗試仍無法刊登", row.last_error_en or "gave up"
            uow.commit()
            return _finish(db, outbox_id, case_id, "mark_publish_failed",
                           {"reason": reason, "reason_en": reason_en, "attempts": row.attempts}, comment=reason)
        posting = load_posting(s, case)
        problems = check(posting)
        if problems:
            # An attempt like any other (counted, in the history), stopped before anything was sent.
            reason, reason_en = checks.summary(problems)
            row.attempts += 1
            row.total_attempts += 1
            row.status, row.last_error, row.last_error_en, row.updated_at = "failed", reason, reason_en, now
            writes.record_event(case_id, "publication", session=s, data={
                "round": seq, "attempt": row.attempts, "total": row.total_attempts, "publisher": row.publisher,
                "outcome": "checks_failed", "error": reason, "error_en": reason_en,
                "problems": [p.code for p in problems]})
            uow.commit()
            return _finish(db, outbox_id, case_id, "mark_publish_failed",
                           {"reason": reason, "reason_en": reason_en, "checks": True}, comment=reason)
        row.attempts += 1
        row.total_attempts += 1
        row.lease_until = now + dt.timedelta(seconds=settings.lease_seconds)
        row.updated_at = now
        if publisher is not None:
            row.publisher = publisher.name
        s.flush()
        # Any earlier attempt may have reached the site (refused ones did not, but a look-up costs little).
        claimed = _Claimed(row.id, case_id, row.idempotency_key, row.attempts, seq, row.total_attempts > 1, posting,
                           row.total_attempts)
        uow.commit()  # key, attempt count and lease are durable before anything leaves the building
        return claimed


def check(posting: Posting) -> list[checks.Problem]:
    """The pre-publication checks on the posting as it would go out now (the task, the retry and
    the pages that offer it all ask this)."""
    return checks.check_posting(posting.heading, posting.body, [
        checks.FileToCheck(f.id, f.name, f.content, f.alt_text, f.caption) for f in posting.files],
        roc_year_now=clock.current_roc_year())


def load_posting(s: Session, case: Case) -> Posting:
    """The posting as it would go out now: the case's text and its files (read from storage)."""
    office = s.get(Office, case.office_id)
    unit = s.get(Unit, case.unit_id)
    fields = case.fields or {}
    files = []
    for att in s.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)):
        content = storage.default().get(att.storage_key)
        files.append(PostingFile(att.id, att.name, sniff(content).media_type or att.content_type, att.sha256,
                                 content, att.alt_text, att.caption))
    return Posting(case_id=case.id, office_code=office.code if office else "",
                   office_name=office.name if office else "",
                   unit_name=unit.name if unit else "", heading=str(fields.get("heading") or case.title),
                   body=str(fields.get("body") or ""), activity_date=fields.get("activity_date"),
                   roc_year=case.roc_year, files=tuple(files))


# -- outcomes -----------------------------------------------------------------------------------
def _attempt_data(c: _Claimed, publisher: str, outcome: str, **more: Any) -> dict[str, Any]:
    return {"round": c.round_seq, "attempt": c.attempt, "total": c.total, "publisher": publisher, "outcome": outcome,
            "looked_up": c.look_up_first, **{k: v for k, v in more.items() if v is not None}}


def _succeeded(db: Database, outbox_id: int, c: _Claimed, publisher: str, result: Published) -> Outcome:
    now = clock.now()
    with db.unit_of_work() as uow:
        s = uow.session
        s.execute(update(Publication).where(Publication.id == c.publication_id).values(
            status="published", url=result.url, remote_id=result.remote_id, publisher=publisher,
            lease_until=None, next_attempt_at=None, last_error=None, last_error_en=None,
            published_at=now, updated_at=now))
        writes.record_event(c.case_id, "publication", session=s,
                            data=_attempt_data(c, publisher, "published", url=result.url))
        uow.commit()
    return _finish(db, outbox_id, c.case_id, "mark_published", {"url": result.url, "publisher": publisher})


def _failed_attempt(db: Database, outbox_id: int, c: _Claimed, publisher: str, exc: PublishError,
                    settings: PublishSettings, rng: random.Random | None) -> Outcome:
    now = clock.now()
    final = not exc.transient or c.attempt >= settings.max_attempts
    wait = None if final else max(backoff(c.attempt, settings, rng), exc.retry_after or 0.0)
    outcome = "permanent_error" if not exc.transient else ("gave_up" if final else "transient_error")
    with db.unit_of_work() as uow:
        s = uow.session
        s.execute(update(Publication).where(Publication.id == c.publication_id).values(
            status="failed" if final else "pending", lease_until=None, last_error=exc.reason,
            last_error_en=exc.reason_en, updated_at=now,
            next_attempt_at=None if wait is None else now + dt.timedelta(seconds=wait)))
        writes.record_event(c.case_id, "publication", session=s, data=_attempt_data(
            c, publisher, outcome, error=exc.reason, error_en=exc.reason_en, status=exc.status,
            retry_in=None if wait is None else round(wait, 1)))
        uow.commit()
    if not final:
        return Outcome("retry", retry_in=wait, reason=exc.reason)
    reason = exc.reason if not exc.transient else f"嘗試 {c.attempt} 次仍無法刊登：{exc.reason}"
    reason_en = exc.reason_en if not exc.transient else f"gave up after {c.attempt} attempts: {exc.reason_en}"
    return _finish(db, outbox_id, c.case_id, "mark_publish_failed",
                   {"reason": reason, "reason_en": reason_en, "attempts": c.attempt}, comment=reason)


def _finish(db: Database, outbox_id: int, case_id: int, trigger: str, data: dict[str, Any],
            comment: str | None = None) -> Outcome:
    """Fire the system's outcome transition, then mark the message processed (in that order: a
    crash in between leaves the message to be delivered again, which finds the outcome recorded)."""
    try:
        approval.fire(case_id, trigger, None, comment[:4000] if comment else None, db=db, data=data)
    except CaseflowError as exc:  # someone (another delivery, the secretariat) moved the case first
        log.info("case %s: %s not fired: %s", case_id, trigger, exc)
    with db.unit_of_work() as uow:
        _mark_processed(uow.session, outbox_id)
        uow.commit()
    if trigger == "mark_published":
        return Outcome("published", url=str(data.get("url") or ""))
    return Outcome("failed", reason=str(data.get("reason") or ""))


def _mark_processed(s: Session, outbox_id: int) -> None:
    s.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.processed_at.is_(None))
              .values(processed_at=clock.now()).execution_options(synchronize_session=False))
