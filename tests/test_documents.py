"""Documents: every template with realistic and hostile text, exactly-once processing, leases,
template uploads (including the SSTI payloads of docxtpl #549/#632), and real LibreOffice output."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from sqlalchemy import func, select

from documents import context as contexts
from documents import convert, render, service, templates_admin
from documents.text import docx_text
from tasks import embedded
from tests.helpers import task_force_decides
from workflow import clock
from workflow.cases import approval, drafts
from workflow.demo import sample_fields
from workflow.models import Document, HistoryEvent, OutboxMessage

HOSTILE = 'A&B <tag> "quoted" 5>3 \x07bell 🌸 性別平等'
MAIN_LINE = [("submit", "{unit}_staff"), ("approve", "{unit}_chief"), ("approve", "secretariat"),
             ("approve", "convener"), ("file_with_city_group", "liaison")]


def drive(office, case_id, unit, steps):
    for trigger, who in steps:
        if who == "convener":
            task_force_decides(office.db, case_id)
        approval.fire(case_id, trigger, office.users[who.format(unit=unit)], db=office.db)


def outbox_rows(db, case_id):
    """The case's render requests (not its hand-off notices, which another consumer handles)."""
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.payload["case_id"].as_integer() == case_id, OutboxMessage.topic == approval.DOCUMENT_TOPIC)
            .order_by(OutboxMessage.id)))


def documents_of(db, case_id):
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id)))


def process_all(db, case_id, **kw):
    return [service.process_outbox(db, m.id, convert_formats=False, **kw) for m in outbox_rows(db, case_id)]


def hostile_training_fields(rows=200):
    fields = sample_fields("training_report", 115, "Q1")
    course = fields["courses"][0]
    fields["courses"] = [{**course, "course": f"{HOSTILE} {i}", "male": 1, "female": 2} for i in range(rows)]
    fields["summary"] = HOSTILE
    return fields


def test_every_document_renders_for_its_kinds(office):
    """Each kind through the whole line; every document it produces renders and opens."""
    db = office.db
    produced = set()
    for kind, unit in [("training_report", "personnel"), ("outreach_report", "social"),
                       ("annual_result", "personnel"), ("budget_review", "accounting"),
                       ("task_force_meeting", "secretariat"), ("plan_amendment", "secretariat")]:
        cid = office.case(kind)
        if kind == "outreach_report":
            drafts.add_attachment(cid, office.users["social_staff"], name="活動照片.png",
                                  content_type="image/png", content=render._PIXEL, db=db)
        drive(office, cid, unit, MAIN_LINE)
        outcomes = process_all(db, cid)
        assert outcomes and all(o.status == "ready" for o in outcomes)
        for d in documents_of(db, cid):
            data = service.document_store().get(d.storage_key)
            docx.Document(io.BytesIO(data))  # opens with python-docx
            assert d.sha256 and d.template_sha256 and d.context is not None
            if d.name in ("sign_memo", "city_letter"):
                assert "中華民國115年" in docx_text(data) or "中華民國" in docx_text(data)
            produced.add(d.name)
    assert produced == set(contexts.BUILDERS)


@pytest.mark.fault
def test_hostile_text_and_a_200_row_table_round_trip(office):
    db = office.db
    cid = office.case("training_report", fields=hostile_training_fields())
    drive(office, cid, "personnel", MAIN_LINE[:1])
    assert all(o.status == "ready" for o in process_all(db, cid))
    table = next(d for d in documents_of(db, cid) if d.name == "training_results")
    data = service.document_store().get(table.storage_key)
    text = docx_text(data)
    clean = HOSTILE.replace("\x07", "")
    assert f"{clean} 199" in text and f"{clean} 0" in text
    assert "\x07" not in text
    # 200 rows + header + totals; the totals add up.
    t = docx.Document(io.BytesIO(data)).tables[0]
    assert len(t.rows) == 202
    assert [c.text for c in t.rows[-1].cells][-3:] == ["200", "400", "600"]
    # The XML stays well-formed: every part parses.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        from xml.etree import ElementTree

        for name in zf.namelist():
            if name.endswith(".xml"):
                ElementTree.fromstring(zf.read(name))


def test_same_message_twice_makes_one_document(office):
    db = office.db
    cid = office.case("training_report")
    drive(office, cid, "personnel", MAIN_LINE[:1])
    first = process_all(db, cid)
    second = process_all(db, cid)
    assert [o.status for o in first] == ["ready", "ready"]
    assert [o.status for o in second] == ["already_ready", "already_ready"]
    assert len(documents_of(db, cid)) == 2
    with db.unit_of_work(write=False) as uow:
        events = uow.session.scalar(select(func.count()).where(HistoryEvent.case_id == cid,
                                                                 HistoryEvent.event == "document"))
    assert events == 2


def test_a_dead_workers_lease_expires_and_another_finishes(office):
    db = office.db
    cid = office.case("training_report")
    drive(office, cid, "personnel", MAIN_LINE[:1])
    msg = outbox_rows(db, cid)[0]
    # Worker A claims the document and dies before finishing (its lease is one second).
    doc_id = service._get_or_create(db, office.id, cid, msg.payload["document"], msg.payload["event_seq"], msg.id)
    from sqlalchemy import update

    with db.unit_of_work() as uow:
        uow.session.execute(update(Document).where(Document.id == doc_id).values(
            status="rendering", lease_owner="worker-a", lease_until=clock.now()))
        uow.commit()
    # Worker B while the lease is live would wait; once it ran out, B takes over.
    assert service.process_outbox(db, msg.id, owner="worker-b", convert_formats=False).status == "ready"
    docs = [d for d in documents_of(db, cid) if d.name == msg.payload["document"]]
    assert len(docs) == 1 and docs[0].status == "ready" and docs[0].attempts == 1


def test_live_lease_is_respected(office):
    db = office.db
    cid = office.case("training_report")
    drive(office, cid, "personnel", MAIN_LINE[:1])
    msg = outbox_rows(db, cid)[0]
    doc_id = service._get_or_create(db, office.id, cid, msg.payload["document"], msg.payload["event_seq"], msg.id)
    from sqlalchemy import update

    with db.unit_of_work() as uow:
        uow.session.execute(update(Document).where(Document.id == doc_id).values(
            status="rendering", lease_owner="worker-a",
            lease_until=clock.now() + __import__("datetime").timedelta(minutes=5)))
        uow.commit()
    assert service.process_outbox(db, msg.id, owner="worker-b", convert_formats=False).status == "busy"


def test_a_document_whose_inputs_break_is_marked_failed_and_a_later_delivery_finishes_it(office, monkeypatch):
    """A context builder that raises (bad data, a bug) leaves the document failed with the reason,
    visible on the case page, instead of an endless retry; once fixed, the next delivery renders it
    (same row, one version)."""
    db = office.db
    cid = office.case("training_report")
    drive(office, cid, "personnel", MAIN_LINE[:1])
    msg = next(m for m in outbox_rows(db, cid) if m.payload["document"] == "training_results")
    real = contexts.BUILDERS["training_results"]

    def broken(loaded):
        raise ValueError("the courses field is not a list")

    monkeypatch.setitem(contexts.BUILDERS, "training_results", broken)
    with pytest.raises(ValueError, match="not a list"):
        service.process_outbox(db, msg.id, convert_formats=False)
    (doc,) = [d for d in documents_of(db, cid) if d.name == "training_results"]
    assert doc.status == "failed" and "not a list" in doc.last_error and doc.attempts == 1
    monkeypatch.setitem(contexts.BUILDERS, "training_results", real)
    assert service.process_outbox(db, msg.id, convert_formats=False).status == "ready"
    assert service.process_outbox(db, msg.id, convert_formats=False).status == "already_ready"
    (doc,) = [d for d in documents_of(db, cid) if d.name == "training_results"]
    assert doc.status == "ready" and doc.attempts == 2 and doc.last_error is None


def test_rerender_reproduces_the_same_text(office):
    db = office.db
    cid = office.case("training_report")
    drive(office, cid, "personnel", MAIN_LINE[:1])
    process_all(db, cid)
    for d in documents_of(db, cid):
        again = service.rerender(db, d.id)
        assert docx_text(again) == docx_text(service.document_store().get(d.storage_key))


# -- uploaded templates -----------------------------------------------------------------------
def _sample(name):
    return {k: v for k, v in _context_for(name).items()}


def _context_for(name):
    return {
        "office_name": "桃園市測試區公所", "unit_name": "人事室", "case_title": "t", "kind_label": "k", "roc_year": 115,
        "period_label": "第1季", "date_long": "中華民國115年4月10日", "date_short": "115.04.10", "drafter": "甲",
        "chief": "乙", "doc_no": "x", "footer_text": "f", "reason": HOSTILE,
        "rows": [{"amended": "a", "current": "b", "explanation": "c"}],
    }


def _with_text(template: bytes, part: str, old: str, new: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == part:
                data = data.replace(old.encode(), new.encode(), 1)
            dst.writestr(item, data)
    return out.getvalue()


BUILTIN = (service.TEMPLATES / "amendment_table.docx").read_bytes()


def test_good_template_is_accepted():
    render.validate_template(BUILTIN, _sample("amendment_table"))


@pytest.mark.fault
@pytest.mark.parametrize("part,anchor", [
    ("word/document.xml", "{{ reason }}"),
    ("word/footer1.xml", "{{ footer_text }}"),
    ("docProps/core.xml", "{{ case_title }}"),
])
@pytest.mark.parametrize("payload", [
    "{{ cycler.__init__.__globals__.os.popen }}",  # docxtpl #632
    "{{ self.__init__.__globals__.__builtins__ }}",  # docxtpl #549 family
    "{{ joiner.__class__.__mro__[1].__subclasses__() }}",
])
def test_ssti_payloads_are_refused_everywhere(part, anchor, payload):
    evil = _with_text(BUILTIN, part, anchor, payload)
    assert evil != BUILTIN  # the payload really is in that part
    with pytest.raises(render.TemplateProblem) as err:
        render.validate_template(evil, _sample("amendment_table"))
    assert "不允許" in err.value.message  # refused by the sandbox, not by accident
    # And at render time too, should such a template ever be stored.
    with pytest.raises(render.TemplateProblem, match="forbidden"):
        render.render_docx(evil, _sample("amendment_table"))


OUTREACH = (service.TEMPLATES / "outreach_results.docx").read_bytes()


@pytest.mark.fault
@pytest.mark.parametrize("payload", [
    # A photo's InlineImage carries the DocxTemplate (.tpl), whose methods read and write files.
    "{{ photos[0].image.tpl.replace_zipname('docProps/app.xml', '/etc/hostname') }}",
    "{{ photos[0].image.tpl.save('/tmp/caseflow-written-by-a-template.docx') }}",
    "{{ photos[0].image.tpl.docx.part.package }}",
])
def test_a_template_cannot_reach_the_renderer_through_a_photo(payload):
    from documents.templates_admin import sample_context

    sample = sample_context("outreach_results")
    assert sample["photos"], "the sample must have a photo for the payload to reach"
    evil = _with_text(OUTREACH, "word/document.xml", "{{ summary }}", payload)
    assert evil != OUTREACH
    with pytest.raises(render.TemplateProblem) as err:
        render.validate_template(evil, sample)
    assert "不允許" in err.value.message
    assert not Path("/tmp/caseflow-written-by-a-template.docx").exists()


def test_template_problems_are_named():
    with pytest.raises(render.TemplateProblem, match=r"not a \.docx"):
        render.validate_template(b"plain text, not a zip", {})
    broken = _with_text(BUILTIN, "word/document.xml", "{{ reason }}", "{{ reason ")
    with pytest.raises(render.TemplateProblem) as err:
        render.validate_template(broken, _sample("amendment_table"))
    assert "語法" in err.value.message
    unknown = _with_text(BUILTIN, "word/document.xml", "{{ reason }}", "{{ salary_of_the_mayor }}")
    with pytest.raises(render.TemplateProblem) as err:
        render.validate_template(unknown, _sample("amendment_table"))
    assert "salary_of_the_mayor" in err.value.message


@pytest.mark.fault
def test_zip_bomb_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<x/>")
        zf.writestr("word/document.xml", "<x/>")
        zf.writestr("word/media/bomb.bin", b"\0" * (render.MAX_UNCOMPRESSED + 1))
    with pytest.raises(render.TemplateProblem, match="too large"):
        render.validate_template(out.getvalue(), {})


@pytest.mark.parametrize("name", templates_admin.document_names())
def test_every_document_has_a_sample_that_its_builtin_template_accepts(name):
    """The sample an upload is checked against has everything the builder reads (the 函 reads the
    office's address and telephone)."""
    sample = templates_admin.sample_context(name)
    render.validate_template((service.TEMPLATES / f"{name}.docx").read_bytes(), sample)


@pytest.mark.parametrize("name", templates_admin.document_names())
def test_render_writes_what_a_plain_docxtpl_render_writes(name):
    """render_docx keeps the styles part as bytes instead of parsing it: for every built-in template
    every part of the package is byte for byte what docxtpl over a fully parsed python-docx package
    writes (the parts, not the zip: its entries carry the time they were written)."""
    data = (service.TEMPLATES / f"{name}.docx").read_bytes()
    sample = templates_admin.sample_context(name)
    ours = render.render_docx(data, sample, load_image=lambda _k: render._PIXEL)
    tpl = DocxTemplate(io.BytesIO(data))
    ctx = render.clean_text(dict(sample))
    if "photos" in ctx:
        ctx["photos"] = [{**p, "image": InlineImage(tpl, io.BytesIO(render._PIXEL), width=Mm(70))}
                         for p in ctx["photos"]]
    tpl.render(ctx, jinja_env=render.sandbox(), autoescape=True)
    out = io.BytesIO()
    tpl.save(out)

    def parts(package: bytes) -> list[tuple[str, bytes]]:
        z = zipfile.ZipFile(io.BytesIO(package))
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]

    assert parts(ours) == parts(out.getvalue())


def test_a_word_styles_part_is_written_back_unchanged():
    """Styles as Word writes them (double quotes, CRLF after the declaration: not lxml's spelling)
    come out exactly as they went in, and the body is still rendered."""
    src = zipfile.ZipFile(io.BytesIO(BUILTIN))
    styles = src.read("word/styles.xml")
    body = styles.split(b"?>", 1)[1].lstrip()
    word_styles = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + body
    template = io.BytesIO()
    with zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, word_styles if item.filename == "word/styles.xml" else src.read(item.filename))
    rendered = render.render_docx(template.getvalue(), _sample("amendment_table"))
    assert zipfile.ZipFile(io.BytesIO(rendered)).read("word/styles.xml") == word_styles
    assert 'A&B <tag> "quoted" 5>3' in docx_text(rendered)


# -- LibreOffice ------------------------------------------------------------------------------
def test_pdf_and_odt_from_libreoffice_have_the_right_text(office):
    """Real LibreOffice (installed by run-tests): the PDF's text has the title, a ROC date and totals."""
    assert convert.soffice_path(), "LibreOffice must be installed (run-tests installs it)"
    db = office.db
    cid = office.case("training_report")
    drive(office, cid, "personnel", MAIN_LINE[:1])
    conversions = []
    for m in outbox_rows(db, cid):
        outcome = service.process_outbox(db, m.id)
        assert outcome.status == "ready" and len(outcome.follow_up) == 1
        conversions.extend(outcome.follow_up)
    table = next(d for d in documents_of(db, cid) if d.name == "training_results")
    assert not table.pdf_key and not table.odt_key  # the .docx is ready first; conversion is its own step
    for i in conversions:
        assert service.process_conversion(db, i).status == "converted"
    assert service.process_conversion(db, conversions[0]).status == "already_converted"
    table = next(d for d in documents_of(db, cid) if d.name == "training_results")
    assert table.pdf_key and table.odt_key, table.conversion_error
    pdf = service.document_store().get(table.pdf_key)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    words = text.decode().replace(" ", "")
    assert "性別意識培力執行成果表" in words
    assert "115.0" in words  # a ROC date in the 115.MM.DD form
    assert "75" in words  # 43 + 32 participants in the sample
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=False).stdout.decode()
    if not fonts:  # older pdffonts cannot read stdin
        path = service.document_store().root / table.pdf_key
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout.decode()
    assert "UKai" in fonts, fonts
    odt = service.document_store().get(table.odt_key)
    with zipfile.ZipFile(io.BytesIO(odt)) as zf:
        assert zf.read("mimetype") == b"application/vnd.oasis.opendocument.text"


# -- the embedded default's worker --------------------------------------------------------------
class RecordingWorker(embedded.EmbeddedWorker):
    """The in-process worker, noting the topic of each row it handles (not started: run here)."""

    def __init__(self, db):
        super().__init__(db)
        self.handled: list[str] = []

    def _handle(self, outbox_id: int) -> None:
        with self.db.unit_of_work(write=False) as uow:
            self.handled.append(uow.session.get(OutboxMessage, outbox_id).topic)
        super()._handle(outbox_id)


def test_embedded_worker_renders_every_docx_before_any_conversion(office, monkeypatch):
    """A conversion (about a second with LibreOffice) must not hold up the next .docx: the .docx of
    both cases come first, then the two cases' conversions, each row once."""
    monkeypatch.setattr(convert, "default", lambda: None)  # as on a host without LibreOffice: quick
    db = office.db
    worker = RecordingWorker(db)
    first, second = office.case("training_report"), office.case("training_report")
    for cid in (first, second):
        worker.submit(approval.fire(cid, "submit", office.users["personnel_staff"], db=db).outbox_ids)
    worker.run_queued()
    handled = worker.handled
    assert [t for t in handled if t != approval.HANDOFF_TOPIC] == [approval.DOCUMENT_TOPIC] * 4 + [
        service.CONVERT_TOPIC] * 4
    # Each submission's notice to the chief goes with its documents, never behind a conversion.
    assert handled.count(approval.HANDOFF_TOPIC) == 2
    assert max(i for i, t in enumerate(handled) if t == approval.HANDOFF_TOPIC) < handled.index(service.CONVERT_TOPIC)
    docs = documents_of(db, first) + documents_of(db, second)
    assert len(docs) == 4 and all(d.status == "ready" for d in docs)
    assert all(d.conversion_error == "LibreOffice 未安裝，僅提供 .docx" for d in docs)
    with db.unit_of_work(write=False) as uow:
        rows = list(uow.session.scalars(select(OutboxMessage).where(OutboxMessage.topic == service.CONVERT_TOPIC,
                                                                    OutboxMessage.payload["document_id"].as_integer()
                                                                    .in_([d.id for d in docs]))))
    assert len(rows) == 4 and all(m.processed_at is not None for m in rows)
