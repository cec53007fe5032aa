"""Reading follows the role (workflow/people/reading.py): for every person of a test office and a
spread of cases (drafts of two units, submitted, returned, a web posting, a plan amendment before
the city), the one-case rule and the SQL condition lists use agree, and say what the issue says:
a draft for its unit, the secretariat, the liaisons and admins; once submitted, the reviewers too."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select

from tests.conftest import STAFFING, OfficeFixture
from workflow import clock
from workflow.cases import approval
from workflow.engine import registry
from workflow.models import Case, User
from workflow.people import permissions, reading


def _cases(office: OfficeFixture) -> dict[str, int]:
    fire = approval.fire
    drafted = office.case("training_report")
    social_draft = office.case("outreach_report", fields={})
    submitted = office.case("training_report")
    fire(submitted, "submit", office.users["personnel_staff"], db=office.db)
    returned = office.case("training_report")
    fire(returned, "submit", office.users["personnel_staff"], db=office.db)
    fire(returned, "return_for_revision", office.users["personnel_chief"], comment="請補簽到表", db=office.db)
    posting = office.case("web_posting", fields={})
    amendment = office.case("plan_amendment", unit="secretariat")
    fire(amendment, "submit", office.users["secretariat_staff"], db=office.db)
    return {"draft": drafted, "social_draft": social_draft, "submitted": submitted, "returned": returned,
            "posting_draft": posting, "amendment": amendment}


def _readers(office: OfficeFixture, case_ids: dict[str, int]) -> dict[str, set[str]]:
    """For each person, the cases the one-case rule lets them read, checked against the SQL list."""
    out: dict[str, set[str]] = {}
    today = clock.today()
    with office.db.unit_of_work(write=False) as uow:
        s = uow.session
        versions = reading.every_version(office.db, s)
        for person in STAFFING:
            uid = office.users[person]
            unit = s.scalar(select(User.unit_id).where(User.id == uid))
            reader = reading.Reader(uid, unit, permissions.capacities(s, uid, office.id, today))
            one = set()
            for name, cid in case_ids.items():
                case = s.get_one(Case, cid)
                if reading.may_read(reader, case, registry.default().get(office.db, case.kind,
                                                                         case.workflow_version, s)):
                    one.add(name)
            listed = set(s.scalars(select(Case.id).where(and_(Case.office_id == office.id,
                                                              reading.readable(reader, versions)))))
            assert {n for n, cid in case_ids.items() if cid in listed} == one, person
            out[person] = one
    return out


def test_reading_follows_the_role(office: OfficeFixture) -> None:
    readers = _readers(office, _cases(office))
    everything = {"draft", "social_draft", "submitted", "returned", "posting_draft", "amendment"}
    for person in ("secretariat", "liaison", "deputy_liaison", "admin"):
        assert readers[person] == everything, person
    personnel = {"draft", "submitted", "returned"}
    for person in ("personnel_staff", "personnel_staff2", "personnel_chief"):
        assert readers[person] == personnel, person
    # The task force reads what was submitted of the kinds it decides, never a draft.
    for person in ("convener", "deputy_convener", "member"):
        assert readers[person] == {"submitted", "returned", "amendment"}, person
    assert readers["city"] == {"amendment"}  # the plan amendment's line goes to the city group
    assert readers["social_staff"] == readers["social_chief"] == {"social_draft", "posting_draft"}
    # The secretariat's own unit (its staff and chief) drafted the amendment; nothing else is theirs.
    assert readers["secretariat_staff"] == readers["secretariat_chief"] == {"amendment"}
    assert readers["civil_staff"] == readers["civil_chief"] == readers["nobody"] == set()
    assert readers["accounting_staff"] == set()


def test_a_delegate_reads_what_the_person_they_act_for_reads(office: OfficeFixture) -> None:
    from workflow.people import directory

    case_ids = _cases(office)
    today = clock.today()
    with office.db.unit_of_work() as uow:
        s = uow.session
        away, stand_in = s.get_one(User, office.users["personnel_chief"]), s.get_one(User, office.users["civil_chief"])
        directory.delegate(s, away, stand_in, "chief", today, today + dt.timedelta(days=3), "公差")
        uow.commit()
    assert _readers(office, case_ids)["civil_chief"] == {"draft", "submitted", "returned"}
