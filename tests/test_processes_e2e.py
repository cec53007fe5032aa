"""Every production process for real (R9, issue 14): gunicorn serving ``web:create_app()``, a Celery
worker on the default queue, a converter worker on ``conversions``, and Celery beat, started as
``caseflow`` would be in docker-compose, against PostgreSQL and a Redis of the test's own.

A training report goes from draft to filed over HTTP as the people of each step do it (the
secretariat records the task force meeting that decides it on /task-force); then every document
of the case appears as .docx, .odt and .pdf through the web app, and `caseflow audit verify`
passes on the database.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, OfficeFixture, make_office
from tests.servers import RedisServer, free_port
from tests.test_audit import own_pg_database
from tests.test_celery_faults import wait_for
from tests.web.conftest import forms
from workflow import clock, rocdate
from workflow.db import Database
from workflow.models import Case, Document
from workflow.people.passwords import hash_password
from workflow.registers import task_force

pytestmark = [pytest.mark.slow]

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
WAIT = 180.0  # the converter starts LibreOffice once and converts every document of the line


class Process:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log_path = name, log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(cmd, env=env, cwd=env["CASEFLOW_INSTANCE"], stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=10)


class Person:
    """One browser's worth of cookies, logged in as someone of the office."""

    def __init__(self, base: str, login: str) -> None:
        self.base, self.http = base, requests.Session()
        page = self.http.get(f"{base}/login", timeout=30).text
        token = forms(page)[""]["csrf_token"]  # the login form posts to its own address
        resp = self.http.post(f"{base}/login", data={"username": login, "password": TEST_PASSWORD,
                                                     "csrf_token": token}, allow_redirects=False, timeout=30)
        assert resp.status_code == 303, (login, resp.status_code, resp.text[:500])

    def get(self, path: str) -> requests.Response:
        resp = self.http.get(f"{self.base}{path}", timeout=60)
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:500])
        return resp

    def post_form(self, page: str, action: str, **fields: str) -> requests.Response:
        found = forms(self.get(page).text)
        assert action in found, f"no form posting to {action} on {page}: {sorted(found)}"
        resp = self.http.post(f"{self.base}{action}", data={**found[action], **fields}, allow_redirects=False,
                              timeout=60)
        assert resp.status_code == 303, (action, resp.status_code, resp.text[:1000])
        return resp

    def act(self, case_id: int, trigger: str) -> None:
        self.post_form(f"/cases/{case_id}", f"/cases/{case_id}/actions/{trigger}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Database, OfficeFixture, str, list[Process]]]:
    with own_pg_database() as db:
        redis_server = RedisServer(tmp_path)
        redis_server.start()
        (tmp_path / "instance").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEFLOW_", "CELERY_"))}
        env.update({"DATABASE_URL": db.url, "REDIS_URL": redis_server.url, "SECRET_KEY": "e2e-" + "x" * 40,
                    "CASEFLOW_INSTANCE": str(tmp_path / "instance"),
                    "CASEFLOW_DOCUMENTS_DIR": str(tmp_path / "documents"), "PYTHONUNBUFFERED": "1",
                    "PYTHONPATH": str(ROOT)})
        office = make_office(db, hash_password(TEST_PASSWORD))
        port = free_port()
        procs = [
            Process("web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                            "web:create_app()"], env, tmp_path / "web.log"),
            Process("worker", [str(BIN / "caseflow"), "worker", "--concurrency", "1", "--queues", "celery"], env,
                    tmp_path / "worker.log"),
            Process("converter", [str(BIN / "caseflow"), "worker", "--concurrency", "1", "--queues",
                                  "conversions"], env, tmp_path / "converter.log"),
            Process("beat", [str(BIN / "caseflow"), "beat"], env, tmp_path / "beat.log"),
        ]

        def logs() -> str:
            return "\n".join(f"--- {p.name}\n{p.log()}" for p in procs)

        def up() -> bool:
            dead = [p.name for p in procs if not p.alive()]
            if dead:
                pytest.fail(f"{', '.join(dead)} exited\n{logs()}")
            try:
                ok = requests.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200
            except requests.RequestException:  # not listening yet, or still starting its workers
                return False
            return ok and all(" ready." in p.log() for p in procs if p.name in ("worker", "converter"))

        try:
            wait_for("gunicorn and both workers", up, timeout=90, interval=0.2, log=logs)
            yield db, office, f"http://127.0.0.1:{port}", procs
        finally:
            for p in procs:
                p.stop()
            redis_server.stop()


def test_a_training_report_goes_from_draft_to_filed_through_every_process(
        stack: tuple[Database, OfficeFixture, str, list[Process]]) -> None:
    db, office, base, procs = stack
    today = clock.today()
    with db.unit_of_work() as uow:  # the office's task force (its register is kept on /task-force)
        for i, sex in enumerate("FMFMFM"):
            task_force.add_member(uow.session, office.id, None, name=f"委員{i + 1}", sex=sex, internal=True,
                                  role="convener" if i == 0 else "member", seat="unit_chief",
                                  term_start=today - dt.timedelta(days=30))
        uow.commit()
    cid = office.case("training_report")
    people = {who: Person(base, office.logins[who]) for who in
              ("personnel_staff", "personnel_chief", "secretariat", "convener", "liaison")}

    people["personnel_staff"].act(cid, "submit")
    people["personnel_chief"].act(cid, "approve")
    people["secretariat"].act(cid, "approve")
    held = {"meetings-kind": "regular", "meetings-held_on": rocdate.short(today), "meetings-place": "第一會議室",
            f"dec_{cid}": "passed", f"votes_{cid}": "6"}
    page = people["secretariat"].get("/task-force").text
    held.update({name: "present" for name in re.findall(r'name="(att_\d+)"', page)})
    people["secretariat"].post_form("/task-force", "/task-force/meetings", **held)
    people["convener"].act(cid, "approve")
    people["liaison"].act(cid, "file_with_city_group")

    with db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(Case, cid).state == "filed"

    def converted() -> list[Document]:
        with db.unit_of_work(write=False) as uow:
            docs = list(uow.session.scalars(select(Document).where(Document.case_id == cid)))
        failed = [(d.name, d.last_error or d.conversion_error) for d in docs
                  if d.status == "failed" or d.conversion_error]
        assert not failed, failed
        done = [d for d in docs if d.status == "ready" and d.odt_key and d.pdf_key]
        names = sorted(d.name for d in done)
        want = ["city_letter", "sign_memo", "sign_memo", "training_results", "training_results"]
        return done if names == want and len(docs) == len(done) else []

    docs = wait_for("every document of the case as .docx, .odt and .pdf", converted, timeout=WAIT, interval=0.5,
                    log=lambda: "\n".join(f"--- {p.name}\n{p.log()}" for p in procs))
    staff = people["personnel_staff"]
    page = staff.get(f"/cases/{cid}").text
    assert "data-refresh" not in page  # nothing is being made any more
    for d in docs:
        for fmt, magic in (("docx", b"PK"), ("odt", b"PK"), ("pdf", b"%PDF")):
            assert f"/cases/{cid}/documents/{d.id}.{fmt}" in page
            assert staff.get(f"/cases/{cid}/documents/{d.id}.{fmt}").content.startswith(magic)
    env = {**os.environ, "DATABASE_URL": db.url}
    env.pop("REDIS_URL", None)
    verify = subprocess.run([str(BIN / "caseflow"), "audit", "verify"], env=env, capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("ok: ")
