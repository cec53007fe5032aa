"""The public zone as plan §5.5 describes it (issue 13 item 4): each posting's photo album with
captions and alt text, a year archive, the office's contact, and nothing served as .docx."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable

import docx
import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from publishing import service
from publishing.publishers import PublicZonePublisher
from tests.conftest import OfficeFixture
from tests.publishing_helpers import FAST, latest_outbox, png
from tests.web.conftest import Browser, csrf_token, forms, text
from web.public import tel
from workflow.cases import approval, drafts, posting
from workflow.errors import PermissionDenied, TransitionNotAllowed, ValidationError
from workflow.models import Attachment, Office
from workflow.registers import outreach

PHOTOS = [("講台.png", "講師在講台前說明 CEDAW", "講師說明 CEDAW"), ("攤位.png", "民眾在宣導攤位閱讀摺頁", None)]


def published(office: OfficeFixture, *, heading: str = "CEDAW 宣導活動成果", roc_year: int = 115,
              photos: list[tuple[str, str, str | None]] = PHOTOS) -> int:
    """A posting with photos (alt text, captions), reviewed and published on the zone."""
    cid = office.case("web_posting", roc_year=roc_year, fields={
        "heading": heading, "body": "第一段。\n第二段。", "activity_date": f"{roc_year + 1911}-03-08"})
    staff = office.users["social_staff"]
    alts, captions = {}, {}
    for n, (name, alt, caption) in enumerate(photos):
        att = drafts.add_attachment(cid, staff, name=name, content_type="image/png", content=png(4 + n, 3),
                                    db=office.db)
        alts[att] = alt
        if caption:
            captions[att] = caption
    posting.edit_posting(cid, staff, alt_texts=alts, captions=captions, db=office.db)
    approval.fire(cid, "submit", staff, db=office.db)
    approval.fire(cid, "approve", office.users["social_chief"], db=office.db)
    approval.fire(cid, "approve", office.users["secretariat"], db=office.db)
    assert service.process_posting(office.db, latest_outbox(office, cid), publisher=PublicZonePublisher(),
                                   settings=FAST).status == "published"
    return cid


def attachment_ids(office: OfficeFixture, case_id: int) -> list[int]:
    with office.db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Attachment.id).where(Attachment.case_id == case_id)
                                        .order_by(Attachment.id)))


def word_file() -> bytes:
    d = docx.Document()
    d.add_paragraph("簽到表")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_the_album_shows_each_photo_with_its_alt_text_and_caption(office: OfficeFixture,
                                                                  browser: Callable[[], Browser]) -> None:
    cid = published(office)
    anyone = browser()
    page = anyone.get(f"/zone/{office.code}/postings/{cid}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "活動照片（2 張）" in text(page)
    first, second = attachment_ids(office, cid)
    assert (f'<img src="/zone/{office.code}/files/{first}" alt="講師在講台前說明 CEDAW"' in html
            and "<figcaption>講師說明 CEDAW</figcaption>" in html)
    assert f'<img src="/zone/{office.code}/files/{second}" alt="民眾在宣導攤位閱讀摺頁"' in html
    assert html.count("<figcaption>") == 1  # no caption: no empty caption, and never the alt text twice
    assert "<p>第一段。</p><p>第二段。</p>" in html and "活動日期：115.03.08" in text(page)
    photo = anyone.get(f"/zone/{office.code}/files/{second}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    # The front page shows the cover photo and how many the album has.
    index = anyone.get(f"/zone/{office.code}/").get_data(as_text=True)
    assert f'src="/zone/{office.code}/files/{first}" alt="講師在講台前說明 CEDAW"' in index
    assert "相簿：2 張照片" in index


def test_nothing_is_served_as_docx_and_photos_without_alt_text_stay_unpublished(
        office: OfficeFixture, browser: Callable[[], Browser]) -> None:
    """A posting recorded as posted by hand skipped the checks: its Word file and its photo without
    alt text are still not given to the public."""
    cid = office.case("web_posting")
    staff = office.users["social_staff"]
    word = drafts.add_attachment(cid, staff, name="簽到表.docx", content=word_file(), db=office.db,
                                 content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    photo = drafts.add_attachment(cid, staff, name="照片.png", content_type="image/png", content=png(), db=office.db)
    pdf = drafts.add_attachment(cid, staff, name="成果.pdf", content_type="application/pdf",
                                content=b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", db=office.db)
    approval.fire(cid, "submit", staff, db=office.db)
    approval.fire(cid, "approve", office.users["social_chief"], db=office.db)
    approval.fire(cid, "approve", office.users["secretariat"], db=office.db)
    assert service.process_posting(office.db, latest_outbox(office, cid), publisher=PublicZonePublisher(),
                                   settings=FAST).status == "failed"  # the checks refuse the Word file
    posting.record_manual_posting(cid, office.users["secretariat"], "https://www.example.gov.tw/news/1", "已手動刊登",
                                  db=office.db)
    anyone = browser()
    page = anyone.get(f"/zone/{office.code}/postings/{cid}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and ".docx" not in html and "簽到表" not in html and "<img" not in html
    assert f"/zone/{office.code}/files/{pdf}" in html
    assert anyone.get(f"/zone/{office.code}/files/{word}").status_code == 404
    assert anyone.get(f"/zone/{office.code}/files/{photo}").status_code == 404
    got = anyone.get(f"/zone/{office.code}/files/{pdf}")
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    # No link anywhere on the zone points to a Word file.
    for url in (f"/zone/{office.code}/", f"/zone/{office.code}/years/115", f"/zone/{office.code}/feed.atom"):
        assert ".docx" not in anyone.get(url).get_data(as_text=True)


def test_the_year_archive_lists_postings_by_roc_year(office: OfficeFixture, browser: Callable[[], Browser]) -> None:
    old = published(office, heading="114年婦女節宣導", roc_year=114)
    new = published(office, heading="115年婦女節宣導", roc_year=115)
    anyone = browser()
    index = anyone.get(f"/zone/{office.code}/")
    words = text(index)
    assert "歷年彙整" in words and "民國 115 年 刊登 1 則、文件 0 份" in words and "民國 114 年 刊登 1 則" in words
    assert words.index("民國 115 年 刊登") < words.index("民國 114 年 刊登")  # newest first
    year = anyone.get(f"/zone/{office.code}/years/114")
    assert year.status_code == 200
    words = text(year)
    assert "民國 114 年的成果" in words and "114年婦女節宣導" in words and "115年婦女節宣導" not in words
    assert f"/zone/{office.code}/postings/{old}" in year.get_data(as_text=True)
    assert 'aria-current="page">民國 114 年' in year.get_data(as_text=True)
    assert f"/zone/{office.code}/postings/{new}" in anyone.get(f"/zone/{office.code}/years/115").get_data(as_text=True)
    assert anyone.get(f"/zone/{office.code}/years/113").status_code == 404
    # The posting's page leads back to its year.
    assert f'href="/zone/{office.code}/years/114"' in anyone.get(f"/zone/{office.code}/postings/{old}").get_data(
        as_text=True)


def test_every_page_of_the_zone_says_how_to_reach_the_office(office: OfficeFixture,
                                                             browser: Callable[[], Browser]) -> None:
    cid = published(office)
    anyone = browser()
    assert "本所尚未提供地址與電話" in text(anyone.get(f"/zone/{office.code}/"))
    with office.db.unit_of_work() as uow:
        row = uow.session.get(Office, office.id)
        assert row is not None
        row.address, row.phone = "330 桃園市測試區測試路 1 號", "(03) 332-2101 轉 123"
        uow.commit()
    for url in (f"/zone/{office.code}/", f"/zone/{office.code}/years/115", f"/zone/{office.code}/postings/{cid}"):
        page = anyone.get(url)
        words, html = text(page), page.get_data(as_text=True)
        assert "聯絡我們" in words and "地址：330 桃園市測試區測試路 1 號" in words
        assert '<a href="tel:033322101">(03) 332-2101 轉 123</a>' in html
        assert '<a href="#contact">' in html and 'id="contact"' in html
    anyone.get("/lang/en")
    words = text(anyone.get(f"/zone/{office.code}/"))
    assert "Contact us" in words and "Year by year" in words


def test_telephone_numbers_become_tel_links() -> None:
    assert tel("(03) 000-0000") == "030000000"
    assert tel("03-332-2101 分機 123") == "033322101"
    assert tel("+886 3 332 2101") == "+88633322101"
    assert tel("") == ""


def test_the_secretariat_caption_form_keeps_its_fields(office: OfficeFixture,
                                                       as_user: Callable[[str], Browser]) -> None:
    """The fix page edits each photo's caption beside its alt text."""
    cid = office.case("web_posting")
    att = drafts.add_attachment(cid, office.users["social_staff"], name="照片.png", content_type="image/png",
                                content=png(), db=office.db)
    approval.fire(cid, "submit", office.users["social_staff"], db=office.db)
    approval.fire(cid, "approve", office.users["social_chief"], db=office.db)
    approval.fire(cid, "approve", office.users["secretariat"], db=office.db)
    service.process_posting(office.db, latest_outbox(office, cid), publisher=PublicZonePublisher(), settings=FAST)
    secretariat = as_user("secretariat")
    data = dict(forms(secretariat.get(f"/publishing/{cid}/fix").get_data(as_text=True))[f"/publishing/{cid}/fix"])
    assert f"caption-{att}" in data and f"alt-{att}" in data
    data.update({f"alt-{att}": "里民參與宣導", f"caption-{att}": "婦女節宣導", "fix-body": "內文"})
    assert secretariat.client.post(f"/publishing/{cid}/fix", data=data).status_code == 303
    with office.db.unit_of_work(write=False) as uow:
        a = uow.session.get(Attachment, att)
        assert a is not None and (a.alt_text, a.caption) == ("里民參與宣導", "婦女節宣導")


def test_the_drafter_gives_a_photo_its_caption_when_uploading(office: OfficeFixture,
                                                              as_user: Callable[[str], Browser]) -> None:
    cid = office.case("web_posting")
    staff = as_user("social_staff")
    page = staff.get(f"/cases/{cid}/edit").get_data(as_text=True)
    m = re.search(r'action="/cases/\d+/attachments".*?name="version" value="(\d+)"', page, re.S)
    assert m and 'name="caption"' in page
    resp = staff.client.post(f"/cases/{cid}/attachments", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "version": m.group(1), "alt_text": "里民參與宣導活動",
        "caption": "115年婦女節宣導", "file": (io.BytesIO(png()), "照片.png")})
    assert resp.status_code == 303
    with office.db.unit_of_work(write=False) as uow:
        [a] = uow.session.scalars(select(Attachment).where(Attachment.case_id == cid))
        assert (a.alt_text, a.caption) == ("里民參與宣導活動", "115年婦女節宣導")
    assert "照片說明：115年婦女節宣導" in text(staff.get(f"/cases/{cid}/edit"))
    assert "照片說明：115年婦女節宣導" in text(staff.get(f"/cases/{cid}"))
    # Too long: refused, nothing stored.
    page = staff.get(f"/cases/{cid}/edit").get_data(as_text=True)
    m = re.search(r'action="/cases/\d+/attachments".*?name="version" value="(\d+)"', page, re.S)
    assert m
    resp = staff.client.post(f"/cases/{cid}/attachments", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "version": m.group(1), "alt_text": "x", "caption": "長" * 201,
        "file": (io.BytesIO(png(5, 5)), "照片2.png")})
    assert resp.status_code == 303 and "照片說明最多 200 字" in text(staff.get(resp.headers["Location"]))
    assert len(attachment_ids(office, cid)) == 1


def outreach_event(office: OfficeFixture, photos: int = 2) -> int:
    """A 宣導 event of the register with ``photos`` photos, each with its caption and alt text."""
    with office.db.unit_of_work() as uow:
        event = outreach.add_event(uow.session, office.id, office.users["social_staff"], unit_id=office.units["social"],
                                   name="婦女節 CEDAW 宣導", held_on=dt.date(2026, 3, 8), place="里民活動中心",
                                   topic="cedaw", audience="轄區民眾", public=True, male=30, female=47)
        for n in range(photos):
            outreach.add_photo(uow.session, office.id, office.users["social_staff"], event.id, png(6 + n, 4),
                               caption=f"宣導現場之{n + 1}", alt_text=f"里民聆聽 CEDAW 宣導之{n + 1}")
        uow.commit()
        return event.id


def add_from(b: Browser, cid: int, event: int) -> TestResponse:
    """Post the edit page's 從宣導紀錄加入照片 form with ``event`` chosen (the form reader skips selects)."""
    data = dict(forms(b.get(f"/cases/{cid}/edit").get_data(as_text=True))[f"/cases/{cid}/attachments/from-event"])
    return b.client.post(f"/cases/{cid}/attachments/from-event", data={**data, "event": str(event)})


def test_a_posting_takes_its_photos_from_the_outreach_register(office: OfficeFixture,
                                                              as_user: Callable[[str], Browser],
                                                              browser: Callable[[], Browser],
                                                              office_factory: Callable[[], OfficeFixture]) -> None:
    """The register's photos are not public by themselves; copied into a posting (captions and alt
    texts with them), they go through its review and checks and then appear in its album."""
    event = outreach_event(office)
    assert "里民聆聽" not in text(browser().get(f"/zone/{office.code}/"))
    cid = office.case("web_posting")
    staff = as_user("social_staff")
    page = staff.get(f"/cases/{cid}/edit")
    assert "從宣導紀錄加入照片" in text(page) and "婦女節 CEDAW 宣導（2 張照片）" in text(page)
    resp = add_from(staff, cid, event)
    assert resp.status_code == 303
    assert "已從宣導紀錄加入 2 張照片" in text(staff.get(resp.headers["Location"]))
    with office.db.unit_of_work(write=False) as uow:
        copied = list(uow.session.scalars(select(Attachment).where(Attachment.case_id == cid).order_by(Attachment.id)))
    assert [(a.alt_text, a.caption) for a in copied] == [("里民聆聽 CEDAW 宣導之1", "宣導現場之1"),
                                                         ("里民聆聽 CEDAW 宣導之2", "宣導現場之2")]
    assert "婦女節 CEDAW 宣導（2 張照片，取自宣導紀錄）" in text(staff.get(f"/cases/{cid}"))
    # Again: nothing twice.
    resp = add_from(staff, cid, event)
    assert "這場活動的照片都已加入本案" in text(staff.get(resp.headers["Location"]))
    assert len(attachment_ids(office, cid)) == 2
    # Another office's event is not found.
    other_event = outreach_event(office_factory())
    resp = add_from(staff, cid, other_event)
    assert resp.status_code == 404 and len(attachment_ids(office, cid)) == 2
    # Reviewed, checked and published: the album shows them with their captions.
    approval.fire(cid, "submit", office.users["social_staff"], db=office.db)
    approval.fire(cid, "approve", office.users["social_chief"], db=office.db)
    approval.fire(cid, "approve", office.users["secretariat"], db=office.db)
    assert service.process_posting(office.db, latest_outbox(office, cid), publisher=PublicZonePublisher(),
                                   settings=FAST).status == "published"
    html = browser().get(f"/zone/{office.code}/postings/{cid}").get_data(as_text=True)
    assert 'alt="里民聆聽 CEDAW 宣導之1"' in html and "<figcaption>宣導現場之2</figcaption>" in html


def test_only_a_drafter_adds_event_photos_to_a_draft(office: OfficeFixture) -> None:
    event = outreach_event(office, photos=1)
    cid = office.case("web_posting")
    with pytest.raises(PermissionDenied):
        drafts.add_event_photos(cid, office.users["secretariat"], event, db=office.db)
    assert attachment_ids(office, cid) == []
    drafts.add_attachment(cid, office.users["social_staff"], name="照片.png", content_type="image/png",
                          content=png(), db=office.db)
    approval.fire(cid, "submit", office.users["social_staff"], db=office.db)
    with pytest.raises(TransitionNotAllowed):  # no longer a draft: its chief reviews what was sent
        drafts.add_event_photos(cid, office.users["social_staff"], event, db=office.db)
    assert len(attachment_ids(office, cid)) == 1


def test_an_event_without_photos_says_so(office: OfficeFixture) -> None:
    event = outreach_event(office, photos=0)
    cid = office.case("web_posting")
    with pytest.raises(ValidationError) as err:
        drafts.add_event_photos(cid, office.users["social_staff"], event, db=office.db)
    assert "沒有照片" in err.value.message
