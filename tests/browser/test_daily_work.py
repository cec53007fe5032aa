"""A working day in a real browser: the person who submitted takes a case back before the chief
acts, a chief approves with a comment after which its submitter cannot take it back, and someone of
another unit finds nothing at the case's address."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import shot
from tests.browser.test_main_line import act, open_case, state_of
from workflow import clock

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PROMO = "115年年度性別平等宣導文宣"  # the demo's 社會課 draft (left a draft for the notifications test)


def _submitted_budget_review(instance: Path) -> int:
    """A budget review of its own (next year's), submitted to 會計室's chief: the demo's is another
    test's."""
    from sqlalchemy import select

    from workflow.cases import approval, drafts
    from workflow.db import Database
    from workflow.demo import sample_fields
    from workflow.models import Unit, User

    db = Database(f"sqlite:///{instance / 'caseflow.db'}")
    try:
        with db.unit_of_work(write=False) as uow:
            staff = uow.session.scalars(select(User.id).where(User.login == "accounting.staff")).one()
            unit = uow.session.scalars(select(User.unit_id).where(User.id == staff)).one()
            assert uow.session.get(Unit, unit) is not None
        year = clock.current_roc_year() + 1
        cid = drafts.create_case(kind="budget_review", unit_id=unit, roc_year=year, period="Y",
                                 title=f"{year}年年度性別平等預算審議", actor=staff,
                                 fields=sample_fields("budget_review", year, "Y"), db=db)
        approval.fire(cid, "submit", staff, db=db)
        return cid
    finally:
        db.dispose()


def test_take_back_before_the_chief_acts_and_another_unit_finds_nothing(login: Callable[[str], Page],
                                                                        instance: Path) -> None:
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

    # (The draft stays a draft: tests/browser/test_notifications.py submits it again.)

    # A chief approves another case with a comment; its submitter can no longer take it back.
    budget = _submitted_budget_review(instance)
    chief = login("accounting.chief")
    chief.goto(f"/cases/{budget}")
    form = chief.locator("form.action", has=chief.get_by_role("button", name="核准", exact=True))
    form.get_by_label("意見（選填）").fill("預算編列合理，同意陳核。")
    form.get_by_role("button", name="核准", exact=True).click()
    chief.wait_for_load_state()
    expect(chief.locator("table.history")).to_contain_text("預算編列合理，同意陳核。")
    submitter = login("accounting.staff")
    submitter.goto(f"/cases/{budget}")
    assert state_of(submitter) == "秘書室審核"
    expect(submitter.get_by_role("button", name="收回", exact=True)).to_have_count(0)
