"""Servers of a test's own, as separate processes on free ports of 127.0.0.1: a PostgreSQL cluster
(initdb in a fresh folder, trust authentication) and a Redis without persistence. Nothing they do
touches the machine's own PostgreSQL and Redis, or another engineer's run."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

STARTUP = 60.0  # seconds; a hang, not a slow machine, should reach it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"{what} did not start (exit {proc.poll()}):\n{tail}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes] | None, sig: int) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _pg_bindir() -> Path:
    """Debian keeps initdb and postgres out of PATH, under /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if versions:
        return versions[-1].parent
    pytest.fail("PostgreSQL's server programs (initdb, postgres) are not installed: apt-get install postgresql")


class PostgresServer:
    """``initdb`` and ``postgres`` in a folder of their own. As root they run as the ``postgres``
    account (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="caseflow-pg-"))
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/caseflow"
        self.proc: subprocess.Popen[bytes] | None = None

    def _as_owner(self, cmd: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return cmd
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.fail("running as root, and runuser (util-linux) is missing to start PostgreSQL as postgres")
        return [runuser, "-u", "postgres", "--", *cmd]

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data, log = self.folder / "data", self.folder / "postgres.log"
        init = subprocess.run(self._as_owner([str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                              "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
                              capture_output=True, text=True, check=False)
        if init.returncode != 0:
            pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                self._as_owner([str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port),
                                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}",
                                "-c", "max_connections=100"]),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait(f"PostgreSQL on port {self.port}", self._accepts, self.proc, log)
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE caseflow")

    def _accepts(self) -> bool:
        import psycopg

        try:
            psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        _stop(self.proc, signal.SIGQUIT)  # immediate shutdown: no checkpoint for a cluster about to be removed
        self.proc = None
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisServer:
    """``redis-server`` without persistence on a port of its own (CASEFLOW_TEST_REDIS_PORT, else a
    free one); stop and start it again at will, on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.port = int(os.environ.get("CASEFLOW_TEST_REDIS_PORT") or free_port())
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed (run-tests installs it)")
        log = self.workdir / "redis.log"
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir), "--logfile", str(log)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait(f"redis-server on port {self.port}", self._pong, self.proc, log)

    def _pong(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def log(self) -> str:
        path = self.workdir / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextmanager
def running_redis(folder: Path) -> Iterator[RedisServer]:
    """A private ``redis-server`` for the length of the block (a test's own: flush or stop it at will)."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
