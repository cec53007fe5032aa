"""The public zone (no login) and the secretariat's failure queue, used as a browser would."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from werkzeug.test import TestResponse

from publishing import service
from publishing.publishers import HttpSitePublisher, PublicZonePublisher
from tests.conftest import OfficeFixture
from tests.fake_site import TOKEN, FakeSite
from tests.publishing_helpers import FAST, latest_outbox, to_publishing
from tests.web.conftest import Browser, case_row, forms, text


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
    assert anyone.get(f"/zone/{office.code}/?year=114").status_code == 200
    assert "CEDAW" not in text(anyone.get(f"/zone/{office.code}/?year=114"))


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


def test_the_activity_date_is_a_roc_date_on_the_zone(office: OfficeFixture, browser: Callable[[], Browser]) -> None:
    cid, outbox_id = to_publishing(office, fields={"heading": "CEDAW 宣導活動成果", "body": "感謝民眾參與。",
                                                   "activity_date": "2026-02-15"})
    assert service.process_posting(office.db, outbox_id, publisher=PublicZonePublisher(), settings=FAST).status \
        == "published"
    words = text(browser().get(f"/zone/{office.code}/postings/{cid}"))
    assert "活動日期：115.02.15" in words and "2026-02-15" not in words
