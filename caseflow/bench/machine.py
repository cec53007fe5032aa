"""What a benchmark ran on: CPU, cores, memory, load, the database and Redis with their versions,
Python and the libraries that decide the numbers; and what a bench needs that may be missing here
(Redis, LibreOffice, gunicorn, a bench extra), in words that say how to get it."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import text

from workflow.db import Database

LIBRARIES = ("SQLAlchemy", "psycopg", "transitions", "Flask", "docxtpl", "celery", "redis", "gunicorn",
             "SpiffWorkflow", "locust")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def load_average() -> float | None:
    """The 1-minute load average: on a shared machine, how busy the neighbours were."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def database_version(db: Database) -> str:
    with db.engine.connect() as conn:
        if db.is_sqlite:
            return f"SQLite {conn.scalar(text('SELECT sqlite_version()'))}"
        full = str(conn.scalar(text("SELECT version()")))
    return full.split(" on ")[0]  # "PostgreSQL 15.20 (Debian 15.20-0+deb12u1)"


def redis_problem(url: str | None) -> str | None:
    """Why Redis cannot be used for a bench, or None when it answers."""
    if not url:
        return "needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to a running redis-server"
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        return f"needs Redis: REDIS_URL={url} does not answer ({exc})"
    return None


def redis_version(url: str | None) -> str | None:
    if redis_problem(url):
        return None
    import redis

    info: dict[str, Any] = redis.Redis.from_url(str(url), socket_timeout=2).info("server")
    return str(info.get("redis_version"))


def libreoffice_problem() -> str | None:
    from documents import convert

    if convert.soffice_path() is None:
        return "needs LibreOffice: apt-get install libreoffice-writer-nogui python3-uno"
    if not convert.WarmConverter.available():
        return "needs python3-uno for the warm converter: apt-get install python3-uno"
    return None


def libreoffice_version() -> str | None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return " ".join(out.split()[:2]) or None


def module_problem(module: str, extra: str) -> str | None:
    if importlib.util.find_spec(module) is None:
        return f"needs {module}: pip install -e '.[{extra}]'"
    return None


def library_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def describe(db: Database, redis_url: str | None) -> dict[str, Any]:
    """The machine, as the report's header prints it."""
    mem = _memory_gib()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": None if mem is None else round(mem, 1),
        "os": f"{platform.system()} {platform.release()}",
        "database": database_version(db),
        "database_url": db.engine.url.render_as_string(hide_password=True),
        "redis": redis_version(redis_url),
        "libreoffice": libreoffice_version(),
        "wrk": shutil.which("wrk") is not None,
        "python": platform.python_version(),
        "libraries": {n: library_version(n) for n in LIBRARIES},
    }
