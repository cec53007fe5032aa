"""通知 inbox: the user's notifications newest first, the unread count in the nav, mark read by POST
(one, or all), nobody else's notifications seen or marked; CSRF on."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable

import time_machine
from sqlalchemy import select

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, forms, text
from workflow.calendar import plan, reminders
from workflow.clock import TAIPEI, now
from workflow.engine import registry
from workflow.models import Case, Notification


def notify(office: OfficeFixture, user: str, subject: str, *, minutes_ago: int = 0, case_id: int | None = None) -> int:
    with office.db.unit_of_work() as uow:
        n = Notification(office_id=office.id, user_id=office.users[user], case_id=case_id, subject=subject,
                         body=f"{subject}：內容\nIn English.", created_at=now() - dt.timedelta(minutes=minutes_ago),
                         email_attempts=0)
        uow.session.add(n)
        uow.session.flush()
        uow.commit()
        return n.id


def read_at(office: OfficeFixture, nid: int) -> dt.datetime | None:
    with office.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(Notification.read_at).where(Notification.id == nid))


def badge(page: str) -> str | None:
    m = re.search(r'<span class="badge">(\d+)<', page)
    return m.group(1) if m else None


def test_inbox_newest_first_with_unread_count_in_the_nav(office: OfficeFixture,
                                                         as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    notify(office, "personnel_staff", "【即將到期】舊的", minutes_ago=90)
    notify(office, "personnel_staff", "【已逾期】新的", minutes_ago=5, case_id=cid)
    notify(office, "personnel_chief", "【審核逾時】別人的")
    b = as_user("personnel_staff")
    assert badge(b.get("/").get_data(as_text=True)) == "2"
    page = b.get("/notifications")
    body = text(page)
    assert page.status_code == 200
    assert body.index("【已逾期】新的") < body.index("【即將到期】舊的")
    assert "別人的" not in body
    assert f'href="/cases/{cid}"' in page.get_data(as_text=True)
    assert "未讀 2 則" in body


def test_mark_one_read_then_all(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    first = notify(office, "personnel_staff", "第一則", minutes_ago=10)
    second = notify(office, "personnel_staff", "第二則", minutes_ago=20)
    third = notify(office, "personnel_staff", "第三則", minutes_ago=30)
    b = as_user("personnel_staff")
    resp = b.submit("/notifications", f"/notifications/{first}/read")
    assert resp.status_code == 303
    assert read_at(office, first) is not None and read_at(office, second) is None
    page = b.get("/notifications").get_data(as_text=True)
    assert badge(page) == "2"
    assert f"/notifications/{first}/read" not in forms(page)  # no button for what is read
    assert b.submit("/notifications", "/notifications/read").status_code == 303
    assert read_at(office, second) is not None and read_at(office, third) is not None
    page = b.get("/notifications")
    assert badge(page.get_data(as_text=True)) is None and "已將 2 則通知標為已讀" in text(page)


def test_mark_read_is_post_only_with_csrf(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    nid = notify(office, "personnel_staff", "要 CSRF")
    b = as_user("personnel_staff")
    assert b.get(f"/notifications/{nid}/read").status_code == 405
    assert b.client.post(f"/notifications/{nid}/read").status_code == 400
    assert read_at(office, nid) is None


def test_someone_elses_notification_is_404(office: OfficeFixture, office_factory: Callable[[], OfficeFixture],
                                           as_user: Callable[[str], Browser]) -> None:
    colleague = notify(office, "personnel_chief", "課長的")
    other = office_factory()
    foreign = notify(other, "personnel_staff", "別的區公所")
    b = as_user("personnel_staff")
    token = forms(b.get("/notifications").get_data(as_text=True))
    csrf = next(v for f in token.values() for k, v in f.items() if k == "csrf_token")
    for nid in (colleague, foreign, 99_999_999):
        assert b.client.post(f"/notifications/{nid}/read", data={"csrf_token": csrf}).status_code == 404
    assert read_at(office, colleague) is None and read_at(other, foreign) is None


def test_empty_inbox(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    page = as_user("nobody").get("/notifications")
    assert page.status_code == 200 and "目前沒有通知" in text(page)
    assert badge(page.get_data(as_text=True)) is None


def _reminded(office: OfficeFixture) -> tuple[str, str, str]:
    """Decide the reminders of 115.04.13: the Q1 reports (due 115.04.10, still drafts) are overdue.
    Returns the draft state's code and its two labels."""
    with time_machine.travel(dt.datetime(2026, 4, 13, 8, tzinfo=TAIPEI), tick=False):
        plan.generate(office.db, 115, office_codes=[office.code])
        reminders.decide(office.db, days_before=7)
    with office.db.unit_of_work(write=False) as uow:
        code = uow.session.scalar(select(Case.state).where(Case.office_id == office.id, Case.due_date
                                                            == dt.date(2026, 4, 10)).limit(1))
    assert code is not None
    st = registry.default().latest("training_report").state(code)
    return code, st.label, st.label_en


def test_a_reminder_is_shown_in_chinese_with_roc_dates_and_state_labels(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    code, label, label_en = _reminded(office)
    page = text(as_user("personnel_chief").get("/notifications"))
    assert "【已逾期】" in page and f"目前在「{label}」，期限 115.04.10（已逾期）" in page
    assert "2026-04-10" not in page and f"step {code}" not in page
    assert "Case " not in page and "overdue" not in page and label_en not in page  # no English beside it


def test_a_reminder_is_shown_in_english_to_an_english_reader(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    _code, label, label_en = _reminded(office)
    b = as_user("personnel_chief")
    b.get("/lang/en")
    page = html.unescape(text(b.get("/notifications")))
    assert "[Overdue]" in page and f'is at the step "{label_en}", deadline 115.04.10 (overdue).' in page
    for chinese in ("【已逾期】", "已逾期", "案件", "目前在", "期限", f"「{label}」"):
        assert chinese not in page
    assert "2026-04-10" not in page
    assert badge(b.get("/").get_data(as_text=True)) is not None  # the nav still counts them


def test_a_notification_stored_before_messages_is_shown_as_stored(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    notify(office, "personnel_staff", "【即將到期】舊的通知")
    b = as_user("personnel_staff")
    assert "【即將到期】舊的通知：內容 In English." in text(b.get("/notifications"))
    b.get("/lang/en")
    page = b.get("/notifications")
    assert page.status_code == 200 and "【即將到期】舊的通知" in text(page)
