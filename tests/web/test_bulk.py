"""批次核准 from the queue: select → confirm → approve each with its version; per-case outcomes."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, case_row, csrf_token, submitted, text
from workflow.cases import approval
from workflow.clock import today
from workflow.models import User
from workflow.people import directory


def _checkboxes(html: str) -> list[str]:
    return re.findall(r'<input type="checkbox" name="case" value="([0-9]+:[0-9]+)"', html)


def _confirm(b: Browser, values: list[str]) -> tuple[str, list[str]]:
    page = b.get("/approve-selected", query_string=[("case", v) for v in values])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, re.findall(r'<input type="hidden" name="case" value="([0-9]+:[0-9]+)"', html)


def _post(b: Browser, html: str, values: list[str]) -> str:
    resp = b.client.post("/approve-selected", data={"csrf_token": csrf_token(html), "case": values})
    assert resp.status_code == 200
    return text(resp)


def test_chief_selects_confirms_and_approves_several(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    a, b_, c = submitted(office), submitted(office), submitted(office)
    chief = as_user("personnel_chief")
    boxes = _checkboxes(chief.get("/").get_data(as_text=True))
    assert boxes == [f"{a}:2", f"{b_}:2", f"{c}:2"]
    html, hidden = _confirm(chief, boxes[:2])
    assert hidden == boxes[:2] and "確認批次核准" in html and "training_report test" in html
    for cid in (a, b_, c):  # nothing changes before the confirmation is posted
        assert case_row(office.db, cid).state == "section_review"
    words = _post(chief, html, hidden)
    assert "共 2 件，已核准 2 件" in words and "秘書室審核" in words
    assert [case_row(office.db, x).state for x in (a, b_, c)] == ["secretariat_review"] * 2 + ["section_review"]


def test_a_case_someone_else_approved_first_is_reported_as_a_conflict(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    a, b_ = submitted(office), submitted(office)
    with office.db.unit_of_work() as uow:  # a delegate of the chief, who approves one case first
        s = uow.session
        chief, other = s.get(User, office.users["personnel_chief"]), s.get(User, office.users["civil_chief"])
        assert chief is not None and other is not None
        directory.delegate(s, chief, other, "chief", today(), today(), "休假")
        uow.commit()
    chief = as_user("personnel_chief")
    html, hidden = _confirm(chief, _checkboxes(chief.get("/").get_data(as_text=True)))
    approval.approve(a, office.users["civil_chief"], expected_version=2, db=office.db)
    words = _post(chief, html, hidden)
    assert "共 2 件，已核准 1 件" in words
    assert "未核准：案件已有變動" in words and "civil_chief" in words  # who acted first
    assert case_row(office.db, b_).state == "secretariat_review"


def test_no_checkbox_for_what_the_user_or_their_principal_submitted_and_the_server_refuses_it(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    own = submitted(office)  # submitted by personnel_staff
    other = office.case("training_report", drafter="personnel_staff2")
    approval.fire(other, "submit", office.users["personnel_staff2"], db=office.db)
    with office.db.unit_of_work() as uow:  # the staff member who submitted `own` stands in for the chief
        s = uow.session
        chief, staff = s.get(User, office.users["personnel_chief"]), s.get(User, office.users["personnel_staff"])
        assert chief is not None and staff is not None
        directory.delegate(s, chief, staff, "chief", today(), today(), "休假")
        uow.commit()
    delegate = as_user("personnel_staff")
    assert _checkboxes(delegate.get("/").get_data(as_text=True)) == [f"{other}:2"]
    html, hidden = _confirm(delegate, [f"{own}:2", f"{other}:2"])  # a crafted URL with both
    words = _post(delegate, html, hidden)
    assert "送出案件的人不得審核同一案件" in words and "共 2 件，已核准 1 件" in words
    assert case_row(office.db, own).state == "section_review"
    assert case_row(office.db, other).state == "secretariat_review"


def test_another_offices_case_and_a_missing_token_do_nothing(
    as_user: Callable[[str], Browser], office: OfficeFixture, office_factory: Callable[[], OfficeFixture]
) -> None:
    foreign = submitted(office_factory())
    chief = as_user("personnel_chief")
    html, hidden = _confirm(chief, [f"{foreign}:2"])
    assert hidden == [] and "沒有選取任何案件" in html
    mine = submitted(office)
    resp = chief.client.post("/approve-selected", data={"case": [f"{mine}:2"]})
    assert resp.status_code == 400
    words = _post(chief, chief.get("/").get_data(as_text=True), [f"{foreign}:2"])
    assert "共 0 件" in words
    assert case_row(office.db, mine).state == "section_review"
