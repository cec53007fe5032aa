"""The web app through its pages, with CSRF on: log in, see the queue, open a case, act on it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, case_row, csrf_token, forms, submitted, text
from workflow.cases import approval
from workflow.clock import today
from workflow.models import User
from workflow.people import directory


# -- the queue ----------------------------------------------------------------------------------
def test_queue_lists_the_chiefs_waiting_cases_oldest_first(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    first, second = submitted(office), submitted(office)
    page = as_user("personnel_chief").get("/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert body.index(f'href="/cases/{first}"') < body.index(f'href="/cases/{second}"')
    words = text(page)
    assert "培力成果報告" in words and "課長審核" in words and "personnel" in words
    assert "等候天數" in words and "期限" in words


def test_empty_queue_says_so(as_user: Callable[[str], Browser]) -> None:
    page = as_user("nobody").get("/")
    assert "目前沒有需要您處理的案件。" in text(page)


# -- the case page ------------------------------------------------------------------------------
def test_case_page_shows_state_fields_actions_and_history(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    cid = submitted(office)
    page = as_user("personnel_chief").get(f"/cases/{cid}")
    assert page.status_code == 200
    html, words = page.get_data(as_text=True), text(page)
    assert "培力成果報告" in words and "民國 115 年" in words and "課長審核" in words
    # fields by their declared specs: the summary, and the course rows as a table
    assert "辦理情形摘要" in words and "本季辦理性別主流化課程" in words
    assert "課程名稱" in words and "CEDAW 案例研討：間接歧視" in words
    # the workflow with the current state marked
    assert re.search(r'<li class="current" aria-current="step">\s*<span class="flow-state">課長審核', html)
    # actions this chief may take, each a POST form carrying the case version
    found = forms(html)
    approve, back = found[f"/cases/{cid}/actions/approve"], found[f"/cases/{cid}/actions/return_for_revision"]
    assert approve["approve-version"] == "2" and approve["approve-comment"] == ""  # 意見（選填）
    assert "return_for_revision-comment" in back  # a comment is required to return a case
    # history: who did what, from which state to which
    assert "建立案件" in words and "送出審核" in words and "草稿 → 課長審核" in words
    assert "personnel_staff" in words


def test_approving_through_the_page_moves_the_case(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    cid = submitted(office)
    b = as_user("personnel_chief")
    resp = b.submit(f"/cases/{cid}", f"/cases/{cid}/actions/approve")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/cases/{cid}"
    assert case_row(office.db, cid).state == "secretariat_review"
    page = b.get(f"/cases/{cid}")
    assert "已完成「核准」，案件目前為「秘書室審核」。" in text(page)
    assert f"/cases/{cid}/actions/approve" not in forms(page.get_data(as_text=True))  # not the chief's step now


def test_returning_needs_a_comment_and_keeps_it(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    cid = submitted(office)
    b = as_user("personnel_chief")
    action = f"/cases/{cid}/actions/return_for_revision"
    b.submit(f"/cases/{cid}", action)
    assert "請填寫意見" in text(b.get(f"/cases/{cid}"))
    assert case_row(office.db, cid).state == "section_review"
    b.submit(f"/cases/{cid}", action, comment="第2列時數請更正。")
    assert case_row(office.db, cid).state == "returned"
    assert "第2列時數請更正。" in text(b.get(f"/cases/{cid}"))


def test_withdrawing_asks_for_a_ticked_box_first(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    """Withdrawing ends the case for good: one click on 撤回 alone does nothing but say so."""
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    action = f"/cases/{cid}/actions/withdraw"
    page = b.get(f"/cases/{cid}").get_data(as_text=True)
    data = forms(page)[action]
    assert 'type="checkbox"' in page and "我確定要撤回" in page
    unticked = {k: v for k, v in data.items() if k != "withdraw-confirm"}  # a browser sends no unticked box
    resp = b.client.post(action, data=unticked)
    assert resp.status_code == 303 and case_row(office.db, cid).state == "draft"
    assert "請先勾選「我確定要撤回」" in text(b.get(f"/cases/{cid}"))
    resp = b.client.post(action, data=data | {"withdraw-confirm": "y"})
    assert resp.status_code == 303 and case_row(office.db, cid).state == "withdrawn"


@pytest.mark.fault
def test_a_post_without_csrf_token_is_refused(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    cid = submitted(office)
    b = as_user("personnel_chief")
    resp = b.client.post(f"/cases/{cid}/actions/approve", data={"approve-version": "2"})
    assert resp.status_code == 400
    assert "表單已逾時或缺少安全驗證碼" in text(resp)
    assert case_row(office.db, cid).state == "section_review"


@pytest.mark.fault
def test_a_stale_page_gets_409_naming_who_acted_first(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    page = b.get(f"/cases/{cid}").get_data(as_text=True)
    data = forms(page)[f"/cases/{cid}/actions/submit"]
    approval.fire(cid, "submit", office.users["personnel_staff2"], db=office.db)  # a colleague, meanwhile
    resp = b.client.post(f"/cases/{cid}/actions/submit", data=data)
    assert resp.status_code == 409
    assert "personnel_staff2" in text(resp) and "已過期" in text(resp)
    assert f'href="/cases/{cid}"' in resp.get_data(as_text=True)
    assert case_row(office.db, cid).version == 2  # one submission, not two


@pytest.mark.fault
def test_a_stale_return_keeps_the_comment_and_knows_it_was_you_in_another_tab(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    cid = submitted(office)
    b = as_user("personnel_chief")
    page = b.get(f"/cases/{cid}").get_data(as_text=True)
    stale = forms(page)[f"/cases/{cid}/actions/return_for_revision"]
    b.submit(f"/cases/{cid}", f"/cases/{cid}/actions/approve")  # the same person, in another tab
    comment = "第3列的時數請再確認，並補上簽到表。"
    resp = b.client.post(f"/cases/{cid}/actions/return_for_revision",
                         data=stale | {"return_for_revision-comment": comment})
    assert resp.status_code == 409
    words = text(resp)
    assert "另一個視窗或分頁" in words and "案件已有變動" in words
    assert comment in resp.get_data(as_text=True)  # shown to copy, not lost
    assert case_row(office.db, cid).state == "secretariat_review"


# -- who may see and do what --------------------------------------------------------------------
@pytest.mark.fault
def test_a_case_of_another_office_is_not_found(
    as_user: Callable[[str], Browser], office: OfficeFixture, office_factory: Callable[[], OfficeFixture],
    browser: Callable[[], Browser],
) -> None:
    cid = submitted(office)
    other = office_factory()
    b = browser()
    assert b.login(other.logins["personnel_chief"]).status_code == 303
    seen = b.get(f"/cases/{cid}")
    missing = b.get("/cases/999999999")
    assert seen.status_code == missing.status_code == 404
    assert text(seen).split("錯誤代碼")[0] == text(missing).split("錯誤代碼")[0]  # same page: ids reveal nothing
    token = csrf_token(seen.get_data(as_text=True))
    post = b.client.post(f"/cases/{cid}/actions/approve", data={"approve-csrf_token": token, "approve-version": "2"})
    assert post.status_code == 404
    assert case_row(office.db, cid).state == "section_review"


@pytest.mark.parametrize(("key", "status"), [
    ("personnel_staff", 200), ("personnel_chief", 200), ("secretariat", 200), ("liaison", 200), ("convener", 200),
    ("member", 200), ("civil_chief", 404), ("social_staff", 404), ("nobody", 404)])
def test_a_submitted_case_is_read_by_its_unit_and_the_reviewers_on_its_path(
        as_user: Callable[[str], Browser], office: OfficeFixture, key: str, status: int) -> None:
    """Another unit's chief or staff member finds nothing there, as for a case that does not exist."""
    assert as_user(key).get(f"/cases/{submitted(office)}").status_code == status


@pytest.mark.fault
def test_without_the_role_there_is_no_button_and_a_forced_post_is_refused(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    cid = submitted(office)
    b = as_user("convener")  # reads it (on its path), but the chief's step is not theirs
    page = b.get(f"/cases/{cid}")
    assert forms(page.get_data(as_text=True)).keys() == {"/logout", "/search"}  # the nav: log out, search
    assert "您目前無須對這個案件採取動作。" in text(page)
    token = csrf_token(page.get_data(as_text=True))
    resp = b.client.post(f"/cases/{cid}/actions/approve", data={"approve-csrf_token": token, "approve-version": "2"})
    assert resp.status_code == 303
    assert "需要以下角色之一才能執行此動作" in text(b.get(f"/cases/{cid}"))
    assert case_row(office.db, cid).state == "section_review"


def test_the_submitter_gets_no_approve_button_even_as_a_delegate(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    cid = submitted(office)
    with office.db.unit_of_work() as uow:  # the chief is away; the staff member who submitted stands in
        s = uow.session
        chief, staff = s.get(User, office.users["personnel_chief"]), s.get(User, office.users["personnel_staff"])
        assert chief is not None and staff is not None
        directory.delegate(s, chief, staff, "chief", today(), today(), "休假")
        uow.commit()
    b = as_user("personnel_staff")
    page = b.get(f"/cases/{cid}").get_data(as_text=True)
    assert f"/cases/{cid}/actions/approve" not in forms(page)
    assert f"/cases/{cid}/actions/return_for_revision" in forms(page)  # returning is not approving
    b.client.post(f"/cases/{cid}/actions/approve", data={"approve-csrf_token": csrf_token(page),
                                                        "approve-version": "2"})
    assert "送出案件的人不得審核同一案件" in text(b.get(f"/cases/{cid}"))
    assert case_row(office.db, cid).state == "section_review"


# -- languages ------------------------------------------------------------------------------
def test_english_can_be_chosen_and_chinese_is_the_default(
    as_user: Callable[[str], Browser], office: OfficeFixture
) -> None:
    cid = submitted(office)
    b = as_user("personnel_chief")
    zh = b.get("/")
    assert 'lang="zh-Hant-TW"' in zh.get_data(as_text=True) and "我的工作" in text(zh)
    resp = b.get("/lang/en?next=/")
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    en = b.get("/")
    words = text(en)
    assert '<html lang="en">' in en.get_data(as_text=True)
    assert "My work" in words and "Section chief review" in words and "Training result report" in words
    case_words = text(b.get(f"/cases/{cid}"))
    assert "What you can do" in case_words and "Approve" in case_words and "History" in case_words
    assert "Courses" in case_words and "Draft → Section chief review" in case_words
    b.get("/lang/zh_TW")
    assert "我的工作" in text(b.get("/"))
    assert b.get("/lang/fr").status_code == 404


def test_the_submitter_takes_a_case_back_until_the_chief_acts(as_user: Callable[[str], Browser],
                                                              office: OfficeFixture) -> None:
    """收回: the person who submitted gets the button while the case waits for the chief; it goes
    back to a draft, recorded in the history; once the chief has acted, there is nothing to take back."""
    cid = submitted(office)
    staff = as_user("personnel_staff")
    page = staff.get(f"/cases/{cid}").get_data(as_text=True)
    assert f"/cases/{cid}/actions/take_back" in forms(page)
    stale = forms(page)[f"/cases/{cid}/actions/take_back"]
    assert f"/cases/{cid}/actions/take_back" not in forms(as_user("personnel_staff2").get(f"/cases/{cid}")
                                                          .get_data(as_text=True))  # same unit, did not submit
    resp = staff.submit(f"/cases/{cid}", f"/cases/{cid}/actions/take_back")
    assert resp.status_code == 303 and case_row(office.db, cid).state == "draft"
    words = text(staff.get(f"/cases/{cid}"))
    assert "收回" in words and "課長審核 → 草稿" in words
    # Sent again and approved by the chief (with a comment): no taking back any more.
    assert staff.submit(f"/cases/{cid}", f"/cases/{cid}/actions/submit").status_code == 303
    chief = as_user("personnel_chief")
    assert chief.submit(f"/cases/{cid}", f"/cases/{cid}/actions/approve", comment="內容完整，同意").status_code == 303
    assert "內容完整，同意" in text(chief.get(f"/cases/{cid}"))  # 核准 with a comment, kept in the history
    assert f"/cases/{cid}/actions/take_back" not in forms(staff.get(f"/cases/{cid}").get_data(as_text=True))
    assert staff.client.post(f"/cases/{cid}/actions/take_back", data=stale).status_code == 409  # the old page
    assert case_row(office.db, cid).state == "secretariat_review"
