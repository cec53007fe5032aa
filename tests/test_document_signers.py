"""Documents name who acted: a delegate who approved prints as 「姓名（代理 原承辦人）」 on the
approval trail and on the unit chief line, never the chief who was away."""

from __future__ import annotations

import datetime as dt

from documents.context import build
from tests.conftest import OfficeFixture
from workflow import clock
from workflow.cases import approval
from workflow.models import User
from workflow.people import directory


def test_a_delegate_who_approved_is_printed_as_acting_for_the_chief(office: OfficeFixture) -> None:
    today = clock.today()
    with office.db.unit_of_work() as uow:
        s = uow.session
        away, acting = s.get_one(User, office.users["personnel_chief"]), s.get_one(User, office.users["civil_chief"])
        directory.delegate(s, away, acting, "chief", today - dt.timedelta(days=1), today + dt.timedelta(days=5), "公差")
        uow.commit()
    cid = office.case("training_report")
    approval.fire(cid, "submit", office.users["personnel_staff"], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        before = build(uow.session, office.db, cid, "training_results", 2)
    assert before["chief"] == "personnel_chief"  # nobody has signed yet: the unit's chief, who is to sign
    res = approval.fire(cid, "approve", office.users["civil_chief"], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        table = build(uow.session, office.db, cid, "training_results", res.event_seq)
        memo = build(uow.session, office.db, cid, "sign_memo", res.event_seq)
    assert table["chief"] == "civil_chief（代理 personnel_chief）"
    assert [r["actor"] for r in memo["trail"]] == ["personnel_staff", "civil_chief（代理 personnel_chief）"]
