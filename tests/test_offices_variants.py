"""Taoyuan's 13 district offices (issue 14): seeded once with their names, units and 發文字號, and
復興區's own variant of the main line (its district council notes results before they are filed);
a case keeps the variant and version it started on; `workflow migrate` moves running cases onto
another version in one transaction, each move in the history, and refuses states it cannot map."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from documents.context import doc_no_prefix
from tests.conftest import OfficeFixture
from tests.helpers import sqlite_database, task_force_passes
from workflow.cases import approval, migrate
from workflow.engine import audit, registry
from workflow.errors import TransitionNotAllowed, ValidationError
from workflow.models import Case, HistoryEvent, Office, Unit
from workflow.people import taoyuan


def test_the_13_offices_are_seeded_once(tmp_path: Path) -> None:
    db = sqlite_database(tmp_path / "taoyuan.db")  # the real offices' names stay out of the shared database
    with db.unit_of_work() as uow:
        first = taoyuan.seed(uow.session)
        uow.commit()
    with db.unit_of_work() as uow:
        again = taoyuan.seed(uow.session)
        uow.commit()
    assert len(first) == 14 and len(again) == 14  # and the city group's organisation
    assert not any(x.created or x.units_added for x in again)
    with db.unit_of_work(write=False) as uow:
        offices = {o.code: o for o in uow.session.scalars(select(Office).where(
            Office.code.in_([d.code for d in taoyuan.DISTRICTS])))}
        units = {o: sorted(uow.session.scalars(select(Unit.code).where(Unit.office_id == offices[o].id)))
                 for o in offices}
    assert len(offices) == 13
    assert offices["zhongli"].name == "桃園市中壢區公所" and doc_no_prefix(offices["zhongli"].name) == "中壢性字"
    assert offices["zhongli"].address == "320 桃園市中壢區"
    assert {o.workflow_variant for o in offices.values()} == {"", "fuxing"}
    assert offices["fuxing"].workflow_variant == "fuxing" and doc_no_prefix(offices["fuxing"].name) == "復興性字"
    assert all(u == sorted(code for code, _n, _e in taoyuan.UNITS) for u in units.values())
    db.dispose()


def _to_approved(office: OfficeFixture, cid: int) -> None:
    u = office.users
    approval.fire(cid, "submit", u["personnel_staff"], db=office.db)
    approval.fire(cid, "approve", u["personnel_chief"], db=office.db)
    approval.fire(cid, "approve", u["secretariat"], db=office.db)
    task_force_passes(office.db, office.id, cid)
    approval.fire(cid, "approve", u["convener"], db=office.db)


def _set_variant(office: OfficeFixture, variant: str) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.get_one(Office, office.id).workflow_variant = variant
        uow.commit()


def test_an_office_variant_adds_its_step_and_a_case_keeps_the_version_it_started_on(office: OfficeFixture) -> None:
    u = office.users
    before = office.case("training_report", period="Q1")  # opened before the office took its variant
    _set_variant(office, "fuxing")
    after = office.case("training_report", period="Q2")
    with office.db.unit_of_work(write=False) as uow:
        versions = {c.id: c.workflow_version for c in uow.session.scalars(select(Case).where(Case.id.in_([before,
                                                                                                          after])))}
    assert versions[before] == registry.default().current_version(office.db, "training_report")
    assert versions[after] == registry.default().current_version(office.db, "training_report", "fuxing")
    assert versions[after] != versions[before]
    for cid in (before, after):
        _to_approved(office, cid)
    # The variant's case goes to the district council first; filing straight away is not its way.
    with pytest.raises(TransitionNotAllowed) as refused:
        approval.fire(after, "file_with_city_group", u["liaison"], db=office.db)
    assert refused.value.allowed == ["submit_to_council"]
    assert approval.fire(after, "submit_to_council", u["liaison"], db=office.db).to_state == "council_review"
    assert approval.fire(after, "file_with_city_group", u["liaison"], db=office.db).to_state == "filed"
    # The case opened before keeps the office's old line, variant or not.
    with pytest.raises(TransitionNotAllowed):
        approval.fire(before, "submit_to_council", u["liaison"], db=office.db)
    assert approval.fire(before, "file_with_city_group", u["liaison"], db=office.db).to_state == "filed"


def test_migrate_moves_running_cases_in_one_transaction_and_records_each_move(office: OfficeFixture) -> None:
    reg = registry.default()
    default_v = reg.current_version(office.db, "training_report")
    fuxing_v = reg.current_version(office.db, "training_report", "fuxing")
    _set_variant(office, "fuxing")
    at_council = office.case("training_report", period="Q1")
    _to_approved(office, at_council)
    approval.fire(at_council, "submit_to_council", office.users["liaison"], db=office.db)
    drafted = office.case("training_report", period="Q2")
    _set_variant(office, "")

    # Back to the default line: its drafts map by name, council_review does not exist there.
    p = migrate.plan(office.db, "training_report", default_v, {}, office_code=office.code)
    assert {(m.case_id, m.from_state, m.to_state) for m in p.moves} == {
        (at_council, "council_review", None), (drafted, "draft", "draft")}
    with pytest.raises(ValidationError) as blocked:
        migrate.apply(office.db, p)
    assert "council_review" in blocked.value.errors["map"][0]
    with pytest.raises(ValidationError):  # a mapping onto a state the target lacks
        migrate.plan(office.db, "training_report", default_v, {"council_review": "nowhere"}, office_code=office.code)
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(Case, drafted).workflow_version == fuxing_v  # nothing moved

    p = migrate.plan(office.db, "training_report", default_v, {"council_review": "approved"}, office_code=office.code)
    assert migrate.apply(office.db, p, office.users["admin"]) == 2
    with office.db.unit_of_work(write=False) as uow:
        s = uow.session
        moved = {c.id: (c.workflow_version, c.state) for c in s.scalars(select(Case).where(
            Case.id.in_([at_council, drafted])))}
        last = s.scalars(select(HistoryEvent).where(HistoryEvent.case_id == at_council)
                         .order_by(HistoryEvent.seq.desc()).limit(1)).one()
    assert moved == {at_council: (default_v, "approved"), drafted: (default_v, "draft")}
    assert (last.event, last.from_state, last.to_state, last.data) == (
        "migrated", "council_review", "approved", {"from_version": fuxing_v, "to_version": default_v})
    assert dict(audit.verify(office.db, office_id=office.id)) == {at_council: None, drafted: None}
    assert approval.fire(at_council, "file_with_city_group", office.users["liaison"], db=office.db).to_state == "filed"
