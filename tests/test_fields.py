"""Case fields (R1, R8), editing drafts, resubmission after a return, and delegation (代理, R4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import OfficeFixture
from workflow import clock
from workflow.cases import approval, drafts
from workflow.demo import sample_fields
from workflow.engine import fields, registry
from workflow.errors import ConditionFailed, PermissionDenied, TransitionNotAllowed, ValidationError
from workflow.models import Case, HistoryEvent, User
from workflow.people import directory


def training(**changes: Any) -> dict[str, Any]:
    data = sample_fields("training_report", 115, "Q1")
    data.update(changes)
    return data


def course(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"course": "CEDAW 案例研討", "date": "2026-03-15", "hours": 2, "mode": "實體",
                           "level": "基礎", "male": 3, "female": 5}
    row.update(changes)
    return row


def events(office: OfficeFixture, cid: int) -> list[HistoryEvent]:
    with office.db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(HistoryEvent).where(HistoryEvent.case_id == cid)
                                        .order_by(HistoryEvent.seq)))


def case_row(office: OfficeFixture, cid: int) -> Case:
    with office.db.unit_of_work(write=False) as uow:
        c = uow.session.get(Case, cid)
        assert c is not None
        return c


# -- validation ----------------------------------------------------------------------------------
def test_messages_name_the_field_and_the_row_in_both_languages() -> None:
    defn = registry.default().latest("training_report")
    with pytest.raises(ValidationError) as err:
        fields.clean(defn, training(courses=[course(), course(hours="兩小時", mode="函授")]), complete=True)
    errors = err.value.errors
    assert set(errors) == {"courses[2].hours", "courses[2].mode"}
    zh, en = errors["courses[2].hours"]
    assert "第 2 列" in zh and "時數" in zh and "兩小時" in zh
    assert "row 2" in en and "Hours" in en and "not a number" in en
    zh, en = errors["courses[2].mode"]
    assert "第 2 列" in zh and "實體" in zh  # says what to choose from
    assert "row 2" in en and "Mode" in en
    assert "courses[2].hours" in err.value.message and "courses[2].hours" in err.value.message_en

    with pytest.raises(ValidationError) as err:
        fields.clean(defn, training(courses=[course(hours=41)], summary=""), complete=True)
    assert err.value.errors["courses[1].hours"] == ("第 1 列「時數」不可大於 40", "row 1: Hours must be at most 40")
    assert err.value.errors["summary"] == ("「辦理情形摘要」為必填", "Summary is required")


def test_a_draft_may_be_incomplete_but_not_wrong() -> None:
    defn = registry.default().latest("training_report")
    assert fields.clean(defn, {"summary": "草稿"}, complete=False) == {"summary": "草稿"}
    with pytest.raises(ValidationError) as err:
        fields.clean(defn, {"courses": [course(male=-1)]}, complete=False)
    assert list(err.value.errors) == ["courses[1].male"]
    assert fields.missing_required(defn, {"summary": "草稿"}) == ["courses"]


@pytest.mark.parametrize("written", ["113.04.10", "113/4/10", "民國113年4月10日", "中華民國113年4月10日", "2024-04-10"])
def test_roc_dates_are_accepted(written: str) -> None:
    defn = registry.default().latest("training_report")
    clean = fields.clean(defn, training(courses=[course(date=written)]), complete=True)
    assert clean["courses"][0]["date"] == "2024-04-10"
    event = registry.default().latest("outreach_event")
    data = sample_fields("outreach_event", 113, "Y") | {"event_date": written}
    assert fields.clean(event, data, complete=True)["event_date"] == "2024-04-10"


@pytest.mark.parametrize("written", ["去年四月", "10/04/2024"])
def test_what_is_not_a_date_is_refused_with_an_example(written: str) -> None:
    defn = registry.default().latest("outreach_event")
    with pytest.raises(ValidationError) as err:
        fields.clean(defn, sample_fields("outreach_event", 113, "Y") | {"event_date": written}, complete=True)
    zh, en = err.value.errors["event_date"]
    assert "113.04.10" in zh and "113.04.10" in en


@pytest.mark.parametrize("written", ["113.13.10", "113.02.30", "2024-02-30"])
def test_a_day_that_does_not_exist_is_named(written: str) -> None:
    defn = registry.default().latest("outreach_event")
    with pytest.raises(ValidationError) as err:
        fields.clean(defn, sample_fields("outreach_event", 113, "Y") | {"event_date": written}, complete=True)
    zh, en = err.value.errors["event_date"]
    assert f"沒有「{written}」這一天" in zh and "no such day" in en


def test_control_characters_are_stripped(office: OfficeFixture) -> None:
    defn = registry.default().latest("training_report")
    dirty = training(summary="本季\x00辦理\x1f兩場\x0b\n第二行", courses=[course(course="性別\x07主流化")])
    clean = fields.clean(defn, dirty, complete=True)
    assert clean["summary"] == "本季辦理兩場\n第二行"  # line breaks stay in a text area
    assert clean["courses"][0]["course"] == "性別主流化"
    cid = drafts.create_case(kind="training_report", unit_id=office.units["personnel"], roc_year=115,
                             period="Q1", title="培力\x08成果\x1b報告", actor=office.users["personnel_staff"],
                             fields=training(summary="摘要\x0c"), db=office.db)
    row = case_row(office, cid)
    assert (row.title, row.fields["summary"]) == ("培力成果報告", "摘要")
    approval.submit(cid, office.users["personnel_staff"], db=office.db)
    approval.return_for_revision(cid, office.users["personnel_chief"], "請\x00更正\x1f時數", db=office.db)
    assert events(office, cid)[-1].comment == "請更正時數"


def test_unknown_fields_are_refused_not_dropped(office: OfficeFixture) -> None:
    defn = registry.default().latest("training_report")
    with pytest.raises(ValidationError) as err:
        fields.clean(defn, training(sumary="typo", courses=[course(teacher="王老師")]), complete=False)
    assert set(err.value.errors) == {"sumary", "courses[1].teacher"}
    with pytest.raises(ValidationError):
        drafts.create_case(kind="training_report", unit_id=office.units["personnel"], roc_year=115, period="Q1",
                           title="培力成果", actor=office.users["personnel_staff"], fields={"sumary": "x"},
                           db=office.db)
    with office.db.unit_of_work(write=False) as uow:  # nothing was created
        assert uow.session.scalar(select(Case.id).where(Case.office_id == office.id)) is None


# -- editing and resubmitting --------------------------------------------------------------------
def test_save_fields_on_a_draft_only(office: OfficeFixture) -> None:
    u, db = office.users, office.db
    cid = office.case("training_report", complete=False)
    version = drafts.save_fields(cid, u["personnel_staff"], {"summary": "第一版摘要"}, expected_version=1, db=db)
    assert version == 2
    assert case_row(office, cid).fields == {"summary": "第一版摘要"}
    edited = events(office, cid)[-1]
    assert (edited.event, edited.data["changed_fields"], edited.actor_id) == (
        "edited", ["summary"], u["personnel_staff"])

    with pytest.raises(PermissionDenied):  # the chief reviews; the unit's staff edit
        drafts.save_fields(cid, u["personnel_chief"], {"summary": "主管改寫"}, db=db)
    with pytest.raises(ValidationError):
        drafts.save_fields(cid, u["personnel_staff"], {"courses": [course(hours=0)]}, db=db)

    drafts.save_fields(cid, u["personnel_staff"], training(), db=db)
    approval.submit(cid, u["personnel_staff"], db=db)
    before = case_row(office, cid)
    with pytest.raises(TransitionNotAllowed) as err:
        drafts.save_fields(cid, u["personnel_staff"], training(summary="送出後偷改"), db=db)
    assert err.value.allowed == ["approve", "return_for_revision", "take_back"]
    after = case_row(office, cid)
    assert (after.version, after.fields, after.history_seq) == (before.version, before.fields, before.history_seq)


def test_resubmission_records_what_changed_and_counts_the_loops(office: OfficeFixture) -> None:
    u, db = office.users, office.db
    cid = office.case("training_report")
    first = approval.submit(cid, u["personnel_staff"], db=db)
    assert "changed_fields" not in events(office, cid)[-1].data  # nothing to compare the first time

    approval.return_for_revision(cid, u["personnel_chief"], "第2列時數請依簽到表更正", db=db)
    returned = events(office, cid)[-1]
    assert (returned.to_state, returned.comment, returned.data["revision"]) == (
        "returned", "第2列時數請依簽到表更正", 1)
    assert case_row(office, cid).revision_count == 1

    fixed = training()
    fixed["courses"][1]["hours"] = 1.5
    drafts.save_fields(cid, u["personnel_staff"], fixed, db=db)
    second = approval.submit(cid, u["personnel_staff2"], db=db)  # another drafter of the unit may resubmit
    resubmitted = events(office, cid)[-1]
    assert (resubmitted.trigger, resubmitted.data["changed_fields"]) == ("submit", ["courses"])
    assert second.event_seq > first.event_seq

    approval.approve(cid, u["personnel_chief"], db=db)
    approval.return_for_revision(cid, u["secretariat"], "請補充 CEDAW 課程代碼", db=db)
    assert (case_row(office, cid).revision_count, events(office, cid)[-1].data["revision"]) == (2, 2)
    approval.submit(cid, u["personnel_staff"], db=db)
    assert events(office, cid)[-1].data["changed_fields"] == []  # resubmitted as it was


# -- delegation (代理) ----------------------------------------------------------------------------
def delegate(office: OfficeFixture, principal: str, to: str, role: str, first: int, last: int) -> None:
    """``principal`` hands ``role`` to ``to`` from today+first to today+last (days, inclusive)."""
    today = clock.today()
    with office.db.unit_of_work() as uow:
        s = uow.session
        p, d = s.get(User, office.users[principal]), s.get(User, office.users[to])
        assert p is not None and d is not None
        directory.delegate(s, p, d, role, today + dt.timedelta(days=first), today + dt.timedelta(days=last), "公差")
        uow.commit()


def on_day(offset: int) -> Any:
    """The clock moved to noon (Taipei) ``offset`` days from today."""
    day = clock.today() + dt.timedelta(days=offset)
    return clock.shifted(dt.datetime.combine(day, dt.time(12), tzinfo=clock.TAIPEI))


def submitted(office: OfficeFixture, kind: str = "training_report", by: str = "personnel_staff", **kw: Any) -> int:
    cid = office.case(kind, **kw)
    approval.submit(cid, office.users[by], db=office.db)
    return cid


def test_a_delegate_acts_on_behalf_of_the_principal(office: OfficeFixture) -> None:
    u, db = office.users, office.db
    delegate(office, "personnel_chief", "personnel_staff2", "chief", -1, 1)
    cid = submitted(office)
    res = approval.approve(cid, u["personnel_staff2"], db=db)
    assert res.to_state == "secretariat_review"
    ev = events(office, cid)[-1]
    assert (ev.actor_id, ev.on_behalf_of_id) == (u["personnel_staff2"], u["personnel_chief"])
    # The principal still acts in their own name.
    other = submitted(office, roc_year=114)
    approval.approve(other, u["personnel_chief"], db=db)
    assert events(office, other)[-1].on_behalf_of_id is None
    # A delegated chief role is the principal's unit's: not the social section's.
    social = submitted(office, "outreach_event", by="social_staff")
    with pytest.raises(PermissionDenied):
        approval.approve(social, u["personnel_staff2"], db=db)


def test_a_delegation_counts_only_within_its_dates(office: OfficeFixture) -> None:
    u, db = office.users, office.db
    delegate(office, "social_chief", "civil_staff", "chief", 2, 4)
    cases = [submitted(office, "outreach_event", by="social_staff", roc_year=115 - n) for n in range(4)]
    with pytest.raises(PermissionDenied):  # not yet
        approval.approve(cases[0], u["civil_staff"], db=db)
    with on_day(2):  # first day
        assert approval.approve(cases[1], u["civil_staff"], db=db).to_state == "secretariat_review"
    with on_day(4):  # last day, inclusive
        assert approval.approve(cases[2], u["civil_staff"], db=db).to_state == "secretariat_review"
    with on_day(5), pytest.raises(PermissionDenied):  # over
        approval.approve(cases[3], u["civil_staff"], db=db)
    assert [events(office, c)[-1].on_behalf_of_id for c in cases[1:3]] == [u["social_chief"]] * 2
    assert {case_row(office, c).state for c in (cases[0], cases[3])} == {"section_review"}


def test_a_chiefs_delegate_still_cannot_approve_what_they_submitted(office: OfficeFixture) -> None:
    u, db = office.users, office.db
    delegate(office, "personnel_chief", "personnel_staff", "chief", 0, 0)
    own = submitted(office, by="personnel_staff")
    with pytest.raises(ConditionFailed) as err:
        approval.approve(own, u["personnel_staff"], db=db)
    assert err.value.condition == "not_submitter"
    assert case_row(office, own).state == "section_review"
    # What a colleague submitted, the delegate may approve.
    theirs = submitted(office, by="personnel_staff2", roc_year=114)
    assert approval.approve(theirs, u["personnel_staff"], db=db).to_state == "secretariat_review"


def test_delegating_a_role_one_does_not_hold_gives_nothing(office: OfficeFixture) -> None:
    delegate(office, "personnel_staff2", "civil_staff", "chief", -1, 1)
    cid = submitted(office)
    with pytest.raises(PermissionDenied):
        approval.approve(cid, office.users["civil_staff"], db=office.db)


def test_a_deactivated_principals_delegation_lends_nothing(office: OfficeFixture) -> None:
    """The principal left (account deactivated) while the delegation runs: the delegate can no longer
    act in their name, and the principal's unit's cases leave the delegate's queue."""
    from workflow.people import holders, permissions
    from workflow.views import queues

    u, db = office.users, office.db
    delegate(office, "personnel_chief", "civil_staff", "chief", -1, 5)
    cid = submitted(office)
    assert cid in {i.case_id for i in queues.queue_for(db, u["civil_staff"])}
    with db.unit_of_work() as uow:
        uow.session.get_one(User, u["personnel_chief"]).active = False
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        caps = permissions.capacities(uow.session, u["civil_staff"], office.id, clock.today())
        roles = holders.office_roles(uow.session, [office.id], clock.today())[office.id]
    assert u["civil_staff"] not in roles.holding("chief", office.units["personnel"])  # the board's holders
    assert [(c.role, c.unit_id, c.on_behalf_of) for c in caps] == [("staff", office.units["civil"], None)]
    assert cid not in {i.case_id for i in queues.queue_for(db, u["civil_staff"])}
    with pytest.raises(PermissionDenied):
        approval.approve(cid, u["civil_staff"], db=db)
    assert case_row(office, cid).state == "section_review"
    # Reactivated (back from leave, the delegation still running): it lends the role again.
    with db.unit_of_work() as uow:
        uow.session.get_one(User, u["personnel_chief"]).active = True
        uow.commit()
    assert cid in {i.case_id for i in queues.queue_for(db, u["civil_staff"])}
    assert approval.approve(cid, u["civil_staff"], db=db).to_state == "secretariat_review"
