"""``caseflow bench calendar``: generating the plan, and the liaison's board at scale, on this database.

1. ``plan generate`` for N offices (default 13, Taoyuan's districts) × the plan's 4 years, through
   ``create_case`` (history included); then the same again, which must create nothing.
2. The board page (``GET /board`` as the liaison: queries, holders, SVG charts, template) over an
   office holding 100,000 cases: p95 server time, and the number of SQL statements at 100,000 cases
   against the number at 1,000 (must be equal: no query per row).
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from functools import partial
from typing import Any

from sqlalchemy import insert

from caseflow.bench import Result, settle, time_each
from workflow import clock
from workflow.calendar import plan
from workflow.db import Database
from workflow.engine import registry
from workflow.engine.audit import GENESIS
from workflow.migrate import upgrade
from workflow.models import Case
from workflow.people import directory

UNITS = ["civil", "social", "personnel", "accounting", "secretariat"]


def _office(db: Database, *, liaison: bool = False) -> tuple[str, int, int | None, list[int]]:
    code = f"bench-{uuid.uuid4().hex[:8]}"
    with db.unit_of_work() as uow:
        s = uow.session
        office = directory.add_office(s, code, f"效能測試{code}")
        units = [directory.add_unit(s, office, u, u) for u in UNITS]
        uid = None
        if liaison:
            from workflow.people.passwords import hash_password

            u = directory.add_user(s, office, f"{code}.liaison", "聯絡人", sex="F", unit=units[0],
                                   password_hash=hash_password("bench-only-password"))
            directory.grant(s, u, "liaison")
            for unit in units:
                chief = directory.add_user(s, office, f"{code}.{unit.code}.chief", f"{unit.code}課長", sex="M",
                                           unit=unit)
                directory.grant(s, chief, "chief", unit=unit)
            uid = u.id
        uow.commit()
        return code, office.id, uid, [u.id for u in units]


def _generate(db: Database, offices: int) -> list[Result]:
    codes = [_office(db)[0] for _ in range(offices)]
    with db.unit_of_work(write=False) as uow:
        plan_row = plan.plan_for_year(uow.session, 115)
        years = list(range(plan_row.first_year, plan_row.last_year + 1))
    t0 = time.perf_counter()
    created = sum(len(r.created) for y in years for r in plan.generate(db, y, office_codes=codes))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = sum(len(r.created) for y in years for r in plan.generate(db, y, office_codes=codes))
    second = time.perf_counter() - t0
    name = f"plan generate {offices} offices x {len(years)} years"
    return [
        Result(f"{name} ({created} cases)", first, "s", None, None, "< 10 s", first < 10),
        Result(f"{name} again (created {again})", second, "s", None, None, "creates 0, < 10 s",
               again == 0 and second < 10),
    ]


def _fill(db: Database, office_id: int, units: list[int], n: int, rng: random.Random) -> None:
    """n cases of ad hoc kinds (no one-per-period key), mostly delivered, due dates over 5 years."""
    reg = registry.default()
    versions = {k: reg.current_version(db, k) for k in ("plan_amendment", "web_posting")}
    states = {"plan_amendment": ["filed"] * 12 + ["draft", "returned", "section_review", "secretariat_review",
                                                   "task_force_review", "approved", "withdrawn"],
              "web_posting": ["published"] * 12 + ["draft", "section_review", "secretariat_review",
                                                   "publish_failed"]}
    today = clock.today()
    now = clock.now()
    batch: list[dict[str, Any]] = []
    for i in range(n):
        kind = "plan_amendment" if i % 2 else "web_posting"
        due = today + dt.timedelta(days=rng.randint(-4 * 365, 200))
        batch.append({"office_id": office_id, "unit_id": rng.choice(units), "kind": kind, "roc_year": due.year - 1911,
                      "period": None, "title": f"bench {i}", "state": rng.choice(states[kind]), "version": 1,
                      "workflow_version": versions[kind], "fields": {}, "revision_count": 0, "due_date": due,
                      "created_at": now, "updated_at": now,
                      "entered_state_at": dt.datetime.combine(due, dt.time(3), dt.UTC) - dt.timedelta(
                          days=rng.randint(-5, 20)),
                      "history_seq": 0, "history_head": GENESIS})  # no events: the empty chain
        if len(batch) == 5000:
            with db.unit_of_work() as uow:
                uow.session.execute(insert(Case), batch)
                uow.commit()
            batch = []
    if batch:
        with db.unit_of_work() as uow:
            uow.session.execute(insert(Case), batch)
            uow.commit()


def _board(db: Database, n_cases: int, n: int) -> list[Result]:
    from web import create_app

    rng = random.Random(115)
    app = create_app({"TESTING": True, "DATABASE_URL": db.url, "BACKGROUND_WORK": False,
                      "RATELIMIT_STORAGE_URI": "memory://", "WTF_CSRF_ENABLED": False,
                      "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
                      "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS": "1000 per minute"})

    def page(login: str) -> Any:
        client = app.test_client()
        resp = client.post("/login", data={"username": login, "password": "bench-only-password"})
        assert resp.status_code == 303, resp.status_code
        return client

    counts = {}
    p95 = 0.0
    for size in (1000, n_cases):
        code, office_id, uid, units = _office(db, liaison=True)
        assert uid is not None
        _fill(db, office_id, units, size, rng)
        settle(db, ("cases",))  # as autovacuum would after a bulk load: statistics, visibility map
        client = page(f"{code}.liaison")
        resp = client.get("/board")
        assert resp.status_code == 200, resp.status_code
        with db.count_statements() as statements:
            client.get("/board")
        counts[size] = statements[0]
        if size == n_cases:
            times = sorted(time_each(partial(client.get, "/board"), n))
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))] / 1000
    return [
        Result(f"board GET /board at {n_cases:,} cases, p95", p95, "ms", None, None, "<= 50 ms", p95 <= 50),
        Result(f"board SQL statements at {n_cases:,} vs 1,000 cases", counts[n_cases], "stmts", counts[1000],
               counts[n_cases] / counts[1000] if counts[1000] else None, "equal (constant)",
               counts[n_cases] == counts[1000]),
    ]


def run(db: Database, *, offices: int = 13, n_cases: int = 100_000, n: int = 50) -> list[Result]:
    upgrade(db)
    registry.default().sync(db)
    return [*_generate(db, offices), *_board(db, n_cases, n)]
