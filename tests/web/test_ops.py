"""Operations: /healthz, /readyz (database, Redis, worker heartbeats or the in-process worker),
/metrics (who may read it; counters and backlogs; counters added up across processes), request
ids and structured logs."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from documents import service as documents
from tasks import embedded, heartbeat
from tests.conftest import OfficeFixture
from tests.helpers import sqlite_database
from tests.servers import RedisServer, running_redis
from tests.web.conftest import Browser
from web import create_app
from workflow import clock, logs
from workflow import db as dbmod
from workflow.cases import approval
from workflow.db import Database
from workflow.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
DEAD_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1


def make_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config: object) -> Flask:
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    # create_app points the process's default database at its URL: put the test database back after.
    monkeypatch.setattr(dbmod, "_default", dbmod._default)
    return create_app({"TESTING": True, "DATABASE_URL": db_url, "RATELIMIT_STORAGE_URI": "memory://",
                       "BACKGROUND_WORK": False, **config})


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from a text exposition."""
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def scrape(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = app.test_client().get("/metrics")
    assert resp.status_code == 200, resp.status_code
    assert resp.headers["Content-Type"].startswith("text/plain")
    return samples(resp.get_data(as_text=True))


# -- /healthz and /readyz ---------------------------------------------------------------------------
def test_healthz_answers_without_the_database_and_readyz_names_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(DEAD_DATABASE, tmp_path, monkeypatch)
    c = app.test_client()
    resp = c.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}
    ready = c.get("/readyz")
    assert ready.status_code == 503
    body = ready.json
    assert body["status"] == "not ready" and "database" in body["down"]
    assert body["checks"]["database"]["ok"] is False and "database unreachable" in body["checks"]["database"]["error"]
    assert "127.0.0.1" not in json.dumps(body)  # says what is down, not where it lives


@pytest.fixture
def scratch_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[embedded.EmbeddedWorker]:
    """A real in-process worker thread on a database of its own (it must not process the shared
    test database's outbox), installed as this process's embedded worker."""
    worker = embedded.EmbeddedWorker(sqlite_database(tmp_path / "scratch.db"), sweep_seconds=0.2)
    worker._last_daily = clock.today()  # its daily run (plan year, reminders) is not this test's business
    monkeypatch.setattr(embedded, "_worker", worker)
    worker.start()
    yield worker
    worker.stop()


def test_readyz_in_the_embedded_default_counts_the_in_process_worker(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scratch_worker: embedded.EmbeddedWorker
) -> None:
    app = make_app(db.url, tmp_path, monkeypatch)
    app.config["BACKGROUND_WORK"] = True  # as in `caseflow serve` (its worker is the scratch one)
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "ready" and resp.json["down"] == []
    assert set(resp.json["checks"]) == {"database", "worker"}  # no Redis configured, none asked
    assert resp.json["checks"]["worker"] == {"ok": True, "embedded": True}
    scratch_worker.stop()
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["down"] == ["worker"]
    assert "in-process worker" in resp.json["checks"]["worker"]["error"]


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with running_redis(tmp_path_factory.mktemp("ops-redis")) as server:
        yield server


def test_readyz_with_redis_needs_a_recent_heartbeat_for_every_queue(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_redis: RedisServer
) -> None:
    if private_redis.proc is None:
        private_redis.start()
    r = private_redis.client()
    r.flushall()
    app = make_app(db.url, tmp_path, monkeypatch, REDIS_URL=private_redis.url, WORKER_HEARTBEAT_SECONDS=10)
    c = app.test_client()

    none = c.get("/readyz")
    assert none.status_code == 503 and none.json["down"] == ["worker"]
    assert none.json["checks"]["redis"] == {"ok": True}
    assert "celery, conversions" in none.json["checks"]["worker"]["error"]

    heartbeat.beat(r, "docx@host", ["celery"], 10)
    one = c.get("/readyz")
    assert one.status_code == 503 and "queue conversions" in one.json["checks"]["worker"]["error"]
    assert one.json["checks"]["worker"]["queues"] == {"celery": 1, "conversions": 0}

    heartbeat.beat(r, "converter@host", ["conversions"], 10)
    both = c.get("/readyz")
    assert both.status_code == 200, both.json
    assert both.json["checks"]["worker"]["queues"] == {"celery": 1, "conversions": 1}

    # A heartbeat older than three intervals is not recent, even if its key is still there.
    stale = json.loads(r.get(f"{heartbeat.KEY_PREFIX}converter@host:{os.getpid()}"))
    stale["at"] = time.time() - 31
    r.set(f"{heartbeat.KEY_PREFIX}converter@host:{os.getpid()}", json.dumps(stale))
    assert c.get("/readyz").status_code == 503

    private_redis.stop()
    try:
        down = c.get("/readyz")
        assert down.status_code == 503
        assert down.json["down"] == ["redis", "worker"]
        assert "redis unreachable" in down.json["checks"]["redis"]["error"]
    finally:
        private_redis.start()


def test_a_worker_heartbeat_thread_beats_and_forgets_itself_on_stop(private_redis: RedisServer) -> None:
    if private_redis.proc is None:
        private_redis.start()
    r = private_redis.client()
    r.flushall()
    beating = heartbeat.Heartbeat(private_redis.url, "w@h", ["celery", "conversions"], 0.2).start()
    try:
        deadline = time.monotonic() + 30
        while not heartbeat.live_workers(r, 0.2) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heartbeat.live_workers(r, 0.2) == {"celery": ["w@h"], "conversions": ["w@h"]}
        assert 0 < r.ttl(f"{heartbeat.KEY_PREFIX}w@h:{os.getpid()}") <= 1  # expires after 3 intervals
    finally:
        beating.stop()
    assert list(r.scan_iter(match=f"{heartbeat.KEY_PREFIX}*")) == []


# -- /metrics: who may read it --------------------------------------------------------------------
def test_metrics_are_for_the_machine_itself_or_the_token(db: Database, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(db.url, tmp_path, monkeypatch, METRICS_TOKEN="s3cret-token")

    def get(remote: str, **headers: str) -> int:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = remote
        return client.get("/metrics", headers=headers).status_code

    assert get("127.0.0.1") == 200
    assert get("::1") == 200
    assert get("203.0.113.9") == 403
    # Relayed by a proxy on the same machine: the proxy's 127.0.0.1 says nothing about the client.
    assert get("127.0.0.1", **{"X-Forwarded-For": "203.0.113.9"}) == 403
    assert get("203.0.113.9", Authorization="Bearer s3cret-token") == 200
    assert get("203.0.113.9", Authorization="Bearer wrong") == 403
    assert get("127.0.0.1", **{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer s3cret-token"}) == 200


def test_without_a_token_nobody_else_reads_metrics(db: Database, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(db.url, tmp_path, monkeypatch, METRICS_TOKEN=None)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


# -- /metrics: what it says -----------------------------------------------------------------------
KEY = (("kind", "training_report"), ("trigger", "submit"))


def test_metrics_count_transitions_and_renders_and_read_the_backlog_from_the_database(
    app: Flask, office: OfficeFixture
) -> None:
    import time_machine

    before = scrape(app)
    backlog_key = ("caseflow_outbox_backlog", (("topic", "document.render"),))
    oldest_key = ("caseflow_outbox_oldest_age_seconds", (("topic", "document.render"),))
    cid = office.case("training_report")
    fired = approval.fire(cid, "submit", office.users["personnel_staff"], db=office.db).outbox_ids
    with office.db.unit_of_work(write=False) as uow:  # the two documents (the third row tells the chief)
        outbox = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.id.in_(fired), OutboxMessage.topic == approval.DOCUMENT_TOPIC).order_by(OutboxMessage.id)))
    assert len(fired) == 3 and len(outbox) == 2
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5), tick=True):
        after = scrape(app)
    assert after[("caseflow_transitions_total", KEY)] == before.get(("caseflow_transitions_total", KEY), 0) + 1
    assert after[backlog_key] == before[backlog_key] + 2
    assert after[oldest_key] >= 300  # waiting five minutes (at least: older rows of other tests may wait)
    assert after[("caseflow_database_up", ())] == 1
    for i in outbox:
        assert documents.process_outbox(office.db, i, convert_formats=False).status == "ready"
    done = scrape(app)
    assert done[backlog_key] == before[backlog_key]
    for name in ("sign_memo", "training_results"):
        renders = ("caseflow_document_renders_total", (("document", name), ("outcome", "ready")))
        timed = ("caseflow_document_render_seconds_count", (("document", name),))
        assert done[renders] == before.get(renders, 0) + 1
        assert done[timed] == before.get(timed, 0) + 1
    # A second delivery of the same message changes nothing but is counted as what it was.
    assert documents.process_outbox(office.db, outbox[0], convert_formats=False).status == "already_ready"
    again = scrape(app)
    repeat = ("caseflow_document_renders_total", (("document", "sign_memo"), ("outcome", "already_ready")))
    assert again[repeat] == done.get(repeat, 0) + 1


def test_metrics_without_the_database_still_answer_with_the_counters(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    found = scrape(make_app(DEAD_DATABASE, tmp_path, monkeypatch))
    assert found[("caseflow_database_up", ())] == 0
    assert not any(name == "caseflow_outbox_backlog" for name, _labels in found)


FIRE = """
import sys
from workflow import db as dbmod
from workflow.cases import approval
db = dbmod.configure(sys.argv[1])
approval.fire(int(sys.argv[2]), "submit", int(sys.argv[3]), db=db)
"""


def test_counters_add_up_across_processes(db: Database, office: OfficeFixture, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Two separate processes fire a transition each with a shared PROMETHEUS_MULTIPROC_DIR (as
    gunicorn's workers do); /metrics, answered by a third, counts both."""
    shared = tmp_path / "metrics"
    cases = [office.case("training_report") for _ in range(2)]
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "CASEFLOW_INSTANCE": str(tmp_path)}
    for cid in cases:
        subprocess.run([sys.executable, "-c", FIRE, db.url, str(cid), str(office.users["personnel_staff"])],
                       cwd=ROOT, env=env, check=True, timeout=120)
    assert len(list(shared.glob("counter_*.db"))) == 2  # one file per process
    app = make_app(db.url, tmp_path, monkeypatch, METRICS_MULTIPROC_DIR=str(shared))
    found = scrape(app)
    assert found[("caseflow_transitions_total", KEY)] == 2  # exactly these two processes' transitions
    assert ("caseflow_outbox_backlog", (("topic", "document.render"),)) in found


# -- request ids and structured logs -----------------------------------------------------------------
def test_a_request_id_is_taken_from_the_request_or_made_and_echoed(app: Flask) -> None:
    c = app.test_client()
    assert c.get("/healthz", headers={"X-Request-ID": "lb-42.abc"}).headers["X-Request-ID"] == "lb-42.abc"
    made = c.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != c.get("/healthz").headers["X-Request-ID"]
    # Not an id (spaces, quotes, too long): replaced rather than written into the logs.
    for bad in ('x" injected="1', "a" * 200):
        echoed = c.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert echoed != bad and len(echoed) == 32


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = logs.configure("json", "INFO", stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_json_log_lines_carry_the_request_user_and_case(app: Flask, office: OfficeFixture,
                                                        json_log: io.StringIO) -> None:
    from tests.web.conftest import submitted

    cid = submitted(office)
    b = Browser(app.test_client())
    assert b.login(office.logins["personnel_chief"]).status_code == 303
    resp = b.get(f"/cases/{cid}", headers={"X-Request-ID": "req-123"})
    assert resp.status_code == 200
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]  # every line is one JSON object
    mine = [x for x in lines if x.get("request_id") == "req-123"]
    assert mine, lines[-5:]
    line = next(x for x in mine if x["logger"] == "caseflow.request")
    assert line["message"] == f"GET /cases/{cid} 200"
    assert line["user_id"] == office.users["personnel_chief"] and line["case_id"] == cid
    assert line["level"] == "INFO" and line["status"] == 200 and line["duration_ms"] >= 0 and line["time"]
    # The next request of another person carries nothing of this one.
    app.test_client().get("/healthz", headers={"X-Request-ID": "req-124"})
    other = next(json.loads(x) for x in json_log.getvalue().splitlines() if '"req-124"' in x)
    assert "user_id" not in other and "case_id" not in other


def test_text_log_lines_are_the_default_and_carry_the_ids_too(app: Flask) -> None:
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = logs.configure("text", "INFO", stream=stream)
    try:
        app.test_client().get("/healthz", headers={"X-Request-ID": "req-text"})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    line = next(x for x in stream.getvalue().splitlines() if "req-text" in x)
    assert "INFO caseflow.request: GET /healthz 200 [request_id=req-text]" in line
    with pytest.raises(ValueError, match="log format 'xml'"):
        logs.configure("xml")


def test_metrics_count_publications_and_reminders(office: OfficeFixture) -> None:
    import time_machine
    from prometheus_client import REGISTRY

    from publishing import service as publishing
    from publishing.publishers import PublicZonePublisher
    from tests.publishing_helpers import FAST, to_publishing
    from workflow.calendar import plan, reminders

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    published = value("caseflow_publications_total", outcome="published")
    _cid, outbox = to_publishing(office)
    assert publishing.process_posting(office.db, outbox, publisher=PublicZonePublisher(), settings=FAST).status \
        == "published"
    assert value("caseflow_publications_total", outcome="published") == published + 1

    kinds = ("due_soon", "overdue", "step_overdue")
    before = sum(value("caseflow_reminders_total", kind=k) for k in kinds)
    with time_machine.travel(dt.datetime(2026, 4, 13, 8, tzinfo=clock.TAIPEI), tick=False):
        plan.generate(office.db, 115, office_codes=[office.code])
        new = reminders.decide(office.db)  # every office's: the counter counts what this run recorded
    assert new >= 3
    assert sum(value("caseflow_reminders_total", kind=k) for k in kinds) == before + new
