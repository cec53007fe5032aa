"""Publishing a web posting under faults, for real: the Celery worker subprocess (prefork), our own
Redis and PostgreSQL from tests/test_celery_faults.py, and the office's web site faked on 127.0.0.1
in this process (tests/fake_site.py), which the worker posts to over HTTP.

What is checked is what an office would see: the site received exactly one post for the posting's
idempotency key, the case ended `published` (or `publish_failed`, with its reason), and every
attempt is in the case history, including one whose worker was killed mid-request. Nothing waits a
fixed time: every wait polls with a deadline and fails with the workers' logs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tasks import relay
from tests import test_celery_faults as harness
from tests.fake_site import TOKEN, FakeSite
from tests.publishing_helpers import to_publishing
from workflow.engine import audit
from workflow.models import Case, HistoryEvent, OutboxMessage, Publication

pytestmark = [pytest.mark.slow]

# The harness's fixtures (a private Redis, this process's Celery app pointed at it, and the stack:
# workers against PostgreSQL with a fresh office), used here under the same names.
redis_server = harness.redis_server
broker = harness.broker
stack = harness.stack
Stack = harness.Stack
Worker = harness.Worker
wait_for = harness.wait_for
alive = harness.alive

TASK = "caseflow.publish_posting"
TIMEOUT = 2.0  # the worker's HTTP timeout (the victims get a longer one, to be killed inside it)
LEASE = 6  # seconds a delivery holds a posting (more than a look-up plus a post can take)
MAX_ATTEMPTS = 3


@pytest.fixture
def site() -> Iterator[FakeSite]:
    s = FakeSite(slow_seconds=harness.WAIT)  # "accept_then_timeout" holds the answer until killed
    yield s
    s.down()


def site_env(site: FakeSite, *, timeout: float = TIMEOUT) -> dict[str, str]:
    """The worker configured for the office's own site, as the README says (CASEFLOW_PUBLISHER=http_site)."""
    return {
        "CASEFLOW_PUBLISHER": "http_site",
        "CASEFLOW_PUBLISH_SITE_URL": site.url,
        "CASEFLOW_PUBLISH_SITE_TOKEN": TOKEN,
        "CASEFLOW_PUBLISH_TIMEOUT": str(timeout),
        "CASEFLOW_PUBLISH_LEASE_SECONDS": str(LEASE),
        "CASEFLOW_PUBLISH_BACKOFF": "0.2",
        "CASEFLOW_PUBLISH_BACKOFF_MAX": "1",
        "CASEFLOW_PUBLISH_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
    }


# -- reading the database -----------------------------------------------------------------------
def case_state(stack: Stack, cid: int) -> str:
    with stack.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(Case.state).where(Case.id == cid)) or ""


def publication(stack: Stack, cid: int) -> Publication | None:
    with stack.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(Publication).where(Publication.case_id == cid))


def history(stack: Stack, cid: int) -> list[HistoryEvent]:
    with stack.db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(HistoryEvent).where(HistoryEvent.case_id == cid)
                                        .order_by(HistoryEvent.seq)))


def attempts(stack: Stack, cid: int) -> list[tuple[int, str]]:
    return [(e.data["attempt"], e.data["outcome"]) for e in history(stack, cid) if e.event == "publication"]


def outbox_processed(stack: Stack, outbox_id: int) -> bool:
    with stack.db.unit_of_work(write=False) as uow:
        msg = uow.session.get(OutboxMessage, outbox_id)
        return msg is not None and msg.processed_at is not None


def task_results(w: Worker) -> list[str]:
    return re.findall(rf"Task {re.escape(TASK)}\[[^\]]+\] succeeded in [\d.]+s: '(\w+)'", w.log())


def wait_settled(stack: Stack, cid: int, state: str) -> None:
    def settled() -> bool:
        now = case_state(stack, cid)
        if now not in ("publishing", state):
            pytest.fail(f"case went to {now!r}, not {state!r}: {attempts(stack, cid)}\n{stack.logs()}")
        return now == state

    wait_for(f"the case to be {state}", settled, log=stack.logs)


def held_post(stack: Stack, site: FakeSite, cid: int) -> str:
    """Wait until the site holds the posting's POST (stored, not yet answered); its key."""
    def holding() -> str | None:
        row = publication(stack, cid)
        return row.idempotency_key if row is not None and site.post_count[row.idempotency_key] == 1 else None

    key = wait_for("the site to hold the POST", holding, interval=0.02, log=stack.logs)
    row = publication(stack, cid)
    assert row is not None and row.attempts == 1 and row.lease_until is not None  # mid-attempt, lease held
    return str(key)


def assert_published_once(stack: Stack, site: FakeSite, cid: int, outbox_id: int) -> Publication:
    row = publication(stack, cid)
    assert row is not None and row.status == "published"
    assert site.post_count == {row.idempotency_key: 1}, site.post_count
    assert site.total_posts == 1
    assert row.url == site.posts[row.idempotency_key]["_url"]
    done = [e for e in history(stack, cid) if e.trigger == "mark_published"]
    assert len(done) == 1 and done[0].data["url"] == row.url and done[0].actor_id is None
    assert done[0].data["publisher"] == "external_site"
    assert outbox_processed(stack, outbox_id)
    breaks = [(c, b) for c, b in audit.verify(stack.db, office_id=stack.office.id) if b is not None]
    assert not breaks, breaks
    return row


# -- the tests ----------------------------------------------------------------------------------
def test_a_real_worker_publishes_to_the_site_once(stack: Stack, site: FakeSite) -> None:
    """Approved by the secretariat, the posting goes out through Redis to a worker configured for
    the external site (CASEFLOW_PUBLISHER=http_site), which posts it once and records the URL."""
    w = stack.worker(env_extra=site_env(site))
    cid, outbox_id = to_publishing(stack.office)
    assert relay.publish([outbox_id], stack.db) == 1
    wait_settled(stack, cid, "published")
    stack.wait_idle()
    row = assert_published_once(stack, site, cid, outbox_id)
    assert row.attempts == 1 and row.publisher == "external_site"
    assert attempts(stack, cid) == [(1, "published")]
    sent = site.posts[row.idempotency_key]
    assert sent["title"] and sent["photos"][0]["alt"] == "民眾參與宣導活動"
    assert [m for m, _ in site.requests] == ["POST"]  # the first attempt needs no look-up
    assert task_results(w) == ["published"]


@pytest.mark.fault
def test_pool_child_killed_while_the_site_holds_the_post_publishes_once(stack: Stack, site: FakeSite) -> None:
    """kill -9 the pool child while the site has stored the POST but not answered: the message comes
    back (reject_on_worker_lost), waits out the dead attempt's lease, looks the post up by its key
    and finds it. One post; both attempts in the history, the killed one as interrupted."""
    w = stack.worker(env_extra=site_env(site, timeout=harness.WAIT))
    cid, outbox_id = to_publishing(stack.office)
    site.will("accept_then_timeout")
    relay.publish([outbox_id], stack.db)
    key = held_post(stack, site, cid)
    [child] = w.pool()
    os.kill(child, signal.SIGKILL)
    wait_for("the killed child to be gone", lambda: not alive(child))
    assert case_state(stack, cid) == "publishing" and attempts(stack, cid) == []  # killed mid-request
    wait_settled(stack, cid, "published")
    stack.wait_idle()
    row = assert_published_once(stack, site, cid, outbox_id)
    assert row.attempts == 2
    assert attempts(stack, cid) == [(1, "interrupted"), (2, "published")]
    last = [e for e in history(stack, cid) if e.event == "publication"][-1]
    assert last.data["looked_up"] is True
    assert ("GET", f"/api/postings?idempotency_key={key}") in site.requests
    assert [m for m, _ in site.requests].count("POST") == 1
    assert w.proc.poll() is None  # the main process survived and replaced its child
    assert "published" in task_results(w)


@pytest.mark.fault
def test_worker_main_process_killed_mid_publish_a_new_worker_publishes_once(stack: Stack, site: FakeSite) -> None:
    """kill -9 the worker's main process while the site holds the POST (its pool child dies with it):
    the message waits in Redis's unacked set; a new worker restores it after the visibility
    timeout, looks the post up and records it. One post."""
    w1 = stack.worker(env_extra=site_env(site, timeout=harness.WAIT))
    cid, outbox_id = to_publishing(stack.office)
    site.will("accept_then_timeout")
    relay.publish([outbox_id], stack.db)
    held_post(stack, site, cid)
    [child] = w1.pool()
    os.kill(w1.pid, signal.SIGKILL)
    w1.proc.wait(timeout=10)
    wait_for("the orphaned pool child to die", lambda: not alive(child))
    assert case_state(stack, cid) == "publishing"
    r = stack.redis.client()
    assert r.hlen("unacked") == 1  # neither acked nor lost
    wait_for("the visibility timeout to pass",
             lambda: all(time.time() - score > harness.VISIBILITY_TIMEOUT + 0.5
                         for _tag, score in r.zrange("unacked_index", 0, -1, withscores=True)), timeout=30)
    w2 = stack.worker(env_extra=site_env(site))
    wait_settled(stack, cid, "published")
    stack.wait_idle()
    row = assert_published_once(stack, site, cid, outbox_id)
    assert row.attempts == 2
    assert attempts(stack, cid) == [(1, "interrupted"), (2, "published")]
    assert [m for m, _ in site.requests].count("POST") == 1
    assert "published" in task_results(w2)


@pytest.mark.fault
def test_a_site_that_always_times_out_fails_after_max_attempts_without_looping(stack: Stack,
                                                                                site: FakeSite) -> None:
    """Poison: every POST hangs past the worker's timeout. After MAX_ATTEMPTS attempts (backoff in
    between) the case is `publish_failed` with the reason, in the secretariat's queue; then nothing
    more is sent and the broker is empty."""
    site.slow_seconds = TIMEOUT + 1
    site.will(*["hang"] * (MAX_ATTEMPTS + 5))
    w = stack.worker(env_extra=site_env(site))
    cid, outbox_id = to_publishing(stack.office)
    # Everything the approvals wrote (their notices too), as the web app's after-commit hook sends it.
    relay.publish([m.id for m in stack.outbox(topic=None)], stack.db)
    wait_settled(stack, cid, "publish_failed")
    stack.wait_idle()
    row = publication(stack, cid)
    assert row is not None and row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert attempts(stack, cid) == [(1, "transient_error"), (2, "transient_error"), (3, "gave_up")]
    failed = [e for e in history(stack, cid) if e.trigger == "mark_publish_failed"]
    assert len(failed) == 1 and failed[0].actor_id is None
    assert f"嘗試 {MAX_ATTEMPTS} 次仍無法刊登" in (failed[0].comment or "")
    assert "網站在時限內沒有回應" in (failed[0].comment or "")
    assert failed[0].data["attempts"] == MAX_ATTEMPTS
    assert outbox_processed(stack, outbox_id)
    assert site.total_posts == 0 and [m for m, _ in site.requests].count("POST") == MAX_ATTEMPTS
    # No loop: a while later nothing more was sent, no message is left, and a sweep finds nothing.
    seen = len(site.requests)
    time.sleep(2 * LEASE / 3)
    assert len(site.requests) == seen
    # The failure's own notice was published by the worker that fired it (not left to the sweep),
    # and told the secretariat.
    assert stack.sweep(redispatch_after=dt.timedelta(seconds=0)) == 0
    assert task_results(w).count("failed") == 1
    told = wait_for("the secretariat to be told", lambda: stack.told(cid, "mark_publish_failed"), log=stack.logs)
    assert told == [stack.office.users["secretariat"]]
