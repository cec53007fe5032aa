"""Operations endpoints: ``/healthz`` (the process answers), ``/readyz`` (what it needs answers
too) and ``/metrics`` (Prometheus).

- ``/healthz``: 200 whenever the process serves requests; touches nothing else (an orchestrator
  restarts the process when it fails).
- ``/readyz``: the database answers; Redis answers when ``REDIS_URL`` is set; a worker beat
  recently for every queue (``tasks.heartbeat``), or, in the embedded default, the in-process
  worker thread runs. 200 when all hold, else 503; the JSON body names what is down either way.
- ``/metrics``: the counters and timings of ``workflow.metrics`` (added up over every process that
  shares ``PROMETHEUS_MULTIPROC_DIR``), and backlogs read from the database at scrape time. It is
  answered to a request from the machine itself (127.0.0.1 or ::1, not relayed by a proxy), or to
  one that carries ``Authorization: Bearer <CASEFLOW_METRICS_TOKEN>``; anyone else gets 403.

All three are public in the sense of needing no login, so they say nothing about cases or people.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text

from web.db import database
from workflow import clock
from workflow.config import metrics_dir
from workflow.db import Database
from workflow.models import OutboxMessage

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


# -- readiness ----------------------------------------------------------------------------------
def _check_database() -> dict[str, Any]:
    try:
        with database().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        return {"ok": False, "error": f"database unreachable ({type(exc).__name__})"}
    return {"ok": True}


def _check_redis(url: str) -> dict[str, Any]:
    from tasks import heartbeat

    try:
        heartbeat.client(url).ping()
    except Exception as exc:
        return {"ok": False, "error": f"redis unreachable ({type(exc).__name__})"}
    return {"ok": True}


def _check_celery_workers(url: str) -> dict[str, Any]:
    from tasks import heartbeat
    from tasks.app import QUEUES

    interval = float(current_app.config["WORKER_HEARTBEAT_SECONDS"])
    try:
        live = heartbeat.live_workers(heartbeat.client(url), interval)
    except Exception as exc:
        return {"ok": False, "error": f"worker heartbeats unreadable: redis unreachable ({type(exc).__name__})"}
    missing = [q for q in QUEUES if not live.get(q)]
    result: dict[str, Any] = {"ok": not missing, "queues": {q: len(live.get(q, [])) for q in QUEUES},
                              "recent_seconds": heartbeat.max_age(interval)}
    if missing:
        result["error"] = (f"no worker heartbeat within {heartbeat.max_age(interval):.0f} s for queue "
                           + ", ".join(missing))
    return result


def _check_embedded_worker() -> dict[str, Any]:
    from tasks import embedded

    if not current_app.config["BACKGROUND_WORK"]:
        return {"ok": False, "error": "background work is turned off in this app"}
    if not embedded.running():
        return {"ok": False, "error": "the in-process worker thread is not running"}
    return {"ok": True, "embedded": True}


def readiness() -> dict[str, dict[str, Any]]:
    checks = {"database": _check_database()}
    url = current_app.config.get("REDIS_URL")
    if url:
        checks["redis"] = _check_redis(url)
        checks["worker"] = _check_celery_workers(url)
    else:
        checks["worker"] = _check_embedded_worker()
    return checks


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = readiness()
    down = [name for name, result in checks.items() if not result["ok"]]
    if down:
        log.warning("not ready: %s", ", ".join(down))
    body = {"status": "not ready" if down else "ready", "down": down, "checks": checks}
    return jsonify(body), 503 if down else 200


# -- metrics ------------------------------------------------------------------------------------
class OutboxBacklog(Collector):
    """Unprocessed outbox rows per topic and the age of the oldest, read at scrape time (the
    database is the truth: every process and host adds to and drains the same table)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> list[GaugeMetricFamily]:
        from tasks.relay import TOPIC_TASKS

        backlog = GaugeMetricFamily("caseflow_outbox_backlog", "Outbox rows not yet processed, by topic",
                                    labels=["topic"])
        oldest = GaugeMetricFamily("caseflow_outbox_oldest_age_seconds",
                                   "Age of the oldest unprocessed outbox row, by topic (0: none)", labels=["topic"])
        up = GaugeMetricFamily("caseflow_database_up", "Whether this scrape could read the database (1) or not (0)")
        try:
            with self.db.unit_of_work(write=False) as uow:
                rows = uow.session.execute(
                    select(OutboxMessage.topic, func.count(), func.min(OutboxMessage.created_at))
                    .where(OutboxMessage.processed_at.is_(None)).group_by(OutboxMessage.topic)).all()
        except Exception:  # the counters are still worth having; the backlog is unknown
            log.exception("metrics: the outbox backlog could not be read")
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        now = clock.now()
        found = {topic: (count, first) for topic, count, first in rows}
        for topic in sorted(set(TOPIC_TASKS) | set(found)):
            count, first = found.get(topic, (0, None))
            backlog.add_metric([topic], count)
            if first is not None and first.tzinfo is None:
                first = first.replace(tzinfo=now.tzinfo)
            oldest.add_metric([topic], max(0.0, (now - first).total_seconds()) if first is not None else 0.0)
        return [up, backlog, oldest]


def may_read_metrics() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token and hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        return True
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False  # relayed by a proxy: the proxy's own address says nothing about the client
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def exposition(db: Database | None) -> bytes:
    """The text exposition: this process group's counters, then the database's backlogs."""
    directory = current_app.config.get("METRICS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(directory))
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    if db is not None:
        backlog = CollectorRegistry(auto_describe=False)
        backlog.register(OutboxBacklog(db))
        body += generate_latest(backlog)
    return body


@bp.get("/metrics")
def metrics() -> Response:
    if not may_read_metrics():
        abort(403)
    started = time.perf_counter()
    body = exposition(database())
    log.debug("metrics scraped in %.3f s", time.perf_counter() - started)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_ops(app: Flask) -> None:
    if app.config.get("METRICS_MULTIPROC_DIR") is None and metrics_dir() is None and _under_gunicorn():
        log.warning("PROMETHEUS_MULTIPROC_DIR is not set: with several gunicorn workers each scrape of "
                    "/metrics sees one worker's counters only")
    app.register_blueprint(bp)


def _under_gunicorn() -> bool:
    import sys

    return "gunicorn" in sys.modules
