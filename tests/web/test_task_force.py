"""專案小組: the cases waiting for task force approval, as the next meeting's agenda."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, text
from workflow import rocdate
from workflow.cases import approval
from workflow.demo import sample_fields
from workflow.engine.registry import default as registry


def to_task_force(office: OfficeFixture, kind: str, **kw: object) -> int:
    unit = registry().latest(kind).default_unit
    cid = office.case(kind, **kw)  # type: ignore[arg-type]
    approval.fire(cid, "submit", office.users[f"{unit}_staff"], db=office.db)
    approval.fire(cid, "approve", office.users[f"{unit}_chief"], db=office.db)
    approval.fire(cid, "approve", office.users["secretariat"], db=office.db)
    return cid


def test_agenda_groups_reports_and_discussions_under_the_next_meeting(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    report = to_task_force(office, "training_report")
    discussion = to_task_force(office, "budget_review")
    meeting_day = dt.date.today() + dt.timedelta(days=30)
    fields = sample_fields("task_force_meeting", 115, "Y") | {"meeting_date": meeting_day.isoformat()}
    office.case("task_force_meeting", fields=fields)
    page = as_user("convener").get("/task-force")
    assert page.status_code == 200
    body, words = page.get_data(as_text=True), text(page)
    assert f"下次會議：{rocdate.long(meeting_day)}" in words
    assert body.index("報告事項") < body.index(f'href="/cases/{report}"') < body.index("討論事項") \
        < body.index(f'href="/cases/{discussion}"')
    assert 'aria-current="page"' in body


@pytest.mark.parametrize("who", ["convener", "deputy_convener", "member", "liaison"])
def test_the_task_force_and_the_liaison_have_it_in_their_menu(
    as_user: Callable[[str], Browser], who: str
) -> None:
    b = as_user(who)
    assert 'href="/task-force"' in b.get("/").get_data(as_text=True)
    page = b.get("/task-force")
    assert page.status_code == 200 and "下次會議尚未排定" in text(page)


def test_others_neither_see_it_nor_open_it(as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_chief")
    assert 'href="/task-force"' not in b.get("/").get_data(as_text=True)
    assert b.get("/task-force").status_code == 403
