"""The document pipeline under faults, for real: a Celery worker subprocess (prefork, one child), a
Redis server of our own on its own port, and PostgreSQL (RELIABILITY.md §1, §6, §7).

Each test kills or starves something and then checks the database, the only source of truth:
exactly one Document row per identity (case, name, cause_seq), ready, with exactly one
``document`` history event, every outbox row processed, the audit chain intact, and the render
done by a worker process. Nothing waits a fixed time: every wait polls with a deadline and fails
with the worker's log.

The Redis port is a free one (CASEFLOW_TEST_REDIS_PORT to choose it), so stopping and flushing it
never touches the machine's Redis or another developer's run. The workers run as on a host without
LibreOffice (no ``soffice`` on their PATH), so a kill never orphans an office suite and renders
stay fast; the first test uses the real converter. CASEFLOW_RENDER_DELAY_SECONDS (a fault-injection
knob of documents/service.py) stretches renders so a test can kill a worker mid-render.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from documents import convert
from documents import service as document_service
from tasks import embedded, relay
from tasks.app import celery_app
from tests.conftest import OfficeFixture, make_office
from tests.servers import RedisServer, running_redis
from workflow import storage
from workflow.cases import approval, writes
from workflow.db import Database
from workflow.engine import audit
from workflow.models import Document, HistoryEvent, Notification, OutboxMessage

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
VISIBILITY_TIMEOUT = 5  # seconds, for the worker's Redis transport
LEASE_SECONDS = 3  # a document's render lease
RENDER_DELAY = 2.0  # the fault-injection knob, for the tests that kill a worker mid-render
WAIT = 60.0  # deadline of every poll (a hang, not a slow machine, should hit it)
QUEUE = "celery"  # the default queue's Redis list
QUEUES = ("celery", "conversions")  # and the conversions' one
TASK = "caseflow.render_document"


# -- helpers ------------------------------------------------------------------------------------
def wait_for(what: str, check: Callable[[], Any], *, timeout: float = WAIT, interval: float = 0.05,
             log: Callable[[], str] | None = None) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` (and a log) at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}" + (f"\n{log()}" if log else ""))
        time.sleep(interval)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Worker:
    """One ``celery worker`` process group (main process plus its prefork pool)."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, concurrency: int) -> None:
        celery = VENV_BIN / "celery"
        cmd = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        cmd += ["-A", "tasks.app:celery_app", "worker", f"--concurrency={concurrency}", "-O", "fair",
                "--without-gossip", "--without-mingle", "-P", "prefork", "--loglevel=INFO", "-n", f"{name}@%h"]
        self.name = name
        self.log_path = log_path
        with open(log_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.pid = self.proc.pid

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"worker {self.name} exited with {self.proc.returncode}\n{self.log()}")
            return " ready." in self.log()

        wait_for(f"worker {self.name} to be ready", ready, interval=0.1, log=self.log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def results(self) -> list[str]:
        """What each finished delivery of the render task returned, from the worker's log."""
        return re.findall(rf"Task {re.escape(TASK)}\[[^\]]+\] succeeded in [\d.]+s: '(\w+)'", self.log())

    def pool(self) -> list[int]:
        return [p for p in children_of(self.pid) if alive(p)]

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


class Stack:
    """The running pieces of one test: Redis, workers, and the test office on PostgreSQL."""

    def __init__(self, db: Database, redis_server: RedisServer, tmp: Path, office: OfficeFixture) -> None:
        self.db = db
        self.redis = redis_server
        self.tmp = tmp
        self.office = office
        self.workers: list[Worker] = []

    def worker(self, *, delay: float = 0.0, concurrency: int = 1, libreoffice: bool = False,
               env_extra: dict[str, str] | None = None) -> Worker:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEFLOW_", "CELERY_"))}
        env.update({
            "DATABASE_URL": self.db.engine.url.render_as_string(hide_password=False),
            "REDIS_URL": self.redis.url,
            "CASEFLOW_INSTANCE": str(self.tmp / "instance"),
            "CASEFLOW_DOCUMENTS_DIR": str(self.tmp / "documents"),
            "CASEFLOW_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CASEFLOW_DOCUMENT_LEASE_SECONDS": str(LEASE_SECONDS),
            "CASEFLOW_TASK_TIME_LIMIT": "60",
            "SECRET_KEY": "test-only",
            "PYTHONUNBUFFERED": "1",
        })
        if delay:
            env["CASEFLOW_RENDER_DELAY_SECONDS"] = str(delay)
        if not libreoffice:
            env["PATH"] = str(VENV_BIN)  # as on a host without LibreOffice: .docx only
        env.update(env_extra or {})
        w = Worker(f"faults{len(self.workers) + 1}", env, self.tmp / f"worker{len(self.workers) + 1}.log", concurrency)
        self.workers.append(w)
        w.wait_ready()
        return w

    def logs(self) -> str:
        return "\n".join(f"--- {w.name} (pid {w.pid})\n{w.log()[-4000:]}" for w in self.workers)

    # -- the database ------------------------------------------------------------------------
    def fire(self, case_id: int, trigger: str, who: str) -> writes.Result:
        return approval.fire(case_id, trigger, self.office.users[who], db=self.db)

    def outbox(self, topic: str | None = approval.DOCUMENT_TOPIC) -> list[OutboxMessage]:
        """This office's outbox rows: the render requests, or with ``topic=None`` every row (the
        conversions each ready document asks for too)."""
        with self.db.unit_of_work(write=False) as uow:
            q = select(OutboxMessage).where(OutboxMessage.office_id == self.office.id)
            if topic is not None:
                q = q.where(OutboxMessage.topic == topic)
            return list(uow.session.scalars(q.order_by(OutboxMessage.id)))

    def told(self, case_id: int, trigger: str | None = None) -> list[int]:
        """Who has a hand-off notification about the case (of ``trigger``'s event: the worker wrote them)."""
        with self.db.unit_of_work(write=False) as uow:
            q = select(Notification.user_id).where(Notification.case_id == case_id,
                                                   Notification.event_seq.is_not(None))
            if trigger is not None:
                q = q.where(Notification.message["trigger"].as_string() == trigger)
            return list(uow.session.scalars(q))

    def documents(self) -> list[Document]:
        with self.db.unit_of_work(write=False) as uow:
            return list(uow.session.scalars(select(Document).where(
                Document.office_id == self.office.id).order_by(Document.id)))

    def document_events(self) -> list[HistoryEvent]:
        with self.db.unit_of_work(write=False) as uow:
            return list(uow.session.scalars(select(HistoryEvent).where(
                HistoryEvent.case_id.in_(self.office.cases), HistoryEvent.event == "document")))

    def wait_all_ready(self, expected: int) -> list[Document]:
        def done() -> list[Document] | None:
            docs = self.documents()
            failed = [d for d in docs if d.status == "failed"]
            if failed:
                pytest.fail(f"documents failed: {[(d.name, d.last_error) for d in failed]}\n{self.logs()}")
            if len(docs) >= expected and all(d.status == "ready" for d in docs):
                return docs
            return None

        return wait_for(f"{expected} ready documents", done, log=self.logs)

    def wait_idle(self) -> None:
        """Until Redis holds no message, queued or delivered-but-unacked (every delivery finished)."""
        r = self.redis.client()
        wait_for("the broker to drain", lambda: sum(r.llen(q) for q in QUEUES) == 0 and r.hlen("unacked") == 0,
                 log=self.logs)

    def sweep(self, **kw: Any) -> int:
        """``tasks.relay.sweep``, publishing only this office's rows (the database may be shared with
        other tests' unprocessed outbox rows, which are none of this test's business)."""
        mine = {m.id for m in self.outbox(topic=None)}
        return relay.sweep(self.db, send=lambda ids: relay.publish([i for i in ids if i in mine], self.db), **kw)

    def assert_exactly_once(self, expected: int) -> list[Document]:
        """One ready Document per outbox row (its identity), one history event each, rendered by a
        worker process (not this one), and every outbox row marked processed."""
        docs = self.documents()
        rows = self.outbox()
        assert len(rows) == expected
        assert len(docs) == expected, [(d.case_id, d.name, d.cause_seq, d.status) for d in docs]
        assert {(d.case_id, d.name, d.cause_seq) for d in docs} == {
            (m.payload["case_id"], m.payload["document"], m.payload["event_seq"]) for m in rows}
        assert all(d.status == "ready" and d.storage_key and d.sha256 for d in docs)
        assert all(m.processed_at is not None for m in rows)
        for d in docs:
            assert d.lease_owner and int(d.lease_owner.split(":")[1]) != os.getpid(), d.lease_owner
            assert document_service.document_store().get(d.storage_key)[:2] == b"PK"  # a .docx, stored
        events = self.document_events()
        assert sorted(e.data["document_id"] for e in events) == sorted(d.id for d in docs)
        breaks = [(cid, b) for cid, b in audit.verify(self.db, office_id=self.office.id) if b is not None]
        assert not breaks, breaks
        return docs


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def broker(redis_server: RedisServer) -> Iterator[RedisServer]:
    """Point this process's Celery app (what ``tasks.relay.publish`` sends with) at the test Redis."""
    old = celery_app.conf.broker_url

    def point_at(url: str | None) -> None:
        celery_app.pool.force_close_all()
        celery_app.conf.update(broker_url=url)
        celery_app._pool = None  # the connection and producer pools are keyed on the old URL
        celery_app.amqp._producer_pool = None

    point_at(redis_server.url)
    conn = celery_app.connection_for_write()
    assert (conn.transport_cls, conn.hostname, conn.port) == ("redis", "127.0.0.1", redis_server.port)
    yield redis_server
    point_at(old)


@pytest.fixture
def stack(db: Database, pg_db: Database, _password_hash: str, broker: RedisServer,
          tmp_path: Path) -> Iterator[Stack]:
    # ``db`` is requested for its side effect: when DATABASE_URL is PostgreSQL, it empties the
    # schema once per session, so the sweep below is not swamped by earlier runs' rows.
    del db
    if not broker.proc or broker.proc.poll() is not None:
        broker.start()  # a previous test stopped it and failed before starting it again
    broker.client().flushall()
    with stack_of(pg_db, broker, tmp_path, make_office(pg_db, _password_hash)) as s:
        yield s


@contextmanager
def stack_of(pg_db: Database, broker: RedisServer, tmp_path: Path, office: OfficeFixture) -> Iterator[Stack]:
    """A Stack whose workers share this process's document and file folders. This process renders
    nothing: no after-commit listener from elsewhere, no in-process worker thread sweeping the same
    database (a web test may have started one); the test installs what it needs."""
    writes.clear_listeners()
    if embedded._worker is not None:
        embedded._worker.stop()
        embedded._worker = None
    saved_store, saved_files = document_service._store, storage._default
    document_service.configure_store(tmp_path / "documents")  # the same directories as the workers
    storage.configure(tmp_path / "instance" / "files")
    s = Stack(pg_db, broker, tmp_path, office)
    try:
        yield s
    finally:
        writes.clear_listeners()
        for w in s.workers:
            w.kill_group()
        document_service._store, storage._default = saved_store, saved_files


# -- the tests ----------------------------------------------------------------------------------
def test_approval_documents_are_rendered_once_by_the_worker(stack: Stack) -> None:
    """The real after-commit hook: submit → section_review asks for the 簽 and the 培力成果表, and
    tells the chief; the worker renders each once (and, LibreOffice being installed, converts them)
    and writes the chief's notification."""
    with_lo = convert.soffice_path() is not None
    w = stack.worker(libreoffice=with_lo)
    embedded.install(stack.db, redis_url=stack.redis.url)
    cid = stack.office.case("training_report")
    result = stack.fire(cid, "submit", "personnel_staff")
    assert result.to_state == "section_review" and len(result.outbox_ids) == 3  # two documents, one notice
    told = wait_for("the chief's notification", lambda: stack.told(cid), log=stack.logs)
    assert told == [stack.office.users["personnel_chief"]]
    wait_for("the worker's notify task to finish", lambda: re.search(
        r"Task caseflow\.notify_handoff\[[^\]]+\] succeeded in [\d.]+s: 'told'", w.log()), log=stack.logs)
    docs = stack.wait_all_ready(2)
    assert sorted(d.name for d in docs) == ["sign_memo", "training_results"]
    stack.wait_idle()
    stack.assert_exactly_once(2)
    assert w.results().count("ready") == 2 and all(d.attempts == 1 for d in docs)
    if with_lo:
        def converted() -> list[Document]:
            docs = stack.documents()
            return docs if all((d.odt_key and d.pdf_key) or d.conversion_error for d in docs) else []

        docs = wait_for("the ODT and PDF copies", converted, log=stack.logs)
        assert all(d.odt_key and d.pdf_key for d in docs), [d.conversion_error for d in docs]
        pdf = document_service.document_store().get(docs[0].pdf_key)
        assert pdf.startswith(b"%PDF")
        # Each ready document asked for its conversion once (its own outbox row and task, on the
        # conversions queue), and that row is done.
        stack.wait_idle()
        conversions = stack.outbox(topic=document_service.CONVERT_TOPIC)
        assert sorted(m.payload["document_id"] for m in conversions) == sorted(d.id for d in docs)
        assert all(m.processed_at is not None for m in conversions)


@pytest.mark.fault
def test_the_same_task_delivered_twice_makes_one_document(stack: Stack) -> None:
    """Each message sent twice, back to back, to a worker with two pool children: the duplicates run
    at the same time as the originals, and still one row, one claim, one event per document."""
    cid = stack.office.case("training_report")
    ids = stack.fire(cid, "submit", "personnel_staff").outbox_ids
    for i in ids:
        relay.publish([i], stack.db)
        celery_app.send_task(TASK, args=[i])
    assert stack.redis.client().llen(QUEUE) == 2 * len(ids)  # really in the test Redis
    w = stack.worker(concurrency=2, delay=0.5)
    stack.wait_all_ready(2)
    stack.wait_idle()
    docs = stack.assert_exactly_once(2)
    assert all(d.attempts == 1 for d in docs)  # the duplicate never claimed the document
    results = w.results()
    assert results.count("ready") == 2 and len(results) >= 4, results


@pytest.mark.fault
def test_pool_child_killed_mid_render_is_redelivered_and_finished_once(stack: Stack) -> None:
    """kill -9 the pool child while it renders: the message comes back (reject_on_worker_lost), the
    dead child's lease runs out, and the document is finished once."""
    w = stack.worker(delay=RENDER_DELAY)
    cid = stack.office.case("training_report")
    ids = stack.fire(cid, "submit", "personnel_staff").outbox_ids
    relay.publish(ids, stack.db)
    victim = wait_for("a document being rendered",
                      lambda: next((d for d in stack.documents() if d.status == "rendering"), None), log=stack.logs)
    child = int(victim.lease_owner.split(":")[1])
    assert child in w.pool(), (child, w.pool())
    os.kill(child, signal.SIGKILL)
    wait_for("the killed child to be gone", lambda: not alive(child))
    assert next(d for d in stack.documents() if d.id == victim.id).status == "rendering"  # killed mid-render
    stack.wait_all_ready(2)
    stack.wait_idle()
    docs = stack.assert_exactly_once(2)
    redone = next(d for d in docs if d.id == victim.id)
    assert redone.attempts >= 2 and redone.lease_owner != victim.lease_owner
    assert w.proc.poll() is None  # the main process survived and replaced its child


@pytest.mark.fault
def test_a_delivery_finding_a_dead_workers_live_lease_comes_back_after_it(stack: Stack) -> None:
    """The redelivery of a killed child's message often lands while the dead child's lease is still
    live (reject_on_worker_lost requeues at once). It must not be dropped as "busy": the task comes
    back once the lease has run out and finishes the document. The dead worker's claim is planted
    here (the service's own claim, by an owner that will never finish) so this path runs every time."""
    w = stack.worker()
    cid = stack.office.case("training_report")
    ids = stack.fire(cid, "submit", "personnel_staff").outbox_ids
    claimed = document_service._claim(stack.db, ids[0], "dead-host:0:0", dt.timedelta(seconds=LEASE_SECONDS))
    assert claimed is not None and claimed.key[1] == "claimed"
    relay.publish(ids, stack.db)
    stack.wait_all_ready(2)
    stack.wait_idle()
    docs = stack.assert_exactly_once(2)
    taken_over = next(d for d in docs if d.id == claimed.key[0])
    assert taken_over.attempts == 2 and taken_over.lease_owner != "dead-host:0:0"
    assert "retry: Retry in" in w.log()  # it was busy first, and came back
    assert w.results().count("ready") == 2


@pytest.mark.fault
def test_worker_main_process_killed_mid_render_another_worker_finishes_once(stack: Stack) -> None:
    """kill -9 the worker's main process mid-render (its pool child dies with it): the message waits
    in Redis's unacked set; a new worker restores it after the visibility timeout, and the expired
    lease lets it finish the document once."""
    w1 = stack.worker(delay=RENDER_DELAY)
    cid = stack.office.case("training_report")
    ids = stack.fire(cid, "submit", "personnel_staff").outbox_ids
    relay.publish(ids, stack.db)
    victim = wait_for("a document being rendered",
                      lambda: next((d for d in stack.documents() if d.status == "rendering"), None), log=stack.logs)
    child = int(victim.lease_owner.split(":")[1])
    os.kill(w1.pid, signal.SIGKILL)
    w1.proc.wait(timeout=10)
    wait_for("the orphaned pool child to die", lambda: not alive(child))
    assert next(d for d in stack.documents() if d.id == victim.id).status == "rendering"
    r = stack.redis.client()
    assert r.hlen("unacked") == 1  # the message was neither acked nor lost
    # A new worker restores unacked messages when it starts, once they are older than the
    # visibility timeout; start it after that.
    wait_for("the visibility timeout to pass",
             lambda: all(time.time() - score > VISIBILITY_TIMEOUT + 0.5
                         for _tag, score in r.zrange("unacked_index", 0, -1, withscores=True)), timeout=30)
    stack.worker()
    stack.wait_all_ready(2)
    stack.wait_idle()
    docs = stack.assert_exactly_once(2)
    assert next(d for d in docs if d.id == victim.id).attempts >= 2


@pytest.mark.fault
def test_redis_down_transitions_commit_and_the_sweep_delivers_later(stack: Stack) -> None:
    """Redis stopped while cases are approved: each transition commits and returns promptly, its
    outbox rows wait undispatched; Redis back, the sweep sends them and the documents appear once."""
    stack.worker()
    embedded.install(stack.db, redis_url=stack.redis.url)  # the real after-commit publish
    cases = [stack.office.case("training_report") for _ in range(3)]
    stack.redis.stop()
    results = []
    for cid, steps in zip(cases, [[("submit", "personnel_staff"), ("approve", "personnel_chief")],
                                  [("submit", "personnel_staff")], [("submit", "personnel_staff")]], strict=True):
        for trigger, who in steps:
            started = time.monotonic()
            results.append(stack.fire(cid, trigger, who))
            # Not a performance bound: a publish that hung on the dead broker would blow through it.
            assert time.monotonic() - started < 15
    assert [r.to_state for r in results] == ["section_review", "secretariat_review", "section_review",
                                             "section_review"]
    rows, notices = stack.outbox(), stack.outbox(topic=approval.HANDOFF_TOPIC)
    assert len(rows) == 8 and len(notices) == 4  # the documents, and one notice per transition
    assert sorted(m.id for m in rows + notices) == sorted(i for r in results for i in r.outbox_ids)
    assert all(m.dispatched_at is None for m in rows + notices)
    errors = {m.id for m in rows if m.last_error}
    assert all(errors & set(r.outbox_ids) for r in results)  # each fire's publish failed, and said why
    assert stack.documents() == []
    stack.redis.start()  # same port, empty
    assert stack.sweep() == 12
    stack.wait_all_ready(8)
    stack.wait_idle()
    stack.assert_exactly_once(8)
    assert all(m.processed_at is not None for m in stack.outbox(topic=approval.HANDOFF_TOPIC))


@pytest.mark.fault
def test_redis_losing_its_data_is_recovered_by_the_sweep(stack: Stack) -> None:
    """Messages published, then Redis loses everything before any worker ran (FLUSHALL): the sweep
    re-sends the dispatched-but-unprocessed rows and the documents appear once."""
    cid = stack.office.case("training_report")
    ids = stack.fire(cid, "submit", "personnel_staff").outbox_ids
    assert relay.publish(ids, stack.db) == 3  # two documents, one notice
    r = stack.redis.client()
    assert r.llen(QUEUE) == 3  # in the test Redis, waiting
    assert all(m.dispatched_at is not None for m in stack.outbox())
    r.flushall()
    stack.worker()
    assert stack.documents() == []  # nothing left to deliver
    assert not set(ids) & set(relay.due_for_dispatch(stack.db))  # dispatched recently: not due by default
    assert stack.sweep(redispatch_after=dt.timedelta(seconds=0)) == 3
    stack.wait_all_ready(2)
    stack.wait_idle()
    docs = stack.assert_exactly_once(2)
    assert all(d.attempts == 1 for d in docs)
    assert stack.told(cid) == [stack.office.users["personnel_chief"]]  # told once, after all

