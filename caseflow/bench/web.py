"""``caseflow bench seed`` and ``caseflow bench web``: the web pages at national scale.

``seed`` fills the configured database fast with Core bulk inserts: N offices (Taoyuan has 13),
each with its units and a person in every role, and ``--cases`` cases spread over them in realistic
states (mostly finished; a share waiting at each review step), each with its history rows.

``web`` then measures, in one run, on that database:
1. server-side p95 of the chief's queue (``/``), the case page and the secretariat's queue, through
   the Flask app with real requests (test client; goal <= 50 ms);
2. SQL statements per page (``before_cursor_execute``) on the largest office against a small one
   (must be equal: no query per row);
3. requests per second of the chief's queue under load (gunicorn, 2 workers, on 127.0.0.1; ``wrk``
   when installed, else a small multi-process Python client) against a minimal endpoint running one
   50-row SELECT on the same database in the same run (goal >= 50% of it). Both are served by the
   same gunicorn command and receive the same session cookie, which both verify
   (``bench.floor_app``).

Both ``seed`` and ``web`` end bulk loading the way autovacuum would (``VACUUM ANALYZE``): without
planner statistics PostgreSQL guesses, and the floor's own SELECT alone took 30 ms.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text

from caseflow.bench import Result, chains, settle, time_each
from workflow import clock
from workflow.db import Database
from workflow.engine import registry
from workflow.migrate import upgrade
from workflow.models import Case, HistoryEvent, Office, User
from workflow.people import directory

PASSWORD = "bench-only-password"
PREFIX = "benchweb"
UNITS = [("civil", "民政課"), ("social", "社會課"), ("personnel", "人事室"), ("accounting", "會計室"),
         ("secretariat", "秘書室")]
OFFICE_ROLES = ["secretariat", "liaison", "convener", "deputy_convener", "member"]
# Ad hoc kinds (no one-per-period key), so any number of cases fits; their lines have every review step.
STATES = {
    "plan_amendment": ["filed"] * 10 + ["draft", "returned", "section_review", "section_review",
                                        "secretariat_review", "task_force_review", "approved", "city_review",
                                        "withdrawn"],
    "web_posting": ["published"] * 10 + ["draft", "returned", "section_review", "section_review",
                                         "secretariat_review", "publish_failed", "withdrawn"],
}
REVIEWED = {"draft": 0, "returned": 2, "section_review": 1, "secretariat_review": 2, "task_force_review": 3,
            "approved": 4, "city_review": 5, "filed": 6, "publishing": 3, "publish_failed": 3, "published": 4,
            "withdrawn": 1}


# -- seed -------------------------------------------------------------------------------------------
def _office(db: Database, code: str, pw_hash: str) -> tuple[int, dict[str, int], dict[str, int]]:
    """An office with its units and one person per role (staff and chief per unit)."""
    with db.unit_of_work() as uow:
        s = uow.session
        office = directory.add_office(s, code, f"桃園市{code}區公所")
        units = {c: directory.add_unit(s, office, c, name) for c, name in UNITS}
        users: dict[str, int] = {}
        for c, unit in units.items():
            for role in ("staff", "chief"):
                u = directory.add_user(s, office, f"{code}.{c}.{role}", f"{unit.name}{role}", sex="F",
                                       unit=unit, password_hash=pw_hash)
                directory.grant(s, u, role, unit=unit)
                users[f"{c}.{role}"] = u.id
        for role in OFFICE_ROLES:
            u = directory.add_user(s, office, f"{code}.{role}", role, sex="M", unit=units["secretariat"],
                                   password_hash=pw_hash)
            directory.grant(s, u, role)
            users[role] = u.id
        uow.commit()
        return office.id, {c: u.id for c, u in units.items()}, users


def _fill(db: Database, office_id: int, units: dict[str, int], users: dict[str, int], n: int,
          rng: random.Random) -> None:
    """``n`` cases with their history, by Core bulk inserts of 5,000 rows."""
    reg = registry.default()
    versions = {k: reg.current_version(db, k) for k in STATES}
    history_t = cast(Table, HistoryEvent.__table__)
    today, now = clock.today(), clock.now()
    done = 0
    while done < n:
        size = min(5000, n - done)
        rows: list[dict[str, Any]] = []
        for i in range(done, done + size):
            kind = "plan_amendment" if i % 3 else "web_posting"
            unit = rng.choice(list(units))
            state = rng.choice(STATES[kind])
            due = today + dt.timedelta(days=rng.randint(-4 * 365, 200))
            entered = now - dt.timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
            rows.append({
                "office_id": office_id, "unit_id": units[unit], "kind": kind, "roc_year": max(due.year - 1911, 112),
                "period": None, "title": f"{'計畫修正' if kind == 'plan_amendment' else '專區刊登'} 第 {i + 1} 號",
                "state": state, "version": 1 + REVIEWED[state], "workflow_version": versions[kind], "fields": {},
                "drafter_id": users[f"{unit}.staff"],
                "submitted_by_id": users[f"{unit}.staff"] if state != "draft" else None,
                "revision_count": 1 if state == "returned" else 0, "due_date": due,
                "created_at": entered - dt.timedelta(days=REVIEWED[state] * 3), "updated_at": entered,
                "entered_state_at": entered, "history_seq": 1 + REVIEWED[state], "history_head": "",
            })
        with db.unit_of_work() as uow:
            ids = list(uow.session.scalars(insert(Case).returning(Case.id), rows))
            history = []
            for cid, row in zip(ids, rows, strict=True):
                at = row["created_at"]
                history.append({"office_id": office_id, "case_id": cid, "seq": 1, "event": "created", "at": at,
                                "actor_id": row["drafter_id"], "trigger": None, "from_state": None,
                                "to_state": "draft", "comment": None, "data": {}, "prev_hash": "", "hash": ""})
                for k in range(REVIEWED[row["state"]]):
                    at = at + dt.timedelta(days=3)
                    history.append({"office_id": office_id, "case_id": cid, "seq": k + 2, "event": "transition",
                                    "at": at, "actor_id": row["drafter_id"], "trigger": "approve" if k else "submit",
                                    "from_state": None, "to_state": row["state"], "comment": None, "data": {},
                                    "prev_hash": "", "hash": ""})
            heads = chains.seal(history)
            uow.session.execute(insert(history_t), history)
            chains.set_heads(uow.session, heads)
            uow.commit()
        done += size


def seed(db: Database, *, cases: int = 100_000, offices: int = 13, seed_value: int = 115) -> dict[str, Any]:
    from workflow.people.passwords import hash_password

    upgrade(db)
    registry.default().sync(db)
    rng = random.Random(seed_value)
    pw_hash = hash_password(PASSWORD)
    run = f"{PREFIX}{int(time.time())}"
    t0 = time.perf_counter()
    # The first office is the largest (as 桃園區 is): half the cases; the rest share the other half.
    shares = [cases // 2] + [cases // 2 // max(offices - 1, 1)] * (offices - 1) if offices > 1 else [cases]
    shares[-1] += cases - sum(shares)
    codes = []
    for i, n in enumerate(shares):
        code = f"{run}o{i:02d}"
        office_id, units, users = _office(db, code, pw_hash)
        _fill(db, office_id, units, users, n, rng)
        codes.append(code)
    small = f"{run}small"
    office_id, units, users = _office(db, small, pw_hash)
    _fill(db, office_id, units, users, 40, rng)
    settle(db)
    return {"run": run, "offices": codes, "small": small, "cases": cases, "seconds": time.perf_counter() - t0}


# -- measure ----------------------------------------------------------------------------------------
def _latest_run(db: Database) -> str:
    with db.unit_of_work(write=False) as uow:
        code = uow.session.scalar(select(func.max(Office.code)).where(Office.code.like(f"{PREFIX}%small")))
    if code is None:
        raise SystemExit("no seeded data: run `caseflow bench seed` first")
    return str(code)[: -len("small")]


def _targets(db: Database, code: str) -> dict[str, Any]:
    """The busiest chief; a case in review with its history, and its own unit's chief to read it."""
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        office_id = s.scalar(select(Office.id).where(Office.code == code))
        unit_id = s.execute(select(Case.unit_id, func.count()).where(
            Case.office_id == office_id, Case.state == "section_review").group_by(Case.unit_id)
            .order_by(func.count().desc()).limit(1)).one()[0]
        chief = s.scalar(select(User.login).where(User.office_id == office_id, User.unit_id == unit_id,
                                                  User.login.like("%.chief")))
        case_id, case_chief = s.execute(select(Case.id, User.login).join(User, User.unit_id == Case.unit_id).where(
            Case.office_id == office_id, Case.state == "city_review", User.login.like("%.chief"))
            .order_by(Case.id).limit(1)).one()  # none: seed more cases
    return {"office_id": office_id, "chief": chief, "secretariat": f"{code}.secretariat", "case_id": case_id,
            "case_chief": case_chief}


def _app(db: Database, *, keep_pages: bool = False) -> Any:
    """The app as served; without ``keep_pages`` every request renders its page (web.page_cache off)."""
    from web import create_app

    return create_app({"TESTING": True, "DATABASE_URL": db.url, "BACKGROUND_WORK": False,
                       "RATELIMIT_STORAGE_URI": "memory://", "WTF_CSRF_ENABLED": False,
                       **({} if keep_pages else {"PAGE_CACHE_ENTRIES": 0})})


def _client(app: Any, login: str) -> Any:
    client = app.test_client()
    resp = client.post("/login", data={"username": login, "password": PASSWORD})
    assert resp.status_code == 303, (login, resp.status_code)
    return client


def _pages(db: Database, app: Any, code: str) -> dict[str, tuple[Any, str]]:
    t = _targets(db, code)
    chief, secretariat = _client(app, t["chief"]), _client(app, t["secretariat"])
    return {"chief's queue": (chief, "/"), "case page": (_client(app, t["case_chief"]), f"/cases/{t['case_id']}"),
            "secretariat's queue": (secretariat, "/")}


def _server_side(db: Database, run: str, n: int) -> list[Result]:
    app = _app(db)
    big, small = _pages(db, app, f"{run}o00"), _pages(db, app, f"{run}small")
    out = []
    for name, (client, url) in big.items():
        for _ in range(3):
            assert client.get(url).status_code == 200, (name, url)
        times = sorted(time_each(partial(client.get, url), n))
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))] / 1000
        with db.count_statements() as stmts:
            client.get(url)
        big_count = stmts[0]
        s_client, s_url = small[name]
        s_client.get(s_url)
        with db.count_statements() as stmts:
            s_client.get(s_url)
        out.append(Result(f"web {name}, p95 (rendered)", p95, "ms", None, None, "<= 50 ms", p95 <= 50))
        out.append(Result(f"web {name}: SQL statements, large vs small office", big_count, "stmts", stmts[0],
                          big_count / stmts[0] if stmts[0] else None, "equal (constant)", big_count == stmts[0]))
    # The same queue when nothing in the office changed since the last visit (web.page_cache).
    kept = _app(db, keep_pages=True)
    client, url = _pages(db, kept, f"{run}o00")["chief's queue"]
    client.get(url)
    times = sorted(time_each(partial(client.get, url), n))
    with db.count_statements() as stmts:
        client.get(url)
    out.append(Result("web chief's queue, p95 (kept: nothing changed since the last visit)",
                      times[min(len(times) - 1, int(len(times) * 0.95))] / 1000, "ms", None, None,
                      f"informational ({stmts[0]} SQL statement(s))", None))
    return out


# -- load -------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _gunicorn(app_spec: str, env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    # The app logs a line per request: to a file, never an unread pipe (a full pipe stops the server).
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                                 "--log-level", "warning", app_spec], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=errors)
        try:
            deadline = time.time() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        errors.seek(0)
                        raise RuntimeError(errors.read()[-4000:].decode(errors="replace")) from None
                    time.sleep(0.2)
            yield f"127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _login_cookie(host: str, login: str) -> str:
    """Log in over HTTP as a browser would; the session cookie to send with each request."""
    import http.client

    conn = http.client.HTTPConnection(host)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    body = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
        r'name="csrf_token" value="([^"]+)"', body) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', body)
    assert token, "no CSRF token on /login"
    from urllib.parse import urlencode

    form = urlencode({"csrf_token": token.group(1), "username": login, "password": PASSWORD})
    conn.request("POST", "/login", body=form, headers={"Cookie": cookie, "Referer": f"http://{host}/login",
                                                      "Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 303, resp.status
    return resp.getheader("Set-Cookie", "").split(";")[0]


def _python_worker(host: str, path: str, cookie: str, seconds: float, q: Any) -> None:
    import http.client

    conn = http.client.HTTPConnection(host)
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        conn.request("GET", path, headers={"Cookie": cookie})
        resp = conn.getresponse()
        resp.read()
        if resp.status == 200:
            n += 1
    q.put(n)


def _rps(host: str, path: str, cookie: str, seconds: float) -> tuple[float, str]:
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run([wrk, "-t2", "-c8", f"-d{int(seconds)}s", "-H", f"Cookie: {cookie}",
                              f"http://{host}{path}"], capture_output=True, text=True, check=True).stdout
        m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        assert m and not non2xx, out
        return float(m.group(1)), "wrk"
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_python_worker, args=(host, path, cookie, seconds, q)) for _ in range(4)]
    for p in procs:
        p.start()
    total = sum(q.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds, "python client"


def _load(db: Database, run: str, seconds: float, rounds: int = 2) -> list[Result]:
    """The queue and the floor, each served by its own gunicorn (same command line), loaded in
    turn (queue, floor, queue, floor, ...): the machine is shared, so each side keeps its best
    round, and a neighbour's burst does not land on one side only.

    The queue is served as deployed: a chief coming back to an unchanged queue gets the page kept
    for them (``web.page_cache``). Two more lines say what that is worth: the same load with every
    request rendering its page, and with the office changing once a second (each change raises
    its revision, so the next request of every person renders afresh)."""
    t = _targets(db, f"{run}o00")
    env = dict(os.environ, DATABASE_URL=db.url, CASEFLOW_FLOOR_OFFICE=str(t["office_id"]))
    queue = floor = rendered = changing = 0.0
    tool = ""
    with _gunicorn("web:create_app({'BACKGROUND_WORK': False})", env) as app_host, \
            _gunicorn("web:create_app({'BACKGROUND_WORK': False, 'PAGE_CACHE_ENTRIES': 0})", env) as render_host, \
            _gunicorn("caseflow.bench.floor_app:app", env) as floor_host:
        cookie = _login_cookie(app_host, t["chief"])
        render_cookie = _login_cookie(render_host, t["chief"])
        _rps(app_host, "/", cookie, 1)  # warm up both workers of each
        _rps(render_host, "/", render_cookie, 1)
        _rps(floor_host, "/floor", cookie, 1)  # the same session cookie: the floor verifies it too
        for _ in range(rounds):
            q, tool = _rps(app_host, "/", cookie, seconds)
            f, _tool = _rps(floor_host, "/floor", cookie, seconds)
            queue, floor = max(queue, q), max(floor, f)
        rendered, _tool = _rps(render_host, "/", render_cookie, seconds)
        with _office_changing(db, t["office_id"], every=1.0):
            changing, _tool = _rps(app_host, "/", cookie, seconds)
    return [Result(f"web chief's queue under load ({tool}, gunicorn -w 2), req/s vs one 50-row SELECT",
                   queue, "req/s", floor, queue / floor if floor else None, "ratio >= 0.5",
                   floor > 0 and queue / floor >= 0.5),
            Result("  same, the office changing once a second", changing, "req/s", floor,
                   changing / floor if floor else None, "informational", None),
            Result("  same, every request rendering its page", rendered, "req/s", floor,
                   rendered / floor if floor else None, "informational", None)]


@contextmanager
def _office_changing(db: Database, office_id: int, every: float) -> Iterator[None]:
    """Raise the office's revision every ``every`` seconds, as any change to its cases would."""
    stop = threading.Event()

    def change() -> None:
        while not stop.wait(every):
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO office_revisions (office_id, revision) VALUES (:o, 1) ON CONFLICT "
                                  "(office_id) DO UPDATE SET revision = office_revisions.revision + 1"),
                             {"o": office_id})

    thread = threading.Thread(target=change, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run(db: Database, *, n: int = 100, seconds: float = 5.0) -> list[Result]:
    registry.default().sync(db)
    run_code = _latest_run(db)
    settle(db)
    return [*_server_side(db, run_code, n), *_load(db, run_code, seconds)]


def describe_seed(info: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in info.items() if k != "offices"} | {"offices": len(info["offices"])})

