"""管理 (web/admin.py): units, users, roles, delegations, the calendar's reference data and document
templates, through the pages as an administrator uses them (CSRF on). Each refused form shows a
zh-TW message next to its field and keeps what was typed; every change leaves an admin_events row."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from html import unescape

import docx
import pytest
from sqlalchemy import select

from documents import service as documents
from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, forms, text
from workflow import clock, rocdate
from workflow.db import Database
from workflow.models import (
    AdminEvent,
    Case,
    Delegation,
    Office,
    OfficeClosure,
    PlanObligation,
    RoleAssignment,
    StepLimit,
    Unit,
    User,
)
from workflow.registers import training

PAGES = ["/admin/", "/admin/office", "/admin/units", "/admin/users", "/admin/delegations", "/admin/calendar",
         "/admin/templates"]


def post(b: Browser, page: str, action: str, **fields: object) -> tuple[int, str]:
    """Submit the form posting to ``action`` on ``page`` with its hidden fields plus ``fields``
    (full field names, e.g. ``user-login``); (status, page text) after following a redirect."""
    found = forms(b.get(page).get_data(as_text=True))
    assert action in found, f"no form posting to {action} on {page}: {sorted(found)}"
    data: dict[str, object] = dict(found[action])
    data.update(fields)
    resp = b.client.post(action, data=data, follow_redirects=True, content_type="multipart/form-data")
    return resp.status_code, unescape(text(resp))


def events(db: Database, office_id: int) -> list[AdminEvent]:
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(AdminEvent).where(AdminEvent.office_id == office_id)
                                        .order_by(AdminEvent.id)))


def one(db: Database, stmt: object) -> object:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalars(stmt).one()  # type: ignore[call-overload]


@pytest.fixture
def admin(as_user: Callable[[str], Browser]) -> Browser:
    return as_user("admin")


def new_user(b: Browser, office: OfficeFixture, login: str, **extra: str) -> int:
    fields = {"user-login": login, "user-display_name": "林小華", "user-sex": "F",
              "user-unit": str(office.units["civil"]), "user-title": "課員", "user-email": "lin@example.gov.tw",
              "user-password": "a-long-password", **extra}
    status, page = post(b, "/admin/users", "/admin/users", **fields)
    assert status == 200 and "已新增使用者" in page, page
    return int(one(office.db, select(User.id).where(User.login == login)))  # type: ignore[call-overload]


# -- who sees what ------------------------------------------------------------------------------------
def test_pages_are_for_the_offices_admins_only(as_user: Callable[[str], Browser],
                                               browser: Callable[[], Browser], office: OfficeFixture) -> None:
    admin, chief, anon = as_user("admin"), as_user("personnel_chief"), browser()
    user_page = f"/admin/users/{office.users['nobody']}"
    for url in [*PAGES, user_page]:
        assert admin.get(url).status_code == 200, url
        assert chief.get(url).status_code == 403, url
        assert anon.get(url).status_code == 302, url
    assert "管理" in text(admin.get("/")) and 'href="/admin/"' in admin.get("/").get_data(as_text=True)
    assert 'href="/admin/"' not in chief.get("/").get_data(as_text=True)


def test_another_offices_objects_are_not_found(admin: Browser, office: OfficeFixture,
                                                office_factory: Callable[[], OfficeFixture]) -> None:
    other = office_factory()
    with other.db.unit_of_work(write=False) as uow:
        ra = uow.session.scalars(select(RoleAssignment.id).where(
            RoleAssignment.user_id == other.users["civil_staff"])).first()
    with other.db.unit_of_work() as uow:
        d = Delegation(office_id=other.id, from_user_id=other.users["civil_chief"],
                       to_user_id=other.users["social_chief"], role="chief", valid_from=dt.date(2099, 1, 1),
                       valid_to=dt.date(2099, 1, 2))
        c = OfficeClosure(office_id=other.id, day=dt.date(2099, 1, 5), reason="颱風")
        uow.session.add_all([d, c])
        uow.session.flush()
        ids = d.id, c.id
        uow.commit()
    token = forms(admin.get("/admin/units").get_data(as_text=True))["/admin/units"]["unit-csrf_token"]
    assert admin.get(f"/admin/users/{other.users['nobody']}").status_code == 404
    for url, data in [
        (f"/admin/units/{other.units['civil']}", {f"u{other.units['civil']}-name": "x"}),
        (f"/admin/users/{other.users['nobody']}", {"details-display_name": "x", "details-sex": "F"}),
        (f"/admin/users/{other.users['nobody']}/active", {"active": "0"}),
        (f"/admin/users/{other.users['nobody']}/password", {"password-password": "another-password"}),
        (f"/admin/users/{other.users['nobody']}/roles", {"grant-role": "member", "grant-valid_from": "115.01.01"}),
        (f"/admin/roles/{ra}/end", {f"ra{ra}-valid_to": "115.01.01"}),
        (f"/admin/delegations/{ids[0]}/end", {"confirm": "yes"}),
        (f"/admin/closures/{ids[1]}/delete", {"confirm": "yes"}),
        ("/admin/templates/no_such_document", {}),
    ]:
        resp = admin.client.post(url, data={"csrf_token": token, **{k.split("-")[0] + "-csrf_token": token
                                                                     for k in data if "-" in k}, **data})
        assert resp.status_code == 404, (url, resp.status_code)
    with other.db.unit_of_work(write=False) as uow:  # nothing changed over there
        assert uow.session.get_one(User, other.users["nobody"]).active
        assert uow.session.get_one(User, other.users["nobody"]).display_name == "nobody"
        assert uow.session.get(OfficeClosure, ids[1]) is not None
    # Nor can one of this office's people be moved into the other office's unit.
    own = f"/admin/users/{office.users['nobody']}"
    status, body = post(admin, own, own, **{"details-display_name": "nobody", "details-sex": "M",
                                            "details-unit": str(other.units["civil"])})
    assert status == 422 and "請從清單選擇課室" in body
    # The other office's users are not offered in this office's delegation form either.
    assert other.logins["nobody"] not in admin.get("/admin/delegations").get_data(as_text=True)


# -- the office's own details ------------------------------------------------------------------------------
def _context(db: Database, case_id: int, name: str) -> dict[str, object]:
    from documents import context

    with db.unit_of_work(write=False) as uow:
        return context.build(uow.session, db, case_id, name, cause_seq=1)


def test_the_office_edits_its_name_and_the_next_documents_use_it(admin: Browser, office: OfficeFixture,
                                                                  office_factory: Callable[[], OfficeFixture]) -> None:
    other = office_factory()
    case_id = office.case("training_report")
    body = text(admin.get("/admin/office"))
    assert f"桃園市測試{office.code}區公所" in body and "測試性字第" in body  # the 發文字號's 字 as it is now
    url = "/admin/office"
    status, body = post(admin, url, url, **{"office-name": "  "})
    assert status == 422 and "請填寫機關全銜" in body
    with other.db.unit_of_work(write=False) as uow:
        taken = uow.session.get_one(Office, other.id).name
    resp = admin.client.post(url, data={**forms(admin.get(url).get_data(as_text=True))[url], "office-name": taken,
                                        "office-name_en": "Typo District Office"})
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and f"已有另一個區公所使用「{taken}」" in html
    assert 'value="Typo District Office"' in html  # what was typed is kept
    status, body = post(admin, url, url, **{"office-name": "桃園市龜山區公所",
                                            "office-name_en": "Guishan District Office"})
    assert status == 200 and "已更新本所資料" in body and "龜山性字第" in body
    status, body = post(admin, url, url)  # the form as shown: nothing to record
    assert status == 200 and "沒有任何變更" in body
    with office.db.unit_of_work(write=False) as uow:
        row = uow.session.get_one(Office, office.id)
        assert (row.name, row.name_en) == ("桃園市龜山區公所", "Guishan District Office")
        assert uow.session.get_one(Office, other.id).name == taken
    ctx = _context(office.db, case_id, "sign_memo")
    assert ctx["office_name"] == "桃園市龜山區公所" and str(ctx["doc_no"]).startswith("龜山性字第115")
    assert [(e.what, e.data["old"]["name"], e.data["new"]["name"]) for e in events(office.db, office.id)] == [
        ("office.edit", f"桃園市測試{office.code}區公所", "桃園市龜山區公所")]
    assert events(other.db, other.id) == []


def test_the_office_sets_the_address_and_telephone_its_letters_print(admin: Browser, office: OfficeFixture) -> None:
    case_id = office.case("training_report")
    url = "/admin/office"
    body = text(admin.get(url))
    assert "本所的地址或電話尚未填寫" in body  # a new office: the 函 would print blank lines
    assert _context(office.db, case_id, "city_letter")["office_address"] == ""
    resp = admin.client.post(url, data={**forms(admin.get(url).get_data(as_text=True))[url],
                                        "office-phone": "03-123 請洽"})
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "電話只能有數字" in html and 'value="03-123 請洽"' in html  # kept
    status, body = post(admin, url, url, **{"office-address": "330 桃園市桃園區縣府路 1 號",
                                            "office-phone": "(03) 332-2101 轉 123"})
    assert status == 200 and "已更新本所資料" in body and "本所的地址或電話尚未填寫" not in body
    ctx = _context(office.db, case_id, "city_letter")
    assert (ctx["office_address"], ctx["office_phone"]) == ("330 桃園市桃園區縣府路 1 號", "(03) 332-2101 轉 123")
    (event,) = [e for e in events(office.db, office.id) if e.what == "office.edit"]
    assert event.data["old"]["address"] == "" and event.data["new"]["phone"] == "(03) 332-2101 轉 123"


def test_the_letters_receiver_is_the_obligations_receiver_an_admin_edits(admin: Browser,
                                                                           office: OfficeFixture) -> None:
    from documents.context import RECEIVER

    case_id = office.case("training_report")
    with office.db.unit_of_work(write=False) as uow:
        period = uow.session.get_one(Case, case_id).period
        ob = uow.session.scalars(select(PlanObligation).where(PlanObligation.kind == "training_report",
                                                              PlanObligation.period == period)).one()
    assert _context(office.db, case_id, "city_letter")["receiver"] == ob.receiver
    try:
        status, _body = post(admin, "/admin/calendar", f"/admin/obligations/{ob.id}", **{
            f"ob{ob.id}-due_month": str(ob.due_month), f"ob{ob.id}-due_day": str(ob.due_day),
            f"ob{ob.id}-due_year_offset": str(ob.due_year_offset), f"ob{ob.id}-receiver": "桃園市政府社會局"})
        assert status == 200
        assert _context(office.db, case_id, "city_letter")["receiver"] == "桃園市政府社會局"
    finally:  # shared reference data: put it back for the other tests
        with office.db.unit_of_work() as uow:
            uow.session.get_one(PlanObligation, ob.id).receiver = ob.receiver
            uow.commit()
    amendment = office.case("plan_amendment")  # ad hoc: no obligation names a receiver
    assert _context(office.db, amendment, "city_letter")["receiver"] == RECEIVER


# -- units -------------------------------------------------------------------------------------------------
def test_add_and_rename_a_unit(admin: Browser, office: OfficeFixture) -> None:
    status, page = post(admin, "/admin/units", "/admin/units", **{"unit-code": "economy", "unit-name": "經建課",
                                                                   "unit-name_en": "Economic Affairs"})
    assert status == 200 and "已新增課室「經建課」" in page
    uid = int(one(office.db, select(Unit.id).where(Unit.office_id == office.id,  # type: ignore[call-overload]
                                                      Unit.code == "economy")))
    status, page = post(admin, "/admin/units", f"/admin/units/{uid}", **{f"u{uid}-name": "經濟建設課"})
    assert status == 200 and "已將「經建課」更名為「經濟建設課」" in page
    # Duplicate code and a missing name: messages next to the fields, the typed text kept.
    status, page = post(admin, "/admin/units", "/admin/units", **{"unit-code": "economy", "unit-name": "重複課"})
    assert status == 422 and "此課室代碼已經有了" in page
    assert 'value="重複課"' in admin.client.post("/admin/units", data={
        **forms(admin.get("/admin/units").get_data(as_text=True))["/admin/units"],
        "unit-code": "economy", "unit-name": "重複課"}).get_data(as_text=True)
    status, page = post(admin, "/admin/units", f"/admin/units/{uid}", **{f"u{uid}-name": ""})
    assert status == 422 and "請填寫課室名稱" in page
    # Spaces alone (full-width included) are no name either; a name is stored without them.
    status, page = post(admin, "/admin/units", f"/admin/units/{uid}", **{f"u{uid}-name": "\u3000 "})
    assert status == 422 and "請填寫課室名稱" in page
    status, page = post(admin, "/admin/units", "/admin/units",
                        **{"unit-code": "tourism", "unit-name": "  觀光課\u3000"})
    assert status == 200 and "已新增課室「觀光課」" in page
    assert [e.what for e in events(office.db, office.id)] == ["unit.add", "unit.rename", "unit.add"]


# -- users and roles ---------------------------------------------------------------------------------------
def test_add_a_user_grant_a_role_and_the_user_logs_in(admin: Browser, browser: Callable[[], Browser],
                                                         office: OfficeFixture) -> None:
    login = f"{office.code}.lin"
    uid = new_user(admin, office, login)
    page = f"/admin/users/{uid}"
    status, body = post(admin, page, f"{page}/roles", **{
        "grant-role": "staff", "grant-unit": str(office.units["personnel"]), "grant-valid_from": "115.01.01"})
    assert status == 200 and "已指派「承辦人」給「林小華」" in body
    assert "承辦人" in text(admin.get("/admin/users"))
    with office.db.unit_of_work(write=False) as uow:
        u = uow.session.get_one(User, uid)
        assert u.password_hash and u.password_hash.startswith("scrypt:") and u.unit_id == office.units["civil"]
        ra = uow.session.scalars(select(RoleAssignment).where(RoleAssignment.user_id == uid)).one()
        assert (ra.role, ra.unit_id, ra.valid_from) == ("staff", office.units["personnel"], dt.date(2026, 1, 1))
    new = browser()
    assert new.login(login, "a-long-password").status_code == 303
    assert "我的案件" in text(new.get("/"))  # a staff member of a unit that owns a kind drafts cases
    assert [e.what for e in events(office.db, office.id)] == ["user.add", "role.grant"]
    assert "password" not in str(events(office.db, office.id)[0].data)


def test_bad_user_inputs_show_their_messages_and_keep_what_was_typed(admin: Browser, office: OfficeFixture) -> None:
    base = {"user-login": office.logins["nobody"], "user-display_name": "王大明", "user-sex": "M",
            "user-unit": "", "user-title": "課員", "user-email": "", "user-password": "a-long-password"}
    status, page = post(admin, "/admin/users", "/admin/users", **base)
    assert status == 422 and "此帳號已有人使用，請換一個" in page
    status, page = post(admin, "/admin/users", "/admin/users", **{**base, "user-login": f"{office.code}.wang",
                                                                   "user-password": "short"})
    assert status == 422 and "密碼長度須為 8 至 128 個字元" in page
    resp = admin.client.post("/admin/users", data={**forms(admin.get("/admin/users").get_data(as_text=True))[
        "/admin/users"], **base, "user-login": f"{office.code}.wang", "user-email": "not-an-address"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "電子郵件格式不正確" in html
    assert 'value="王大明"' in html and f'value="{office.code}.wang"' in html  # nothing typed is lost
    assert 'aria-invalid="true"' in html and "user-email-error" in html
    assert events(office.db, office.id) == []


def test_role_grants_check_unit_and_dates_and_warn_about_the_liaisons_level(admin: Browser,
                                                                             office: OfficeFixture) -> None:
    uid = office.users["nobody"]
    page = f"/admin/users/{uid}"
    status, body = post(admin, page, f"{page}/roles", **{"grant-role": "chief", "grant-unit": "",
                                                         "grant-valid_from": "115.01.01"})
    assert status == 422 and "「課長」須指定課室" in body
    status, body = post(admin, page, f"{page}/roles", **{
        "grant-role": "member", "grant-unit": "", "grant-valid_from": "2026-05-01", "grant-valid_to": "115.04.01"})
    assert status == 422 and "結束日期不可早於起始日期" in body
    status, body = post(admin, page, f"{page}/roles", **{"grant-role": "member", "grant-unit": "",
                                                         "grant-valid_from": "去年"})
    assert status == 422 and "日期格式不正確" in body
    # A liaison whose title is not section-chief level: granted, with a warning.
    status, body = post(admin, page, f"{page}/roles", **{"grant-role": "liaison", "grant-unit": "",
                                                         "grant-valid_from": "115.01.01"})
    assert status == 200 and "已指派「性別議題聯絡人」" in body and "此人職稱為「未填」" in body
    # The same role again over the same days: refused, naming the assignment already there.
    status, body = post(admin, page, f"{page}/roles", **{"grant-role": "liaison", "grant-unit": "",
                                                         "grant-valid_from": "115.06.01"})
    assert status == 422 and "已有「性別議題聯絡人」（115.01.01 起），不必重複指派" in body
    with office.db.unit_of_work() as uow:
        uow.session.get_one(User, uid).title = "主任秘書"
        uow.commit()
    status, body = post(admin, page, f"{page}/roles", **{"grant-role": "deputy_liaison", "grant-unit": "",
                                                         "grant-valid_from": "115.01.01"})
    assert status == 200 and "已指派「代理聯絡人」" in body and "此人職稱為" not in body
    # Ending an assignment: not before it started; then it ends on the day given.
    ra = int(one(office.db, select(RoleAssignment.id).where(  # type: ignore[call-overload]
        RoleAssignment.user_id == uid, RoleAssignment.role == "liaison")))
    status, body = post(admin, page, f"/admin/roles/{ra}/end", **{f"ra{ra}-valid_to": "114.12.31"})
    assert status == 422 and "結束日期不可早於起始日期（115.01.01）" in body
    status, body = post(admin, page, f"/admin/roles/{ra}/end", **{f"ra{ra}-valid_to": "115.06.30"})
    assert status == 200 and "將於 115.06.30 結束" in body
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(RoleAssignment, ra).valid_to == dt.date(2026, 6, 30)
    assert [e.what for e in events(office.db, office.id)] == ["role.grant", "role.grant", "role.end"]


def test_employee_number_and_gender_equality_staff_are_kept_on_the_person(admin: Browser,
                                                                          office: OfficeFixture) -> None:
    """What training imports match by (員工編號, unique in the office) and who needs 10 h."""
    uid, other = office.users["nobody"], office.users["civil_staff"]
    base = {"details-display_name": "nobody", "details-sex": "M", "details-unit": str(office.units["civil"]),
            "details-title": "", "details-email": "", "details-employee_no": "T-0042", "details-ge_staff": "y"}
    status, body = post(admin, f"/admin/users/{uid}", f"/admin/users/{uid}", **base)
    assert status == 200 and "已更新「nobody」的基本資料" in body
    with office.db.unit_of_work(write=False) as uow:
        u = uow.session.get_one(User, uid)
        assert (u.employee_no, u.ge_staff) == ("T-0042", True)
    status, body = post(admin, f"/admin/users/{other}", f"/admin/users/{other}",
                        **{**base, "details-display_name": "civil_staff"})
    assert status == 422 and "員工編號已用於「nobody」" in body
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(User, other).employee_no is None


def test_joining_day_and_civil_servant_decide_whose_training_hours_count(admin: Browser,
                                                                        office: OfficeFixture) -> None:
    """到職日 marks someone who joined during the year; unticking 本所公務人員 (an external member,
    a system account) takes them off the compliance table; a joining day that is no day is refused."""
    uid = office.users["nobody"]
    page = f"/admin/users/{uid}"
    assert forms(admin.get(page).get_data(as_text=True))[page].get("details-civil_servant") == "y"  # ticked
    base = {"details-sex": "M", "details-unit": str(office.units["civil"])}  # what the selects show
    status, body = post(admin, page, page, **base, **{"details-joined_on": "115.02.30"})
    assert status == 422 and "沒有「115.02.30」這一天" in body
    status, body = post(admin, page, page, **base, **{"details-joined_on": "115.07.01"})
    assert status == 200 and "已更新「nobody」的基本資料" in body and "115.07.01" in body
    with office.db.unit_of_work(write=False) as uow:
        year = {p.name: p for p in training.compliance(uow.session, office.id, 115)}
    assert year["nobody"].joined == dt.date(2026, 7, 1)
    found = {**forms(admin.get(page).get_data(as_text=True))[page], **base}
    found.pop("details-civil_servant")  # unticked: a browser sends nothing for it
    resp = admin.client.post(page, data=found, follow_redirects=True)
    assert resp.status_code == 200 and "不適用培力時數規定" in text(resp)
    with office.db.unit_of_work(write=False) as uow:
        assert "nobody" not in {p.name for p in training.compliance(uow.session, office.id, 115)}
    assert [e.data["new"] for e in events(office.db, office.id) if e.what == "user.edit"] == [
        {"joined_on": "2026-07-01"}, {"civil_servant": False}]


def test_edit_a_users_details(admin: Browser, office: OfficeFixture) -> None:
    uid = office.users["nobody"]
    page = f"/admin/users/{uid}"
    base = {"details-display_name": "陳美玲", "details-sex": "F", "details-unit": str(office.units["civil"]),
            "details-title": "課員", "details-email": "chen@example.gov.tw"}
    resp = admin.client.post(page, data={**forms(admin.get(page).get_data(as_text=True))[page], **base,
                                         "details-email": "chen.example.gov.tw"})
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "電子郵件格式不正確" in html and 'value="陳美玲"' in html
    status, body = post(admin, page, page, **{**base, "details-display_name": ""})
    assert status == 422 and "請填寫姓名" in body
    status, body = post(admin, page, page, **{**base, "details-unit": "999999"})
    assert status == 422 and "請從清單選擇課室" in body
    assert events(office.db, office.id) == []
    status, body = post(admin, page, page, **base)
    assert status == 200 and "已更新「陳美玲」的基本資料" in body
    with office.db.unit_of_work(write=False) as uow:
        u = uow.session.get_one(User, uid)
        assert (u.display_name, u.sex, u.unit_id, u.title, u.email) == (
            "陳美玲", "F", office.units["civil"], "課員", "chen@example.gov.tw")
    status, body = post(admin, page, page, **base)
    assert status == 200 and "沒有任何變更" in body
    (event,) = events(office.db, office.id)
    assert event.what == "user.edit" and event.data["old"] == {"display_name": "nobody", "sex": "M", "title": None,
                                                               "email": None}
    assert event.data["new"] == {"display_name": "陳美玲", "sex": "F", "title": "課員", "email": "chen@example.gov.tw"}
    # A liaison whose new title is below section-chief level: saved, with the plan's warning.
    liaison = office.users["liaison"]
    with office.db.unit_of_work() as uow:
        uow.session.get_one(User, liaison).title = "課長"
        uow.commit()
    lpage = f"/admin/users/{liaison}"
    status, body = post(admin, lpage, lpage, **{**base, "details-display_name": "liaison",
                                                "details-unit": str(office.units["civil"]), "details-title": "課員"})
    assert status == 200 and "性別議題聯絡人應由課長（含）以上層級擔任" in body


def test_an_absurd_or_foreign_unit_id_in_the_user_form_is_just_invalid(admin: Browser, office: OfficeFixture) -> None:
    page = f"/admin/users/{office.users['nobody']}"
    for unit in ("9" * 25, "2147483648", "١٢", "-1"):
        resp = admin.client.post(page, data={**forms(admin.get(page).get_data(as_text=True))[page],
                                             "details-display_name": "某人", "details-sex": "F", "details-unit": unit})
        assert resp.status_code == 422, unit  # the form again, with the unit's message; never a 500


def test_moving_a_chief_to_another_unit_ends_the_old_units_roles(admin: Browser, office: OfficeFixture) -> None:
    from workflow.people import directory, permissions

    today = clock.today()
    uid, civil, social = office.users["civil_chief"], office.units["civil"], office.units["social"]
    with office.db.unit_of_work() as uow:
        s = uow.session
        chief = s.get_one(User, uid)
        later = directory.grant(s, chief, "staff", unit=s.get_one(Unit, civil),
                                valid_from=today + dt.timedelta(days=30))
        kept = directory.grant(s, chief, "staff", unit=s.get_one(Unit, office.units["personnel"]))
        away = directory.delegate(s, chief, s.get_one(User, office.users["social_chief"]), "chief", today,
                                  today + dt.timedelta(days=10))
        planned = directory.delegate(s, chief, s.get_one(User, office.users["personnel_chief"]), "chief",
                                     today + dt.timedelta(days=20), today + dt.timedelta(days=25))
        ids = later.id, kept.id, away.id, planned.id
        uow.commit()
        sex = chief.sex
    page = f"/admin/users/{uid}"
    assert "此人目前在原課室擔任：課長、承辦人" in text(admin.get(page))
    move = {"details-display_name": "civil_chief", "details-sex": sex, "details-unit": str(social),
            "details-title": "", "details-email": ""}
    status, body = post(admin, page, page, **{**move, "details-end_unit_roles": ""})
    assert status == 422 and "「civil_chief」目前是「civil」的課長、承辦人，調動課室須一併結束這些角色" in body
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(User, uid).unit_id == civil  # refused: nothing changed
    assert events(office.db, office.id) == []
    status, body = post(admin, page, page, **{**move, "details-end_unit_roles": "y"})
    assert status == 200 and "已更新「civil_chief」的基本資料" in body
    assert f"在「civil」的課長、承辦人於今天（{rocdate.short(today)}）結束" in body
    assert "若「civil_chief」在「social」擔任承辦人或課長，請在下方「指派角色」新增" in body
    assert "「civil」明天起沒有課長" in body
    with office.db.unit_of_work(write=False) as uow:
        s = uow.session
        assert s.get_one(User, uid).unit_id == social
        rows = {ra.id: ra for ra in s.scalars(select(RoleAssignment).where(RoleAssignment.user_id == uid))}
        assert ids[0] not in rows  # had not started: cancelled
        assert rows[ids[1]].valid_to is None  # another unit's role is not the move's business
        (ended,) = [ra for ra in rows.values() if ra.role == "chief"]
        assert (ended.unit_id, ended.valid_to) == (civil, today)  # kept, with its end: the history stays
        assert s.get_one(Delegation, ids[2]).valid_to == today
        assert s.get(Delegation, ids[3]) is None  # had not started: cancelled
        tomorrow = today + dt.timedelta(days=1)
        assert {(c.role, c.unit_id) for c in permissions.capacities(s, uid, office.id, today)} >= {("chief", civil)}
        assert {(c.role, c.unit_id) for c in permissions.capacities(s, uid, office.id, tomorrow)} == {
            ("staff", office.units["personnel"])}
        delegate = permissions.capacities(s, office.users["social_chief"], office.id, tomorrow)
        assert ("chief", civil) not in {(c.role, c.unit_id) for c in delegate}
    assert [(e.what, e.data.get("because")) for e in events(office.db, office.id)] == [
        ("user.edit", None), ("role.end", "unit_move"), ("role.cancel", "unit_move"), ("delegation.end", "unit_move"),
        ("delegation.cancel", "unit_move")]


def test_deactivate_reactivate_and_reset_a_password(admin: Browser, browser: Callable[[], Browser],
                                                     office: OfficeFixture) -> None:
    uid, login = office.users["civil_staff"], office.logins["civil_staff"]
    page = f"/admin/users/{uid}"
    status, body = post(admin, page, f"{page}/active")
    assert status == 200 and "已停用" in body
    assert browser().login(login).status_code == 200  # refused: the login form again
    status, body = post(admin, page, f"{page}/active")
    assert status == 200 and "已啟用" in body
    status, body = post(admin, page, f"{page}/password", **{"password-password": "short"})
    assert status == 422 and "密碼長度須為 8 至 128 個字元" in body
    status, body = post(admin, page, f"{page}/password", **{"password-password": "a-brand-new-password"})
    assert status == 200 and "已重設" in body
    assert browser().login(login).status_code == 200
    assert browser().login(login, "a-brand-new-password").status_code == 303
    # An administrator cannot lock themselves out.
    own = f"/admin/users/{office.users['admin']}"
    status, body = post(admin, own, f"{own}/active")
    assert "不能停用自己的帳號" in body
    assert [e.what for e in events(office.db, office.id)] == ["user.deactivate", "user.activate",
                                                              "user.password_reset"]


# -- delegations ---------------------------------------------------------------------------------------
def test_delegations(admin: Browser, office: OfficeFixture) -> None:
    chief, social_chief = office.users["personnel_chief"], office.users["social_chief"]
    today = clock.today()
    base = {"delegation-from_user": str(chief), "delegation-to_user": str(social_chief), "delegation-role": "chief",
            "delegation-valid_from": today.isoformat(),
            "delegation-valid_to": (today + dt.timedelta(days=5)).isoformat(), "delegation-reason": "休假"}
    url = "/admin/delegations"
    status, body = post(admin, url, url, **{**base, "delegation-to_user": str(chief)})
    assert status == 422 and "代理人不能是被代理人本人" in body
    status, body = post(admin, url, url, **{**base, "delegation-valid_to": (today - dt.timedelta(days=1)).isoformat()})
    assert status == 422 and "結束日期不可早於起始日期" in body
    past = {"delegation-valid_from": (today - dt.timedelta(days=10)).isoformat(),
            "delegation-valid_to": (today - dt.timedelta(days=5)).isoformat()}
    status, body = post(admin, url, url, **{**base, **past})
    assert status == 422 and "結束日期已經過了" in body  # it would never lend anything
    status, body = post(admin, url, url, **{**base, "delegation-role": "secretariat"})
    assert status == 422 and "沒有「秘書室」的角色，無從代理" in body
    status, body = post(admin, url, url, **base)
    assert status == 200 and "已設定" in body and "休假" in body
    status, body = post(admin, url, url, **{**base, "delegation-to_user": str(office.users["civil_chief"])})
    assert status == 422 and "期間不可重疊" in body
    d = int(one(office.db, select(Delegation.id).where(Delegation.from_user_id == chief)))  # type: ignore[call-overload]
    assert "帳號已停用，代理不生效" not in text(admin.get(url))
    with office.db.unit_of_work() as uow:  # the principal leaves: the page says the delegation lends nothing
        uow.session.get_one(User, chief).active = False
        uow.commit()
    assert "帳號已停用，代理不生效" in text(admin.get(url))
    status, body = post(admin, url, f"/admin/delegations/{d}/end")
    assert status == 200 and "代理已於今天" in body
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.get_one(Delegation, d).valid_to == today
    assert [e.what for e in events(office.db, office.id)] == ["delegation.add", "delegation.end"]


# -- the calendar's reference data ---------------------------------------------------------------------
def test_reference_data_of_the_calendar(admin: Browser, office: OfficeFixture) -> None:
    ob = one(office.db, select(PlanObligation).order_by(PlanObligation.id).limit(1))
    assert isinstance(ob, PlanObligation)
    url = "/admin/calendar"
    try:
        status, body = post(admin, url, f"/admin/obligations/{ob.id}", **{
            f"ob{ob.id}-due_month": "13", f"ob{ob.id}-due_day": str(ob.due_day),
            f"ob{ob.id}-due_year_offset": str(ob.due_year_offset)})
        assert status == 422 and "月份須為 1 至 12" in body
        status, body = post(admin, url, f"/admin/obligations/{ob.id}", **{
            f"ob{ob.id}-due_month": str(ob.due_month), f"ob{ob.id}-due_day": "12",
            f"ob{ob.id}-due_year_offset": str(ob.due_year_offset), f"ob{ob.id}-receiver": "桃園市政府測試局"})
        assert status == 200 and "已更新" in body
        with office.db.unit_of_work(write=False) as uow:
            row = uow.session.get_one(PlanObligation, ob.id)
            assert (row.due_day, row.receiver) == (12, "桃園市政府測試局")
    finally:  # shared reference data: put it back for the other tests
        with office.db.unit_of_work() as uow:
            row = uow.session.get_one(PlanObligation, ob.id)
            row.due_day, row.receiver = ob.due_day, ob.receiver
            uow.commit()
    status, body = post(admin, url, "/admin/step-limits", **{"limit-kind": "training_report", "limit-state": "nowhere",
                                                             "limit-working_days": "4"})
    assert status == 422 and "「nowhere」不是這個類別的步驟" in body
    try:
        status, body = post(admin, url, "/admin/step-limits", **{"limit-kind": "training_report",
                                                                 "limit-state": "section_review",
                                                                 "limit-working_days": "4"})
        assert status == 200 and "已設定步驟期限" in body
        assert one(office.db, select(StepLimit.working_days).where(  # type: ignore[call-overload]
            StepLimit.kind == "training_report", StepLimit.state == "section_review")) == 4
    finally:
        with office.db.unit_of_work() as uow:
            uow.session.execute(StepLimit.__table__.delete().where(StepLimit.kind == "training_report",
                                                                   StepLimit.state == "section_review"))
            uow.commit()
    status, body = post(admin, url, "/admin/closures", **{"closure-day": "115.13.40", "closure-reason": "颱風"})
    assert status == 422 and "沒有「115.13.40」這一天" in body  # a date's shape, but no such day
    status, body = post(admin, url, "/admin/closures", **{"closure-day": "颱風天", "closure-reason": "颱風"})
    assert status == 422 and "日期格式不正確" in body
    status, body = post(admin, url, "/admin/closures", **{"closure-day": "115.08.03", "closure-reason": "\u3000"})
    assert status == 422 and "請填寫原因" in body
    status, body = post(admin, url, "/admin/closures", **{"closure-day": "115.08.03", "closure-reason": "颱風停班"})
    assert status == 200 and "已登記 115.08.03 為停班日" in body
    status, body = post(admin, url, "/admin/closures", **{"closure-day": "2026-08-03", "closure-reason": "again"})
    assert status == 422 and "這一天已經登記為停班日" in body
    from workflow.calendar import workdays
    with office.db.unit_of_work(write=False) as uow:
        assert not workdays.for_office(uow.session, office.id).is_working_day(dt.date(2026, 8, 3))
        cid = uow.session.scalars(select(OfficeClosure.id).where(OfficeClosure.office_id == office.id)).one()
    status, body = post(admin, url, f"/admin/closures/{cid}/delete")
    assert status == 200 and "已移除停班日 115.08.03" in body
    assert [e.what for e in events(office.db, office.id)] == [
        "plan.obligation", "plan.step_limit", "closure.add", "closure.remove"]


# -- document templates --------------------------------------------------------------------------------
def docx_with(*paragraphs: str) -> bytes:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def upload(b: Browser, name: str, data: bytes) -> tuple[int, str]:
    return post(b, "/admin/templates", f"/admin/templates/{name}",
                **{f"t_{name}-file": (io.BytesIO(data), "範本.docx")})


@pytest.mark.fault
@pytest.mark.parametrize(("content", "message"), [
    (b"PK\x03\x04 not really a zip", "這不是 Word（.docx）檔案"),
    (docx_with("{{ office_name "), "範本語法錯誤"),
    (docx_with("{{ office_name }}{{ no_such_field }}"), "範本使用了此文件沒有的欄位：no_such_field"),
    (docx_with("{{ cycler.__init__.__globals__.os.popen }}"), "範本使用了不允許的語法（安全限制）"),
    (docx_with("{{ cycler.__init__.__globals__.os.popen('id').read() }}"), "範本使用了不允許的語法（安全限制）"),
])
def test_a_bad_template_is_refused_with_its_message(admin: Browser, office: OfficeFixture, content: bytes,
                                                    message: str) -> None:
    status, body = upload(admin, "sign_memo", content)
    assert status == 422 and message in body
    assert documents.template_for(office.db, office.id, "sign_memo")[2] == 0
    assert events(office.db, office.id) == []


def test_a_good_template_is_used_by_the_next_render_and_can_be_reverted(admin: Browser,
                                                                        office: OfficeFixture) -> None:
    first, second = docx_with("{{ office_name }}：{{ case_title }}"), docx_with("第二版 {{ subject }}")
    assert upload(admin, "sign_memo", first)[1].count("已啟用新範本（第 1 版）") == 1
    data, sha, version = documents.template_for(office.db, office.id, "sign_memo")
    assert (data, version) == (first, 1)
    status, body = upload(admin, "sign_memo", second)
    assert status == 200 and "第 2 版" in body
    assert documents.template_for(office.db, office.id, "sign_memo")[:3:2] == (second, 2)
    status, body = post(admin, "/admin/templates", "/admin/templates/sign_memo/revert")
    assert status == 200 and "已改回系統內建範本" in body
    assert documents.template_for(office.db, office.id, "sign_memo")[2] == 0
    assert [e.what for e in events(office.db, office.id)] == ["template.upload", "template.upload",
                                                              "template.revert"]
    assert sha == events(office.db, office.id)[0].data["sha256"]


def test_an_upload_racing_another_gets_the_next_version_or_a_clear_message(
        admin: Browser, office: OfficeFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another administrator's upload lands between this upload reading the latest version and writing
    the next: the (office, document, version) key refuses the write; this upload is numbered after
    theirs (no 500), and only when that keeps happening is the uploader asked to reload."""
    from documents import templates_admin
    from workflow.models import DocumentTemplate

    theirs, ours = docx_with("他們的 {{ subject }}"), docx_with("我們的 {{ subject }}")
    real = templates_admin._latest_version
    reads: list[int] = []

    def read_before_theirs_landed(s: object, office_id: int, name: str) -> int:
        reads.append(real(s, office_id, name))  # type: ignore[arg-type]
        return reads[-1] - 1 if len(reads) == 1 else reads[-1]  # the first read predates their commit

    assert templates_admin.upload(office.db, office.id, "sign_memo", theirs, office.users["secretariat"]).version == 1
    monkeypatch.setattr(templates_admin, "_latest_version", read_before_theirs_landed)
    status, body = upload(admin, "sign_memo", ours)
    assert status == 200 and "已啟用新範本（第 2 版）" in body
    assert reads == [1, 1]
    assert documents.template_for(office.db, office.id, "sign_memo")[:3:2] == (ours, 2)
    with office.db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(DocumentTemplate.version, DocumentTemplate.active).where(
            DocumentTemplate.office_id == office.id).order_by(DocumentTemplate.version)).all()
    assert [tuple(r) for r in rows] == [(1, False), (2, True)]
    assert [(e.what, e.data["version"]) for e in events(office.db, office.id)] == [
        ("template.upload", 1), ("template.upload", 2)]
    # Every attempt beaten to its number: a clear message, the form again, nothing half-stored.
    monkeypatch.setattr(templates_admin, "_latest_version", lambda s, office_id, name: real(s, office_id, name) - 1)
    status, body = upload(admin, "sign_memo", docx_with("第三份 {{ subject }}"))
    assert status == 422 and "其他人剛剛也上傳了「簽」的範本，這份沒有啟用；請重新整理頁面" in body
    assert documents.template_for(office.db, office.id, "sign_memo")[:3:2] == (ours, 2)
    assert len(events(office.db, office.id)) == 2


def test_the_cli_uploads_with_the_same_checks(office: OfficeFixture, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: object) -> None:
    from pathlib import Path

    from click.testing import CliRunner

    from caseflow.cli import main

    monkeypatch.setenv("DATABASE_URL", office.db.url)
    good, bad = Path(str(tmp_path)) / "good.docx", Path(str(tmp_path)) / "bad.docx"
    good.write_bytes(docx_with("{{ office_name }} {{ rows }}"))
    bad.write_bytes(docx_with("{{ nope }}"))
    runner = CliRunner()
    args = ["documents", "template-upload", "training_results", "--office", office.code, "--as", office.logins["admin"]]
    result = runner.invoke(main, [*args[:3], str(bad), *args[3:]])
    assert result.exit_code == 2 and "nope" in result.output
    result = runner.invoke(main, [*args[:3], str(good), *args[3:]])
    assert result.exit_code == 0, result.output
    assert documents.template_for(office.db, office.id, "training_results")[2] == 1
    args[-1] = office.logins["personnel_staff"]
    result = runner.invoke(main, [*args[:3], str(good), *args[3:]])
    assert result.exit_code == 2 and "admin" in result.output


def test_the_next_document_is_rendered_from_the_uploaded_template(admin: Browser, office: OfficeFixture) -> None:
    from documents.text import docx_text
    from tests.web.conftest import submitted
    from workflow.models import Document, OutboxMessage

    assert upload(admin, "sign_memo", docx_with("新版簽：{{ case_title }}／{{ office_name }}"))[0] == 200
    case_id = submitted(office)  # entering section_review asks for the 簽
    with office.db.unit_of_work(write=False) as uow:
        outbox = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == case_id)))
    for i in outbox:
        documents.process_outbox(office.db, i, convert_formats=False)
    with office.db.unit_of_work(write=False) as uow:
        doc = uow.session.scalars(select(Document).where(Document.case_id == case_id,
                                                         Document.name == "sign_memo")).one()
        assert (doc.status, doc.template_version) == ("ready", 1)
        key = doc.storage_key
    assert key is not None
    assert "新版簽：training_report test／桃園市測試" in docx_text(documents.document_store().get(key))


def test_admin_events_are_append_only(admin: Browser, office: OfficeFixture) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    post(admin, "/admin/units", "/admin/units", **{"unit-code": "audit", "unit-name": "政風室"})
    for stmt in (update(AdminEvent).where(AdminEvent.office_id == office.id).values(what="forged"),
                 delete(AdminEvent).where(AdminEvent.office_id == office.id)):
        with pytest.raises(DBAPIError, match="append-only"), office.db.unit_of_work() as uow:
            uow.session.execute(stmt)
            uow.commit()
    assert [e.what for e in events(office.db, office.id)] == ["unit.add"]
