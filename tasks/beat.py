"""Celery beat's scheduler with a heartbeat: each tick records that beat is alive (``caseflow health beat``).

The heartbeat rides on the scheduler's own tick rather than on a thread beside it, so a beat whose
loop is stuck (or that cannot reach the broker to send what is due) stops beating. The tick runs
at least every ``CASEFLOW_WORKER_HEARTBEAT_SECONDS`` (``beat_max_loop_interval`` in ``tasks.app``),
and writes at most once per half interval however often beat wakes. Redis being down only logs:
beat keeps its schedule, and its health check says what is wrong.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import redis
from celery.beat import PersistentScheduler

from tasks import heartbeat
from workflow.config import load_settings

log = logging.getLogger(__name__)


def node_name() -> str:
    """Who this beat is in its heartbeat: the host (a container's own name under Compose)."""
    return socket.gethostname()


class HeartbeatScheduler(PersistentScheduler):
    """``PersistentScheduler`` (the schedule file of ``caseflow beat``) that beats on each tick."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = load_settings()
        self._redis_url, self._interval = settings.redis_url, settings.heartbeat_seconds
        self._client: redis.Redis | None = None
        self._last = 0.0
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        wait = float(super().tick(*args, **kwargs))
        self.record_heartbeat()
        return wait

    def record_heartbeat(self) -> None:
        if not self._redis_url or time.monotonic() - self._last < self._interval / 2:
            return
        try:
            if self._client is None:
                self._client = heartbeat.client(self._redis_url)
            heartbeat.scheduler_beat(self._client, node_name(), self._interval)
            self._last = time.monotonic()
        except redis.RedisError as exc:
            log.warning("beat heartbeat not recorded: %s", exc)
