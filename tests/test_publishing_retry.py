"""重新刊登, honestly (issue 13 item 3): a posting that fails its own pre-publication checks is not
sent again until it is fixed; every attempt, refused or sent, is counted and in the case history;
the failure queue's 等候時間 counts from the first failure, whatever was retried since."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from publishing import retry, service
from publishing.publishers import HttpSitePublisher, PublicZonePublisher
from tests.conftest import OfficeFixture
from tests.fake_site import TOKEN, FakeSite
from tests.publishing_helpers import FAST, latest_outbox, to_publishing
from workflow import clock
from workflow.cases import approval, posting
from workflow.engine import audit
from workflow.errors import ConditionFailed, Conflict, PermissionDenied
from workflow.models import Attachment, Case, HistoryEvent, OutboxMessage, Publication


@pytest.fixture
def site() -> Iterator[FakeSite]:
    s = FakeSite()
    yield s
    s.down()


def failed_by_checks(office: OfficeFixture) -> int:
    """A posting whose photo has no alt text, stopped by the checks on its first attempt."""
    cid, outbox_id = to_publishing(office, alt=None)
    assert service.process_posting(office.db, outbox_id, publisher=PublicZonePublisher(), settings=FAST).status \
        == "failed"
    return cid


def case_now(office: OfficeFixture, cid: int) -> tuple[str, int, int]:
    """(state, version, history length)."""
    with office.db.unit_of_work(write=False) as uow:
        c = uow.session.get(Case, cid)
        assert c is not None
        return c.state, c.version, c.history_seq


def publication_events(office: OfficeFixture, cid: int) -> list[HistoryEvent]:
    with office.db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(HistoryEvent).where(
            HistoryEvent.case_id == cid, HistoryEvent.event == "publication").order_by(HistoryEvent.seq)))


def total_attempts(office: OfficeFixture, cid: int) -> int:
    with office.db.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(Publication.total_attempts).where(Publication.case_id == cid)) or 0)


def outbox_rows(office: OfficeFixture, cid: int) -> int:
    with office.db.unit_of_work(write=False) as uow:
        return sum(1 for m in uow.session.scalars(select(OutboxMessage).where(OutboxMessage.office_id == office.id))
                   if m.payload.get("case_id") == cid)


def add_alt_text(office: OfficeFixture, cid: int, alt: str = "里民參與 CEDAW 宣導") -> None:
    with office.db.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(Attachment.id).where(Attachment.case_id == cid)))
    posting.edit_posting(cid, office.users["secretariat"], alt_texts=dict.fromkeys(ids, alt), db=office.db)


def test_the_check_failure_itself_is_a_counted_attempt(office: OfficeFixture) -> None:
    cid = failed_by_checks(office)
    [event] = publication_events(office, cid)
    assert event.data["outcome"] == "checks_failed" and event.data["total"] == 1
    assert "照片沒有替代文字" in event.data["error"]
    assert total_attempts(office, cid) == 1


def test_a_retry_that_would_fail_its_checks_is_refused_counted_and_recorded(office: OfficeFixture) -> None:
    cid = failed_by_checks(office)
    state, version, seq = case_now(office, cid)
    outbox = outbox_rows(office, cid)
    with pytest.raises(retry.RetryRefused) as err:
        retry.retry_publish(cid, office.users["secretariat"], "再試一次", version, db=office.db)
    assert err.value.condition == "prepublication_checks_passed" and err.value.attempt == 2
    assert "不能重新刊登" in err.value.message and "照片沒有替代文字" in err.value.message
    assert "修正後重新刊登" in err.value.message and "no alt text" in err.value.message_en
    # Not sent: same state and version (nobody's open page goes stale), no message to a worker...
    assert case_now(office, cid) == (state, version, seq + 1) and outbox_rows(office, cid) == outbox
    # ...but counted and in the history, with who tried and what stood in the way.
    assert total_attempts(office, cid) == 2
    refused = publication_events(office, cid)[-1]
    assert refused.data["outcome"] == "refused" and refused.data["total"] == 2
    assert refused.actor_id == office.users["secretariat"] and refused.comment == "再試一次"
    assert refused.data["problems"] == ["alt_text"] and "照片沒有替代文字" in refused.data["error"]
    assert [b for _cid, b in audit.verify(office.db, office_id=office.id) if b is not None] == []
    # Again: counted again.
    with pytest.raises(retry.RetryRefused) as err:
        retry.retry_publish(cid, office.users["secretariat"], db=office.db)
    assert err.value.attempt == 3 and total_attempts(office, cid) == 3


def test_once_fixed_the_retry_is_sent_and_every_attempt_is_counted(office: OfficeFixture) -> None:
    cid = failed_by_checks(office)
    with pytest.raises(retry.RetryRefused):
        retry.retry_publish(cid, office.users["secretariat"], db=office.db)
    add_alt_text(office, cid)
    result = retry.retry_publish(cid, office.users["secretariat"], db=office.db)
    assert result.to_state == "publishing" and result.outbox_ids
    outcome = service.process_posting(office.db, latest_outbox(office, cid), publisher=PublicZonePublisher(),
                                      settings=FAST)
    assert outcome.status == "published"
    assert [(e.data["outcome"], e.data["total"]) for e in publication_events(office, cid)] == [
        ("checks_failed", 1), ("refused", 2), ("published", 3)]
    assert total_attempts(office, cid) == 3


def test_the_transition_itself_refuses_a_retry_whose_checks_were_not_run(office: OfficeFixture) -> None:
    cid = failed_by_checks(office)
    add_alt_text(office, cid)  # it would pass: still, firing the trigger bare skips the checks
    before = case_now(office, cid)
    with pytest.raises(ConditionFailed) as err:
        approval.fire(cid, "retry_publish", office.users["secretariat"], db=office.db)
    assert err.value.condition == "prepublication_checks_passed" and "刊登前檢查" in err.value.message
    assert case_now(office, cid) == before
    # And facts saying the checks failed are refused with their words.
    with pytest.raises(ConditionFailed) as err:
        approval.fire(cid, "retry_publish", office.users["secretariat"], db=office.db,
                      facts={"prepublication_problems": [("照片沒有替代文字", "no alt text")]})
    assert "照片沒有替代文字" in err.value.message and case_now(office, cid) == before


def test_who_may_not_retry_is_refused_and_nothing_is_recorded(office: OfficeFixture) -> None:
    cid = failed_by_checks(office)
    before = case_now(office, cid)
    for who in ("social_staff", "social_chief", "liaison"):
        with pytest.raises(PermissionDenied):
            retry.retry_publish(cid, office.users[who], db=office.db)
    with pytest.raises(Conflict):  # a stale page: nothing checked, nothing recorded
        retry.retry_publish(cid, office.users["secretariat"], expected_version=before[1] - 1, db=office.db)
    assert case_now(office, cid) == before and total_attempts(office, cid) == 1


def test_a_failure_recorded_without_an_attempt_gets_its_count_from_the_first_refusal(office: OfficeFixture) -> None:
    cid, _outbox = to_publishing(office, alt=None)
    approval.fire(cid, "mark_publish_failed", None, db=office.db)  # as the demo does: no attempt, no row
    with pytest.raises(retry.RetryRefused) as err:
        retry.retry_publish(cid, office.users["secretariat"], db=office.db)
    assert err.value.attempt == 1 and total_attempts(office, cid) == 1


def test_a_transient_failure_that_passes_its_checks_can_be_retried(office: OfficeFixture, site: FakeSite) -> None:
    cid, outbox_id = to_publishing(office)
    site.will("400")
    service.process_posting(office.db, outbox_id, publisher=HttpSitePublisher(site.url, TOKEN, timeout=0.5),
                            settings=FAST)
    assert retry.problems_now(office.db, cid) == []
    assert retry.fire_checked(cid, "retry_publish", office.users["secretariat"], db=office.db).to_state == "publishing"


def test_waiting_counts_from_the_first_failure_across_retries(office: OfficeFixture, site: FakeSite) -> None:
    publisher = HttpSitePublisher(site.url, TOKEN, timeout=0.5)
    start = clock.now()
    with clock.shifted(start - dt.timedelta(days=3)):
        cid, outbox_id = to_publishing(office)
        site.will("400")
        assert service.process_posting(office.db, outbox_id, publisher=publisher, settings=FAST).status == "failed"
    with clock.shifted(start - dt.timedelta(days=1)):  # retried: sent, and refused by the site again
        result = retry.retry_publish(cid, office.users["secretariat"], db=office.db)
        site.will("400")
        assert service.process_posting(office.db, result.outbox_ids[0], publisher=publisher,
                                       settings=FAST).status == "failed"
    with office.db.unit_of_work(write=False) as uow:
        [row] = [r for r in posting.failed_postings(uow.session, office.id) if r.case_id == cid]
    assert row.attempts == 2
    assert row.failed_at - row.failed_since > dt.timedelta(days=1, hours=23)  # the latest is later...
    assert row.waiting(start) > dt.timedelta(days=2, hours=23)  # ...but it has waited since the first
    # Sent back to its unit, resubmitted, approved and failing again: a new wait begins.
    approval.fire(cid, "return_for_revision", office.users["secretariat"], "請換一張照片", db=office.db)
    approval.fire(cid, "submit", office.users["social_staff"], db=office.db)
    approval.fire(cid, "approve", office.users["social_chief"], db=office.db)
    approval.fire(cid, "approve", office.users["secretariat"], db=office.db)
    site.will("400")
    service.process_posting(office.db, latest_outbox(office, cid), publisher=publisher, settings=FAST)
    with office.db.unit_of_work(write=False) as uow:
        [row] = [r for r in posting.failed_postings(uow.session, office.id) if r.case_id == cid]
    assert row.waiting() < dt.timedelta(hours=1)
