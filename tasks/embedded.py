"""The embedded default's background work: the same task code, run in-process on a thread.

With no Redis configured, ``install`` starts one daemon thread that processes outbox rows as soon
as an operation commits them (and sweeps every few seconds for rows written by other processes,
such as the command line), so the README's first command still produces documents. What a person
just did goes before the backlog a sweep found, and ODT/PDF conversions come last. Once a day (and at
start) it also runs what beat runs in production: the plan year's generation, the reminders, and
ODT/PDF for documents still without them; and every minute, the notifications' e-mail (what a
failed send left, the daily digests once due).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable

from sqlalchemy import select

from documents import service
from publishing import service as publishing_service
from workflow import logs
from workflow.cases import approval, writes
from workflow.db import Database
from workflow.models import OutboxMessage
from workflow.notifications import mail

log = logging.getLogger(__name__)
MAIL_EVERY_SECONDS = 60.0
# Outbox topic -> the function the Celery task for that topic runs (tasks/relay.py's TOPIC_TASKS).
CONSUMERS: dict[str, Callable[[Database, int], object]] = {
    approval.DOCUMENT_TOPIC: service.process_outbox,
    service.CONVERT_TOPIC: service.process_conversion,
    publishing_service.POSTING_TOPIC: publishing_service.process_posting,
}


class EmbeddedWorker:
    def __init__(self, db: Database, *, sweep_seconds: float = 5.0, base_url: str = "") -> None:
        from tasks.notifications import deliver_handoff

        self.db = db
        self.sweep_seconds = sweep_seconds
        # E-mail links point at this server (CASEFLOW_PUBLIC_BASE_URL, else the address it serves on).
        self.links = mail.Links(base_url)
        self.consumers: dict[str, Callable[[Database, int], object]] = {
            **CONSUMERS, approval.HANDOFF_TOPIC: functools.partial(deliver_handoff, links=self.links)}
        self._last_mail = 0.0
        # (priority, order, outbox id): 0 = just committed, 1 = found by a sweep, 2 = a follow-up
        # step (ODT/PDF conversion, about a second) that must not delay a .docx; None id = stop.
        self._queue: queue.PriorityQueue[tuple[int, int, int | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._queued: set[int] = set()
        self._lock = threading.Lock()
        self._last_daily: dt.date | None = None
        self._thread = threading.Thread(target=self._run, name="caseflow-embedded-worker", daemon=True)
        self._stop = threading.Event()
        self.processed = 0

    def start(self) -> EmbeddedWorker:
        self._thread.start()
        return self

    def submit(self, outbox_ids: tuple[int, ...], priority: int = 0) -> None:
        with self._lock:
            for i in outbox_ids:
                if i not in self._queued:
                    self._queued.add(i)
                    self._queue.put((priority, next(self._order), i))

    def stop(self) -> None:
        self._stop.set()
        self._queue.put((-1, next(self._order), None))
        self._thread.join(timeout=30)

    def drain(self) -> None:
        """Process everything queued and due now (tests and the command line)."""
        self._sweep()
        self.run_queued()

    def run_queued(self) -> None:
        """Process what is queued, in priority order, follow-ups included, without a sweep."""
        while not self._queue.empty():
            self._take(self._queue.get())

    def _take(self, item: tuple[int, int, int | None]) -> None:
        outbox_id = item[2]
        if outbox_id is None:
            return
        with self._lock:
            self._queued.discard(outbox_id)
        self._handle(outbox_id)

    def _run(self) -> None:
        self._sweep()
        while not self._stop.is_set():
            self._daily()
            self._mail()
            try:
                item = self._queue.get(timeout=self.sweep_seconds)
            except queue.Empty:
                self._sweep()
                continue
            self._take(item)

    def _sweep(self) -> None:
        from tasks.relay import due_for_dispatch

        try:
            self.submit(tuple(due_for_dispatch(self.db)), priority=1)
        except Exception:
            log.exception("embedded sweep failed")

    def _daily(self) -> None:
        """Beat's daily entries, for the embedded default: plan generation and reminders (their
        e-mail goes out with the next ``_mail``, linking to this server)."""
        from workflow import clock

        today = clock.today()
        if self._last_daily == today:
            return
        self._last_daily = today
        try:
            from tasks.calendar import generate_plan_year
            from workflow.calendar import reminders
            from workflow.config import load_settings

            generate_plan_year()
            reminders.decide(self.db, days_before=load_settings().remind_days_before)
            self._last_mail = 0.0
        except Exception:
            log.exception("embedded daily tasks failed")
        try:  # ODT and PDF for older documents: after the day's new work, like beat's nightly run
            self.submit(service.queue_missing_conversions(self.db), priority=2)
        except Exception:
            log.exception("embedded conversion sweep failed")

    def _mail(self) -> None:
        """Beat's per-minute entry: e-mail still owed (a failed send), and the digests once due."""
        if time.monotonic() - self._last_mail < MAIL_EVERY_SECONDS:
            return
        self._last_mail = time.monotonic()
        try:
            from tasks.notifications import send_mail

            send_mail(self.db, links=self.links)
        except Exception:
            log.exception("embedded notification e-mail failed")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def _handle(self, outbox_id: int) -> None:
        logs.clear()  # this item's log lines carry its own ids, not the previous item's
        try:
            with self.db.unit_of_work(write=False) as uow:
                topic = uow.session.scalar(select(OutboxMessage.topic).where(OutboxMessage.id == outbox_id))
            consumer = self.consumers.get(topic or "")
            if consumer is None:
                return
            # A posting still waiting for its backoff is a no-op here; a later sweep finds it due.
            result = consumer(self.db, outbox_id)
            self.processed += 1
            follow_up = getattr(result, "follow_up", ())
            if follow_up:
                self.submit(tuple(follow_up), priority=2)
        except Exception:
            log.exception("processing outbox row %s failed", outbox_id)


_worker: EmbeddedWorker | None = None


def running() -> bool:
    """Whether this process's in-process worker runs (what /readyz asks in the embedded default)."""
    return _worker is not None and _worker.alive


def install(db: Database, *, redis_url: str | None, base_url: str = "") -> Callable[[tuple[int, ...]], None]:
    """Wire the after-commit hook: Celery when Redis is configured, else the in-process worker
    (``base_url``: where its e-mail links point)."""
    global _worker
    listener: Callable[[tuple[int, ...]], None]
    if redis_url:
        from tasks.relay import publish

        def listener(ids: tuple[int, ...]) -> None:
            publish(ids, db)
    else:
        if _worker is None:
            _worker = EmbeddedWorker(db, base_url=base_url).start()
        listener = _worker.submit
    writes.clear_listeners()
    writes.on_committed(listener)
    return listener
