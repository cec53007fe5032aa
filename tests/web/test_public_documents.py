"""The public zone lists the result documents of filed cases (ODF and PDF when converted) for anyone;
documents of cases still under way, or of another office, are not public."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from documents import service
from tests.conftest import OfficeFixture
from tests.helpers import task_force_decides
from tests.web.conftest import Browser, text
from workflow.cases import approval
from workflow.models import Document, OutboxMessage

MAIN_LINE = [("submit", "personnel_staff"), ("approve", "personnel_chief"), ("approve", "secretariat"),
             ("approve", "convener"), ("file_with_city_group", "liaison")]


def _documents(office: OfficeFixture, case_id: int) -> list[Document]:
    with office.db.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == case_id)))
    for i in ids:
        service.process_outbox(office.db, i, convert_formats=False)
    with office.db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Document).where(Document.case_id == case_id)
                                        .order_by(Document.cause_seq)))


def test_filed_results_are_public_and_others_are_not(browser: Callable[[], Browser], office: OfficeFixture,
                                                     office_factory: Callable[[], OfficeFixture]) -> None:
    filed = office.case("training_report")
    for trigger, who in MAIN_LINE:
        if who == "convener":
            task_force_decides(office.db, filed)
        approval.fire(filed, trigger, office.users[who], db=office.db)
    in_review = office.case("training_report")
    approval.fire(in_review, "submit", office.users["personnel_staff"], db=office.db)
    results = [d for d in _documents(office, filed) if d.name == "training_results"]
    pending = [d for d in _documents(office, in_review) if d.name == "training_results"]
    newest = results[-1]

    anyone = browser()  # not logged in
    page = anyone.get(f"/zone/{office.code}/")
    assert page.status_code == 200
    words = text(page)
    assert "成果報告與會議紀錄" in words and "training_report test" in words
    html = page.get_data(as_text=True)
    title = html[html.index("<title>"):html.index("</title>")]
    assert "成果報告" not in title and "<" not in title[len("<title>"):]  # the page title is just the title
    assert f"/zone/{office.code}/documents/{newest.id}.docx" in page.get_data(as_text=True)
    # Only the newest version of the case's result is listed.
    assert all(f"/documents/{d.id}." not in page.get_data(as_text=True) for d in results[:-1])
    got = anyone.get(f"/zone/{office.code}/documents/{newest.id}.docx")
    assert got.status_code == 200 and got.data[:2] == b"PK"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    # Not converted in this test: no PDF to give.
    assert anyone.get(f"/zone/{office.code}/documents/{newest.id}.pdf").status_code == 404
    # A case still in review, an older version, another office's zone: nothing public.
    assert anyone.get(f"/zone/{office.code}/documents/{pending[0].id}.docx").status_code == 404
    other = office_factory()
    assert anyone.get(f"/zone/{other.code}/documents/{newest.id}.docx").status_code == 404
    sign = next(d for d in _documents(office, filed) if d.name == "sign_memo")
    assert anyone.get(f"/zone/{office.code}/documents/{sign.id}.docx").status_code == 404
