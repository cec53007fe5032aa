"""我的工作 is kept per person while nothing it shows has changed (``web.page_cache``), and the
signal that it changed comes from the database (``office_revisions``, raised by triggers in the
writer's own transaction, migration 0009).

These tests hold the kept page to the rendered one: every kind of change a person's first page shows
(their cases moving, roles, delegations, notifications, units, the office, closures, step limits)
gives the next visit the new page; a change in another office does not; the CSRF token and flashed
messages are never served from another request; and every table the page reads, for every role,
carries the trigger."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select, text, update

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, csrf_token, submitted
from web.page_cache import PageCache
from workflow import clock
from workflow.cases import approval
from workflow.db import Database
from workflow.models import Notification, Office, OfficeRevision, StepLimit, Unit, User
from workflow.people import directory
from workflow.views import inbox


def revision(db: Database, office_id: int) -> int:
    with db.engine.connect() as conn:
        return int(conn.scalar(select(OfficeRevision.revision).where(OfficeRevision.office_id.in_((0, office_id)))
                               .with_only_columns(text("coalesce(sum(revision), 0)"))) or 0)


def _cases(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'href="/cases/(\d+)"', html)]


def _served(app: Flask, b: Browser, url: str = "/") -> tuple[str, bool]:
    """The page and whether it was the kept one."""
    cache: PageCache = app.extensions["caseflow_page_cache"]
    before = cache.stats.hits
    resp = b.get(url)
    assert resp.status_code == 200
    return resp.get_data(as_text=True), cache.stats.hits > before


def test_an_unchanged_queue_is_served_as_kept_with_one_statement(
        app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = submitted(office)
    chief = as_user("personnel_chief")
    first, kept = _served(app, chief)
    assert _cases(first) == [cid] and not kept
    statements: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_a: object) -> None:
        statements.append(statement)

    event.listen(office.db.engine, "before_cursor_execute", record)
    try:
        again, kept = _served(app, chief)
    finally:
        event.remove(office.db.engine, "before_cursor_execute", record)
    assert kept and _cases(again) == [cid]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "office_revisions" in selects[0]  # the user, with the revision


def test_a_transition_anyone_makes_is_on_the_next_visit(
        app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = submitted(office)
    chief = as_user("personnel_chief")
    assert _cases(_served(app, chief)[0]) == [cid]
    assert _served(app, chief)[1]
    second = submitted(office)  # the staff member submits another: the chief's queue grows
    html, kept = _served(app, chief)
    assert not kept and _cases(html) == [cid, second]
    approval.fire(cid, "approve", office.users["personnel_chief"], db=office.db)  # e.g. from the API
    html, kept = _served(app, chief)
    assert not kept and _cases(html) == [second]


def test_another_office_changing_keeps_this_office_page(
        app: Flask, office: OfficeFixture, office_factory: Callable[[], OfficeFixture],
        as_user: Callable[[str], Browser]) -> None:
    submitted(office)
    chief = as_user("personnel_chief")
    _served(app, chief)
    other = office_factory()
    before = revision(office.db, office.id)
    submitted(other)
    assert revision(office.db, office.id) == before
    assert _served(app, chief)[1]


def _grant_secretariat_role(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        s = uow.session
        user = s.get(User, office.users["personnel_chief"])
        unit = s.get(Unit, office.units["secretariat"])
        directory.grant(s, user, "secretariat", unit=unit)
        uow.commit()


def _rename_unit(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(Unit).where(Unit.id == office.units["personnel"]).values(name="人事室（改）"))
        uow.commit()


def _rename_office(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(Office).where(Office.id == office.id).values(name="桃園市改名區公所"))
        uow.commit()


def _notify(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.add(Notification(office_id=office.id, user_id=office.users["personnel_chief"],
                                     subject="測試通知", body="", created_at=clock.now()))
        uow.commit()


def _delegate_from_secretariat(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        s = uow.session
        directory.delegate(s, s.get(User, office.users["secretariat"]), s.get(User, office.users["personnel_chief"]),
                           "secretariat", clock.today() - dt.timedelta(days=1), clock.today() + dt.timedelta(days=3))
        uow.commit()


def _step_limit(office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        s = uow.session
        limit = s.scalar(select(StepLimit).limit(1))
        if limit is None:
            s.add(StepLimit(kind="*", state="section_review", working_days=5))
        else:  # an UPDATE that leaves the value as it was still counts: the database cannot tell
            s.execute(update(StepLimit).where(StepLimit.id == limit.id).values(working_days=limit.working_days))
        uow.commit()


CHANGES: dict[str, tuple[Callable[[OfficeFixture], None], str | None]] = {
    # what changed -> (the change, a text the new page shows, if any)
    "a role granted": (_grant_secretariat_role, None),
    "a unit renamed": (_rename_unit, "人事室（改）"),
    "the office renamed": (_rename_office, "桃園市改名區公所"),
    "a notification": (_notify, None),
    "a delegation": (_delegate_from_secretariat, None),
    "a step limit (every office)": (_step_limit, None),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_kind_of_change_renders_the_page_afresh(
        change: str, app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    submitted(office)
    chief = as_user("personnel_chief")
    _served(app, chief)
    assert _served(app, chief)[1]
    before = revision(office.db, office.id)
    make, shows = CHANGES[change]
    make(office)
    assert revision(office.db, office.id) > before
    html, kept = _served(app, chief)
    assert not kept
    if shows:
        assert shows in html
    assert _served(app, chief)[1]  # and kept again until the next change


def test_the_revision_moves_once_per_transaction_and_only_when_it_commits(office: OfficeFixture) -> None:
    db = office.db
    before = revision(db, office.id)
    with db.unit_of_work() as uow:  # rolled back: nothing changed, nothing to re-render
        uow.session.execute(update(Unit).where(Unit.office_id == office.id).values(name="不會留下"))
    assert revision(db, office.id) == before
    with db.unit_of_work() as uow:  # several rows of several tables, one transaction
        uow.session.execute(update(Unit).where(Unit.office_id == office.id).values(name=Unit.name))
        uow.session.execute(update(User).where(User.office_id == office.id).values(title="測試"))
        uow.commit()
    after = revision(db, office.id)
    assert after > before
    if db.dialect == "postgresql":
        assert after == before + 1  # deferred to the commit, once per office


def test_a_closure_for_every_office_and_a_deleted_row_raise_it(office: OfficeFixture) -> None:
    db = office.db
    before = revision(db, office.id)
    with db.engine.begin() as conn:  # plain SQL, as in psql: the database counts it all the same
        conn.execute(text("INSERT INTO office_closures (office_id, day, reason, created_at) "
                          "VALUES (NULL, :d, :r, :at)"), {"d": dt.date(2099, 9, 9), "r": "颱風", "at": clock.now()})
    middle = revision(db, office.id)
    assert middle > before
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM office_closures WHERE day = :d"), {"d": dt.date(2099, 9, 9)})
    assert revision(db, office.id) > middle


def test_reading_a_notification_updates_the_badge(
        app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    _notify(office)
    chief = as_user("personnel_chief")
    html, _kept = _served(app, chief)
    assert 'class="badge">1<' in html
    inbox.mark_read(office.db, office.users["personnel_chief"])
    html, kept = _served(app, chief)
    assert not kept and 'class="badge"' not in html


def test_the_csrf_token_is_each_session_own(
        app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    """Two browsers of one person: the second gets the kept page with its own token, which works."""
    submitted(office)
    first, second = as_user("personnel_chief"), as_user("personnel_chief")
    a, _kept = _served(app, first)
    b, kept = _served(app, second)
    assert kept
    assert csrf_token(a) != csrf_token(b)
    assert "\x00" not in b
    resp = second.client.post("/logout", data={"csrf_token": csrf_token(b)})
    assert resp.status_code in (302, 303)
    assert second.get("/").status_code in (302, 303)  # logged out


def test_a_flashed_message_is_shown_once_and_never_kept(
        app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = submitted(office)
    other = submitted(office)
    chief = as_user("personnel_chief")
    _served(app, chief)
    resp = chief.submit(f"/cases/{cid}", f"/cases/{cid}/actions/approve")
    assert resp.status_code in (302, 303)
    with_message, kept = _served(app, chief)
    assert not kept and "已完成" in with_message and _cases(with_message) == [other]
    after, kept = _served(app, chief)
    assert not kept and "已完成" not in after and _cases(after) == [other]
    again, kept = _served(app, chief)
    assert kept and "已完成" not in again


def test_the_language_and_the_day_are_part_of_the_key(
        app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    submitted(office)
    chief = as_user("personnel_chief")
    zh, _kept = _served(app, chief)
    assert "我的工作" in zh
    chief.get("/lang/en?next=/")
    en, kept = _served(app, chief)
    assert not kept and "My work" in en
    with clock.shifted(clock.now() + dt.timedelta(days=1)):
        tomorrow, kept = _served(app, chief)
    assert not kept and "My work" in tomorrow


def test_only_the_pagers_own_values_are_kept(
        app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    """Made-up parameters or spellings of a page number are rendered and not kept, so one person
    walking through them cannot push everyone else's pages out."""
    submitted(office)
    chief = as_user("personnel_chief")
    cache = app.extensions["caseflow_page_cache"]
    for url in ["/?x=1", "/?page=01", "/?page=abc", "/?page=9", "/?page=1&page=2", "/?page=1&x=1"]:
        assert chief.get(url).status_code == 200
        assert chief.get(url).status_code == 200
    assert cache.stats.hits == 0 and len(cache._pages) == 0
    chief.get("/?page=1")
    assert _served(app, chief, "/?page=1")[1]


def test_keeping_can_be_turned_off(office: OfficeFixture, browser: Callable[[], Browser], app: Flask) -> None:
    app.extensions["caseflow_page_cache"].entries = 0
    submitted(office)
    b = browser()
    b.login(office.logins["personnel_chief"])
    for _ in range(3):
        b.get("/")
    assert app.extensions["caseflow_page_cache"].stats.hits == 0


def test_the_cache_keeps_the_last_page_rendered_and_the_most_recently_used() -> None:
    cache = PageCache(entries=2)
    day = dt.date(2026, 11, 28)
    cache.put(("a",), (5, day), "a5")
    cache.put(("a",), (4, day), "a4")  # a slower request's older page: kept, and the next visit misses
    assert cache.get(("a",), (5, day)) is None and cache.get(("a",), (4, day)) == "a4"
    cache.put(("b",), (1, day), "b1")
    cache.get(("a",), (4, day))
    cache.put(("c",), (1, day), "c1")  # over the bound: the least recently used (b) goes
    assert cache.get(("b",), (1, day)) is None and cache.get(("a",), (4, day)) == "a4"
    assert cache.get(("c",), (1, day + dt.timedelta(days=1))) is None  # another day: not this page


def test_a_person_moved_to_another_office_never_gets_the_old_office_page(
        app: Flask, office: OfficeFixture, office_factory: Callable[[], OfficeFixture],
        as_user: Callable[[str], Browser]) -> None:
    cid = submitted(office)
    chief = as_user("personnel_chief")
    assert _cases(_served(app, chief)[0]) == [cid]
    other = office_factory()
    before = (revision(office.db, office.id), revision(office.db, other.id))
    with office.db.unit_of_work() as uow:  # as a script or psql would: the user row moves
        uow.session.execute(update(User).where(User.id == office.users["personnel_chief"])
                            .values(office_id=other.id, unit_id=other.units["personnel"]))
        uow.commit()
    assert revision(office.db, office.id) > before[0] and revision(office.db, other.id) > before[1]
    html, kept = _served(app, chief)
    assert not kept and cid not in _cases(html) and office.code not in html


def test_the_counter_only_counts_forward(office: OfficeFixture) -> None:
    """Kept pages are stamped with the counter: rows cannot be deleted or truncated away, which
    would let old numbers come round again."""
    before = revision(office.db, office.id)
    statements = ["DELETE FROM office_revisions"]
    if office.db.dialect == "postgresql":
        statements.append("TRUNCATE office_revisions")
    for statement in statements:
        with pytest.raises(Exception, match="only counts forward"), office.db.engine.begin() as conn:
            conn.execute(text(statement))
    assert revision(office.db, office.id) == before


def test_every_table_the_migration_names_has_all_its_triggers(office: OfficeFixture) -> None:
    """A later migration that rebuilds a table (SQLite's batch mode copies, drops and renames it)
    would drop its triggers without a word: every table keeps all of them at head."""
    import importlib.util

    import workflow

    path = Path(workflow.__file__).parent / "migrations/versions/2026_11_28_0900_0009_office_revisions.py"
    spec = importlib.util.spec_from_file_location("office_revisions_migration", path)
    assert spec is not None and spec.loader is not None
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    tables = {*m.BY_OFFICE, *m.EVERY_OFFICE, "offices"}
    with office.db.engine.connect() as conn:
        if office.db.dialect == "postgresql":
            found = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE tgname LIKE '%office_revision%'")))
            wanted = {f"{t}_office_revision{s}" for t in tables for s in ("", "_truncate")}
        else:
            found = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
            wanted = {f"{t}_office_revision_{e}" for t in tables for e in ("insert", "update", "delete")}
    assert wanted <= found, f"missing revision triggers: {sorted(wanted - found)}"


def test_every_table_the_first_page_reads_raises_the_revision(
        app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    """The signal is only exact if every table the page reads carries the trigger: read the tables
    from the page's own SQL, for every role, and look them up in the database's catalogue."""
    submitted(office)
    app.extensions["caseflow_page_cache"].entries = 0
    read: set[str] = set()

    def record(_c: object, _cur: object, statement: str, *_a: object) -> None:
        read.update(t.lower() for t in re.findall(r'(?:FROM|JOIN)\s+"?(\w+)', statement, re.I))

    browsers = {person: as_user(person) for person in office.logins}  # every role of the office
    event.listen(office.db.engine, "before_cursor_execute", record)
    try:
        for b in browsers.values():
            assert b.get("/").status_code == 200
    finally:
        event.remove(office.db.engine, "before_cursor_execute", record)
    read.discard("office_revisions")
    assert {"cases", "role_assignments", "users"} <= read
    with office.db.engine.connect() as conn:
        if office.db.dialect == "postgresql":
            triggered = set(conn.scalars(text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = c.relname || '_office_revision'")))
        else:
            triggered = {n.removesuffix("_office_revision_insert") for n in conn.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_office_revision_insert'"))}
    assert read <= triggered, f"tables read by 我的工作 without the revision trigger: {sorted(read - triggered)}"
