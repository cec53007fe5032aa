"""``caseflow health worker|beat``: the container health checks of docker-compose.yml, from heartbeats.

A Celery worker's main process and Celery beat's scheduler record heartbeats in Redis
(``tasks.heartbeat``, the ones ``/readyz`` reads). These commands exit 0 when this host's worker
(serving the queues asked for) or beat has beaten within three heartbeat intervals
(``CASEFLOW_WORKER_HEARTBEAT_SECONDS``, 10 s: 30 s), and 1 with one line saying what is missing or
stale otherwise (Docker: 0 healthy, 1 unhealthy). "This host" is the container: with
``--scale worker=2`` each replica answers for itself; ``--any-host`` accepts any.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from caseflow.cli.base import App, main, pass_app

EXIT_UNHEALTHY = 1


def unhealthy(message: str) -> NoReturn:
    click.echo(f"caseflow: unhealthy: {message}", err=True)
    sys.exit(EXIT_UNHEALTHY)


def _records(app: App, prefix: str) -> tuple[list[dict[str, Any]], float]:
    """The heartbeats stored under ``prefix`` and the age (s) that still counts as recent."""
    import redis

    from tasks import heartbeat

    if not app.settings.redis_url:
        unhealthy("REDIS_URL is not set: heartbeats live in Redis (the embedded default has none)")
    try:
        found = heartbeat.records(heartbeat.client(app.settings.redis_url), prefix)
    except redis.RedisError as exc:
        unhealthy(f"heartbeats unreadable: redis unreachable ({type(exc).__name__})")
    return found, heartbeat.max_age(app.settings.heartbeat_seconds)


def _on_this_host(node: str, host: str) -> bool:
    return node == host or node.rpartition("@")[2] == host  # Celery names its workers name@host


def _age(record: dict[str, Any], now: float) -> float:
    try:
        return max(0.0, now - float(record.get("at", 0)))
    except (TypeError, ValueError):
        return float("inf")


def _judge(what: str, records: Sequence[dict[str, Any]], recent: float) -> None:
    """Exit 1 unless one of ``records`` is recent, saying whether there was none or how old."""
    now = time.time()
    if not records:
        unhealthy(f"no {what} heartbeat at all (is it running, and on this REDIS_URL?)")
    freshest = min(records, key=lambda r: _age(r, now))
    age = _age(freshest, now)
    if age > recent:
        unhealthy(f"{what} heartbeat stale: the last was {age:.0f} s ago ({freshest.get('node')}), "
                  f"recent is within {recent:.0f} s")
    click.echo(f"ok: {what} {freshest.get('node')} beat {age:.1f} s ago")


@main.group()
def health() -> None:
    """Health checks for containers: exit 0 when this host's worker or beat has a recent heartbeat."""


@health.command("worker")
@click.option("--queue", "queues", multiple=True,
              help="A queue the worker must serve (repeatable): celery, conversions. Default: any.")
@click.option("--any-host", is_flag=True, help="Accept a worker on any host, not only this one.")
@pass_app
def worker(app: App, queues: tuple[str, ...], any_host: bool) -> None:
    """Exit 0 when a worker on this host, serving every --queue, beat recently."""
    from tasks import heartbeat

    found, recent = _records(app, heartbeat.KEY_PREFIX)
    host = socket.gethostname()
    where = "" if any_host else f" on this host ({host})"
    mine = [r for r in found if any_host or _on_this_host(str(r.get("node", "")), host)]
    serving = [r for r in mine if set(queues) <= {str(q) for q in r.get("queues", [])}]
    if mine and not serving:
        served = sorted({str(q) for r in mine for q in r.get("queues", [])})
        unhealthy(f"no worker{where} serves {', '.join(queues)} (they serve {', '.join(served) or 'nothing'})")
    _judge(f"worker{where}" + (f" for {', '.join(queues)}" if queues else ""), serving, recent)


@health.command("beat")
@click.option("--any-host", is_flag=True, help="Accept a beat on any host, not only this one.")
@pass_app
def beat(app: App, any_host: bool) -> None:
    """Exit 0 when Celery beat on this host ticked recently."""
    from tasks import heartbeat

    found, recent = _records(app, heartbeat.BEAT_KEY_PREFIX)
    host = socket.gethostname()
    mine = [r for r in found if any_host or _on_this_host(str(r.get("node", "")), host)]
    _judge("beat" if any_host else f"beat on this host ({host})", mine, recent)
