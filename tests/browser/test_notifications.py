"""Told when work arrives, in a real browser against ``caseflow serve`` (the embedded worker tells
people a moment after each click): a drafter whose case the city group sent back finds the comment
in one click; a delegate is told for whom they act, and chooses a daily digest instead of e-mail
for each one.

Uses demo cases no other browser test touches: the plan amendment in the city group's review (16)
and the draft promotional material (13).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]
WAIT_SECONDS = 60  # a deadline for the worker, not a timing: a hang should hit it


def act(page: Page, label: str, comment: str | None = None) -> None:
    form = page.locator("form.action", has=page.get_by_role("button", name=label, exact=True))
    if comment is not None:
        form.get_by_label("意見（必填）").fill(comment)
    form.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def roc_today() -> str:
    from workflow import clock, rocdate

    return rocdate.short(clock.today())


def notice_about(page: Page, title: str) -> Locator:
    """Open 通知 from the menu, again until the worker has written the notice about ``title``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        page.get_by_role("navigation", name="主選單").get_by_role("link", name=re.compile("^通知")).click()
        page.wait_for_load_state()
        item = page.locator(".inbox > li.unread", has_text=title)
        if item.count():
            return item.first
        assert time.monotonic() < deadline, f"no notification about {title} after {WAIT_SECONDS}s"
        page.wait_for_timeout(300)


def test_sent_back_by_the_city_the_drafter_is_told_and_finds_the_comment_in_one_click(
        login: Callable[[str], Page]) -> None:
    city = login("city")
    city.goto("/cases/16")
    expect(city.get_by_role("heading", level=1)).to_contain_text("115年計畫修正")
    act(city, "退回修正", comment="修正對照表第3點請補充現行規定。")
    staff = login("secretariat.staff")  # 黃淑芬, who drafted it
    item = notice_about(staff, "115年計畫修正")
    expect(staff.get_by_role("navigation", name="主選單").locator(".badge")).to_be_visible()
    expect(item.get_by_role("heading")).to_have_text("未讀 【退回修正】115年計畫修正")
    expect(item).to_contain_text("已由 趙怡萱 退回修正，目前在「退回修正」。意見：修正對照表第3點請補充現行規定。")
    shot(staff, "notify-01-returned-inbox")
    item.get_by_role("link", name="查看案件 16").click()  # the one click
    staff.wait_for_url(re.compile(r"/cases/16$"))
    expect(staff.locator("table.history")).to_contain_text("修正對照表第3點請補充現行規定。")


def test_a_delegate_is_told_for_whom_and_chooses_a_daily_digest(login: Callable[[str], Page]) -> None:
    # 管理 → 代理: the social affairs chief is away today; 李俊傑 acts for him.
    admin = login("admin")
    admin.goto("/admin/delegations")
    admin.get_by_label("被代理人").select_option(label="張家豪（social.chief）")
    admin.get_by_label("代理人", exact=True).select_option(label="李俊傑（civil.staff）")
    admin.get_by_label("代理的角色").select_option(label="課長")
    admin.get_by_label("起始日期").fill(roc_today())
    admin.get_by_label("結束日期").fill(roc_today())
    admin.get_by_role("button", name="新增代理").click()
    admin.wait_for_load_state()
    expect(admin.locator("table")).to_contain_text("李俊傑")

    staff = login("social.staff")
    staff.goto("/cases/13")
    expect(staff.get_by_role("heading", level=1)).to_contain_text("115年年度性別平等宣導文宣")
    act(staff, "送出審核")

    delegate = login("civil.staff")
    item = notice_about(delegate, "115年年度性別平等宣導文宣")
    expect(item).to_contain_text("【待您處理】115年年度性別平等宣導文宣")
    expect(item).to_contain_text("已由 王怡君 送出審核，目前在「課長審核」。您代理 張家豪 處理。")
    shot(delegate, "notify-02-delegate-inbox")

    delegate.get_by_role("link", name="通知設定（電子郵件）").click()
    expect(delegate.get_by_role("heading", level=1)).to_have_text("通知設定")
    delegate.get_by_label("每日摘要：每天早上一封，列出還沒寄過的通知").check()
    delegate.get_by_label("郵件語言").select_option("en")
    delegate.get_by_role("button", name="儲存設定").click()
    delegate.wait_for_load_state()
    expect(delegate.get_by_role("alert")).to_contain_text("已儲存通知設定。")
    expect(delegate.get_by_label("每日摘要：每天早上一封，列出還沒寄過的通知")).to_be_checked()
    expect(delegate.get_by_label("郵件語言")).to_have_value("en")
    shot(delegate, "notify-03-settings")
