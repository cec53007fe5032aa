"""重新刊登 on the pages (issue 13 item 3): a posting that fails its checks is not offered a retry,
the failure queue and the case page say what to fix, and a forced POST is refused with that reason
(422) and counted in the history."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from publishing import service
from publishing.publishers import HttpSitePublisher, PublicZonePublisher
from tests.conftest import OfficeFixture
from tests.fake_site import TOKEN, FakeSite
from tests.publishing_helpers import FAST, to_publishing
from tests.web.conftest import Browser, case_row, csrf_token, forms, text
from tests.web.test_api import api_client, token_for
from workflow.models import HistoryEvent, Publication


@pytest.fixture
def site() -> Iterator[FakeSite]:
    s = FakeSite()
    yield s
    s.down()


def failed_by_checks(office: OfficeFixture) -> int:
    cid, outbox_id = to_publishing(office, alt=None)
    assert service.process_posting(office.db, outbox_id, publisher=PublicZonePublisher(), settings=FAST).status \
        == "failed"
    return cid


def refused_by_site(office: OfficeFixture, site: FakeSite) -> int:
    cid, outbox_id = to_publishing(office, fields={"heading": "性別平等講座", "body": "感謝參與。"})
    site.will("400")
    assert service.process_posting(office.db, outbox_id, publisher=HttpSitePublisher(site.url, TOKEN, timeout=0.5),
                                   settings=FAST).status == "failed"
    return cid


def attempts(office: OfficeFixture, cid: int) -> tuple[int, list[str]]:
    """(attempts counted, outcomes in the history)."""
    with office.db.unit_of_work(write=False) as uow:
        total = uow.session.scalar(select(Publication.total_attempts).where(Publication.case_id == cid))
        outcomes = [e.data["outcome"] for e in uow.session.scalars(
            select(HistoryEvent).where(HistoryEvent.case_id == cid, HistoryEvent.event == "publication")
            .order_by(HistoryEvent.seq))]
    return int(total or 0), outcomes


def test_the_queue_says_what_to_fix_and_offers_no_retry(office: OfficeFixture, as_user: Callable[[str], Browser],
                                                        site: FakeSite) -> None:
    blocked = failed_by_checks(office)
    sendable = refused_by_site(office, site)
    secretariat = as_user("secretariat")
    page = secretariat.get("/publishing/failed")
    html, words = page.get_data(as_text=True), text(page)
    assert "刊登前檢查未通過，修正前不能重新刊登" in words and "照片沒有替代文字" in words
    found = forms(html)
    assert f"/publishing/{blocked}/retry" not in found  # no 重新刊登 for what cannot succeed
    assert f'href="/publishing/{blocked}/fix"' in html
    assert f"/publishing/{sendable}/retry" in found  # the site's refusal may be worth another try
    # The buttons are styled like the rest of the app.
    assert 'class="primary"' in html and 'class="secondary-plain"' in html and 'class="secondary"' in html
    assert 'class="button-link primary"' in html
    secretariat.get("/lang/en")
    words = text(secretariat.get("/publishing/failed"))
    assert "cannot be published again until this is fixed" in words and "no alt text" in words


def test_a_forced_retry_is_refused_with_the_reason_and_counted(office: OfficeFixture,
                                                               as_user: Callable[[str], Browser]) -> None:
    cid = failed_by_checks(office)
    secretariat = as_user("secretariat")
    page = secretariat.get("/publishing/failed").get_data(as_text=True)
    before = case_row(office.db, cid)
    resp = secretariat.client.post(f"/publishing/{cid}/retry", data={
        "csrf_token": csrf_token(page), f"retry{cid}-version": str(before.version),
        f"retry{cid}-comment": "請再試一次"})
    assert resp.status_code == 422
    words = text(resp)
    assert "未重新刊登" in words and "第 2 次嘗試" in words and "照片沒有替代文字" in words
    assert "嘗試次數 2" in words  # the queue shown is read after the refusal
    assert "請再試一次" in resp.get_data(as_text=True)  # the comment typed is shown, not lost
    assert case_row(office.db, cid) == before  # not sent, nobody's page made stale
    assert attempts(office, cid) == (2, ["checks_failed", "refused"])
    # The case's history says so, in words.
    history = text(secretariat.get(f"/cases/{cid}"))
    assert "第 2 次嘗試：重新刊登遭拒" in history and "請再試一次" in history
    # Refused, not waiting less: the failure queue still counts from the first failure.
    assert "0 天 0 小時" in text(secretariat.get("/publishing/failed"))


def test_the_case_page_says_what_to_fix_and_refuses_a_forced_retry(office: OfficeFixture,
                                                                   as_user: Callable[[str], Browser]) -> None:
    cid = failed_by_checks(office)
    secretariat = as_user("secretariat")
    page = secretariat.get(f"/cases/{cid}")
    html, words = page.get_data(as_text=True), text(page)
    assert f"/cases/{cid}/actions/retry_publish" not in forms(html)
    assert "刊登前檢查未通過，修正前不能重新刊登" in words and "照片沒有替代文字" in words
    assert f'href="/publishing/{cid}/fix"' in html
    assert f"/cases/{cid}/actions/record_manual_posting" in forms(html)  # the other ways out are still there
    version = case_row(office.db, cid).version
    resp = secretariat.client.post(f"/cases/{cid}/actions/retry_publish", data={
        "csrf_token": csrf_token(html), "retry_publish-version": str(version)})
    assert resp.status_code == 422
    assert "不能重新刊登" in text(resp) and "照片沒有替代文字" in text(resp)
    assert "第 2 次嘗試：重新刊登遭拒" in text(resp)  # the page shown is read after the refusal
    assert case_row(office.db, cid).state == "publish_failed"
    assert attempts(office, cid) == (2, ["checks_failed", "refused"])
    # The drafter's unit sees why it is stuck, without the secretariat's fix link.
    staff = as_user("social_staff").get(f"/cases/{cid}")
    assert "照片沒有替代文字" in text(staff) and f"/publishing/{cid}/fix" not in staff.get_data(as_text=True)


def test_a_posting_that_passes_its_checks_is_retried_from_the_case_page(
        office: OfficeFixture, as_user: Callable[[str], Browser], site: FakeSite) -> None:
    cid = refused_by_site(office, site)
    secretariat = as_user("secretariat")
    html = secretariat.get(f"/cases/{cid}").get_data(as_text=True)
    assert f"/cases/{cid}/actions/retry_publish" in forms(html) and "must-fix" not in html
    resp = secretariat.submit(f"/cases/{cid}", f"/cases/{cid}/actions/retry_publish")
    assert resp.status_code == 303 and case_row(office.db, cid).state == "publishing"


def test_saving_a_fix_that_leaves_problems_is_a_counted_refusal(office: OfficeFixture,
                                                                as_user: Callable[[str], Browser]) -> None:
    cid = failed_by_checks(office)
    secretariat = as_user("secretariat")
    data = dict(forms(secretariat.get(f"/publishing/{cid}/fix").get_data(as_text=True))[f"/publishing/{cid}/fix"])
    data["fix-body"] = "修正後的內文"
    resp = secretariat.client.post(f"/publishing/{cid}/fix", data=data)
    assert resp.status_code == 303 and case_row(office.db, cid).state == "publish_failed"
    page = secretariat.get(f"/publishing/{cid}/fix")
    assert "刊登前檢查仍未通過" in text(page) and "第 2 次嘗試" in text(page)
    assert attempts(office, cid) == (2, ["checks_failed", "refused"])
    # Fixed: the alt text and a caption, then saved and sent.
    data = dict(forms(page.get_data(as_text=True))[f"/publishing/{cid}/fix"])
    data["fix-body"] = "修正後的內文"
    data.update({k: "里民參與 CEDAW 宣導" for k in data if k.startswith("alt-")})
    data.update({k: "114 年 3 月 8 日婦女節宣導" for k in data if k.startswith("caption-")})
    resp = secretariat.client.post(f"/publishing/{cid}/fix", data=data)
    assert resp.status_code == 303 and case_row(office.db, cid).state == "publishing"


def test_the_api_offers_no_retry_and_refuses_one_with_the_reason(office: OfficeFixture, app: Flask) -> None:
    cid = failed_by_checks(office)
    api = api_client(app, token_for(office, "secretariat"))
    detail = api("GET", f"/api/v1/cases/{cid}").get_json()
    triggers = [a["trigger"] for a in detail["actions"]]
    assert "retry_publish" not in triggers and "record_manual_posting" in triggers
    resp = api("POST", f"/api/v1/cases/{cid}/transitions",
               json={"trigger": "retry_publish", "version": detail["version"], "comment": None})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["code"] == "condition_failed" and body["condition"] == "prepublication_checks_passed"
    assert "照片沒有替代文字" in body["message"]
    assert attempts(office, cid) == (2, ["checks_failed", "refused"])
