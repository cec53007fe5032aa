"""What a Celery worker does besides its tasks, wired to Celery's signals (tasks/app.py imports this):

- its heartbeat in Redis for ``/readyz`` (``tasks.heartbeat``), from the main process;
- its own ``/metrics`` on ``CASEFLOW_WORKER_METRICS_PORT`` when set, adding up its pool's
  counters through ``PROMETHEUS_MULTIPROC_DIR`` (``caseflow worker`` gives each worker a directory);
- JSON log lines with the task id and name when ``CASEFLOW_LOG_FORMAT=json``;
- LibreOffice: stale profile folders of dead workers swept at start, and each pool child's
  LibreOffice closed (its profile folder removed) when the child exits. LibreOffice dying *with* a
  worker killed by SIGKILL is ``documents.convert``'s business (it cannot wait for a signal).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from workflow import logs
from workflow.config import load_settings, metrics_dir

log = logging.getLogger(__name__)
_heartbeat: Any = None


@signals.setup_logging.connect
def _logging(loglevel: int | str | None = None, **_kw: Any) -> None:
    """Celery leaves logging to us once any receiver is connected: ours, text or JSON, with the
    task's ids on every line."""
    settings = load_settings()
    level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else (loglevel or settings.log_level)
    logs.configure(settings.log_format, str(level))


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, task: Any = None, **_kw: Any) -> None:
    logs.clear()
    logs.bind(task_id=task_id, task=getattr(task, "name", None))


@signals.task_postrun.connect
def _task_done(**_kw: Any) -> None:
    logs.clear()


@signals.worker_init.connect
def _worker_init(**_kw: Any) -> None:
    from documents import convert

    removed = convert.sweep_stale_profiles()
    if removed:
        log.info("removed %d LibreOffice profile folder(s) of workers that are gone", len(removed))
    settings = load_settings()
    if settings.worker_metrics_port:
        _serve_metrics(settings.worker_metrics_host, settings.worker_metrics_port)


def _serve_metrics(host: str, port: int) -> None:
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    directory = metrics_dir()
    if directory is None:
        log.warning("PROMETHEUS_MULTIPROC_DIR is not set: this worker's /metrics sees its main process only, "
                    "not its pool (run it with `caseflow worker`)")
        registry = REGISTRY
    else:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(directory))
    start_http_server(port, addr=host, registry=registry)
    log.info("worker metrics on http://%s:%d/metrics", host, port)


@signals.worker_ready.connect
def _worker_ready(sender: Any = None, **_kw: Any) -> None:
    global _heartbeat
    from tasks.heartbeat import Heartbeat

    settings = load_settings()
    if not settings.redis_url or sender is None:
        return
    queues = list(sender.app.amqp.queues.consume_from or sender.app.amqp.queues)
    _heartbeat = Heartbeat(settings.redis_url, sender.hostname, queues, settings.heartbeat_seconds).start()


@signals.worker_shutdown.connect
def _worker_shutdown(**_kw: Any) -> None:
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None


@signals.worker_process_shutdown.connect
def _pool_child_exits(**_kw: Any) -> None:
    from documents import convert

    convert.close_default()
