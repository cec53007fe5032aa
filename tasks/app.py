"""The Celery app, configured for work that must not be lost (RELIABILITY.md §1).

JSON only; acks late and re-queued if the worker dies mid-task; one message prefetched at a time;
a visibility timeout well above the task time limit; cancel running tasks when the broker
connection is lost (their ack would fail and they would run twice anyway). Nothing is stored in a
result backend: the database rows are the results.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

from tasks.schedule import BEAT_SCHEDULE
from workflow.config import load_settings

TASK_TIME_LIMIT = int(os.environ.get("CASEFLOW_TASK_TIME_LIMIT", "300"))
# Renders, publications and the sweep go to the default queue; LibreOffice conversions (about a
# second each) to their own, so a worker that only serves the default queue keeps the .docx fast.
BROKER_SOCKET_TIMEOUT = 2.0  # seconds (RELIABILITY.md §7 row 5)
DEFAULT_QUEUE = "celery"
CONVERSION_QUEUE = "conversions"
QUEUES = (DEFAULT_QUEUE, CONVERSION_QUEUE)


def make_celery() -> Celery:
    settings = load_settings()
    broker = settings.redis_url or "memory://"
    visibility = int(os.environ.get("CASEFLOW_VISIBILITY_TIMEOUT", str(TASK_TIME_LIMIT * 4)))
    app = Celery("caseflow", broker=broker, include=["tasks.documents", "tasks.relay", "tasks.calendar",
                                                   "tasks.notifications"])
    # socket_timeout: a Redis that answers slowly (or a half-open connection) fails a publish after
    # that long instead of holding the web request for as long as Redis takes (kombu waits forever
    # by default); the row stays for the sweep. A worker's BRPOP runs in its event loop, untouched.
    transport = {"visibility_timeout": visibility, "socket_timeout": BROKER_SOCKET_TIMEOUT,
                 "socket_connect_timeout": BROKER_SOCKET_TIMEOUT}
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_time_limit=TASK_TIME_LIMIT,
        task_soft_time_limit=TASK_TIME_LIMIT - 30,
        broker_transport_options=transport,
        # A web request must not hang on a broker that is down: try briefly, then leave the row to
        # the sweep (the transition is already committed).
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0.1, "interval_step": 0.2,
                                   "interval_max": 0.3},
        task_default_queue=DEFAULT_QUEUE,
        task_queues=tuple(Queue(q) for q in QUEUES),  # a worker without --queues serves both
        task_routes={"caseflow.convert_document": {"queue": CONVERSION_QUEUE}},
        beat_schedule=BEAT_SCHEDULE,
        # Beat records a heartbeat on each tick (``caseflow health beat``): tick at least that often.
        beat_scheduler="tasks.beat:HeartbeatScheduler",
        beat_max_loop_interval=settings.heartbeat_seconds,
        timezone="Asia/Taipei",
        worker_hijack_root_logger=False,
    )
    return app


celery_app = make_celery()

# The worker's own hooks (heartbeat, metrics port, logging, LibreOffice clean-up) ride on Celery's
# signals: importing the module connects them in every process that loads the app.
import tasks.worker_process  # noqa: E402,F401
