"""``caseflow health worker|beat`` against a real Redis of the test's own: exit 0 with a recent
heartbeat of this host's worker (serving the queue asked for) or beat, 1 with a line saying what is
missing or stale; and a real ``caseflow beat`` records its heartbeat from its scheduler's tick."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner, Result

from caseflow.cli import main
from tasks import heartbeat
from tests.servers import RedisServer, _stop, running_redis

CASEFLOW = str(Path(sys.executable).with_name("caseflow"))
HOST = socket.gethostname()


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("health-redis")) as server:
        yield server


@pytest.fixture
def r(private_redis: RedisServer) -> redis.Redis:
    client = redis.Redis.from_url(private_redis.url)
    client.flushdb()  # this test's own server: nobody else's keys
    return client


@pytest.fixture
def env(private_redis: RedisServer, tmp_path: Path) -> dict[str, str]:
    return {"REDIS_URL": private_redis.url, "CASEFLOW_INSTANCE": str(tmp_path), "SECRET_KEY": "x" * 40,
            "CASEFLOW_WORKER_HEARTBEAT_SECONDS": "10"}


def health(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["health", *args], env=env)


def age(r: redis.Redis, key: str, seconds: float) -> None:
    """Make the heartbeat under ``key`` ``seconds`` old (its key still there)."""
    data = json.loads(r.get(key))  # type: ignore[arg-type]
    data["at"] = time.time() - seconds
    r.set(key, json.dumps(data))


def test_worker_health_needs_a_recent_heartbeat_of_this_hosts_worker(r: redis.Redis, env: dict[str, str]) -> None:
    missing = health(env, "worker", "--queue", "celery")
    assert missing.exit_code == 1 and "no worker on this host" in missing.output and "at all" in missing.output
    heartbeat.beat(r, f"celery@{HOST}", ["celery"], 10)
    fresh = health(env, "worker", "--queue", "celery")
    assert fresh.exit_code == 0, fresh.output
    assert f"ok: worker on this host ({HOST}) for celery celery@{HOST}" in fresh.output
    assert health(env, "worker").exit_code == 0  # any queue
    # The converter's check: this host's worker serves the other queue only.
    other = health(env, "worker", "--queue", "conversions")
    assert other.exit_code == 1 and "serves conversions (they serve celery)" in other.output
    age(r, f"{heartbeat.KEY_PREFIX}celery@{HOST}:{os.getpid()}", 95)
    stale = health(env, "worker", "--queue", "celery")
    assert stale.exit_code == 1
    assert "heartbeat stale: the last was 95 s ago" in stale.output and "within 30 s" in stale.output


def test_another_hosts_worker_counts_only_when_asked(r: redis.Redis, env: dict[str, str]) -> None:
    heartbeat.beat(r, "celery@some-other-container", ["conversions"], 10)
    mine = health(env, "worker", "--queue", "conversions")
    assert mine.exit_code == 1 and "no worker on this host" in mine.output
    anywhere = health(env, "worker", "--queue", "conversions", "--any-host")
    assert anywhere.exit_code == 0 and "celery@some-other-container" in anywhere.output


def test_beat_health_needs_a_recent_beat_heartbeat(r: redis.Redis, env: dict[str, str]) -> None:
    missing = health(env, "beat")
    assert missing.exit_code == 1 and "no beat on this host" in missing.output
    heartbeat.beat(r, f"celery@{HOST}", ["celery"], 10)  # a worker's heartbeat is not beat's
    assert health(env, "beat").exit_code == 1
    heartbeat.scheduler_beat(r, HOST, 10)
    fresh = health(env, "beat")
    assert fresh.exit_code == 0 and f"ok: beat on this host ({HOST}) {HOST} beat" in fresh.output
    age(r, f"{heartbeat.BEAT_KEY_PREFIX}{HOST}:{os.getpid()}", 40)
    stale = health(env, "beat")
    assert stale.exit_code == 1 and "stale: the last was 40 s ago" in stale.output


def test_without_redis_it_is_unhealthy_and_says_why(env: dict[str, str]) -> None:
    unset = health({**env, "REDIS_URL": ""}, "beat")
    assert unset.exit_code == 1 and "REDIS_URL is not set" in unset.output
    dead = health({**env, "REDIS_URL": "redis://127.0.0.1:1/0"}, "worker")
    assert dead.exit_code == 1 and "redis unreachable" in dead.output


def _health_beat(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CASEFLOW, "health", "beat"], env=env, capture_output=True, text=True, timeout=60)


def test_a_running_beat_is_healthy_and_stops_being_so_when_it_stops(r: redis.Redis, env: dict[str, str],
                                                                    tmp_path: Path) -> None:
    run_env = {**os.environ, **env, "CASEFLOW_WORKER_HEARTBEAT_SECONDS": "1"}
    run_env.pop("DATABASE_URL", None)
    log = (tmp_path / "beat.log").open("wb")
    proc = subprocess.Popen([CASEFLOW, "beat", "--loglevel", "INFO"], env=run_env, cwd=tmp_path, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while (res := _health_beat(run_env)).returncode != 0:
            assert proc.poll() is None, (tmp_path / "beat.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, res.stderr
            time.sleep(0.5)
        assert f"ok: beat on this host ({HOST})" in res.stdout
        time.sleep(2.5)  # more than two intervals: it has beaten again since
        again = json.loads(r.get(f"{heartbeat.BEAT_KEY_PREFIX}{HOST}:{proc.pid}"))  # type: ignore[arg-type]
        assert time.time() - again["at"] < 2
    finally:
        _stop(proc, signal.SIGTERM)
        log.close()
    time.sleep(3.5)  # three intervals without a tick
    gone = _health_beat(run_env)
    assert gone.returncode == 1 and "beat on this host" in gone.stderr
