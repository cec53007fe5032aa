"""The outreach and budget registers through their pages, a person's own training hours, written
approval on the task force page, and a result table filled from a register whose case page names
the rows behind its totals; bad input comes back with what was typed and why."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, csrf_token, forms, text
from workflow.cases import approval
from workflow.demo import _png
from workflow.models import Case, Office, OutreachEvent
from workflow.registers import training_import

EVENT = {"event-name": "婦女節宣導", "event-held_on": "115.03.08", "event-place": "中正公園",
         "event-topic": "gender_equality", "event-audience": "區民", "event-public": "y", "event-male": "12",
         "event-female": "30", "event-mat1_kind": "摺頁", "event-mat1_count": "100"}


def _post_form(b: Browser, page: str, action_prefix: str, **fields: str) -> tuple[str, object]:
    html = b.get(page).get_data(as_text=True)
    action = next(a for a in forms(html) if a.startswith(action_prefix))
    data = {**forms(html)[action], **fields}
    return action, b.client.post(action, data=data)


def test_social_affairs_records_an_event_and_a_photo(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    b = as_user("social_staff")
    page = text(b.get("/registers/outreach?year=115"))
    assert "社會課今年尚未辦理對外公開的宣導活動" in page
    _a, resp = _post_form(b, "/registers/outreach?year=115", "/registers/outreach?",
                          **{**EVENT, "event-unit_id": str(office.units["social"]), "event-male": "-3",
                             "event-mat1_count": "0"})
    assert resp.status_code == 422  # type: ignore[attr-defined]
    bad = resp.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "人數須為 0 以上的整數" in bad and "份數須為 1 以上的整數" in bad and 'value="婦女節宣導"' in bad
    _a, resp = _post_form(b, "/registers/outreach?year=115", "/registers/outreach?",
                          **{**EVENT, "event-unit_id": str(office.units["social"])})
    assert resp.status_code == 303  # type: ignore[attr-defined]
    page = text(b.get("/registers/outreach?year=115&period=Q1"))
    assert "婦女節宣導" in page and "摺頁 100 份" in page and "男 12 人、女 30 人，合計 42 人" in page
    assert "社會課今年已辦理對外公開的宣導活動 1 場" in page
    assert "這段期間沒有登錄宣導活動" in text(b.get("/registers/outreach?year=115&period=Q2"))
    with office.db.unit_of_work(write=False) as uow:
        eid = uow.session.query(OutreachEvent.id).filter_by(office_id=office.id).scalar()
    html = b.get("/registers/outreach?year=115").get_data(as_text=True)
    token = csrf_token(html)
    resp2 = b.client.post(f"/registers/outreach/{eid}/photos", data={
        "csrf_token": token, "photo": (io.BytesIO(b"GIF89a not an image we take"), "a.gif"), "caption": "攤位",
        "alt_text": ""}, content_type="multipart/form-data")
    assert resp2.status_code == 422 and "請填寫替代文字" in text(resp2)
    resp2 = b.client.post(f"/registers/outreach/{eid}/photos", data={
        "csrf_token": token, "photo": (io.BytesIO(_png()), "booth.png"), "caption": "園遊會攤位",
        "alt_text": "民眾在攤位前填寫問卷"}, content_type="multipart/form-data")
    assert resp2.status_code == 303
    html = b.get("/registers/outreach?year=115").get_data(as_text=True)
    src = re.search(r'<img src="(/registers/outreach/photos/\d+)" alt="民眾在攤位前填寫問卷"', html)
    assert src and b.get(src.group(1)).data == _png()
    export = b.get("/registers/outreach/export.csv?year=115").get_data(as_text=True)
    assert "婦女節宣導" in export and "115.03.08" in export


def test_section_staff_record_only_their_own_units_events(as_user: Callable[[str], Browser],
                                                          office: OfficeFixture) -> None:
    b = as_user("civil_staff")
    html = b.get("/registers/outreach").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="(\d+)"', html.split('name="event-unit_id"')[1].split("</select>")[0])
    assert options == [str(office.units["civil"])]
    _a, resp = _post_form(b, "/registers/outreach?year=115", "/registers/outreach?",
                          **{**EVENT, "event-unit_id": str(office.units["social"])})
    assert resp.status_code == 422  # type: ignore[attr-defined]
    assert as_user("personnel_chief").get("/registers/outreach").status_code == 200
    member = as_user("member")
    token = csrf_token(member.get("/registers/outreach").get_data(as_text=True))
    assert member.client.post("/registers/outreach", data={"csrf_token": token}).status_code == 403


def test_the_accounting_office_keeps_the_budget(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    b = as_user("accounting_staff")
    fields = {"item-category": "1", "item-item": "宣導活動", "item-unit_id": str(office.units["social"]),
              "item-budgeted": "90000", "item-executed": ""}
    _a, resp = _post_form(b, "/registers/budget?year=115", "/registers/budget?", **fields)
    assert resp.status_code == 303  # type: ignore[attr-defined]
    _a, resp = _post_form(b, "/registers/budget?year=115", "/registers/budget?", **fields)
    assert resp.status_code == 422 and "已有「宣導活動」" in text(resp)  # type: ignore[arg-type,attr-defined]
    page = text(b.get("/registers/budget?year=115"))
    assert "共 1 項，預算數 90,000 元" in page and "1 項尚未登錄執行數" in page
    html = b.get("/registers/budget?year=115").get_data(as_text=True)
    action = next(a for a in forms(html) if "/executed" in a)
    assert b.client.post(action, data={"csrf_token": csrf_token(html), "executed": "abc"}).status_code == 422
    assert b.client.post(action, data={"csrf_token": csrf_token(html), "executed": "45000"}).status_code == 303
    assert "50.0%" in text(b.get("/registers/budget?year=115"))
    denied = as_user("personnel_staff")
    page_html = denied.get("/registers/budget?year=115").get_data(as_text=True)
    assert "/executed" not in page_html
    assert denied.client.post("/registers/budget", data={"csrf_token": csrf_token(page_html)}).status_code == 403


def test_everyone_sees_their_own_hours_and_only_theirs(as_user: Callable[[str], Browser],
                                                      office: OfficeFixture) -> None:
    csv = ("姓名,課程名稱,時數,上課方式,上課日期,課程代碼\n"
           "civil_staff,CEDAW 案例研討,2,實體,115.02.10,410\n"
           "social_staff,性別平等概論,1,線上,115.02.11,\n")
    with office.db.unit_of_work() as uow:
        training_import.import_csv(uow.session, office.id, None, csv.encode())
        uow.commit()
    b = as_user("civil_staff")
    assert b.get("/registers/training").status_code == 403
    page = text(b.get("/registers/training/mine?year=115"))
    assert "CEDAW 案例研討" in page and "性別平等概論" not in page and "已達本年度時數" in page
    assert "個人資料蒐集告知" in page
    other = text(as_user("social_staff").get("/registers/training/mine?year=115"))
    assert "性別平等概論" in other and "CEDAW 實體課程尚缺 1 小時" in other


def test_the_outreach_report_is_filled_and_its_page_links_the_register(as_user: Callable[[str], Browser],
                                                                       office: OfficeFixture) -> None:
    b = as_user("social_staff")
    for name, day, men, women in (("一月場", "115.01.20", 5, 7), ("二月場", "115.02.14", 10, 20)):
        _post_form(b, "/registers/outreach?year=115", "/registers/outreach?",
                   **{**EVENT, "event-name": name, "event-held_on": day, "event-male": str(men),
                      "event-female": str(women), "event-unit_id": str(office.units["social"])})
    cid = office.case("outreach_report", period="Q1")
    resp = b.submit(f"/cases/{cid}/edit", f"/cases/{cid}/fill")
    assert resp.status_code == 303
    assert "已從宣導紀錄帶入 2 列。" in text(b.get(f"/cases/{cid}/edit"))
    with office.db.unit_of_work(write=False) as uow:
        events = uow.session.get_one(Case, cid).fields["events"]
    assert [(e["event"], e["male"], e["female"]) for e in events] == [("一月場", 5, 7), ("二月場", 10, 20)]
    page = b.get(f"/cases/{cid}").get_data(as_text=True)
    assert "男 15 人、女 27 人，共 42 人" in page
    assert 'href="/registers/outreach?year=115&amp;period=Q1"' in page


def test_written_approval_on_the_task_force_page(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    from tests.web.test_task_force import to_task_force

    cid = to_task_force(office, "training_report")
    liaison = as_user("liaison")
    assert "書面審查" not in text(liaison.get("/task-force"))
    with office.db.unit_of_work() as uow:
        uow.session.get_one(Office, office.id).written_approval_min = 1
        uow.commit()
    assert "每案須有 1 位在任委員書面同意" in text(liaison.get("/task-force"))
    html = liaison.get("/task-force").get_data(as_text=True)
    resp = liaison.client.post(f"/task-force/cases/{cid}/written", data={
        "csrf_token": csrf_token(html), "written-member_id": "999999", "written-approved_on": "115.01.01"})
    assert resp.status_code == 422
    from workflow import clock, rocdate
    from workflow.registers import task_force

    with office.db.unit_of_work() as uow:
        m = task_force.add_member(uow.session, office.id, None, name="書審委員", sex="F", internal=True,
                                  role="convener", seat="unit_chief", term_start=clock.today().replace(month=1, day=1))
        uow.commit()
        mid = m.id
    html = liaison.get("/task-force").get_data(as_text=True)
    resp = liaison.client.post(f"/task-force/cases/{cid}/written", data={
        "csrf_token": csrf_token(html), "written-member_id": str(mid),
        "written-approved_on": rocdate.short(clock.today())})
    assert resp.status_code == 303
    assert "已有 1／1 位委員同意：書審委員" in text(liaison.get("/task-force"))
    res = approval.fire(cid, "approve", office.users["convener"], db=office.db)
    assert res.to_state == "approved"
