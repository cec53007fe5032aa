"""``caseflow bench documents``: the document pipeline against its floors, in one run.

1. Per document through the pipeline (``documents.service.process_outbox``: claim, context, sandboxed
   render, store, history, outbox) against a raw docxtpl render of the same template and context.
2. PDF and ODT with the warm converter against the bare UNO call inside it (the floor), and a cold
   ``soffice --convert-to`` for comparison.
3. With REDIS_URL: approve -> .docx ready, p50 and p95, with one real Celery worker process on the
   default queue while a second converts every ready document to ODT/PDF on the ``conversions`` queue.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from docxtpl import DocxTemplate
from sqlalchemy import select

from caseflow.bench import Result, machine, median, not_run, ratio_result
from documents import context as contexts
from documents import convert, render, service
from workflow.cases import approval, drafts
from workflow.config import load_settings
from workflow.db import Database
from workflow.demo import sample_fields
from workflow.engine import registry
from workflow.migrate import upgrade
from workflow.models import Document, OutboxMessage
from workflow.people import directory
from workflow.people.passwords import hash_password


class _Office:
    def __init__(self, db: Database) -> None:
        code = f"bdoc-{uuid.uuid4().hex[:8]}"
        with db.unit_of_work() as uow:
            s = uow.session
            office = directory.add_office(s, code, f"文件效能{code}")
            unit = directory.add_unit(s, office, "personnel", "人事室")
            pw = hash_password("bench-only-password")
            staff = directory.add_user(s, office, f"{code}.staff", "承辦", sex="F", unit=unit, password_hash=pw)
            directory.grant(s, staff, "staff", unit=unit)
            uow.commit()
            self.unit, self.staff = unit.id, staff.id
        self.db = db

    def submitted_case(self) -> tuple[int, list[int]]:
        """A plan amendment submitted for review: its outbox rows (簽 and 修正對照表)."""
        cid = drafts.create_case(kind="plan_amendment", unit_id=self.unit, roc_year=115, title="bench",
                                 actor=self.staff, fields=sample_fields("plan_amendment", 115, None), db=self.db)
        res = approval.fire(cid, "submit", self.staff, db=self.db)
        return cid, list(res.outbox_ids) or _outbox_ids(self.db, cid)


def _outbox_ids(db: Database, case_id: int) -> list[int]:
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == case_id).order_by(OutboxMessage.id)))


def _pipeline(db: Database, office: _Office, n: int) -> list[Result]:
    """The goal's floor is a stock docxtpl render. Our own render (``documents.render.render_docx``:
    sandbox, compiled once, the styles part kept as bytes) is cheaper than that, so a second,
    informational line compares the pipeline with our render alone: what the claim, the store and
    the finish add around it."""
    ours, raw, own = [], [], []
    name = "amendment_table"
    template = (service.TEMPLATES / f"{name}.docx").read_bytes()
    for i in range(n + 3):
        cid, ids = office.submitted_case()
        with db.unit_of_work(write=False) as uow:
            ctx = contexts.build(uow.session, db, cid, name, 2)
        t0 = time.perf_counter()
        tpl = DocxTemplate(io.BytesIO(template))
        tpl.render(ctx, autoescape=True)
        tpl.save(io.BytesIO())
        t1 = time.perf_counter()
        msg = ids[-1]  # the 修正對照表
        service.process_outbox(db, msg, convert_formats=False)
        t2 = time.perf_counter()
        render.render_docx(template, ctx)
        t3 = time.perf_counter()
        if i >= 3:  # warm-up
            raw.append((t1 - t0) * 1000)
            ours.append((t2 - t1) * 1000)
            own.append((t3 - t2) * 1000)
    pipeline = median(ours)
    return [ratio_result(f"document through the pipeline ({db.dialect})", pipeline, median(raw), "ms", 1.3),
            Result("  same, against our own render alone", pipeline, "ms", median(own), pipeline / median(own),
                   "informational", None)]


def _conversion(n: int) -> list[Result]:
    problem = machine.libreoffice_problem()
    if problem:
        return [not_run("PDF/ODT warm converter vs bare UNO call", problem)]
    data = (service.TEMPLATES / "training_results.docx").read_bytes()
    from documents.render import render_docx

    keys = ("office_name", "roc_year", "period_label", "unit_name", "date_short", "summary", "drafter", "chief",
            "footer_text", "case_title")
    ctx: dict[str, object] = {k: "測試" for k in keys}
    ctx |= {"rows": [{k: "1" for k in ("no", "course", "date", "hours", "mode", "level", "cedaw_code", "male",
                                        "female", "total")}] * 30,
            "totals": {"hours": "30", "male": "30", "female": "30", "total": "60"}}
    docx = render_docx(data, ctx)
    warm = convert.WarmConverter()
    out: list[Result] = []
    try:
        for fmt in ("pdf", "odt"):
            warm.convert(docx, fmt)  # start LibreOffice, load the filter
            ours, floor = [], []
            for _ in range(n):
                t0 = time.perf_counter()
                warm.convert(docx, fmt)
                ours.append((time.perf_counter() - t0) * 1000)
                floor.append(warm.last_uno_seconds * 1000)
            out.append(ratio_result(f"{fmt.upper()} warm converter vs bare UNO call", median(ours), median(floor),
                                    "ms", 1.5))
        t0 = time.perf_counter()
        convert.ColdConverter().convert(docx, "pdf")
        cold = (time.perf_counter() - t0) * 1000
        out.append(Result("PDF cold soffice (for comparison)", cold, "ms", None, None, "informational", None))
    finally:
        warm.close()
    return out


def _start_worker(env: dict[str, str], log: Path, queues: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "tasks.app:celery_app", "worker",
                             "--concurrency=1", "-O", "fair", "--without-gossip", "--without-mingle",
                             f"--queues={queues}", "-n", f"{queues}-bench@%h", "--loglevel=INFO"],
                            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while " ready." not in log.read_text(errors="replace") and time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Celery worker exited: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    return proc


def _end_to_end(db: Database, office: _Office, n: int) -> list[Result]:
    """Approve, then wait for the .docx, as a person at the case page would. One worker on the
    default queue renders; a second, on the ``conversions`` queue, turns every ready document into
    ODT and PDF at the same time on the same machine (the deployment docker-compose.yml describes),
    so the .docx latency includes whatever those conversions take from the CPU."""
    settings = load_settings()
    problem = machine.redis_problem(settings.redis_url)
    if problem:
        return [not_run("approve -> .docx ready with a Celery worker", problem)]
    from tasks.relay import publish

    env = {**os.environ, "CASEFLOW_INSTANCE": str(settings.instance_path)}
    folder = Path(settings.instance_path)
    workers = [_start_worker(env, folder / "bench-worker.log", "celery")]
    with_lo = convert.soffice_path() is not None
    if with_lo:
        workers.append(_start_worker(env, folder / "bench-converter.log", "conversions"))
    cases: list[int] = []
    try:
        latencies = []
        for i in range(n + 2):
            cid = drafts.create_case(kind="plan_amendment", unit_id=office.unit, roc_year=115, title="bench",
                                     actor=office.staff, fields=sample_fields("plan_amendment", 115, None),
                                     db=db)
            t0 = time.perf_counter()
            res = approval.fire(cid, "submit", office.staff, db=db)
            publish(res.outbox_ids or _outbox_ids(db, cid), db)
            while True:
                with db.unit_of_work(write=False) as uow:
                    ready = uow.session.scalar(select(Document.id).where(
                        Document.case_id == cid, Document.name == "amendment_table", Document.status == "ready"))
                if ready or time.perf_counter() - t0 > 30:
                    break
                time.sleep(0.005)
            if i >= 2:
                latencies.append((time.perf_counter() - t0) * 1000)
                cases.append(cid)
        t_docx = time.perf_counter()
        converted = 0
        if with_lo:  # let the converter finish the backlog the run left it (for the informational line)
            while time.perf_counter() - t_docx < 120:
                with db.unit_of_work(write=False) as uow:
                    docs = uow.session.execute(select(Document.pdf_key, Document.conversion_error)
                                               .where(Document.case_id.in_(cases))).all()
                converted = sum(1 for d in docs if d.pdf_key or d.conversion_error)
                if converted == len(docs):
                    break
                time.sleep(0.1)
        drained = time.perf_counter() - t_docx
    finally:
        for w in workers:
            os.killpg(w.pid, 15)
        for w in workers:
            w.wait(timeout=30)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    out = [Result("approve -> .docx ready, p50 (1 worker; conversions on a 2nd)", statistics.median(latencies), "ms",
                  None, None, "informational", None),
           Result("approve -> .docx ready, p95 (1 worker; conversions on a 2nd)", p95, "ms", None, None, "<= 1000",
                  p95 <= 1000)]
    if with_lo:
        out.append(Result(f"ODT+PDF of all {converted} documents done, after the last .docx", drained * 1000, "ms",
                          None, None, "informational (the converter's backlog)", None))
    return out


def run(db: Database, *, n: int = 20) -> list[Result]:
    upgrade(db)
    registry.default().sync(db)
    office = _Office(db)
    results = _pipeline(db, office, n)
    results.extend(_conversion(max(n // 2, 5)))
    results.extend(_end_to_end(db, office, n))
    return results
