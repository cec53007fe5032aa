"""管理 › 課程代碼 (web/admin/course_codes.py): an administrator adds a lifelong-learning course code
and decides whether it counts as the CEDAW in-person course; the training register then counts
hours under it accordingly. Refused forms are 422 with the message and what was typed; nothing is
saved. The codes are shared by every office, so each test adds codes of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, csrf_token, forms, text
from workflow.db import Database
from workflow.models import AdminEvent, CourseCode
from workflow.registers import training, training_import
from workflow.registers.training_import import ImportRefused

PAGE = "/admin/course-codes"


def post(b: Browser, action: str, **fields: str | None) -> tuple[int, str, str]:
    """Submit the form posting to ``action`` on the page with its hidden fields and ticked boxes,
    ``fields`` (full names, e.g. ``new-code``; None leaves a field out) on top; (status, page text,
    html) after following a redirect."""
    found = forms(b.get(PAGE).get_data(as_text=True))
    assert action in found, f"no form posting to {action}: {sorted(found)}"
    data = {k: v for k, v in {**found[action], **fields}.items() if v is not None}
    resp = b.client.post(action, data=data, follow_redirects=True)
    html = resp.get_data(as_text=True)
    return resp.status_code, unescape(text(resp)), html


def new_code() -> str:
    return "T" + uuid.uuid4().hex[:8].upper()  # 9 letters and digits, not used by anyone else


def codes(db: Database) -> dict[str, tuple[str, bool]]:
    with db.unit_of_work(write=False) as uow:
        return {c.code: (c.label, c.counts_as_cedaw) for c in uow.session.scalars(select(CourseCode))}


def events(db: Database, office_id: int) -> list[AdminEvent]:
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(AdminEvent).where(AdminEvent.office_id == office_id,
                                                                 AdminEvent.what.like("course_code.%"))
                                        .order_by(AdminEvent.id)))


def cedaw_hours(office: OfficeFixture, name: str) -> float:
    with office.db.unit_of_work(write=False) as uow:
        return {p.name: p.cedaw_hours for p in training.compliance(uow.session, office.id, 115)}[name]


def import_csv(office: OfficeFixture, code: str) -> None:
    with office.db.unit_of_work() as uow:
        training_import.import_csv(uow.session, office.id, None, (
            "姓名,課程名稱,時數,上課方式,上課日期,課程代碼,課程類別\n"
            f"civil_staff,CEDAW 新課程,1.5,實體,115.03.02,{code},CEDAW\n").encode())
        uow.commit()


@pytest.fixture
def admin(as_user: Callable[[str], Browser], office: OfficeFixture) -> Browser:
    return as_user("admin")


def test_an_added_code_counts_as_cedaw_once_ticked(admin: Browser, office: OfficeFixture) -> None:
    code = new_code()
    with pytest.raises(ImportRefused):  # unknown codes are refused by the import
        import_csv(office, code)

    page = admin.get("/admin/").get_data(as_text=True)
    assert f'href="{PAGE}"' in page  # linked from the 管理 menu
    listing = unescape(text(admin.get(PAGE)))
    assert "410" in listing and "不能刪除" in listing

    status, page, _html = post(admin, PAGE, **{"new-code": code, "new-label": "CEDAW 新課程"})
    assert status == 200 and f"已新增課程代碼 {code}" in page, page
    assert codes(office.db)[code] == ("CEDAW 新課程", False)
    import_csv(office, code)  # now known
    assert cedaw_hours(office, "civil_staff") == 0  # filed under a code that does not count (yet)

    status, page, _html = post(admin, f"{PAGE}/{code}", **{f"c{code}-counts_as_cedaw": "y"})
    assert status == 200 and f"已更新課程代碼 {code}" in page, page
    assert codes(office.db)[code] == ("CEDAW 新課程", True)
    with office.db.unit_of_work(write=False) as uow:
        assert code in training.cedaw_codes(uow.session)
    assert cedaw_hours(office, "civil_staff") == 1.5

    added, updated = events(office.db, office.id)
    assert (added.what, added.actor_id, added.data) == ("course_code.add", office.users["admin"], {
        "code": code, "before": None, "after": {"label": "CEDAW 新課程", "counts_as_cedaw": False}})
    assert (updated.what, updated.data) == ("course_code.update", {
        "code": code, "before": {"label": "CEDAW 新課程", "counts_as_cedaw": False},
        "after": {"label": "CEDAW 新課程", "counts_as_cedaw": True}})


def test_an_edit_is_logged_with_before_and_after_and_no_change_logs_nothing(
        admin: Browser, office: OfficeFixture) -> None:
    code = new_code()
    post(admin, PAGE, **{"new-code": code, "new-counts_as_cedaw": "y"})
    assert codes(office.db)[code] == ("", True)
    status, page, _html = post(admin, f"{PAGE}/{code}")  # the row's form as it is
    assert status == 200 and "沒有任何變更" in page
    assert [e.what for e in events(office.db, office.id)] == ["course_code.add"]

    # Unticking: the box is simply not sent, as a browser does.
    status, page, _html = post(admin, f"{PAGE}/{code}", **{f"c{code}-label": "  性別 平等  ",
                                                           f"c{code}-counts_as_cedaw": None})
    assert status == 200 and f"已更新課程代碼 {code}" in page
    assert codes(office.db)[code] == ("性別 平等", False)
    last = events(office.db, office.id)[-1]
    assert last.data == {"code": code, "before": {"label": "", "counts_as_cedaw": True},
                         "after": {"label": "性別 平等", "counts_as_cedaw": False}}


@pytest.mark.parametrize(("typed", "message"), [
    ("410", "課程代碼 410 已存在"),
    ("", "請填寫課程代碼"),
    ("41 0", "課程代碼須為 1 至 10 個英文字母或數字"),
    ("41-0", "課程代碼須為 1 至 10 個英文字母或數字"),
    ("A" * 11, "課程代碼須為 1 至 10 個英文字母或數字"),
    ("課程", "課程代碼須為 1 至 10 個英文字母或數字"),
])
def test_a_duplicate_or_malformed_code_is_refused(admin: Browser, office: OfficeFixture, typed: str,
                                                   message: str) -> None:
    before = codes(office.db)
    status, page, html = post(admin, PAGE, **{"new-code": typed, "new-label": "我打的名稱",
                                              "new-counts_as_cedaw": "y"})
    assert status == 422 and message in page, page
    kept = forms(html)[PAGE]
    assert (kept["new-code"], kept["new-label"], kept.get("new-counts_as_cedaw")) == (typed, "我打的名稱", "y")
    assert codes(office.db) == before and events(office.db, office.id) == []


def test_a_code_differing_only_in_case_and_a_long_label_are_refused(admin: Browser, office: OfficeFixture) -> None:
    code = new_code()
    post(admin, PAGE, **{"new-code": code})
    status, page, _html = post(admin, PAGE, **{"new-code": code.lower()})
    assert status == 422 and f"課程代碼 {code} 已存在" in page
    status, page, html = post(admin, PAGE, **{"new-code": new_code(), "new-label": "長" * 101})
    assert status == 422 and "課程名稱最多 100 字" in page
    status, page, html = post(admin, f"{PAGE}/{code}", **{f"c{code}-label": "長" * 101,
                                                          f"c{code}-counts_as_cedaw": "y"})
    assert status == 422 and "課程名稱最多 100 字" in page
    assert forms(html)[f"{PAGE}/{code}"][f"c{code}-label"] == "長" * 101
    assert codes(office.db)[code] == ("", False)
    assert [e.what for e in events(office.db, office.id)] == ["course_code.add"]


def test_full_width_digits_are_taken_as_digits(admin: Browser, office: OfficeFixture) -> None:
    status, page, _html = post(admin, PAGE, **{"new-code": "４１０"})
    assert status == 422 and "課程代碼 410 已存在" in page


def test_an_unknown_code_is_not_found(admin: Browser) -> None:
    token = csrf_token(admin.get(PAGE).get_data(as_text=True))
    resp = admin.client.post(f"{PAGE}/NOSUCH", data={"csrf_token": token, "cNOSUCH-csrf_token": token})
    assert resp.status_code == 404


def test_only_administrators(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    before = codes(office.db)
    for who in ("personnel_chief", "personnel_staff", "liaison"):
        b = as_user(who)
        assert b.get(PAGE).status_code == 403
        token = csrf_token(b.get("/").get_data(as_text=True))  # the logout form's
        for url, data in [(PAGE, {"new-csrf_token": token, "new-code": new_code()}),
                          (f"{PAGE}/410", {"c410-csrf_token": token, "c410-label": "x"})]:
            assert b.client.post(url, data={"csrf_token": token, **data}).status_code == 403, (who, url)
    assert codes(office.db) == before and events(office.db, office.id) == []
