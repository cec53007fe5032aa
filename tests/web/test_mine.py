"""我的案件 and the edit form: creating a case, editing it from its kind's field specs, errors next to
each field (and table cell) in zh-TW with nothing typed lost, add rows without JavaScript, ROC dates,
a stale form, submitting; all through real forms with CSRF on."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, case_row, csrf_token, text
from workflow.cases import approval
from workflow.models import Case


class _Fields(HTMLParser):
    """name -> value for the inputs, textareas and selects of the form posting to ``action``
    (what a browser would send if the person pressed a button without changing anything)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.values = action, False, {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        if not self.inside:
            return
        if tag == "input" and "name" in a and a.get("type") != "file":
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
            self.values.setdefault(a["name"], "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_values(html: str, action: str) -> dict[str, str]:
    p = _Fields(action)
    p.feed(html)
    assert p.values, f"no form posting to {action}"
    return p.values


def html(resp: TestResponse) -> str:
    return resp.get_data(as_text=True)


def edit_url(cid: int) -> str:
    return f"/cases/{cid}/edit"


def post_edit(b: Browser, cid: int, action: str = "save", **changes: str) -> TestResponse:
    """Load the edit form, change some inputs (by name), press the button ``action``."""
    values = form_values(html(b.get(edit_url(cid))), edit_url(cid))
    values.update(changes)
    values["action"] = action
    return b.client.post(edit_url(cid), data=values)


def error_after(page: str, input_id: str) -> str:
    """The error message linked to an input (aria-describedby → id)."""
    m = re.search(rf'<p class="field-error" id="{re.escape(input_id)}-error">([^<]*)</p>', page)
    assert m, f"no error for {input_id}"
    return m.group(1)


def fields_of(office: OfficeFixture, cid: int) -> tuple[str, dict]:
    with office.db.unit_of_work(write=False) as uow:
        c = uow.session.scalar(select(Case).where(Case.id == cid))
        assert c is not None
        return c.title, dict(c.fields or {})


# -- 我的案件 ------------------------------------------------------------------------------------
def test_mine_lists_drafts_returned_with_comment_and_under_review(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    draft = office.case("training_report")
    returned = office.case("training_report")
    reviewing = office.case("training_report")
    staff, chief = office.users["personnel_staff"], office.users["personnel_chief"]
    for cid in (returned, reviewing):
        approval.submit(cid, staff, db=office.db)
    approval.return_for_revision(returned, chief, "第 2 列時數與簽到表不符，請更正。", db=office.db)

    b = as_user("personnel_staff")
    page = b.get("/mine")
    assert page.status_code == 200
    body = text(page)
    assert "我的案件" in body and 'href="/mine"' in html(page)  # in the nav
    assert "第 2 列時數與簽到表不符，請更正。" in body and "personnel_chief" in body
    assert f"/cases/{draft}/edit" in html(page) and f"/cases/{returned}/edit" in html(page)
    assert f"/cases/{reviewing}" in html(page) and "課長審核" in body
    # The comment is shown above the returned case's link.
    h = html(page)
    assert h.index("第 2 列時數與簽到表不符") < h.index(f"/cases/{returned}/edit")


def test_no_mine_link_for_people_without_a_drafter_role(office: OfficeFixture,
                                                        as_user: Callable[[str], Browser]) -> None:
    page = as_user("personnel_chief").get("/")
    assert 'href="/mine"' not in html(page)


def test_create_a_case_and_duplicate_period_is_named(office: OfficeFixture,
                                                      as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_staff")
    page = html(b.get("/mine"))
    assert "培力成果報告" in page and "宣導成果報告" not in page  # only kinds the unit owns
    data = form_values(page, "/mine/new") | {"kind": "training_report", "roc_year": "113", "period": "Q2",
                                              "title": "113年第2季培力成果"}
    resp = b.client.post("/mine/new", data=data)
    assert resp.status_code == 303
    cid = int(re.search(r"/cases/(\d+)/edit", resp.headers["Location"]).group(1))
    assert fields_of(office, cid)[0] == "113年第2季培力成果"

    again = b.client.post("/mine/new", data=data)
    assert again.status_code == 422
    msg = error_after(html(again), "period")
    assert "已經存在" in msg and f"案件 {cid}" in msg
    assert 'value="113年第2季培力成果"' in html(again)  # what was typed is still there


def test_a_withdrawn_case_leaves_its_period_free(office: OfficeFixture,
                                                 as_user: Callable[[str], Browser]) -> None:
    """Withdrawing a draft (say, made by mistake) must not make that quarter's report impossible:
    a new case for the same period can be made; a second live one still cannot."""
    b = as_user("personnel_staff")
    data = form_values(html(b.get("/mine")), "/mine/new") | {"kind": "training_report", "roc_year": "113",
                                                             "period": "Q3", "title": "113年第3季培力成果"}
    first = b.client.post("/mine/new", data=data)
    assert first.status_code == 303
    withdrawn = int(re.search(r"/cases/(\d+)/edit", first.headers["Location"]).group(1))
    approval.fire(withdrawn, "withdraw", office.users["personnel_staff"], db=office.db)
    again = b.client.post("/mine/new", data=data)
    assert again.status_code == 303, error_after(html(again), "period")
    live = int(re.search(r"/cases/(\d+)/edit", again.headers["Location"]).group(1))
    assert live != withdrawn
    third = b.client.post("/mine/new", data=data)
    assert third.status_code == 422
    msg = error_after(html(third), "period")
    assert f"案件 {live}" in msg and f"案件 {withdrawn}" not in msg


def test_create_checks_the_cycle_and_the_year(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_staff")
    data = form_values(html(b.get("/mine")), "/mine/new") | {"kind": "training_report", "roc_year": "113",
                                                              "period": "Y", "title": "年度？"}
    resp = b.client.post("/mine/new", data=data)
    assert resp.status_code == 422
    msg = error_after(html(resp), "period")
    assert "期別請選" in msg and "第1季" in msg and "Q1" not in msg
    resp = b.client.post("/mine/new", data=data | {"roc_year": "2024", "period": "Q1"})
    assert "三位數的民國年" in error_after(html(resp), "roc_year")


def test_create_refuses_a_kind_the_unit_does_not_own(office: OfficeFixture,
                                                     as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_staff")
    data = form_values(html(b.get("/mine")), "/mine/new") | {"kind": "outreach_report", "roc_year": "113",
                                                              "period": "Q1", "title": "不是我的"}
    resp = b.client.post("/mine/new", data=data)
    assert resp.status_code == 422 and "不能建立這類案件" in text(resp)


def test_create_needs_csrf(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_staff")
    resp = b.client.post("/mine/new", data={"kind": "training_report", "roc_year": "113", "period": "Q3",
                                            "title": "x"})
    assert resp.status_code == 400


# -- the edit form ----------------------------------------------------------------------------
def test_form_is_generated_from_the_field_specs(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    page = html(as_user("personnel_staff").get(edit_url(cid)))
    assert '<label for="f-summary">辦理情形摘要</label>' in page
    assert 'aria-describedby="f-summary-hint"' in page and 'id="f-summary-hint"' in page
    assert 'aria-label="第 1 列「時數」"' in page
    # Stored ISO dates are shown as ROC dates.
    assert re.search(r'name="f-courses-1-date" id="f-courses-1-date" value="115\.\d\d\.15"', page)
    # The two stored rows plus three blank ones.
    assert 'name="f-courses-count" value="5"' in page
    assert 'name="version" value="1"' in page


def test_field_errors_next_to_each_field_and_cell_nothing_lost(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    before = fields_of(office, cid)
    resp = post_edit(b, cid, **{"f-summary": "新的摘要，還沒存", "f-courses-2-hours": "兩小時",
                                "f-courses-1-date": "113.13.40", "f-courses-3-course": "第三堂課",
                                "f-courses-3-male": "-1"})
    assert resp.status_code == 422
    page = html(resp)
    assert error_after(page, "f-courses-2-hours") == "第 2 列「時數」「兩小時」不是數字"
    assert "第 1 列「辦理日期」沒有「113.13.40」這一天" in error_after(page, "f-courses-1-date")
    assert "不可小於 0" in error_after(page, "f-courses-3-male")
    assert 'aria-describedby="f-courses-2-hours-error"' in page and 'aria-invalid="true"' in page
    # Everything typed is back on the page, and nothing was saved.
    assert "新的摘要，還沒存</textarea>" in page
    assert 'value="兩小時"' in page and 'value="113.13.40"' in page and 'value="第三堂課"' in page
    assert fields_of(office, cid) == before
    assert case_row(office.db, cid).version == 1


def test_save_accepts_roc_dates_and_shows_them_back(office: OfficeFixture,
                                                   as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report", fields={})
    b = as_user("personnel_staff")
    resp = post_edit(b, cid, **{"f-summary": "摘要", "f-courses-1-course": "CEDAW 導論",
                                "f-courses-1-date": "113.04.10", "f-courses-1-hours": "1.5",
                                "f-courses-1-mode": "實體", "f-courses-1-level": "基礎",
                                "f-courses-1-male": "3", "f-courses-1-female": "4"})
    assert resp.status_code == 303, text(resp)
    _title, fields = fields_of(office, cid)
    assert fields["courses"][0]["date"] == "2024-04-10" and fields["courses"][0]["hours"] == 1.5
    page = b.get(resp.headers["Location"])
    assert 'value="113.04.10"' in html(page) and "已儲存" in text(page)


def test_add_rows_without_javascript(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    resp = post_edit(b, cid, "more:courses", **{"f-summary": "加列前先存"})
    assert resp.status_code == 303
    page = html(b.get(resp.headers["Location"]))
    assert 'name="f-courses-count" value="10"' in page  # 2 rows + 3 blank + 5 more
    assert "加列前先存</textarea>" in page
    assert fields_of(office, cid)[1]["summary"] == "加列前先存"


def test_stale_form_names_who_acted_first_and_keeps_the_input(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    mine, other = as_user("personnel_staff"), as_user("personnel_staff2")
    values = form_values(html(mine.get(edit_url(cid))), edit_url(cid))
    assert post_edit(other, cid, **{"f-summary": "同事先存"}).status_code == 303
    resp = mine.client.post(edit_url(cid), data=values | {"f-summary": "我的版本", "action": "save"})
    assert resp.status_code == 409
    assert "personnel_staff2" in text(resp) and "我的版本</textarea>" in html(resp)
    assert fields_of(office, cid)[1]["summary"] == "同事先存"


def test_submit_from_the_edit_page(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    resp = post_edit(b, cid, "submit")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/cases/{cid}")
    assert case_row(office.db, cid).state == "section_review"
    assert "已送出審核" in text(b.get(f"/cases/{cid}"))


def test_submit_incomplete_names_each_missing_field(office: OfficeFixture,
                                                    as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report", fields={})
    b = as_user("personnel_staff")
    resp = post_edit(b, cid, "submit", **{"f-courses-1-course": "只填了課名"})
    assert resp.status_code == 422
    page = html(resp)
    assert "「辦理情形摘要」為必填" in error_after(page, "f-summary")
    assert error_after(page, "f-courses-1-hours") == "第 1 列「時數」為必填"
    assert 'value="只填了課名"' in page
    assert case_row(office.db, cid).state == "draft"
    assert fields_of(office, cid)[1]["courses"][0]["course"] == "只填了課名"  # saved anyway
    # The page carries the version the save produced, so a corrected form goes through.
    assert 'name="version" value="2"' in page


def test_edit_is_for_the_units_drafters_only(office: OfficeFixture, office_factory: Callable[[], OfficeFixture],
                                             as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    assert as_user("secretariat").get(edit_url(cid)).status_code == 403  # reads the draft, may not edit it
    assert as_user("civil_staff").get(edit_url(cid)).status_code == 404  # another unit's draft: not found
    other = office_factory()
    theirs = other.case("training_report")
    assert as_user("personnel_staff").get(edit_url(theirs)).status_code == 404


def test_edit_form_needs_csrf(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    values = form_values(html(b.get(edit_url(cid))), edit_url(cid))
    values.pop("csrf_token")
    assert b.client.post(edit_url(cid), data=values).status_code == 400
    assert csrf_token(html(b.get(edit_url(cid))))


def test_pages_in_english(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    b.get("/lang/en")
    assert "My cases" in text(b.get("/mine"))
    resp = post_edit(b, cid, **{"f-courses-2-hours": "x"})
    page = html(resp)
    assert '<label for="f-summary">Summary</label>' in page
    assert error_after(page, "f-courses-2-hours") == "row 2: Hours &#39;x&#39; is not a number"  # HTML-escaped
