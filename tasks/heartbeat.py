"""Worker and beat heartbeats in Redis, for ``/readyz`` and ``caseflow health``: which queues a live
worker serves right now, and whether Celery beat is still ticking.

Each Celery worker's main process writes ``caseflow:worker-heartbeat:<node>:<pid>`` every
``CASEFLOW_WORKER_HEARTBEAT_SECONDS`` (10 s) with the queues it consumes and the time, expiring
after three intervals. "Recent" is within those three intervals (30 s): a worker that missed two
beats in a row is taken for gone. A clean shutdown deletes its key at once. The main process beats
from a thread of its own, so a long conversion in a pool child does not make its worker look dead;
a worker whose pool is stuck is Celery's time limit's business, not the heartbeat's.

Celery beat writes ``caseflow:beat-heartbeat:<host>:<pid>`` from its scheduler's own tick
(``tasks.beat``), so a beat whose loop stops stops beating; the same interval and "recent" apply.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

import redis

KEY_PREFIX = "caseflow:worker-heartbeat:"
BEAT_KEY_PREFIX = "caseflow:beat-heartbeat:"
log = logging.getLogger(__name__)


def client(url: str) -> redis.Redis:
    """A client that gives up quickly: a probe must answer even when Redis does not."""
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def max_age(interval: float) -> float:
    return 3 * interval


def beat(r: redis.Redis, node: str, queues: Iterable[str], interval: float, *, pid: int | None = None,
         prefix: str = KEY_PREFIX) -> None:
    pid = pid or os.getpid()
    value = json.dumps({"node": node, "pid": pid, "queues": sorted(queues), "at": time.time()})
    r.set(f"{prefix}{node}:{pid}", value, ex=max(1, math.ceil(max_age(interval))))


def scheduler_beat(r: redis.Redis, node: str, interval: float, *, pid: int | None = None) -> None:
    """Celery beat's heartbeat: its scheduler ticked just now."""
    beat(r, node, [], interval, pid=pid, prefix=BEAT_KEY_PREFIX)


def records(r: redis.Redis, prefix: str = KEY_PREFIX) -> list[dict[str, Any]]:
    """Every heartbeat still stored under ``prefix`` (recent or not; unreadable ones skipped)."""
    keys = list(r.scan_iter(match=f"{prefix}*", count=100))
    out: list[dict[str, Any]] = []
    for raw in r.mget(keys) if keys else []:
        if raw is None:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict):
            out.append(data)
    return out


def forget(r: redis.Redis, node: str, *, pid: int | None = None) -> None:
    r.delete(f"{KEY_PREFIX}{node}:{pid or os.getpid()}")


def live_workers(r: redis.Redis, interval: float) -> dict[str, list[str]]:
    """Queue -> the workers (node names) that beat within ``max_age(interval)``."""
    now = time.time()
    found: dict[str, list[str]] = {}
    for data in records(r):
        if now - float(data.get("at", 0)) > max_age(interval):
            continue
        for queue in data.get("queues", []):
            found.setdefault(str(queue), []).append(str(data.get("node")))
    return found


class Heartbeat:
    """The beating thread of one worker's main process."""

    def __init__(self, url: str, node: str, queues: Iterable[str], interval: float) -> None:
        self.url, self.node, self.queues, self.interval = url, node, sorted(queues), interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="caseflow-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _run(self) -> None:
        r = client(self.url)
        while not self._stop.is_set():
            try:
                beat(r, self.node, self.queues, self.interval)
            except redis.RedisError as exc:  # Redis down: /readyz says so; beat again when it is back
                log.warning("worker heartbeat not recorded: %s", exc)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(redis.RedisError):  # else it expires by itself
            forget(client(self.url), self.node)
