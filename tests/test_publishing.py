"""Publishing a web posting (R7): the outbox row, the publishers, retries with backoff, failures
that land in the secretariat's queue with their reason, and exactly one post per posting, against
a small HTTP server on 127.0.0.1 (tests/fake_site.py)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from publishing import retry, service
from publishing.publishers import HttpSitePublisher, PublicZonePublisher
from tasks.publishing import publish_posting
from tests.conftest import OfficeFixture
from tests.fake_site import TOKEN, FakeSite
from tests.publishing_helpers import FAST, to_publishing
from workflow.cases import posting
from workflow.config import PublishSettings
from workflow.engine import audit
from workflow.errors import ValidationError
from workflow.models import Case, HistoryEvent, OutboxMessage, Publication


@pytest.fixture
def site() -> Iterator[FakeSite]:
    s = FakeSite(slow_seconds=1.5)
    yield s
    s.down()


def http(site: FakeSite, timeout: float = 0.5) -> HttpSitePublisher:
    return HttpSitePublisher(site.url, TOKEN, timeout=timeout)


def state(office: OfficeFixture, cid: int) -> str:
    with office.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(Case.state).where(Case.id == cid)) or ""


def events(office: OfficeFixture, cid: int, event: str | None = None) -> list[HistoryEvent]:
    with office.db.unit_of_work(write=False) as uow:
        q = select(HistoryEvent).where(HistoryEvent.case_id == cid).order_by(HistoryEvent.seq)
        rows = list(uow.session.scalars(q))
    return [e for e in rows if event is None or e.event == event]


def publication(office: OfficeFixture, cid: int) -> Publication:
    with office.db.unit_of_work(write=False) as uow:
        row = uow.session.scalar(select(Publication).where(Publication.case_id == cid))
    assert row is not None
    return row


def processed(office: OfficeFixture, outbox_id: int) -> bool:
    with office.db.unit_of_work(write=False) as uow:
        return uow.session.get(OutboxMessage, outbox_id).processed_at is not None  # type: ignore[union-attr]


def run_until_settled(office: OfficeFixture, outbox_id: int, publisher: object, settings: PublishSettings = FAST,
                      limit: int = 20) -> list[service.Outcome]:
    outcomes = []
    for _ in range(limit):
        outcome = service.process_posting(office.db, outbox_id, publisher=publisher,  # type: ignore[arg-type]
                                          settings=settings)
        outcomes.append(outcome)
        if outcome.status in ("published", "failed", "done"):
            break
    return outcomes


# -- the workflow step --------------------------------------------------------------------------
def test_entering_publishing_writes_a_posting_publish_row_in_the_same_transaction(office: OfficeFixture) -> None:
    cid, outbox_id = to_publishing(office)
    with office.db.unit_of_work(write=False) as uow:
        msg = uow.session.get(OutboxMessage, outbox_id)
        entered = uow.session.scalar(select(HistoryEvent.seq).where(
            HistoryEvent.case_id == cid, HistoryEvent.to_state == "publishing"))
    assert msg is not None and msg.topic == "posting.publish"
    assert msg.payload == {"case_id": cid, "task": "publish_posting", "event_seq": entered}


def test_public_zone_publisher_publishes_and_records_the_url(office: OfficeFixture) -> None:
    cid, outbox_id = to_publishing(office)
    outcome = service.process_posting(office.db, outbox_id, publisher=PublicZonePublisher("https://gm.example"),
                                      settings=FAST)
    assert outcome.status == "published"
    assert outcome.url == f"https://gm.example/zone/{office.code}/postings/{cid}"
    assert state(office, cid) == "published"
    done = [e for e in events(office, cid) if e.trigger == "mark_published"]
    assert done and done[0].data["url"] == outcome.url and done[0].actor_id is None
    attempt = events(office, cid, "publication")
    assert [a.data["outcome"] for a in attempt] == ["published"]
    assert attempt[0].data["publisher"] == "public_zone"
    assert processed(office, outbox_id)
    # A second delivery of the same message changes nothing.
    assert service.process_posting(office.db, outbox_id, settings=FAST).status == "done"
    assert len(events(office, cid, "publication")) == 1
    assert dict(audit.verify(office.db, office_id=office.id))[cid] is None  # the chain holds


def test_external_site_gets_one_post_with_title_body_photos_and_alt_text(office: OfficeFixture, site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office, photos=2)
    outcome = service.process_posting(office.db, outbox_id, publisher=http(site), settings=FAST)
    assert outcome.status == "published", outcome
    key = publication(office, cid).idempotency_key
    assert site.post_count == {key: 1}
    sent = site.posts[key]
    assert sent["title"] == "CEDAW 宣導活動成果" and "宣導" in sent["body"]
    assert [p["alt"] for p in sent["photos"]] == ["民眾參與宣導活動", "民眾參與宣導活動"]
    assert sent["photos"][0]["media_type"] == "image/png" and sent["photos"][0]["content_base64"]
    assert publication(office, cid).url == outcome.url == "https://site.example/news/1"


@pytest.mark.parametrize("status", ["500", "503", "429"])
def test_transient_errors_retry_and_then_publish_once(office: OfficeFixture, site: FakeSite, status: str) -> None:
    cid, outbox_id = to_publishing(office)
    site.will(status, status)
    outcomes = run_until_settled(office, outbox_id, http(site))
    assert [o.status for o in outcomes] == ["retry", "retry", "published"]
    assert state(office, cid) == "published"
    assert site.total_posts == 1
    attempts = events(office, cid, "publication")
    assert [(a.data["attempt"], a.data["outcome"]) for a in attempts] == [
        (1, "transient_error"), (2, "transient_error"), (3, "published")]
    assert str(status) in attempts[0].data["error_en"] or status == "429"
    assert all(a.data["publisher"] == "external_site" for a in attempts)


def test_backoff_waits_between_attempts_and_honours_retry_after(office: OfficeFixture, site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office)
    slow = PublishSettings(backoff_seconds=60, backoff_max_seconds=600, max_attempts=4, timeout_seconds=0.5)
    site.will("503", "429")
    site.retry_after = 200
    first = service.process_posting(office.db, outbox_id, publisher=http(site), settings=slow)
    assert first.status == "retry" and first.retry_in is not None and 30 <= first.retry_in <= 60
    # Delivered again before the wait is over: nothing is sent.
    early = service.process_posting(office.db, outbox_id, publisher=http(site), settings=slow)
    assert early.status == "not_due" and len(site.requests) == 1
    with office.db.unit_of_work() as uow:  # the wait is over
        uow.session.get(Publication, publication(office, cid).id).next_attempt_at = None  # type: ignore[union-attr]
        uow.commit()
    second = service.process_posting(office.db, outbox_id, publisher=http(site), settings=slow)
    assert second.status == "retry" and second.retry_in == 200  # the site's Retry-After, longer than ours


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    settings = PublishSettings(backoff_seconds=10, backoff_max_seconds=100)
    rng = random.Random(4)
    waits = [[service.backoff(n, settings, rng) for _ in range(50)] for n in range(1, 7)]
    for n, ws in enumerate(waits, start=1):
        base = min(100, 10 * 2 ** (n - 1))
        assert all(base / 2 <= w <= base for w in ws)
        assert len({round(w, 6) for w in ws}) > 40  # jittered, not lockstep
    assert max(waits[-1]) <= 100


def test_exhausted_retries_land_in_the_failure_queue_with_the_reason(office: OfficeFixture, site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office)
    site.will(*["503"] * 10)
    outcomes = run_until_settled(office, outbox_id, http(site))
    assert [o.status for o in outcomes] == ["retry"] * 3 + ["failed"]
    assert state(office, cid) == "publish_failed"
    assert len(events(office, cid, "publication")) == FAST.max_attempts
    assert processed(office, outbox_id)
    with office.db.unit_of_work(write=False) as uow:
        queue = posting.failed_postings(uow.session, office.id)
        assert posting.failed_postings_count(uow.session, office.id) == 1
    assert [f.case_id for f in queue] == [cid]
    assert "嘗試 4 次仍無法刊登" in queue[0].reason and "HTTP 503" in queue[0].reason
    assert queue[0].unit_name == "social" and queue[0].attempts == 4


@pytest.mark.parametrize(("status", "words"), [("400", "網站拒收這則刊登（HTTP 400）"), ("413", "檔案總量太大")])
def test_a_permanent_error_fails_at_once_with_its_reason(office: OfficeFixture, site: FakeSite, status: str,
                                                         words: str) -> None:
    cid, outbox_id = to_publishing(office)
    site.will(status)
    outcomes = run_until_settled(office, outbox_id, http(site))
    assert [o.status for o in outcomes] == ["failed"]
    assert state(office, cid) == "publish_failed"
    with office.db.unit_of_work(write=False) as uow:
        [failed] = posting.failed_postings(uow.session, office.id)
    assert words in failed.reason
    failure = next(e for e in events(office, cid) if e.trigger == "mark_publish_failed")
    assert failure.actor_id is None and words in (failure.comment or "")


def test_accepted_then_timeout_posts_exactly_once(office: OfficeFixture, site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office)
    site.will("accept_then_timeout")
    outcomes = run_until_settled(office, outbox_id, http(site, timeout=0.3))
    assert [o.status for o in outcomes] == ["retry", "published"]
    key = publication(office, cid).idempotency_key
    assert site.post_count == {key: 1}, "the retry looked the post up instead of posting again"
    attempts = events(office, cid, "publication")
    assert attempts[0].data["outcome"] == "transient_error" and attempts[1].data["looked_up"] is True
    assert ("GET", f"/api/postings?idempotency_key={key}") in site.requests


def test_site_gone_then_back_publishes_once(office: OfficeFixture, site: FakeSite) -> None:
    _cid, outbox_id = to_publishing(office)
    site.down()
    first = service.process_posting(office.db, outbox_id, publisher=http(site), settings=FAST)
    assert first.status == "retry" and "無法連線" in (first.reason or "")
    site.up()
    outcomes = run_until_settled(office, outbox_id, http(site))
    assert outcomes[-1].status == "published" and site.total_posts == 1


def test_the_key_is_stored_before_the_first_attempt(office: OfficeFixture, site: FakeSite) -> None:
    """A worker that dies mid-request leaves the key, the attempt count and a lease behind; the
    next delivery waits out the lease, then looks the post up rather than posting again."""
    cid, outbox_id = to_publishing(office)

    class DiesMidRequest(HttpSitePublisher):
        def publish(self, posting, key):  # type: ignore[no-untyped-def]
            super().publish(posting, key)  # the site has it...
            raise SystemExit("worker killed")  # ...and the worker never hears back

    with pytest.raises(SystemExit):
        service.process_posting(office.db, outbox_id, publisher=DiesMidRequest(site.url, TOKEN, timeout=1),
                                settings=FAST)
    row = publication(office, cid)
    assert row.attempts == 1 and row.lease_until is not None and len(row.idempotency_key) == 32
    assert service.process_posting(office.db, outbox_id, publisher=http(site), settings=FAST).status == "busy"
    with office.db.unit_of_work() as uow:  # the lease runs out
        uow.session.get(Publication, row.id).lease_until = None  # type: ignore[union-attr]
        uow.commit()
    outcome = service.process_posting(office.db, outbox_id, publisher=http(site), settings=FAST)
    assert outcome.status == "published" and site.total_posts == 1


def test_failed_checks_fail_the_posting_naming_the_photo(office: OfficeFixture, site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office, alt=None, fields={
        "heading": "CEDAW 宣導", "body": "報名請洽王小姐 0912-345-678\n地點：里民活動中心",
        "activity_date": "2026-03-08"})
    outcome = service.process_posting(office.db, outbox_id, publisher=http(site), settings=FAST)
    assert outcome.status == "failed"
    assert site.requests == [], "nothing is sent when the checks fail"
    assert "附件「活動照片1.png」：照片沒有替代文字" in (outcome.reason or "")
    assert "內文第 1 行：含有電話號碼（091******678）" in (outcome.reason or "")
    assert state(office, cid) == "publish_failed"


def test_retry_from_the_failure_queue_is_a_new_round_with_the_same_key(office: OfficeFixture, site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office)
    site.will("400")
    run_until_settled(office, outbox_id, http(site))
    key = publication(office, cid).idempotency_key
    result = retry.retry_publish(cid, office.users["secretariat"], db=office.db)
    assert result.to_state == "publishing" and result.outbox_ids
    outcomes = run_until_settled(office, result.outbox_ids[0], http(site))
    assert outcomes[-1].status == "published"
    assert publication(office, cid).idempotency_key == key and site.post_count == {key: 1}
    # The first round's message, delivered late, does nothing.
    assert service.process_posting(office.db, outbox_id, publisher=http(site), settings=FAST).status == "done"


def test_the_celery_task_retries_with_its_countdown_until_published(office: OfficeFixture, site: FakeSite,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cid, outbox_id = to_publishing(office)
    site.will("503", "503")
    monkeypatch.setenv("CASEFLOW_PUBLISHER", "external_site")
    monkeypatch.setenv("CASEFLOW_PUBLISH_SITE_URL", site.url)
    monkeypatch.setenv("CASEFLOW_PUBLISH_SITE_TOKEN", TOKEN)
    monkeypatch.setenv("CASEFLOW_PUBLISH_BACKOFF", "0")
    monkeypatch.setenv("CASEFLOW_PUBLISH_TIMEOUT", "1")
    result = publish_posting.apply(args=[outbox_id])  # eager: retries run in place, countdown aside
    assert result.get() == "published"
    assert state(office, cid) == "published" and site.total_posts == 1
    assert len(events(office, cid, "publication")) == 3


def test_unconfigured_external_site_is_a_permanent_failure(office: OfficeFixture) -> None:
    cid, outbox_id = to_publishing(office)
    outcome = service.process_posting(office.db, outbox_id,
                                      settings=PublishSettings(publisher="external_site", backoff_seconds=0))
    assert outcome.status == "failed" and "尚未設定" in (outcome.reason or "")
    assert state(office, cid) == "publish_failed"


def test_a_bad_manual_posting_url_names_no_field_key(office: OfficeFixture, site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office)
    site.will("400")
    service.process_posting(office.db, outbox_id, publisher=HttpSitePublisher(site.url, TOKEN, timeout=0.5),
                            settings=FAST)
    with pytest.raises(ValidationError) as err:
        posting.record_manual_posting(cid, office.users["secretariat"], "www.example.gov.tw/news/9", "人工刊登",
                                      db=office.db)
    assert "url" not in err.value.message and "請填寫刊登網址（以 https:// 開頭）" in err.value.message
    assert "url:" not in err.value.message_en and "give the posting's URL" in err.value.message_en
    assert set(err.value.errors) == {"url"}  # the API's errors still name the field by its key
    with pytest.raises(ValidationError) as err:
        posting.edit_posting(cid, office.users["secretariat"], alt_texts={10**9: "x"}, db=office.db)
    assert err.value.message.startswith("欄位有誤：替代文字：找不到附件") and "alt_text" not in err.value.message
    assert err.value.message_en.startswith("Invalid fields: Alt text: no attachment")
