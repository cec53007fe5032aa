"""Redis answering 5 s late (a delaying TCP proxy before a private Redis): no hang, nothing lost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.faults.latency_proxy import LatencyProxy
from tests.helpers import case_state
from tests.servers import RedisServer
from tests.test_celery_faults import Stack
from tests.web.conftest import Browser, forms, submitted, text
from web import create_app
from workflow.cases import writes

pytestmark = [pytest.mark.fault, pytest.mark.postgres]

LATENCY = 5.0  # seconds added to every answer of Redis
# Not a performance bound: "did not hang". Without the socket timeouts (tasks/app.py, web/__init__.py)
# the first publish through this proxy takes about 50 s and a login about 25 s.
NO_HANG = 15.0


@pytest.fixture
def slow_redis(private_redis: RedisServer) -> Iterator[LatencyProxy]:
    proxy = LatencyProxy(private_redis.port, latency=LATENCY)
    yield proxy
    proxy.close()


def _app(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: object) -> Flask:
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path / "instance"))
    return create_app({"TESTING": True, "DATABASE_URL": stack.db.url, "RATELIMIT_STORAGE_URI": "memory://",
                       **config})


def test_an_approval_while_redis_answers_late_returns_and_is_delivered_once_later(
    fault_stack: Stack, slow_redis: LatencyProxy, broker_at: Callable[[str], None], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = fault_stack
    cid = submitted(stack.office)  # no after-commit hook yet: its rows wait for the sweep
    broker_at(slow_redis.url)
    # The deployed wiring: REDIS_URL set, so each commit's outbox rows are published to Celery at once.
    app = _app(stack, tmp_path, monkeypatch, REDIS_URL=slow_redis.url, BACKGROUND_WORK=True)
    b = Browser(app.test_client())
    assert b.login(stack.office.logins["personnel_chief"]).status_code == 303
    action = f"/cases/{cid}/actions/approve"
    data = forms(b.get(f"/cases/{cid}").get_data(as_text=True))[action]
    before = case_state(stack.db, cid)  # (state, version, history events, outbox rows)

    started = time.monotonic()
    resp = b.client.post(action, data=data)
    elapsed = time.monotonic() - started
    assert resp.status_code == 303, text(resp)
    assert elapsed < NO_HANG, f"the approval took {elapsed:.1f} s with Redis {LATENCY} s late"
    assert slow_redis.connections >= 1  # the publish really went to the slow Redis
    state, version, events, outbox = case_state(stack.db, cid)
    assert (state, version, events) == ("secretariat_review", before[1] + 1, before[2] + 1)
    assert outbox > before[3]  # committed with its outbox rows
    rows = stack.outbox(topic=None)
    waiting = [m for m in rows if m.dispatched_at is None]
    assert waiting and all(m.processed_at is None for m in rows)
    assert any("Timeout" in (m.last_error or "") for m in waiting), [m.last_error for m in waiting]

    # Redis fast again: the sweep sends every row once and the worker makes each document once.
    slow_redis.latency = 0.0
    stack.worker()
    assert stack.sweep() == len(rows)
    expected = len(stack.outbox())
    assert expected >= 3  # the submission's two documents and the approval's
    stack.wait_all_ready(expected)
    stack.wait_idle()
    stack.assert_exactly_once(expected)
    writes.clear_listeners()


def test_a_login_while_the_limiter_storage_answers_late_returns(
    fault_stack: Stack, slow_redis: LatencyProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The login limits live in Redis; a slow Redis counts as down (the per-process memory
    fallback of web/extensions.py), so logins neither hang nor go unlimited."""
    app = _app(stack := fault_stack, tmp_path, monkeypatch, RATELIMIT_STORAGE_URI=slow_redis.url,
               BACKGROUND_WORK=False)
    b = Browser(app.test_client())
    victim = stack.office.logins["civil_chief"]
    statuses, slowest = [], 0.0
    for _ in range(6):
        started = time.monotonic()
        statuses.append(b.login(victim, "guess").status_code)
        slowest = max(slowest, time.monotonic() - started)
    assert statuses == [200] * 5 + [429]  # still limited: 5 failures a minute per account and address
    assert slowest < NO_HANG, f"a login took {slowest:.1f} s with Redis {LATENCY} s late"
    assert slow_redis.connections >= 1
    assert Browser(app.test_client()).login(stack.office.logins["civil_staff"]).status_code == 303
