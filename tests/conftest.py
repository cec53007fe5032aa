"""Test fixtures: a real database chosen by DATABASE_URL (SQLite file by default, or PostgreSQL).

Tests don't share rows: each one gets a fresh office (a tenant) with its own units and people, so
the suite can run against one migrated database without truncating an append-only history.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from documents import service as document_service
from tests.mail_helpers import SmtpInbox, smtp_server
from workflow import db as dbmod
from workflow import storage
from workflow.cases.drafts import create_case
from workflow.db import Database
from workflow.demo import sample_fields
from workflow.engine import registry
from workflow.migrate import upgrade
from workflow.people import directory

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/caseflow_test"


def _fresh_postgres(url: str) -> None:
    """Create the test database if needed and empty its schema (CI fails loudly if PG is down)."""
    u = make_url(dbmod.normalise_url(url))
    admin = Database(u.set(database="postgres").render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{u.database}"'))
    admin.dispose()
    target = Database(url)
    with target.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    target.dispose()


def database_url(tmp_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir / 'test.db'}"
    return url


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    tmp = tmp_path_factory.mktemp("caseflow")
    url = database_url(tmp)
    if url.startswith("postgres"):
        _fresh_postgres(url)
    storage.configure(tmp / "files")
    document_service.configure_store(tmp / "documents")
    database = dbmod.configure(url)
    upgrade(database)
    registry.default().forget_sync()
    registry.default().sync(database)
    yield database
    dbmod.reset_default()


@pytest.fixture(scope="session")
def pg_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """PostgreSQL whatever DATABASE_URL says (concurrency tests need real row locks)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = os.environ.get("CASEFLOW_TEST_PG_URL", PG_DEFAULT)
        _fresh_postgres(url)
        database = Database(url)
        upgrade(database)
    else:
        database = Database(url)  # the session `db` fixture migrated it already, or will
        upgrade(database)
    storage.configure(tmp_path_factory.mktemp("pgfiles"))
    registry.default().sync(database)
    yield database
    database.dispose()


_counter = itertools.count(1)

# key -> (unit code, roles); one person per role, as in the demo.
STAFFING: dict[str, tuple[str, list[str]]] = {
    "personnel_staff": ("personnel", ["staff", "personnel"]),
    "personnel_staff2": ("personnel", ["staff"]),
    "personnel_chief": ("personnel", ["chief"]),
    "social_staff": ("social", ["staff", "social_affairs"]),
    "social_chief": ("social", ["chief"]),
    "civil_staff": ("civil", ["staff"]),
    "civil_chief": ("civil", ["chief"]),
    "accounting_staff": ("accounting", ["staff"]),
    "accounting_chief": ("accounting", ["chief"]),
    "secretariat_staff": ("secretariat", ["staff"]),
    "secretariat_chief": ("secretariat", ["chief"]),
    "secretariat": ("secretariat", ["secretariat"]),
    "liaison": ("civil", ["liaison"]),
    "deputy_liaison": ("social", ["deputy_liaison"]),
    "convener": ("secretariat", ["convener"]),
    "deputy_convener": ("secretariat", ["deputy_convener"]),
    "member": ("secretariat", ["member"]),
    "city": ("secretariat", ["city_reviewer"]),
    "admin": ("secretariat", ["admin"]),
    "nobody": ("civil", []),
}
UNIT_CODES = ["civil", "social", "personnel", "accounting", "secretariat"]
TEST_PASSWORD = "correct-horse-battery"


@dataclass
class OfficeFixture:
    db: Database
    id: int
    code: str
    units: dict[str, int]
    users: dict[str, int]
    logins: dict[str, str]
    cases: list[int] = field(default_factory=list)

    def case(self, kind: str, *, unit: str | None = None, period: str | None = "auto", roc_year: int = 115,
             drafter: str | None = None, fields: dict[str, Any] | None = None, complete: bool = True) -> int:
        """Open a case of ``kind`` drafted by a staff member of its default unit."""
        defn = registry.default().latest(kind)
        unit = unit or defn.default_unit
        if period == "auto":
            period = {"quarterly": "Q1", "yearly": "Y", "yearly_or_adhoc": None, "adhoc": None}[defn.cycle]
            if defn.cycle == "quarterly":
                period = f"Q{(len(self.cases) % 4) + 1}"
        drafter = drafter or f"{unit}_staff"
        data = fields if fields is not None else (sample_fields(kind, roc_year, period) if complete else {})
        # Avoid the one-per-period key when a test opens several yearly cases.
        year = roc_year if defn.cycle in ("adhoc", "yearly_or_adhoc") else roc_year - (len(self.cases) // 4)
        cid = create_case(kind=kind, unit_id=self.units[unit], roc_year=year, period=period,
                          title=f"{kind} test", actor=self.users[drafter], fields=data, db=self.db)
        self.cases.append(cid)
        return cid


@pytest.fixture(scope="session")
def _password_hash() -> str:
    from workflow.people.passwords import hash_password

    return hash_password(TEST_PASSWORD)


def make_office(database: Database, pw_hash: str) -> OfficeFixture:
    code = f"t{next(_counter)}{uuid.uuid4().hex[:6]}"
    with database.unit_of_work() as uow:
        s = uow.session
        office = directory.add_office(s, code, f"桃園市測試{code}區公所")
        units = {c: directory.add_unit(s, office, c, c) for c in UNIT_CODES}
        users = {}
        for key, (unit, roles) in STAFFING.items():
            u = directory.add_user(s, office, f"{code}.{key}", key, sex="F" if len(key) % 2 else "M",
                                   unit=units[unit], password_hash=pw_hash)
            for role in roles:
                directory.grant(s, u, role, unit=units[unit])
            users[key] = u.id
        uow.commit()
        return OfficeFixture(database, office.id, code, {k: v.id for k, v in units.items()}, users,
                             {k: f"{code}.{k}" for k in STAFFING})


@pytest.fixture
def office(db: Database, _password_hash: str) -> OfficeFixture:
    return make_office(db, _password_hash)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd): (what it received, its port)."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def office_factory(db: Database, _password_hash: str) -> Callable[[], OfficeFixture]:
    return lambda: make_office(db, _password_hash)
