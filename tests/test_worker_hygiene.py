"""Worker hygiene, for real (issue 14 item 7): a Celery worker killed with SIGKILL in the middle of
a LibreOffice conversion leaves no LibreOffice running; its profile folder is swept by the next
worker; the document is converted exactly once after the restart; a clean shutdown removes the
folder. On the way: the real worker's JSON log lines, heartbeat (/readyz) and metrics port.

The workers and the Redis are those of tests/test_celery_faults.py (its fixtures); each worker's
temp directory is the test's own, so the LibreOffice processes and folders found are this test's
and no other run's.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from documents import convert
from documents import service as document_service
from tasks import embedded, relay
from tests import test_celery_faults as faults
from tests.servers import free_port
from tests.test_celery_faults import VISIBILITY_TIMEOUT, Stack, alive, wait_for
from workflow.models import Document

# The fault tests' fixtures: a Redis of this module's own, the Celery app pointed at it, the stack.
redis_server, broker, stack = faults.redis_server, faults.broker, faults.stack

pytestmark = [pytest.mark.slow, pytest.mark.fault]
CONVERT = "caseflow.convert_document"


def office_processes(tmp: Path) -> list[psutil.Process]:
    """LibreOffice (oosplash, soffice.bin), its guard and the UNO bridge of this test: every process
    whose command line names the test's temp directory."""
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and any(str(tmp) in a for a in p.info["cmdline"] or ()):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def describe(procs: list[psutil.Process]) -> str:
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid} (parent {p.ppid()}): {' '.join(p.cmdline())[:160]}")
        except psutil.NoSuchProcess:
            continue
    return "\n".join(out)


def converted(s: Stack) -> list[Document]:
    docs = s.documents()
    return docs if len(docs) == 2 and all(d.odt_key and d.pdf_key for d in docs) else []


def convert_results(log: str) -> list[str]:
    return re.findall(rf"Task {re.escape(CONVERT)}\[[^\]]+\] succeeded in [\d.]+s: '(\w+)'", log)


def test_a_worker_killed_mid_conversion_leaves_no_libreoffice_and_converts_once_after_restart(
    stack: Stack, tmp_path: Path
) -> None:
    if not convert.WarmConverter.available():
        pytest.fail("LibreOffice with python3-uno is not installed (run-tests' environment has it)")
    lo_tmp = tmp_path / "worker-tmp"
    lo_tmp.mkdir()
    metrics_dir = tmp_path / "metrics"
    w1 = stack.worker(libreoffice=True, env_extra={
        "TMPDIR": str(lo_tmp), "CASEFLOW_CONVERT_DELAY_SECONDS": "20", "CASEFLOW_LOG_FORMAT": "json"})
    embedded.install(stack.db, redis_url=stack.redis.url)
    cid = stack.office.case("training_report")
    relay.publish(stack.fire(cid, "submit", "personnel_staff").outbox_ids, stack.db)

    # Mid-conversion: LibreOffice is up and holds the first document open (the bridge's delay,
    # shorter than the workers' soft time limit of 30 s).
    def converting() -> bool:
        return bool(list(lo_tmp.glob("caseflow-warm-*/*.docx"))) and any(
            "soffice.bin" in " ".join(p.cmdline()) for p in office_processes(lo_tmp))

    wait_for("a conversion in LibreOffice", converting, log=stack.logs)
    office = office_processes(lo_tmp)
    names = {p.name() for p in office}
    assert {"soffice.bin", "oosplash"} <= names, describe(office)
    assert all(not (d.odt_key or d.pdf_key) for d in stack.documents())
    stale = list(lo_tmp.glob("caseflow-warm-*"))
    assert len(stale) == 1

    child = next(p for p in w1.pool())
    os.kill(w1.pid, signal.SIGKILL)  # the worker's main process, as the OOM killer would
    w1.proc.wait(timeout=10)
    wait_for("the pool child to die with its worker", lambda: not alive(child))
    wait_for("no LibreOffice, guard or bridge left", lambda: not office_processes(lo_tmp),
             log=lambda: describe(office_processes(lo_tmp)))
    assert stale[0].exists()  # nobody was left to remove it
    assert all(not (d.odt_key or d.pdf_key) for d in stack.documents())  # killed before it finished

    # The killed worker's log: one JSON object per line, the task's lines with its ids and case.
    lines = [json.loads(x) for x in w1.log().splitlines() if x.startswith("{")]
    render = [x for x in lines if x.get("task") == "caseflow.render_document" and x.get("case_id") == cid]
    assert render and all(x.get("task_id") for x in render), lines[-5:]

    # Restart (after the visibility timeout, so the killed worker's unacked message comes back).
    r = stack.redis.client()
    wait_for("the visibility timeout to pass",
             lambda: all(time.time() - score > VISIBILITY_TIMEOUT + 0.5
                         for _tag, score in r.zrange("unacked_index", 0, -1, withscores=True)), timeout=30)
    port = free_port()
    w2 = stack.worker(libreoffice=True, env_extra={
        "TMPDIR": str(lo_tmp), "CASEFLOW_WORKER_METRICS_PORT": str(port), "CASEFLOW_WORKER_HEARTBEAT_SECONDS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    assert not stale[0].exists()  # swept at start: its owner is gone
    docs = wait_for("the ODT and PDF of both documents", lambda: converted(stack), log=stack.logs)
    stack.wait_idle()
    stack.assert_exactly_once(2)  # each .docx once, its history event once, the chain intact
    for d in docs:
        assert document_service.document_store().get(d.pdf_key)[:4] == b"%PDF"
        assert d.conversion_error is None
    conversions = stack.outbox(topic=document_service.CONVERT_TOPIC)
    assert sorted(m.payload["document_id"] for m in conversions) == sorted(d.id for d in docs)
    assert all(m.processed_at is not None for m in conversions)
    assert convert_results(w1.log()) == []
    assert convert_results(w2.log()).count("converted") == 2, w2.log()[-3000:]  # once each

    # The restarted worker's own /metrics (its pool's counters) and heartbeat (/readyz).
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    assert 'caseflow_document_conversions_total{format="pdf",outcome="ok"} 2.0' in body
    assert 'caseflow_document_conversions_total{format="odt",outcome="ok"} 2.0' in body
    from web import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": stack.db.url, "REDIS_URL": stack.redis.url,
                      "BACKGROUND_WORK": False, "RATELIMIT_STORAGE_URI": "memory://",
                      "WORKER_HEARTBEAT_SECONDS": 1})
    ready = wait_for("the restarted worker's heartbeat", lambda: app.test_client().get("/readyz").status_code == 200)
    assert ready

    # A clean shutdown closes LibreOffice and removes its profile folder, and the heartbeat goes.
    assert office_processes(lo_tmp) and list(lo_tmp.glob("caseflow-warm-*"))
    w2.proc.send_signal(signal.SIGTERM)
    w2.proc.wait(timeout=60)
    wait_for("LibreOffice to close", lambda: not office_processes(lo_tmp),
             log=lambda: describe(office_processes(lo_tmp)))
    assert list(lo_tmp.glob("caseflow-warm-*")) == []
    gone = app.test_client().get("/readyz")
    assert gone.status_code == 503 and gone.json["down"] == ["worker"]
