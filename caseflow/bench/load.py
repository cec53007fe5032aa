"""``caseflow bench load``: a working day for 20 people in at most 60 seconds, against the deployed shape.

On the configured PostgreSQL and Redis it seeds a fresh office (a person in every role, cases
waiting at each step, through the real operations), has a Celery worker render the documents
those steps asked for, then starts ``gunicorn "web:create_app()"`` (2 workers × 4 threads, as the
Dockerfile) and ``caseflow worker`` as processes of their own and runs locust headless
(``caseflow/bench/locustfile.py``) on 127.0.0.1: 20 simulated people log in, open their queue, open
cases, approve, return, submit, file and open documents. Afterwards, once the worker has finished
the documents the day asked for, it checks what must hold whatever the load: no 5xx, no other
unexpected answer, every history chain of the office verifies, every step that asks for documents
has them ready, nothing is left in the outbox. p95 per page is reported.

The worker runs without LibreOffice (documents are .docx, as on a host without it): conversions
take about a second each and would compete for the same two cores; ``bench documents`` measures them.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from caseflow.bench import Result, machine, not_run
from workflow import clock
from workflow.cases import approval, drafts
from workflow.config import load_settings
from workflow.db import Database
from workflow.demo import sample_fields
from workflow.engine import audit, registry
from workflow.migrate import upgrade
from workflow.models import Case, Document, HistoryEvent, OutboxMessage
from workflow.people import directory
from workflow.people.passwords import hash_password
from workflow.registers import meetings, task_force

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PASSWORD = "load-only-password"
UNITS = [("civil", "民政課"), ("social", "社會課"), ("personnel", "人事室"), ("accounting", "會計室"),
         ("secretariat", "秘書室")]
# login suffix -> (role, unit): the 20 people of the day.
PEOPLE = {
    **{f"{u}.staff": ("staff", u) for u, _n in UNITS},
    "civil.staff2": ("staff", "civil"), "social.staff2": ("staff", "social"),
    "personnel.staff2": ("staff", "personnel"),
    **{f"{u}.chief": ("chief", u) for u, _n in UNITS},
    "secretariat": ("secretariat", "secretariat"), "secretariat2": ("secretariat", "secretariat"),
    "convener": ("convener", "secretariat"), "deputy.convener": ("deputy_convener", "secretariat"),
    "liaison": ("liaison", "civil"), "deputy.liaison": ("deputy_liaison", "social"),
    "member": ("member", "secretariat"),
}
UNIT_SCOPED = ("staff", "chief")
SPAWN_RATE = 2  # people arriving per second: everyone is at work within the first 10 s
PAGE_P95_GOAL_MS = 1500.0  # 20 people on 2 cores shared by the server, worker, database and load


@dataclass
class Seeded:
    office_id: int
    code: str
    plan: dict[str, Any]  # what the locustfile reads: logins by role, the cases decided and those approved


def problem(db: Database, redis_url: str | None) -> str | None:
    """Why the load run cannot start here, or None."""
    if db.dialect != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgresql://... (gunicorn, a worker and 20 people on SQLite " \
               "is not the deployed shape)"
    return (machine.redis_problem(redis_url) or machine.module_problem("gunicorn", "bench")
            or machine.module_problem("locust", "bench"))


# -- seed -------------------------------------------------------------------------------------------
def seed(db: Database, *, drafts_each: int = 3, chief_each: int = 3, secretariat: int = 6, task_force_cases: int = 5,
         approved: int = 3) -> Seeded:
    """A fresh office and its morning: drafts for every staff member, cases waiting for each chief,
    the secretariat and the task force (already passed by a meeting), and approved cases to file."""
    upgrade(db)
    registry.default().sync(db)
    code = f"load{uuid.uuid4().hex[:6]}"
    today = clock.today()
    with db.unit_of_work() as uow:
        s = uow.session
        office = directory.add_office(s, code, f"桃園市{code}區公所")
        units = {c: directory.add_unit(s, office, c, name) for c, name in UNITS}
        pw = hash_password(PASSWORD)
        ids: dict[str, int] = {}
        for suffix, (role, unit) in PEOPLE.items():
            u = directory.add_user(s, office, f"{code}.{suffix}", suffix, sex="F" if len(suffix) % 2 else "M",
                                   unit=units[unit], password_hash=pw)
            directory.grant(s, u, role, unit=units[unit] if role in UNIT_SCOPED else None)
            ids[suffix] = u.id
        for i, sex in enumerate("FMFMFM"):
            task_force.add_member(s, office.id, None, name=f"委員{i + 1}", sex=sex, internal=i < 4,
                                  role="convener" if i == 0 else "member",
                                  seat="unit_chief" if i < 4 else "external_civil", term_start=today.replace(day=1))
        uow.commit()
        office_id, unit_ids = office.id, {c: u.id for c, u in units.items()}

    def case(unit: str, steps: list[tuple[str, str]], title: str, drafter: str | None = None) -> int:
        cid = drafts.create_case(kind="plan_amendment", unit_id=unit_ids[unit], roc_year=115, period=None,
                                 title=title, actor=ids[drafter or f"{unit}.staff"], db=db,
                                 fields=sample_fields("plan_amendment", 115, None))
        for trigger, who in steps:
            approval.fire(cid, trigger, ids[who], db=db)
        return cid

    for suffix, (role, unit) in PEOPLE.items():
        for k in range(drafts_each if role == "staff" else 0):
            case(unit, [], f"{suffix} 的修正草案 {k + 1}", drafter=suffix)
    for unit, name in UNITS:
        for k in range(chief_each):
            case(unit, [("submit", f"{unit}.staff")], f"{name}計畫修正 {k + 1}（待課長審核）")
    to_secretariat = [("submit", "civil.staff"), ("approve", "civil.chief")]
    for k in range(secretariat):
        case("civil", to_secretariat, f"民政課計畫修正 {k + 1}（待秘書室審核）")
    to_task_force = [*to_secretariat, ("approve", "secretariat")]
    decided = [case("civil", to_task_force, f"民政課計畫修正 {k + 1}（待專案小組審議）")
               for k in range(task_force_cases + approved)]
    with db.unit_of_work() as uow:
        meetings.hold(uow.session, office_id, None, held_on=today, place="第一會議室", passes=tuple(decided))
        uow.commit()
    for cid in decided[task_force_cases:]:
        approval.fire(cid, "approve", ids["convener"], db=db)
    people: dict[str, list[str]] = {}
    for suffix, (role, _unit) in PEOPLE.items():
        people.setdefault(role, []).append(f"{code}.{suffix}")
    return Seeded(office_id, code, {"password": PASSWORD, "people": people, "decided": decided[:task_force_cases],
                                    "approved": decided[task_force_cases:]})


# -- processes --------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{what} did not start (exit {proc.poll()}):\n{tail}")
        time.sleep(0.2)


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(procs: list[tuple[subprocess.Popen[bytes], int]]) -> None:
    """Signal every process group at once, then wait for each (KILL after 20 s)."""
    for proc, sig in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
    for proc, _sig in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def _stack(env: dict[str, str], folder: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """gunicorn and a Celery worker, starting; yields the app's base URL and a call that waits until
    both are up. Idle connections are kept 5 s, more than a person's pause: a browser resends a GET
    whose kept-alive connection the server closed at that very moment, locust's client reports it
    as a failure (status 0)."""
    port = _free_port()
    worker_env = {**env, "PATH": str(Path(sys.executable).parent)}  # no soffice: .docx only (see above)
    worker_log, web_log = folder / "worker.log", folder / "gunicorn.log"
    # Stopped the quick way (cold shutdown, quick shutdown): by then the day and its documents are done.
    running: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        worker = _start([sys.executable, "-m", "caseflow", "worker", "--concurrency", "1"], worker_env, worker_log)
        running.append((worker, signal.SIGQUIT))
        web = _start([sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}",
                      "--keep-alive", "5", "--log-level", "warning", "web:create_app()"], env, web_log)
        running.append((web, signal.SIGINT))

        def ready() -> None:
            _wait("the Celery worker", lambda: " ready." in worker_log.read_text(errors="replace"), worker,
                  worker_log, 90)
            _wait("gunicorn", lambda: _port_open(port), web, web_log, 60)

        yield f"http://127.0.0.1:{port}", ready
    finally:
        _stop(running)


def _warm(base: str, requests: int = 16) -> None:
    """The login page a few times over, so every gunicorn worker has imported and compiled what a
    page needs before the day starts (as on a server that has been up for a while)."""
    import urllib.request

    for _ in range(requests):
        with urllib.request.urlopen(f"{base}/login", timeout=30) as resp:
            resp.read()


# -- the day ----------------------------------------------------------------------------------------
def _pending(db: Database, office_id: int) -> int:
    with db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.office_id == office_id, OutboxMessage.processed_at.is_(None))) or 0)


def _send_unsent(db: Database, office_id: int) -> int:
    """Send the office's outbox rows that were never sent to the worker (what beat's sweep does in
    production; the seed's operations ran without a relay)."""
    from tasks.relay import publish

    with db.engine.connect() as conn:
        unsent = list(conn.scalars(select(OutboxMessage.id).where(
            OutboxMessage.office_id == office_id, OutboxMessage.processed_at.is_(None),
            OutboxMessage.dispatched_at.is_(None)).order_by(OutboxMessage.id)))
    return publish(unsent, db)


def _drain(db: Database, office_id: int, timeout: float) -> tuple[float, int]:
    """Send what was never sent, then wait until every outbox row of the office is processed;
    (seconds, rows sent here)."""
    t0 = time.monotonic()
    sent = _send_unsent(db, office_id)
    while _pending(db, office_id) and time.monotonic() - t0 < timeout:
        time.sleep(0.25)
    return time.monotonic() - t0, sent


def _locust(base: str, plan: Path, folder: Path, users: int, seconds: int) -> tuple[list[dict[str, str]], Counter[str]]:
    prefix = folder / "locust"
    statuses = folder / "statuses.json"
    env = {**os.environ, "CASEFLOW_LOAD_PLAN": str(plan), "CASEFLOW_LOAD_STATUSES": str(statuses)}
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
           "--users", str(users), "--spawn-rate", str(SPAWN_RATE), "--run-time", f"{seconds}s", "--stop-timeout", "5",
           "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    log = folder / "locust.log"
    with log.open("wb") as out:
        done = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=seconds + 60, check=False)
    if done.returncode != 0 or not statuses.exists():
        raise RuntimeError(f"locust failed ({done.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] != "Aggregated"]
    return rows, Counter(json.loads(statuses.read_text()))


def check(db: Database, office_id: int) -> dict[str, int]:
    """What must hold after the day: broken history chains, steps missing a ready document, outbox
    rows left, and the transitions made (by trigger)."""
    broken = sum(1 for _cid, brk in audit.verify(db, office_id=office_id) if brk is not None)
    reg = registry.default()
    missing = 0
    made: Counter[str] = Counter()
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        ready = {(d.case_id, d.name, d.cause_seq) for d in s.execute(
            select(Document.case_id, Document.name, Document.cause_seq).where(
                Document.office_id == office_id, Document.status == "ready"))}
        versions = dict(s.execute(select(Case.id, Case.workflow_version).where(Case.office_id == office_id)).all())
        for case_id, seq, trigger, to_state in s.execute(
                select(HistoryEvent.case_id, HistoryEvent.seq, HistoryEvent.trigger, HistoryEvent.to_state)
                .where(HistoryEvent.office_id == office_id, HistoryEvent.event == "transition")):
            made[str(trigger)] += 1
            defn = reg.get(db, "plan_amendment", versions[case_id], s)
            missing += len([n for n in defn.state(str(to_state)).documents if (case_id, n, seq) not in ready])
    return {"broken_chains": broken, "missing_documents": missing, "outbox_left": _pending(db, office_id),
            **{f"made_{k}": v for k, v in made.items()}}


def run(db: Database, *, seconds: int = 60, folder: Path | None = None) -> list[Result]:
    users = len(PEOPLE)
    settings = load_settings()  # also writes the instance's secret key once, before two gunicorn workers race to
    why = problem(db, settings.redis_url)
    if why:
        return [not_run(f"load: {users} people for {seconds} s (gunicorn, worker, PostgreSQL, Redis)", why)]
    folder = folder or Path(tempfile.mkdtemp(prefix="caseflow-load-"))
    t0 = time.monotonic()
    upgrade(db)
    registry.default().sync(db)
    env = {**os.environ, "DATABASE_URL": db.url, "CASEFLOW_INSTANCE": str(settings.instance_path)}
    with _stack(env, folder) as (base, ready):
        seeded = seed(db)  # while gunicorn and the worker start
        plan = folder / "plan.json"
        plan.write_text(json.dumps(seeded.plan))
        t_seed = time.monotonic()
        ready()
        _warm(base)
        t_stack = time.monotonic()
        before = check(db, seeded.office_id)
        backlog = _send_unsent(db, seeded.office_id)  # the seed's documents: the worker renders them as the day starts
        t_day = time.monotonic()
        rows, statuses = _locust(base, plan, folder, users, seconds)
        day = time.monotonic() - t_day
        after_day, unsent = _drain(db, seeded.office_id, 120)
    setup = f"seeded in {t_seed - t0:.1f} s, gunicorn and worker up {t_stack - t0:.1f} s after the start, " \
            f"{backlog} documents of the seed rendered during the day"
    after = check(db, seeded.office_id)
    made = {k[5:]: v - before.get(k, 0) for k, v in after.items() if k.startswith("made_")}
    five = sum(n for k, n in statuses.items() if k.startswith("5"))
    odd = sum(n for k, n in statuses.items() if k.split(" ")[0] not in ("200", "303", "409") and not k.startswith("5"))
    total = sum(int(r["Request Count"]) for r in rows)
    out = [
        Result(f"load: requests by {users} people in {day:.0f} s (locust, gunicorn -w 2 --threads 4)", total / day,
               "req/s", None, None, f"informational ({total} requests)", None),
        Result("load: 5xx responses", five, "responses", None, None, "0", five == 0),
        Result("load: other unexpected responses (not 200/303/409)", odd, "responses", None, None, "0", odd == 0),
        Result("load: 409 conflicts (two people, one case)", statuses.get("409", 0), "responses", None, None,
               "informational (the loser is told who acted first)", None),
        Result("load: transitions made " + ", ".join(f"{k} {v}" for k, v in sorted(made.items())),
               sum(made.values()), "transitions", None, None, "informational", None),
        Result("load: history chains broken (office's cases)", after["broken_chains"], "cases", None, None, "0",
               after["broken_chains"] == 0),
        Result("load: steps without their ready documents", after["missing_documents"], "documents", None, None, "0",
               after["missing_documents"] == 0),
        Result("load: outbox rows left after the worker drained", after["outbox_left"], "rows", None, None, "0",
               after["outbox_left"] == 0),
        Result("load: documents drained after the day", after_day * 1000, "ms", None, None,
               f"informational ({unsent} rows the relay had not sent; before the day: {setup})", None),
    ]
    for r in sorted(rows, key=lambda r: r["Name"]):
        p95 = float(r["95%"])
        out.append(Result(f"load p95 {r['Name']} ({r['Request Count']} requests)", p95, "ms", None, None,
                          f"<= {PAGE_P95_GOAL_MS:.0f} ms", p95 <= PAGE_P95_GOAL_MS))
    return out
