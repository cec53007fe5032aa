"""Generated documents on the case page: listed with their version, downloadable as .docx (and
.odt/.pdf when converted), and invisible to another office."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from sqlalchemy import select

from documents import service
from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, submitted, text
from workflow.models import Document, OutboxMessage


def _render_pending(office: OfficeFixture, case_id: int, *, convert: bool = False) -> list[Document]:
    db = office.db
    with db.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == case_id)))
    for i in ids:
        service.process_outbox(db, i, convert_formats=convert)
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Document).where(Document.case_id == case_id)))


def test_documents_are_listed_and_downloadable(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    cid = submitted(office)
    before = text(as_user("personnel_chief").get(f"/cases/{cid}"))
    assert "簽 第 1 版 課長審核時" in before and "產生中…" in before  # asked for, no worker has run yet
    docs = _render_pending(office, cid, convert=True)  # the conversions are asked for; no worker runs them here
    assert {d.name for d in docs} == {"sign_memo", "training_results"}
    chief = as_user("personnel_chief")
    page = chief.get(f"/cases/{cid}")
    words = text(page)
    assert "培力成果表" in words and "第 1 版" in words and "產生文件" in words
    table = next(d for d in docs if d.name == "training_results")
    resp = chief.get(f"/cases/{cid}/documents/{table.id}.docx")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "X-Content-Type-Options" in resp.headers
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        assert "word/document.xml" in zf.namelist()
    # Not converted yet: the page says the copies are on their way, and asking for the PDF is a
    # plain 404, not an error page with a trace.
    assert "ODT、PDF 轉檔中" in words
    assert chief.get(f"/cases/{cid}/documents/{table.id}.pdf").status_code == 404


def test_conversion_outcome_replaces_the_converting_note(as_user: Callable[[str], Browser], office: OfficeFixture,
                                                        monkeypatch) -> None:
    """Once the conversion step has run, the note goes: here on a host without LibreOffice, the
    page says instead that only the .docx is available."""
    from documents import convert

    monkeypatch.setattr(convert, "default", lambda: None)
    cid = submitted(office)
    with office.db.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == cid)))
    follow_up = [f for i in ids for f in service.process_outbox(office.db, i).follow_up]
    assert len(follow_up) == 2
    assert "ODT、PDF 轉檔中" in text(as_user("personnel_chief").get(f"/cases/{cid}"))
    for i in follow_up:
        service.process_conversion(office.db, i)
    words = text(as_user("personnel_chief").get(f"/cases/{cid}"))
    assert "ODT、PDF 轉檔中" not in words and "LibreOffice 未安裝，僅提供 .docx" in words


def test_another_office_cannot_download(as_user: Callable[[str], Browser], office: OfficeFixture,
                                        office_factory: Callable[[], OfficeFixture],
                                        browser: Callable[[], Browser]) -> None:
    cid = submitted(office)
    doc = _render_pending(office, cid)[0]
    other = office_factory()
    b = browser()
    assert b.login(other.logins["personnel_chief"]).status_code == 303
    assert b.get(f"/cases/{cid}/documents/{doc.id}.docx").status_code == 404
    # And a document id that belongs to another case of the right office is 404 as well.
    mine = submitted(office)
    assert as_user("personnel_chief").get(f"/cases/{mine}/documents/{doc.id}.docx").status_code == 404


def test_each_document_shows_its_latest_version_first_and_folds_the_earlier_ones(
        as_user: Callable[[str], Browser], office: OfficeFixture, monkeypatch) -> None:
    """The 簽 made for the chief and again for the secretariat: one row, 第 2 版 made 秘書室審核時, the
    first folded beneath; no hash prefixes; while anything is still being made the section says so
    and carries the address it refreshes itself from; a document that failed says why and whom to tell."""
    import contextlib

    from documents import context as contexts
    from tests.web.conftest import forms
    from workflow.cases import approval

    cid = submitted(office)
    _render_pending(office, cid)
    approval.fire(cid, "approve", office.users["personnel_chief"], db=office.db)
    chief = as_user("personnel_chief")
    html = chief.get(f"/cases/{cid}").get_data(as_text=True)
    assert f'data-refresh="/cases/{cid}/documents"' in html  # the secretariat's 簽 is not made yet
    fragment = chief.get(f"/cases/{cid}/documents")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "簽 第 2 版 最新 秘書室審核時" in text(fragment) and "產生中…" in text(fragment)
    assert forms(html)  # the page itself is whole

    def broken(loaded):
        raise ValueError("課程欄位不是表格")

    monkeypatch.setitem(contexts.BUILDERS, "training_results", broken)
    with office.db.unit_of_work(write=False) as uow:
        waiting = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == cid, OutboxMessage.processed_at.is_(None))))
    for i in waiting:  # the 簽 renders; the 成果表's builder breaks
        with contextlib.suppress(ValueError):
            service.process_outbox(office.db, i, convert_formats=False)
    page = chief.get(f"/cases/{cid}").get_data(as_text=True)
    words = text(chief.get(f"/cases/{cid}"))
    memo = words[words.index("簽 第 2 版"):]
    assert memo.startswith("簽 第 2 版 最新 秘書室審核時")
    assert "較早的版本（1）" in memo and "第 1 版・課長審核時" in memo
    assert "產生失敗，請通知系統管理者檢查文件範本。 原因：ValueError: 課程欄位不是表格" in words
    assert 'data-refresh' not in page  # nothing is being made any more: the page stops asking
    assert 'class="meta sha"' not in page
