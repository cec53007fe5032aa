"""``caseflow bench registers``: the training register at an office's scale, on this database.

1. Importing 10,000 training rows from one CSV (decoding, parsing, matching each person, checking
   every row, one bulk insert): seconds, against the floor of the same rows inserted with
   SQLAlchemy Core and nothing else.
2. Yearly compliance for an office of 300 people with 20 records each over 4 years: time per
   computation, and SQL statements at 300 people against 30 (must be equal: no query per person).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from functools import partial
from typing import cast

from sqlalchemy import Table, insert

from caseflow.bench import Result, settle, time_each
from workflow.db import Database
from workflow.models import TrainingRecord
from workflow.people import directory
from workflow.registers import training, training_import

YEARS = (112, 113, 114, 115)


def _office(db: Database, people: int) -> tuple[int, list[tuple[int, str]]]:
    code = f"bench-{uuid.uuid4().hex[:8]}"
    with db.unit_of_work() as uow:
        s = uow.session
        office = directory.add_office(s, code, f"效能測試{code}")
        unit = directory.add_unit(s, office, "personnel", "人事室")
        users = [directory.add_user(s, office, f"{code}.{i}", f"同仁{i:04d}", sex="F" if i % 2 else "M", unit=unit)
                 for i in range(people)]
        uow.commit()
        return office.id, [(u.id, u.display_name) for u in users]


def _csv(people: list[tuple[int, str]], per_person: int, year: int) -> bytes:
    lines = ["姓名,課程名稱,時數,上課方式,上課日期,課程代碼"]
    for _uid, name in people:
        for k in range(per_person):
            mode, code = ("實體", "410") if k % 3 == 0 else ("線上", "")
            lines.append(f"{name},課程{k},1.5,{mode},{year}.{k % 12 + 1:02d}.{k % 28 + 1:02d},{code}")
    return "\n".join(lines).encode()


def _import(db: Database) -> list[Result]:
    office_id, people = _office(db, 500)
    content = _csv(people, 20, 115)  # 10,000 rows
    t0 = time.perf_counter()
    with db.unit_of_work() as uow:
        summary = training_import.import_csv(uow.session, office_id, None, content)
        uow.commit()
    ours = time.perf_counter() - t0
    assert summary.imported == 10_000
    floor_office, floor_people = _office(db, 500)
    now = dt.datetime.now(dt.UTC)

    def row(uid: int, k: int) -> dict[str, object]:
        cedaw = k % 3 == 0
        return {"office_id": floor_office, "user_id": uid, "course": f"課程{k}",
                "course_code": "410" if cedaw else None,
                "category": "cedaw" if cedaw else "gm_basic", "mode": "in_person" if cedaw else "online",
                "held_on": dt.date(2026, k % 12 + 1, k % 28 + 1), "hours": 1.5, "created_at": now}

    rows = [row(uid, k) for uid, _n in floor_people for k in range(20)]
    t0 = time.perf_counter()
    with db.unit_of_work() as uow:
        uow.session.connection().execute(insert(cast(Table, TrainingRecord.__table__)), rows)
        uow.commit()
    floor = time.perf_counter() - t0
    return [Result(f"import 10,000 training rows ({db.dialect})", ours, "s", floor, ours / floor if floor else None,
                   "<= 5 s", ours <= 5)]


def _compliance(db: Database, n: int) -> list[Result]:
    counts, per_call = {}, 0.0
    for size in (30, 300):
        office_id, people = _office(db, size)
        for year in YEARS:
            with db.unit_of_work() as uow:
                training_import.import_csv(uow.session, office_id, None, _csv(people, 5, year))
                uow.commit()
        settle(db, ("training_records", "users"))
        with db.unit_of_work(write=False) as uow:
            s = uow.session
            training.compliance(s, office_id, 115)
            with db.count_statements() as statements:
                result = training.compliance(s, office_id, 115)
            counts[size] = statements[0]
            assert len(result) == size
            if size == 300:
                times = sorted(time_each(partial(training.compliance, s, office_id, 115), n))
                per_call = times[min(len(times) - 1, int(len(times) * 0.95))] / 1000
    return [
        Result("compliance, 300 people x 20 records x 4 years, p95", per_call, "ms", None, None, "<= 200 ms",
               per_call <= 200),
        Result("compliance SQL statements, 300 vs 30 people", counts[300], "stmts", counts[30],
               counts[300] / counts[30] if counts[30] else None, "equal (constant)", counts[300] == counts[30]),
    ]


def run(db: Database, *, n: int = 20) -> list[Result]:
    return [*_import(db), *_compliance(db, n)]
