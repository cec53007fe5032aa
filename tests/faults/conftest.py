"""Fixtures of the fault suite: a private Redis (its own redis-server process on a free port, never
the machine's 6379), this process's Celery app pointed at a given broker URL, and the stack of
tests/test_celery_faults.py (PostgreSQL, a test office, Celery worker subprocesses) around them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tasks.app import celery_app
from tests.conftest import make_office
from tests.servers import RedisServer, running_redis
from tests.test_celery_faults import Stack, stack_of
from workflow.db import Database


def point_celery_at(url: str | None) -> None:
    """Make this process's Celery app (what ``tasks.relay.publish`` sends with) use ``url``."""
    celery_app.pool.force_close_all()
    celery_app.conf.update(broker_url=url)
    celery_app._pool = None  # the connection and producer pools are keyed on the old URL
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def broker_at() -> Iterator[Callable[[str], None]]:
    """``broker_at(url)``: this process publishes to ``url`` until the test ends."""
    old = celery_app.conf.broker_url
    yield point_celery_at
    point_celery_at(old)


@pytest.fixture
def fault_stack(db: Database, pg_db: Database, _password_hash: str, private_redis: RedisServer,
                tmp_path: Path) -> Iterator[Stack]:
    """A test office on PostgreSQL, the private Redis, and room for worker subprocesses that share
    this process's document and file folders (``stack_of``)."""
    del db  # with DATABASE_URL on PostgreSQL, the session fixture creates and migrates it
    with stack_of(pg_db, private_redis, tmp_path, make_office(pg_db, _password_hash)) as stack:
        yield stack
