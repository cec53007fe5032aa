"""Redis killed by SHUTDOWN NOSAVE mid-render with messages queued: restarted empty, every document made once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import redis

from tasks import relay
from tests.test_celery_faults import QUEUE, RENDER_DELAY, Stack, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.slow]


def _shutdown_nosave(stack: Stack) -> None:
    assert stack.redis.proc is not None
    stack.redis.client().shutdown(nosave=True)  # redis-py swallows the connection closing as it exits
    assert stack.redis.proc.wait(timeout=30) == 0
    with pytest.raises(redis.exceptions.ConnectionError):
        stack.redis.client().ping()
    stack.redis.proc = None


def test_redis_lost_with_queued_and_running_work_is_recovered_once(fault_stack: Stack,
                                                                  broker_at: Callable[[str], None]) -> None:
    stack = fault_stack
    broker_at(stack.redis.url)
    first, second = stack.office.case("training_report"), stack.office.case("training_report")
    ids = stack.fire(first, "submit", "personnel_staff").outbox_ids
    stack.worker(delay=RENDER_DELAY)
    assert relay.publish(ids, stack.db) == 3  # two documents and a notice
    wait_for("a render in progress",
             lambda: next((d for d in stack.documents() if d.status == "rendering"), None), log=stack.logs)
    more = stack.fire(second, "submit", "personnel_staff").outbox_ids
    assert relay.publish(more, stack.db) == 3
    assert stack.redis.client().llen(QUEUE) >= 3  # waiting in Redis when it dies
    before = (len(stack.outbox()), len(stack.documents()))

    _shutdown_nosave(stack)
    stack.redis.start()  # same port, nothing kept
    assert stack.redis.client().dbsize() == 0
    # Oracle before recovery: the rows are all still there, none lost from the database.
    assert len(stack.outbox()) == before[0] == 4
    assert len(stack.documents()) == before[1]
    stack.worker()  # a fresh worker; the first one may have lost its connection
    n = stack.sweep(redispatch_after=dt.timedelta(seconds=0))
    assert n == len([m for m in stack.outbox(topic=None) if m.processed_at is None])
    stack.wait_all_ready(4)
    stack.wait_idle()
    stack.assert_exactly_once(4)
    assert sorted(stack.told(first) + stack.told(second)) == sorted([stack.office.users["personnel_chief"]] * 2)
