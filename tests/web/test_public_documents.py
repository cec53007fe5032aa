"""The public zone lists the result documents of filed cases for anyone, as ODT and PDF only (plan
§5.5; ODF for editable files, PDF for fixed ones): never .docx, not before both are converted; an
older document without them gets them from the conversion sweep (the beat task and the command),
which queues each document once. Documents of cases still under way, or of another office, are not
public."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from documents import service
from tasks.schedule import BEAT_SCHEDULE
from tests.conftest import OfficeFixture
from tests.helpers import task_force_decides
from tests.web.conftest import Browser, text
from workflow.cases import approval
from workflow.models import Document, OutboxMessage

MAIN_LINE = [("submit", "personnel_staff"), ("approve", "personnel_chief"), ("approve", "secretariat"),
             ("approve", "convener"), ("file_with_city_group", "liaison")]


def _documents(office: OfficeFixture, case_id: int) -> list[Document]:
    """The case's documents rendered as before conversions existed: .docx only."""
    with office.db.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.topic == approval.DOCUMENT_TOPIC, OutboxMessage.payload["case_id"].as_integer() == case_id)))
    for i in ids:
        service.process_outbox(office.db, i, convert_formats=False)
    with office.db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Document).where(Document.case_id == case_id)
                                        .order_by(Document.cause_seq)))


def filed_training_report(office: OfficeFixture) -> int:
    filed = office.case("training_report")
    for trigger, who in MAIN_LINE:
        if who == "convener":
            task_force_decides(office.db, filed)
        approval.fire(filed, trigger, office.users[who], db=office.db)
    return filed


def test_filed_results_are_public_as_odt_and_pdf_only(browser: Callable[[], Browser], office: OfficeFixture,
                                                      office_factory: Callable[[], OfficeFixture]) -> None:
    filed = filed_training_report(office)
    in_review = office.case("training_report")
    approval.fire(in_review, "submit", office.users["personnel_staff"], db=office.db)
    results = [d for d in _documents(office, filed) if d.name == "training_results"]
    pending = [d for d in _documents(office, in_review) if d.name == "training_results"]
    newest = results[-1]
    zone = f"/zone/{office.code}"

    anyone = browser()  # not logged in
    page = anyone.get(f"{zone}/")
    assert page.status_code == 200
    html, words = page.get_data(as_text=True), text(page)
    title = html[html.index("<title>"):html.index("</title>")]
    assert "成果報告" not in title and "<" not in title[len("<title>"):]  # the page title is just the title
    # Made before conversions existed: not listed, no .docx offered instead; said to be on its way.
    assert ".docx" not in html and "training_report test" not in words
    assert "1 份文件正在轉換為 ODT 與 PDF" in words
    for fmt in ("docx", "odt", "pdf"):
        assert anyone.get(f"{zone}/documents/{newest.id}.{fmt}").status_code == 404

    # The sweep queues it (once, however often it runs), a conversion task makes the ODT and PDF.
    queued = service.queue_missing_conversions(office.db, office_id=office.id)
    assert len(queued) == len(_documents(office, filed)) + len(_documents(office, in_review))
    assert service.queue_missing_conversions(office.db, office_id=office.id) == ()
    for outbox_id in queued:
        service.process_conversion(office.db, outbox_id)
    assert service.queue_missing_conversions(office.db, office_id=office.id) == ()  # nothing left to do

    page = anyone.get(f"{zone}/")
    html, words = page.get_data(as_text=True), text(page)
    assert "training_report test" in words and "正在轉換" not in words and ".docx" not in html
    assert f"{zone}/documents/{newest.id}.odt" in html and f"{zone}/documents/{newest.id}.pdf" in html
    assert "ODF（.odt，可編輯）與 PDF（不可編輯）" in words
    # Only the newest version of the case's result is listed.
    assert all(f"/documents/{d.id}." not in html for d in results[:-1])
    pdf = anyone.get(f"{zone}/documents/{newest.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    odt = anyone.get(f"{zone}/documents/{newest.id}.odt")
    assert odt.status_code == 200 and odt.mimetype == "application/vnd.oasis.opendocument.text"
    assert zipfile.ZipFile(io.BytesIO(odt.data)).read("mimetype") == b"application/vnd.oasis.opendocument.text"
    assert anyone.get(f"{zone}/documents/{newest.id}.docx").status_code == 404  # never, even now
    # A case still in review, an older version, another office's zone, a document that is no result:
    # nothing public.
    assert anyone.get(f"{zone}/documents/{pending[0].id}.pdf").status_code == 404
    assert len(results) > 1 and anyone.get(f"{zone}/documents/{results[0].id}.pdf").status_code == 404
    other = office_factory()
    assert anyone.get(f"/zone/{other.code}/documents/{newest.id}.pdf").status_code == 404
    sign = next(d for d in _documents(office, filed) if d.name == "sign_memo")
    assert anyone.get(f"{zone}/documents/{sign.id}.pdf").status_code == 404


def test_the_command_converts_older_documents_and_beat_runs_it_daily(
        browser: Callable[[], Browser], office: OfficeFixture, tmp_path: Path) -> None:
    assert BEAT_SCHEDULE["queue-missing-conversions"]["task"] == "caseflow.queue_missing_conversions"
    filed = filed_training_report(office)
    newest = [d for d in _documents(office, filed) if d.name == "training_results"][-1]
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DATABASE_URL=office.db.url, CASEFLOW_INSTANCE=str(tmp_path),
               CASEFLOW_DOCUMENTS_DIR=str(service.document_store().root))
    run = subprocess.run([sys.executable, "-m", "caseflow", "documents", "convert-missing", "--office", office.code,
                          "--now"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    converted = len(_documents(office, filed))
    assert f"{converted} of {converted} document(s) converted to ODT and PDF" in run.stdout
    html = browser().get(f"/zone/{office.code}/").get_data(as_text=True)
    assert f"/documents/{newest.id}.pdf" in html and f"/documents/{newest.id}.odt" in html
    again = subprocess.run([sys.executable, "-m", "caseflow", "documents", "convert-missing", "--office",
                            office.code], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0 and "0 document(s) queued" in again.stdout
    bad = subprocess.run([sys.executable, "-m", "caseflow", "documents", "convert-missing", "--office", "no-such"],
                         env=env, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("caseflow: no office")
