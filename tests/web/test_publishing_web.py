"""The public zone (no login) and the secretariat's failure queue, used as a browser would."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from publishing import service
from publishing.publishers import HttpSitePublisher, PublicZonePublisher
from tests.conftest import OfficeFixture
from tests.fake_site import TOKEN, FakeSite
from tests.publishing_helpers import FAST, latest_outbox, to_publishing
from tests.web.conftest import Browser, case_row, csrf_token, forms, text
from workflow.cases import approval
from workflow.models import Attachment


def post_form(b: Browser, page: str, action: str, **fields: str) -> TestResponse:
    """Post the form for ``action`` on ``page`` (its fields are prefixed per row: manual12-url)."""
    data = dict(forms(b.get(page).get_data(as_text=True))[action])
    for key, value in fields.items():
        [name] = [n for n in data if n.endswith(f"-{key}")]
        data[name] = value
    return b.client.post(action, data=data)


@pytest.fixture
def site() -> Iterator[FakeSite]:
    s = FakeSite()
    yield s
    s.down()


def test_the_outreach_posting_appears_on_the_public_zone_with_its_album(
        office: OfficeFixture, browser: Callable[[], Browser]) -> None:
    cid, outbox_id = to_publishing(office, photos=2)
    assert service.process_posting(office.db, outbox_id, publisher=PublicZonePublisher(), settings=FAST).status \
        == "published"
    anyone = browser()  # not logged in
    index = anyone.get(f"/zone/{office.code}/")
    assert index.status_code == 200
    assert "CEDAW 宣導活動成果" in text(index) and "民國 115 年" in text(index)
    page = anyone.get(f"/zone/{office.code}/postings/{cid}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script" not in html and "https://" not in html.split("<body>")[0]
    assert html.count('alt="民眾參與宣導活動"') == 2 and '<html lang="zh-Hant-TW"' in html
    img = html.split('<img src="')[1].split('"')[0]
    photo = anyone.get(img)
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    feed = anyone.get(f"/zone/{office.code}/feed.atom")
    assert feed.mimetype == "application/atom+xml" and "CEDAW 宣導活動成果" in feed.get_data(as_text=True)
    # The year filter of earlier versions leads to the year's page; a year with nothing public is not found.
    assert anyone.get(f"/zone/{office.code}/?year=115").headers["Location"].endswith(f"/zone/{office.code}/years/115")
    assert "CEDAW 宣導活動成果" in text(anyone.get(f"/zone/{office.code}/years/115"))
    assert anyone.get(f"/zone/{office.code}/years/114").status_code == 404


def test_unpublished_postings_and_their_files_are_not_public(office: OfficeFixture,
                                                             browser: Callable[[], Browser]) -> None:
    cid, _outbox = to_publishing(office)  # approved, not yet published
    anyone = browser()
    assert anyone.get(f"/zone/{office.code}/postings/{cid}").status_code == 404
    assert "CEDAW" not in text(anyone.get(f"/zone/{office.code}/"))
    assert anyone.get("/zone/no-such-office/").status_code == 404


def test_site_down_lands_in_the_queue_and_one_click_publishes_once_it_is_back(
        office: OfficeFixture, as_user: Callable[[str], Browser], site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office)
    site.down()
    publisher = HttpSitePublisher(site.url, TOKEN, timeout=0.5)
    for _ in range(FAST.max_attempts):
        outcome = service.process_posting(office.db, outbox_id, publisher=publisher, settings=FAST)
    assert outcome.status == "failed"
    secretariat = as_user("secretariat")
    queue = secretariat.get("/publishing/failed")
    assert queue.status_code == 200
    words = text(queue)
    assert "無法連線到網站" in words and "social" in words and "等候時間" in words
    site.up()
    resp = post_form(secretariat, "/publishing/failed", f"/publishing/{cid}/retry")
    assert resp.status_code == 303
    assert case_row(office.db, cid).state == "publishing"
    outcome = service.process_posting(office.db, latest_outbox(office, cid), publisher=publisher, settings=FAST)
    assert outcome.status == "published" and site.total_posts == 1
    assert "目前沒有刊登失敗的案件" in text(secretariat.get("/publishing/failed"))


def test_manual_posting_and_send_back(office: OfficeFixture, as_user: Callable[[str], Browser],
                                      site: FakeSite) -> None:
    publisher = HttpSitePublisher(site.url, TOKEN, timeout=0.5)
    a, oa = to_publishing(office)
    b, ob = to_publishing(office)
    site.will("400", "400")
    service.process_posting(office.db, oa, publisher=publisher, settings=FAST)
    service.process_posting(office.db, ob, publisher=publisher, settings=FAST)
    secretariat = as_user("secretariat")
    resp = post_form(secretariat, "/publishing/failed", f"/publishing/{a}/manual",
                     url="https://www.example.gov.tw/news/9", note="由秘書室手動刊登")
    assert resp.status_code == 303 and case_row(office.db, a).state == "published"
    resp = post_form(secretariat, "/publishing/failed", f"/publishing/{b}/return", comment="請改用較小的照片")
    assert resp.status_code == 303 and case_row(office.db, b).state == "returned"


def test_fix_and_retry_reruns_the_checks(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid, outbox_id = to_publishing(office, alt=None)
    assert service.process_posting(office.db, outbox_id, publisher=PublicZonePublisher(), settings=FAST).status \
        == "failed"
    secretariat = as_user("secretariat")
    page = secretariat.get(f"/publishing/{cid}/fix")
    assert "照片沒有替代文字" in text(page)
    resp = post_form(secretariat, f"/publishing/{cid}/fix", f"/publishing/{cid}/fix", body="修正後的內文")
    assert resp.status_code == 303 and case_row(office.db, cid).state == "publish_failed"  # alt text still missing
    html = secretariat.get(f"/publishing/{cid}/fix").get_data(as_text=True)
    data = dict(forms(html)[f"/publishing/{cid}/fix"])
    data.update({k: "里民參與宣導" for k in data if k.startswith("alt-")})
    data["fix-body"] = "修正後的內文"  # (the form reader does not read textarea contents)
    resp = secretariat.client.post(f"/publishing/{cid}/fix", data=data)
    assert resp.status_code == 303 and case_row(office.db, cid).state == "publishing"
    outcome = service.process_posting(office.db, latest_outbox(office, cid), publisher=PublicZonePublisher(),
                                      settings=FAST)
    assert outcome.status == "published"


def test_only_the_secretariat_and_liaisons_see_the_queue(office: OfficeFixture,
                                                         as_user: Callable[[str], Browser]) -> None:
    assert as_user("social_staff").get("/publishing/failed").status_code == 403
    assert as_user("liaison").get("/publishing/failed").status_code == 200


def failed_by_checks(office: OfficeFixture) -> int:
    """A posting whose photo has no alt text, refused by the pre-publication checks."""
    cid, outbox_id = to_publishing(office, alt=None)
    assert service.process_posting(office.db, outbox_id, publisher=PublicZonePublisher(), settings=FAST).status \
        == "failed"
    return cid


def alt_texts(office: OfficeFixture, case_id: int) -> list[str | None]:
    with office.db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Attachment.alt_text).where(Attachment.case_id == case_id)))


def test_a_refused_fix_keeps_the_alt_text_typed(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = failed_by_checks(office)
    secretariat = as_user("secretariat")
    data = dict(forms(secretariat.get(f"/publishing/{cid}/fix").get_data(as_text=True))[f"/publishing/{cid}/fix"])
    [alt] = [k for k in data if k.startswith("alt-")]
    data.update({"fix-heading": "", "fix-body": "修正後的內文", alt: "里民參與宣導"})
    resp = secretariat.client.post(f"/publishing/{cid}/fix", data=data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "請填寫標題" in text(resp) and "您輸入的內容都還在" in text(resp)
    assert forms(html)[f"/publishing/{cid}/fix"][alt] == "里民參與宣導"  # not the stored (empty) alt text
    assert "修正後的內文" in html  # the body as typed
    assert alt_texts(office, cid) == [None] and case_row(office.db, cid).state == "publish_failed"  # nothing saved


def test_a_refused_manual_posting_keeps_what_was_typed(office: OfficeFixture, as_user: Callable[[str], Browser],
                                                       site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office)
    site.will("400")
    service.process_posting(office.db, outbox_id, publisher=HttpSitePublisher(site.url, TOKEN, timeout=0.5),
                            settings=FAST)
    secretariat = as_user("secretariat")
    action = f"/publishing/{cid}/manual"
    # Refused by the form (no URL): the note typed is still there, the message is next to the field.
    resp = post_form(secretariat, "/publishing/failed", action, url="", note="已請資訊室協助刊登")
    assert resp.status_code == 422 and case_row(office.db, cid).state == "publish_failed"
    html = resp.get_data(as_text=True)
    assert "已請資訊室協助刊登" in html and f'id="manual{cid}-url-error"' in html and "請填寫刊登網址" in text(resp)
    # Refused by the operation (not a web address): the URL and note typed are kept; no field key shown.
    resp = post_form(secretariat, "/publishing/failed", action, url="www.example.gov.tw/news/9", note="人工刊登")
    assert resp.status_code == 422 and case_row(office.db, cid).state == "publish_failed"
    html = resp.get_data(as_text=True)
    assert forms(html)[action][f"manual{cid}-url"] == "www.example.gov.tw/news/9" and "人工刊登" in html
    assert "請填寫刊登網址（以 https:// 開頭）" in text(resp) and "url：" not in text(resp)
    # The other forms of the page are blank, not filled from this POST.
    assert forms(html)[f"/publishing/{cid}/return"][f"return{cid}-comment"] == ""


def test_a_refused_send_back_keeps_the_page(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = failed_by_checks(office)
    secretariat = as_user("secretariat")
    resp = post_form(secretariat, "/publishing/failed", f"/publishing/{cid}/return", comment="")
    assert resp.status_code == 422 and case_row(office.db, cid).state == "publish_failed"
    html = resp.get_data(as_text=True)
    assert f'id="return{cid}-comment-error"' in html and "請填寫退回原因" in text(resp)
    assert 'aria-invalid="true"' in html


def test_the_queue_shows_the_checks_when_the_failure_recorded_no_reason(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid, _outbox = to_publishing(office, alt=None)
    approval.fire(cid, "mark_publish_failed", None, db=office.db)  # as the demo does: no attempt, no reason
    secretariat = as_user("secretariat")
    words = text(secretariat.get("/publishing/failed"))
    assert "原因未記錄" not in words
    assert "刊登前檢查未通過" in words and "照片沒有替代文字" in words
    secretariat.get("/lang/en")
    words = text(secretariat.get("/publishing/failed"))
    assert "Pre-publication checks failed" in words and "no alt text" in words


def test_the_activity_date_is_a_roc_date_on_the_zone(office: OfficeFixture, browser: Callable[[], Browser]) -> None:
    cid, outbox_id = to_publishing(office, fields={"heading": "CEDAW 宣導活動成果", "body": "感謝民眾參與。",
                                                   "activity_date": "2026-02-15"})
    assert service.process_posting(office.db, outbox_id, publisher=PublicZonePublisher(), settings=FAST).status \
        == "published"
    words = text(browser().get(f"/zone/{office.code}/postings/{cid}"))
    assert "活動日期：115.02.15" in words and "2026-02-15" not in words


def test_a_refused_form_shows_the_queue_to_its_viewers_only(office: OfficeFixture,
                                                            as_user: Callable[[str], Browser]) -> None:
    cid = failed_by_checks(office)
    data = dict(forms(as_user("secretariat").get("/publishing/failed").get_data(as_text=True))[
        f"/publishing/{cid}/manual"])
    staff = as_user("social_staff")
    data["csrf_token"] = csrf_token(staff.get("/").get_data(as_text=True))
    data.update({f"manual{cid}-url": "", f"manual{cid}-note": "x"})
    resp = staff.client.post(f"/publishing/{cid}/manual", data=data)
    assert resp.status_code == 403 and "照片沒有替代文字" not in text(resp)
