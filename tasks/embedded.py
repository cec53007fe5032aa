"""The embedded default's background work: the same task code, run in-process on a thread.

With no Redis configured, ``install`` starts one daemon thread that processes outbox rows as soon
as an operation commits them (and sweeps every few seconds for rows written by other processes,
such as the command line), so the README's first command still produces documents.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from documents import service
from workflow import operations
from workflow.db import Database

log = logging.getLogger(__name__)


class EmbeddedWorker:
    def __init__(self, db: Database, *, sweep_seconds: float = 5.0) -> None:
        self.db = db
        self.sweep_seconds = sweep_seconds
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="caseflow-embedded-worker", daemon=True)
        self._stop = threading.Event()
        self.processed = 0

    def start(self) -> EmbeddedWorker:
        self._thread.start()
        return self

    def submit(self, outbox_ids: tuple[int, ...]) -> None:
        for i in outbox_ids:
            self._queue.put(i)

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=30)

    def drain(self) -> None:
        """Process everything queued and due now (tests and the command line)."""
        self._sweep()
        while not self._queue.empty():
            item = self._queue.get()
            if item is not None:
                self._handle(item)

    def _run(self) -> None:
        self._sweep()
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=self.sweep_seconds)
            except queue.Empty:
                self._sweep()
                continue
            if item is not None:
                self._handle(item)

    def _sweep(self) -> None:
        from tasks.relay import due_for_dispatch

        try:
            for i in due_for_dispatch(self.db):
                self._handle(i)
        except Exception:
            log.exception("embedded sweep failed")

    def _handle(self, outbox_id: int) -> None:
        try:
            service.process_outbox(self.db, outbox_id)
            self.processed += 1
        except Exception:
            log.exception("rendering for outbox row %s failed", outbox_id)


_worker: EmbeddedWorker | None = None


def install(db: Database, *, redis_url: str | None) -> Callable[[tuple[int, ...]], None]:
    """Wire the after-commit hook: Celery when Redis is configured, else the in-process worker."""
    global _worker
    listener: Callable[[tuple[int, ...]], None]
    if redis_url:
        from tasks.relay import publish

        def listener(ids: tuple[int, ...]) -> None:
            publish(ids, db)
    else:
        if _worker is None:
            _worker = EmbeddedWorker(db).start()
        listener = _worker.submit
    operations.clear_listeners()
    operations.on_committed(listener)
    return listener
