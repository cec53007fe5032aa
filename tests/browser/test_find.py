"""Finding and sorting in a real browser, as the demo office's people do it: a word of a title
typed in the header's search box finds the case and opens it; another unit's staff find nothing of
it; 我的工作 sorted by title from its filter form, kept in the URL; the liaison's overdue list is one
line that opens into the late cases."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def search_from_header(page: Page, words: str) -> None:
    box = page.get_by_role("search").get_by_role("searchbox", name="搜尋案件")
    box.fill(words)
    with page.expect_navigation():
        box.press("Enter")


def test_a_word_of_the_title_finds_the_case_and_opens_it(login: Callable[[str], Page]) -> None:
    staff = login("personnel.staff")
    search_from_header(staff, "培力")
    assert "/search?q=" in staff.url
    expect(staff.get_by_role("heading", level=1)).to_have_text("搜尋案件")
    expect(staff.locator("#results-heading")).to_contain_text("找到")
    expect(staff.locator(".hits mark").first).to_have_text("培力")
    shot(staff, "10-search-results")
    staff.get_by_role("link", name="115年第4季培力成果報告", exact=True).click()
    staff.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(staff.get_by_role("heading", level=1)).to_contain_text("115年第4季培力成果報告")


def test_another_units_staff_find_nothing_of_it(login: Callable[[str], Page]) -> None:
    civil = login("civil.staff")  # 民政課: 人事室's training reports are not theirs to read
    search_from_header(civil, "培力成果報告")
    expect(civil.locator("#results-heading")).to_have_text("沒有找到")
    expect(civil.locator(".hits")).to_have_count(0)


def test_symbols_alone_get_a_message_next_to_the_box(login: Callable[[str], Page]) -> None:
    staff = login("personnel.staff")
    resp = staff.goto("/search?q=%25%25")
    assert resp is not None and resp.status == 422
    expect(staff.locator(".field-error")).to_contain_text("只有空白、標點或符號無法搜尋")
    expect(staff.locator("#q")).to_have_value("%%")


def test_the_queue_sorted_by_title_keeps_the_order_in_the_url(login: Callable[[str], Page]) -> None:
    secretariat = login("secretariat")
    secretariat.locator("form.filters select[name=sort]").select_option("title")
    with secretariat.expect_navigation():
        secretariat.locator("form.filters").get_by_role("button", name="套用").click()
    assert "sort=title" in secretariat.url
    titles = secretariat.locator("table.queue tbody tr td:nth-child(3) a").all_inner_texts()
    assert titles == sorted(titles)
    expect(secretariat.locator("form.filters select[name=sort]")).to_have_value("title")


def test_the_liaisons_overdue_list_is_one_line_that_opens(login: Callable[[str], Page]) -> None:
    liaison = login("liaison")
    summary = liaison.locator("details.late > summary")
    expect(summary).to_contain_text(re.compile(r"逾期案件 \d+ 件"))
    late = liaison.locator("details.late ul.late-cases")
    expect(late).to_be_hidden()
    shot(liaison, "11-queue-liaison-folded")
    summary.click()
    expect(late).to_be_visible()
    expect(late.locator("li").first).to_be_visible()
