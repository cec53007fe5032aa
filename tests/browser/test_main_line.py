"""The main line in a real browser, as the people of the demo office do it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def open_case(page: Page, title: str) -> int:
    page.get_by_role("link", name=title).first.click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    return int(page.url.rsplit("/", 1)[-1])


def act(page: Page, label: str, comment: str | None = None) -> None:
    form = page.locator("form.action", has=page.get_by_role("button", name=label, exact=True))
    if comment is not None:
        form.get_by_label("意見（必填）").fill(comment)
    form.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def roc_today() -> str:
    from workflow import clock, rocdate

    return rocdate.short(clock.today())


def state_of(page: Page) -> str:
    return page.locator("[aria-current=step] .flow-state").inner_text()


def test_training_report_through_every_step(login: Callable[[str], Page], server: str) -> None:
    staff = login("personnel.staff")
    expect(staff.get_by_role("heading", level=1)).to_be_visible()
    shot(staff, "01-queue-staff")
    cid = open_case(staff, "115年第4季培力成果報告")
    shot(staff, "02-case-draft")
    act(staff, "送出審核")
    expect(staff.get_by_role("alert")).to_contain_text("課長審核")
    assert state_of(staff) == "課長審核"

    # The chief of 人事室 is away; 民政課's chief acts for him (代理) from the queue.
    chief = login("civil.chief")
    shot(chief, "03-queue-chief")
    open_case(chief, "115年第4季培力成果報告")
    act(chief, "核准")
    assert state_of(chief) == "秘書室審核"
    expect(chief.locator("table.history")).to_contain_text("陳志明")  # on whose behalf

    secretariat = login("secretariat")
    shot(secretariat, "04-queue-secretariat")
    secretariat.goto(f"/cases/{cid}")
    act(secretariat, "核准")
    assert state_of(secretariat) == "專案小組審議"

    # The task force meets (all 11 members present) and passes the case; only then may the convener approve.
    secretariat.goto("/task-force")
    secretariat.get_by_label("開會日期").fill(roc_today())
    secretariat.get_by_label("開會地點").fill("本所第一會議室")
    secretariat.locator(f"#dec-{cid}").select_option("passed")
    secretariat.locator(f"#votes-{cid}").fill("11")
    secretariat.get_by_role("button", name="登錄會議").click()
    secretariat.wait_for_load_state()
    expect(secretariat.get_by_role("alert")).to_contain_text("已登錄第 2 次會議")

    convener = login("convener")
    shot(convener, "05-queue-task-force")
    convener.goto(f"/cases/{cid}")
    act(convener, "核准")
    liaison = login("liaison")
    shot(liaison, "06-queue-liaison")
    liaison.goto(f"/cases/{cid}")
    act(liaison, "函送推動組備查")
    assert state_of(liaison) == "已函送推動組（待備查）"
    history = liaison.locator("table.history")
    for who in ("林雅婷", "吳美玲", "蔡宗翰", "周文華", "劉淑惠"):
        expect(history).to_contain_text(who)
    shot(liaison, "07-case-filed")


def test_documents_appear_after_approval(login: Callable[[str], Page]) -> None:
    """The in-process worker of the embedded default renders the 簽 and the 宣導成果表, and the case
    page's list shows them without a reload (web/static/documents.js), then stops asking."""
    staff = login("social.staff")
    open_case(staff, "115年第4季宣導成果報告")
    act(staff, "送出審核")
    page = staff
    docs = page.locator("section#documents")
    expect(docs).to_contain_text("產生中")  # asked for at the transition, before any worker ran
    # Up to 90 s: the first start of the embedded worker also renders the demo's earlier documents.
    expect(page.locator("table.documents a", has_text="宣導成果表.pdf")).to_be_visible(timeout=90_000)
    expect(docs).not_to_have_attribute("data-refresh", re.compile(".*"), timeout=30_000)
    expect(page.locator("table.documents")).to_contain_text("宣導成果表")
    with page.expect_download() as dl:
        page.locator("table.documents a", has_text="宣導成果表.docx").first.click()
    assert dl.value.suggested_filename.endswith(".docx")
    shot(page, "08-case-documents")


def test_returned_case_goes_round_once(login: Callable[[str], Page]) -> None:
    staff = login("personnel.staff")
    cid = open_case(staff, "115年第3季培力成果報告")  # the demo's returned case
    expect(staff.locator("table.history")).to_contain_text("第2列課程時數請依簽到表更正。")
    act(staff, "送出審核")
    chief = login("civil.chief")
    chief.goto(f"/cases/{cid}")
    act(chief, "退回修正", comment="請補上課程代碼。")
    assert state_of(chief) == "退回修正"
    staff.goto(f"/cases/{cid}")
    expect(staff.locator("table.history")).to_contain_text("請補上課程代碼。")
    act(staff, "送出審核")
    assert state_of(staff) == "課長審核"


def test_stale_page_shows_who_acted_first(login: Callable[[str], Page]) -> None:
    first = login("social.chief")
    cid = open_case(first, "115年第3季宣導成果報告")  # in section review in the demo
    second = login("social.chief")
    second.goto(f"/cases/{cid}")
    act(first, "核准")
    act(second, "核准")  # the page was loaded before the first approval
    expect(second.locator("body")).to_contain_text("張家豪")
    expect(second.locator("body")).to_contain_text("已過期")
    shot(second, "09-conflict")


def test_other_office_gets_404(login: Callable[[str], Page], server: str) -> None:
    mine = login("social.chief")
    cid = 5  # the demo's first outreach report (social affairs)
    seen = mine.goto(f"/cases/{cid}")
    assert seen is not None and seen.status == 200
    other = login("other.chief")
    resp = other.goto(f"/cases/{cid}")
    assert resp is not None and resp.status == 404


def test_keyboard_alone_approves(login: Callable[[str], Page]) -> None:
    """Tab to the case and to the approve button, press Enter: no mouse."""
    # The demo's budget review waits in section review; the accounting chief approves it by keyboard.
    chief = login("accounting.chief")
    chief.goto("/")

    def tab_to(predicate: str, limit: int) -> bool:
        for _ in range(limit):
            chief.keyboard.press("Tab")
            if chief.evaluate(predicate):
                return True
        return False

    assert tab_to("document.activeElement.tagName === 'A' && "
                  "document.activeElement.textContent.includes('性別平等預算審議')", 60), "case link not reachable"
    with chief.expect_navigation():
        chief.keyboard.press("Enter")
    assert tab_to("document.activeElement.tagName === 'BUTTON' && "
                  "document.activeElement.textContent.trim() === '核准'", 80), "approve button not reachable"
    with chief.expect_navigation():
        chief.keyboard.press("Enter")
    assert state_of(chief) == "秘書室審核"
