"""A working day in a real browser: the person who submitted takes a case back before the chief
acts, and someone of another unit finds nothing at the case's address."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_main_line import act, open_case, state_of

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PROMO = "115年年度性別平等宣導文宣"  # the demo's 社會課 draft no other browser test touches


def test_take_back_before_the_chief_acts_and_another_unit_finds_nothing(login: Callable[[str], Page]) -> None:
    staff = login("social.staff")  # lands on 我的工作, which lists the draft
    cid = open_case(staff, PROMO)
    address = f"/cases/{cid}"

    # Another unit's staff member: the draft is not there for them, in the same words as a wrong id.
    other = login("personnel.staff")
    response = other.goto(address)
    assert response is not None and response.status == 404
    expect(other.get_by_role("heading", level=1)).to_have_text("找不到頁面")

    act(staff, "送出審核")
    assert state_of(staff) == "課長審核"
    take_back = staff.get_by_role("button", name="收回", exact=True)
    expect(take_back).to_be_visible()
    take_back.click()
    staff.wait_for_load_state()
    assert state_of(staff) == "草稿"
    expect(staff.locator("table.history")).to_contain_text("課長審核 → 草稿")
    shot(staff, "12-taken-back")

    # Sent again, the chief approves with a comment, and 收回 is gone.
    act(staff, "送出審核")
    chief = login("social.chief")
    chief.goto(address)
    form = chief.locator("form.action", has=chief.get_by_role("button", name="核准", exact=True))
    form.get_by_label("意見（選填）").fill("文宣內容正確，同意印製。")
    form.get_by_role("button", name="核准", exact=True).click()
    chief.wait_for_load_state()
    expect(chief.locator("table.history")).to_contain_text("文宣內容正確，同意印製。")
    staff.goto(address)
    expect(staff.get_by_role("button", name="收回", exact=True)).to_have_count(0)
    assert re.search(r"/cases/\d+$", staff.url)
