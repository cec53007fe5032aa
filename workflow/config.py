"""Every environment variable caseflow reads, in one place.

The embedded default needs none of them: a SQLite file under ``./instance`` and in-process
background work. Production sets ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _instance_path() -> Path:
    return Path(os.environ.get("CASEFLOW_INSTANCE", "instance")).resolve()


def _default_database_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'caseflow.db'}"


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    env = os.environ.get("SECRET_KEY")
    if env:
        return env
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str = field(repr=False)
    timezone: str = "Asia/Taipei"
    cookie_secure: bool = False
    documents_path: Path | None = None  # generated documents, by content hash
    # Seconds a worker holds a document it renders before another worker may take it over.
    document_lease_seconds: int = 120
    # Notifications by e-mail: hand-offs and deadline reminders (no host: in-app notifications only).
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "caseflow@localhost"
    # A due-soon reminder goes out this many days before a case's due date.
    remind_days_before: int = 7
    # This product's address, for the links in e-mail (and the public zone's absolute links); empty:
    # paths only. ``caseflow serve`` gives the embedded default its own address when this is unset.
    base_url: str = ""
    # Daily digests of notifications go out from this hour (Taipei).
    digest_hour: int = 8
    # Operations (README, Configuration): log lines as text or JSON; who may read /metrics beside
    # 127.0.0.1; how many reverse proxies stand in front of the web app (their X-Forwarded-For is
    # believed); how often a Celery worker (and beat) records its heartbeat for /readyz and
    # ``caseflow health``; where a Celery worker serves its own /metrics (no port: none).
    log_format: str = "text"
    log_level: str = "INFO"
    metrics_token: str | None = field(default=None, repr=False)
    trusted_proxies: int = 0
    heartbeat_seconds: float = 10.0
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int | None = None

    @property
    def embedded(self) -> bool:
        """True when running without Redis: background work runs in-process."""
        return not self.redis_url


def load_settings() -> Settings:
    instance = _instance_path()
    return Settings(
        instance_path=instance,
        database_url=os.environ.get("DATABASE_URL") or _default_database_url(instance),
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=_secret_key(instance),
        timezone=os.environ.get("CASEFLOW_TIMEZONE", "Asia/Taipei"),
        cookie_secure=os.environ.get("CASEFLOW_COOKIE_SECURE", "0") == "1",
        documents_path=Path(os.environ.get("CASEFLOW_DOCUMENTS_DIR") or instance / "documents").resolve(),
        document_lease_seconds=int(os.environ.get("CASEFLOW_DOCUMENT_LEASE_SECONDS", "120")),
        smtp_host=os.environ.get("CASEFLOW_SMTP_HOST") or None,
        smtp_port=int(os.environ.get("CASEFLOW_SMTP_PORT", "25")),
        mail_from=os.environ.get("CASEFLOW_MAIL_FROM", "caseflow@localhost"),
        remind_days_before=int(os.environ.get("CASEFLOW_REMIND_DAYS_BEFORE", "7")),
        base_url=os.environ.get("CASEFLOW_PUBLIC_BASE_URL", "").rstrip("/"),
        digest_hour=int(os.environ.get("CASEFLOW_DIGEST_HOUR", "8")),
        log_format=os.environ.get("CASEFLOW_LOG_FORMAT", "text").strip().lower() or "text",
        log_level=os.environ.get("CASEFLOW_LOG_LEVEL", "INFO").strip().upper() or "INFO",
        metrics_token=os.environ.get("CASEFLOW_METRICS_TOKEN") or None,
        trusted_proxies=int(os.environ.get("CASEFLOW_TRUSTED_PROXIES", "0")),
        heartbeat_seconds=float(os.environ.get("CASEFLOW_WORKER_HEARTBEAT_SECONDS", "10")),
        worker_metrics_host=os.environ.get("CASEFLOW_WORKER_METRICS_HOST", "127.0.0.1"),
        worker_metrics_port=int(os.environ["CASEFLOW_WORKER_METRICS_PORT"])
        if os.environ.get("CASEFLOW_WORKER_METRICS_PORT") else None,
    )


def metrics_dir() -> Path | None:
    """prometheus-client's multiprocess directory (its own variable, which it reads itself):
    several processes behind one /metrics (gunicorn workers, a Celery pool) add up their counters
    there. Read without ``load_settings`` (which may write the secret key file)."""
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


@dataclass(frozen=True)
class PublishSettings:
    """Web publishing (R7): where approved postings go, and how hard to try."""

    publisher: str = "public_zone"  # or "external_site"
    site_url: str | None = None  # the office's own site (external_site)
    site_token: str | None = field(default=None, repr=False)
    public_base_url: str = ""  # this product's address, for the public zone's absolute links
    timeout_seconds: float = 10.0
    max_attempts: int = 6  # per round; then the posting goes to the secretariat's failure queue
    backoff_seconds: float = 10.0  # the first wait; doubled each time, with jitter
    backoff_max_seconds: float = 600.0
    lease_seconds: int = 120  # one delivery holds a posting this long before another may try


def load_publish_settings() -> PublishSettings:
    env = os.environ.get
    return PublishSettings(
        publisher=env("CASEFLOW_PUBLISHER", "public_zone"),
        site_url=env("CASEFLOW_PUBLISH_SITE_URL") or None,
        site_token=env("CASEFLOW_PUBLISH_SITE_TOKEN") or None,
        public_base_url=env("CASEFLOW_PUBLIC_BASE_URL", "").rstrip("/"),
        timeout_seconds=float(env("CASEFLOW_PUBLISH_TIMEOUT", "10")),
        max_attempts=int(env("CASEFLOW_PUBLISH_MAX_ATTEMPTS", "6")),
        backoff_seconds=float(env("CASEFLOW_PUBLISH_BACKOFF", "10")),
        backoff_max_seconds=float(env("CASEFLOW_PUBLISH_BACKOFF_MAX", "600")),
        lease_seconds=int(env("CASEFLOW_PUBLISH_LEASE_SECONDS", "120")),
    )
