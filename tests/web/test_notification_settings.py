"""通知設定 and hand-offs in the inbox: each person chooses how the e-mail copy comes (each one,
a daily digest, none) and its language; a refused form comes back with what was chosen and a message
by the field; a hand-off shows in the inbox in the reader's language with the case one click away."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, forms, text
from workflow.cases import approval
from workflow.models import OutboxMessage, User
from workflow.notifications import handoffs

SETTINGS = "/account/notifications"


def chosen(page: str) -> tuple[str | None, str | None]:
    """(the ticked e-mail choice, the selected language) as the page shows them."""
    mode = re.search(r'<input[^>]*checked[^>]*value="(\w+)"|<input[^>]*value="(\w+)"[^>]*checked', page)
    lang = re.search(r'<option[^>]*selected[^>]*value="(\w+)"|<option[^>]*value="(\w+)"[^>]*selected', page)
    return ((mode.group(1) or mode.group(2)) if mode else None, (lang.group(1) or lang.group(2)) if lang else None)


def save(b: Browser, **fields: str) -> TestResponse:
    """Post the settings form as the page has it (its CSRF token), with these choices."""
    data = dict(forms(b.get(SETTINGS).get_data(as_text=True))[SETTINGS])
    data.update(fields)
    return b.client.post(SETTINGS, data=data)


def prefs_of(office: OfficeFixture, key: str) -> tuple[str, str | None]:
    with office.db.unit_of_work(write=False) as uow:
        row = uow.session.execute(select(User.notify_email, User.language)
                                  .where(User.id == office.users[key])).one()
        return row.notify_email, row.language


def test_the_page_shows_the_choice_and_saves_a_new_one(office: OfficeFixture,
                                                      as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_chief")
    page = b.get(SETTINGS)
    assert page.status_code == 200
    assert chosen(page.get_data(as_text=True)) == ("immediate", "zh_TW")
    assert "尚未設定寄信伺服器" in text(page)  # no SMTP in the tests' app
    resp = save(b, email_mode="digest", language="en")
    assert resp.status_code == 303 and resp.headers["Location"].endswith(SETTINGS)
    assert prefs_of(office, "personnel_chief") == ("digest", "en")
    page = b.get(SETTINGS)
    assert "已儲存通知設定。" in text(page)
    assert chosen(page.get_data(as_text=True)) == ("digest", "en")
    assert prefs_of(office, "personnel_staff") == ("immediate", None)  # nobody else's changed


def test_a_refused_choice_comes_back_with_a_message_by_the_field(office: OfficeFixture,
                                                                 as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_chief")
    resp = save(b, email_mode="weekly", language="en")
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert 'id="email_mode-error">請選擇立即寄送、每日摘要或不寄送<' in body
    assert chosen(body)[1] == "en"  # what was chosen is kept
    assert prefs_of(office, "personnel_chief") == ("immediate", None)  # nothing saved
    page = b.get(SETTINGS)
    data = dict(forms(page.get_data(as_text=True))[SETTINGS])
    data.pop("email_mode", None)  # nothing ticked
    resp = b.client.post(SETTINGS, data=data)
    assert resp.status_code == 422 and "請選擇要不要寄電子郵件" in text(resp)


def test_in_english_the_messages_are_english(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_chief")
    b.get("/lang/en")
    resp = save(b, email_mode="hourly", language="zh_TW")
    assert resp.status_code == 422
    assert "choose immediate, a daily digest or none" in html.unescape(text(resp))


def test_the_address_the_mail_goes_to(app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    app.config["MAIL_ENABLED"] = True
    b = as_user("personnel_chief")
    assert "還沒有電子郵件地址" in text(b.get(SETTINGS))
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.id == office.users["personnel_chief"])
                            .values(email="chief@example.invalid"))
        uow.commit()
    assert "郵件寄到：chief@example.invalid" in text(b.get(SETTINGS))


def test_a_csrf_token_is_needed(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_chief")
    assert b.client.post(SETTINGS, data={"email_mode": "none", "language": "zh_TW"}).status_code == 400
    assert prefs_of(office, "personnel_chief") == ("immediate", None)


def test_a_returned_drafter_finds_the_comment_in_the_inbox_one_click_from_the_case(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    for trigger, who, comment in (("submit", "personnel_staff", None),
                                  ("return_for_revision", "personnel_chief", "請補上課程代碼。")):
        result = approval.fire(cid, trigger, office.users[who], comment, db=office.db)
        with office.db.unit_of_work(write=False) as uow:
            notice = uow.session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.id.in_(result.outbox_ids), OutboxMessage.topic == approval.HANDOFF_TOPIC)).one()
        assert handoffs.process_outbox(office.db, notice).status == "told"
    staff = as_user("personnel_staff")
    assert re.search(r'<span class="badge">1<', staff.get("/").get_data(as_text=True))  # told, in the nav
    page = staff.get("/notifications")
    body = text(page)
    assert "【退回修正】training_report test" in body
    assert "已由 personnel_chief 退回修正，目前在「退回修正」。意見：請補上課程代碼。" in body
    assert f'href="/cases/{cid}"' in page.get_data(as_text=True)
    staff.get("/lang/en")
    body = html.unescape(text(staff.get("/notifications")))
    assert "[Returned for revision] training_report test" in body
    assert "was returned for revision by personnel_chief" in body and "Comment: 請補上課程代碼。" in body
    assert "退回修正，目前在" not in body
