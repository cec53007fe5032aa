"""docker-compose.yml (read with PyYAML): every service has a health check, what depends on another
waits for it to be healthy (or, for the one-shot migration, done), Redis is durable, SECRET_KEY must
be set; and the web and Redis probes, run for real, tell a live server from a dead one."""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[1]
LONG_RUNNING = {"postgres", "redis", "web", "worker", "converter", "beat"}
CELERY = {"worker": "celery", "converter": "conversions"}  # service -> the queue it serves


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    found: dict[str, Any] = compose["services"]
    return found


def test_every_service_has_a_health_check(services: dict[str, Any]) -> None:
    assert set(services) == LONG_RUNNING | {"migrate"}
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and not check.get("disable") and check["test"][0] in ("CMD", "CMD-SHELL"), name
    # The migration is a job, not a service that stays up: it says so rather than forgetting one.
    assert services["migrate"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["command"] == ["caseflow", "init"]


def test_probes_check_what_each_service_is(services: dict[str, Any]) -> None:
    assert services["redis"]["healthcheck"]["test"] == ["CMD-SHELL", "redis-cli ping | grep -q PONG"]
    web = services["web"]["healthcheck"]["test"]
    assert web[:3] == ["CMD", "python", "-c"] and "http://127.0.0.1:8000/healthz" in web[3]
    for name, queue in CELERY.items():
        command = services[name]["command"]
        assert command[:2] == ["caseflow", "worker"] and command[command.index("--queues") + 1] == queue
        assert services[name]["healthcheck"]["test"] == ["CMD", "caseflow", "health", "worker", "--queue", queue]
    assert services["beat"]["command"] == ["caseflow", "beat"]
    assert services["beat"]["healthcheck"]["test"] == ["CMD", "caseflow", "health", "beat"]


def test_dependents_wait_for_healthy_services_and_the_migration(services: dict[str, Any]) -> None:
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("web", "worker", "converter", "beat"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"},
                                                "redis": {"condition": "service_healthy"}}, name


def test_redis_is_durable_and_never_evicts(services: dict[str, Any]) -> None:
    command = services["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert command[0] == "redis-server"
    assert options["--appendonly"] == "yes" and options["--maxmemory-policy"] == "noeviction"
    assert services["redis"]["volumes"] == ["redisdata:/data"]


def test_secret_key_is_required_everywhere_caseflow_runs(services: dict[str, Any]) -> None:
    for name in ("migrate", "web", "worker", "converter", "beat"):
        secret = services[name]["environment"]["SECRET_KEY"]
        assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", secret), (name, secret)  # `up` refuses without it


class _Healthz(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def healthz() -> Iterator[tuple[http.server.HTTPServer, int]]:
    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), _Healthz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, port
    server.shutdown()
    server.server_close()


def test_the_web_probe_passes_only_when_healthz_answers_200(services: dict[str, Any],
                                                           healthz: tuple[http.server.HTTPServer, int]) -> None:
    server, port = healthz
    code = services["web"]["healthcheck"]["test"][3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")

    def probe() -> int:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode

    assert probe() == 0
    _Healthz.status = 503
    try:
        assert probe() != 0
    finally:
        _Healthz.status = 200
    server.shutdown()
    server.server_close()
    assert probe() != 0  # nothing listens


def test_the_redis_probe_passes_only_when_redis_answers(services: dict[str, Any], tmp_path: Path) -> None:
    if shutil.which("redis-cli") is None:
        pytest.fail("redis-cli is not installed (run-tests installs redis-tools)")
    shell = services["redis"]["healthcheck"]["test"][1]
    server = RedisServer(tmp_path)
    server.start()
    try:
        ok = subprocess.run(shell.replace("redis-cli", f"redis-cli -p {server.port}"), shell=True, timeout=30)
        assert ok.returncode == 0
    finally:
        server.stop()
    dead = subprocess.run(shell.replace("redis-cli", f"redis-cli -p {server.port}"), shell=True, timeout=30,
                          capture_output=True)
    assert dead.returncode != 0
