"""The task force register through its page: members against the one-third rule, a departure that
breaks it, and a held meeting whose decision lets the convener approve; bad input keeps what was typed."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, csrf_token, text
from tests.web.test_task_force import to_task_force
from workflow import clock, rocdate
from workflow.models import Case, TaskForceDecision, TaskForceMeeting

TODAY = rocdate.short(clock.today())


def _seat(b: Browser, name: str, sex: str, seat: str = "unit_chief") -> None:
    resp = b.submit("/task-force", "/task-force/members", name=name, sex=sex, role="member", seat=seat,
                    affiliation="", term_start="115.01.01", term_end="")
    assert resp.status_code == 303, text(resp)


def test_the_liaison_seats_members_and_sees_the_rule_break_when_a_woman_leaves(
        as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    b = as_user("liaison")
    for i in range(4):
        _seat(b, f"女委員{i}", "F")
    for i in range(7):
        _seat(b, f"男委員{i}", "M", seat="external_civil")
    page = text(b.get("/task-force"))
    assert "在任委員 11 人：女 4 人、男 7 人" in page and "符合三分之一規定" in page and "尚缺女 1 人" in page
    html = b.get("/task-force").get_data(as_text=True)
    first = re.findall(r'action="/task-force/members/(\d+)/end"', html)[0]  # 女委員0, seated first
    resp = b.submit("/task-force", f"/task-force/members/{first}/end", last_day="115.01.01")
    assert resp.status_code == 303
    page = text(b.get("/task-force"))
    assert "不符性別比例規定" in page and "尚缺女性 1 人" in page and "在任委員 10 人：女 3 人" in page


def test_a_member_form_with_bad_values_is_refused_and_keeps_what_was_typed(as_user: Callable[[str], Browser]) -> None:
    b = as_user("secretariat")
    resp = b.submit("/task-force", "/task-force/members", name="陳委員", sex="F", role="member", seat="unit_chief",
                    affiliation="社會課課長", term_start="115.02.30", term_end="")
    assert resp.status_code == 422
    assert "沒有「115.02.30」這一天" in text(resp) and 'value="社會課課長"' in resp.get_data(as_text=True)


def test_a_held_meeting_decides_and_the_convener_may_then_approve(
        as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    cid = to_task_force(office, "training_report")
    b = as_user("secretariat")
    for i, sex in enumerate("FMFMFM"):
        _seat(b, f"委員{i}", sex)
    convener = as_user("convener")
    refused = convener.submit(f"/cases/{cid}", f"/cases/{cid}/actions/approve")
    assert "尚無專案小組的決議" in text(convener.get(refused.headers.get("Location", f"/cases/{cid}"))) \
        or "尚無專案小組的決議" in text(refused)
    page = b.get("/task-force")
    assert f'name="dec_{cid}"' in page.get_data(as_text=True)
    fields = {"kind": "regular", "held_on": TODAY, "place": "第一會議室", "notice_on": "", "contact_name": "黃淑芬",
              "contact_phone": "(03) 332-2101"}
    tie = b.submit("/task-force", "/task-force/meetings", **fields)
    assert tie.status_code == 303  # a meeting without decisions is fine
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.query(TaskForceMeeting).filter_by(office_id=office.id).count() == 1
    # A tie (3 of 6 present) decides nothing: refused, nothing saved, the typed votes kept.
    data = {f"meetings-{k}": v for k, v in fields.items()}
    data |= {"meetings-csrf_token": csrf_token(page.get_data(as_text=True)), f"dec_{cid}": "passed",
             f"votes_{cid}": "3"}
    resp = b.client.post("/task-force/meetings", data=data)
    assert resp.status_code == 422 and "過半數" in text(resp)
    assert f'name="votes_{cid}" value="3"' in resp.get_data(as_text=True)
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.query(TaskForceMeeting).filter_by(office_id=office.id).count() == 1
    data[f"votes_{cid}"] = "5"
    assert b.client.post("/task-force/meetings", data=data).status_code == 303
    with office.db.unit_of_work(write=False) as uow:
        [d] = uow.session.query(TaskForceDecision).filter_by(case_id=cid).all()
        assert (d.decision, d.votes_for) == ("passed", 5)
    assert "第 2 次會議" in text(b.get("/task-force"))
    done = convener.submit(f"/cases/{cid}", f"/cases/{cid}/actions/approve")
    assert done.status_code == 303
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(Case, cid).state == "approved"
