"""性別主流化專區: the public gender-mainstreaming zone of each office (no login). The default
publisher: a web posting is public here once its case is `published`. Postings by year, a photo
album with each photo's alt text, files to download, and an Atom feed of new postings.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, abort, render_template, request, send_file, url_for
from sqlalchemy import select

from documents.service import document_store
from publishing.sniff import sniff
from web.db import session
from web.labels import kind_label
from workflow import rocdate, storage
from workflow.models import Attachment, Case, Document, Office, Publication

bp = Blueprint("public", __name__, url_prefix="/zone")
KINDS = ("web_posting",)  # the postings the zone shows
# Filed cases whose final document is public: the kind -> the document that is its result.
PUBLIC_DOCUMENTS = {
    "plan_amendment": "amendment_table",
    "task_force_meeting": "meeting_minutes",
    "training_report": "training_results",
    "outreach_report": "outreach_results",
    "annual_result": "annual_results",
}
MEDIA = {"odt": "application/vnd.oasis.opendocument.text", "pdf": "application/pdf",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@dataclass(frozen=True)
class ZoneDocument:
    document_id: int
    case_id: int
    kind: str
    roc_year: int
    title: str
    filed_at: dt.datetime
    formats: tuple[str, ...]  # ODF (editable) and PDF (fixed) first; .docx only when not converted


@dataclass(frozen=True)
class ZonePosting:
    case_id: int
    kind: str
    roc_year: int
    heading: str
    body: str
    activity_date: dt.date | None
    published_at: dt.datetime
    external_url: str | None  # posted by hand elsewhere (the secretariat's manual posting)


def _office(code: str) -> Office:
    office = session().scalar(select(Office).where(Office.code == code))
    if office is None:
        abort(404)
    return office


def _postings(office_id: int, *, year: int | None = None, kind: str | None = None,
              case_id: int | None = None) -> list[ZonePosting]:
    q = (select(Case, Publication.status, Publication.url, Publication.published_at)
         .outerjoin(Publication, Publication.case_id == Case.id)
         .where(Case.office_id == office_id, Case.kind.in_(KINDS), Case.state == "published")
         .order_by(Case.entered_state_at.desc()))
    if year is not None:
        q = q.where(Case.roc_year == year)
    if kind is not None:
        q = q.where(Case.kind == kind)
    if case_id is not None:
        q = q.where(Case.id == case_id)
    out = []
    for case, status, url, published_at in session().execute(q):
        f = case.fields or {}
        out.append(ZonePosting(case.id, case.kind, case.roc_year, str(f.get("heading") or case.title),
                               str(f.get("body") or ""), _date(f.get("activity_date")),
                               published_at or case.entered_state_at,
                               url if status == "manual" else None))
    return out


def _date(value: object) -> dt.date | None:
    """A stored date field (ISO, as ``workflow.engine.fields`` keeps it) as a date, shown as ROC by the page."""
    try:
        return rocdate.parse(str(value)) if value else None
    except ValueError:
        return None


def _documents(office_id: int, *, year: int | None = None, document_id: int | None = None) -> list[ZoneDocument]:
    """The newest ready version of the result document of each filed case of a public kind."""
    q = (select(Case.id, Case.kind, Case.roc_year, Case.title, Case.entered_state_at, Document.id,
                Document.name, Document.storage_key, Document.odt_key, Document.pdf_key)
         .join(Document, Document.case_id == Case.id)
         .where(Case.office_id == office_id, Case.state == "filed", Case.kind.in_(list(PUBLIC_DOCUMENTS)),
                Document.status == "ready")
         .order_by(Case.entered_state_at.desc(), Case.id, Document.cause_seq.desc()))
    if year is not None:
        q = q.where(Case.roc_year == year)
    seen: set[int] = set()
    out = []
    for cid, kind, roc_year, title, filed_at, doc_id, name, docx, odt, pdf in session().execute(q):
        if cid in seen or name != PUBLIC_DOCUMENTS[kind]:
            continue
        seen.add(cid)
        formats = tuple(f for f, key in (("odt", odt), ("pdf", pdf)) if key) or (("docx",) if docx else ())
        if document_id is None or doc_id == document_id:
            out.append(ZoneDocument(doc_id, cid, kind, roc_year, title, filed_at, formats))
    return out


@bp.get("/<string(maxlength=32):code>/documents/<int:document_id>.<any(odt, pdf, docx):fmt>")
def document(code: str, document_id: int, fmt: str) -> Response:
    office = _office(code)
    found = _documents(office.id, document_id=document_id)
    if not found or fmt not in found[0].formats:
        abort(404)  # only the result documents of filed cases are public
    doc = session().get(Document, document_id)
    assert doc is not None
    key = {"odt": doc.odt_key, "pdf": doc.pdf_key, "docx": doc.storage_key}[fmt]
    if key is None:
        abort(404)
    name = f"{found[0].title}.{fmt}"
    return send_file(io.BytesIO(document_store().get(key)), mimetype=MEDIA[fmt], as_attachment=True,
                     download_name=name, max_age=3600)


@bp.get("/<string(maxlength=32):code>/")
def index(code: str) -> str:
    office = _office(code)
    year = request.args.get("year", type=int)
    kind = request.args.get("kind")
    if kind is not None and kind not in KINDS:
        abort(404)
    everything = _postings(office.id)
    years = sorted({p.roc_year for p in everything}, reverse=True)
    shown = [p for p in everything if (year is None or p.roc_year == year) and (kind is None or p.kind == kind)]
    docs = _documents(office.id, year=year) if kind is None else []
    years = sorted(set(years) | {d.roc_year for d in _documents(office.id)}, reverse=True)
    return render_template("zone_index.html", office=office, postings=shown, years=years, year=year,
                           kinds=[(k, kind_label(k)) for k in KINDS], kind=kind, documents=docs,
                           kind_label=kind_label)


@bp.get("/<string(maxlength=32):code>/postings/<int:case_id>")
def posting(code: str, case_id: int) -> str:
    office = _office(code)
    found = _postings(office.id, case_id=case_id)
    if not found:
        abort(404)
    files = list(session().scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id)))
    photos = [a for a in files if a.content_type.startswith("image/")]
    others = [a for a in files if not a.content_type.startswith("image/")]
    return render_template("zone_posting.html", office=office, p=found[0], photos=photos, files=others)


@bp.get("/<string(maxlength=32):code>/files/<int:attachment_id>")
def file(code: str, attachment_id: int) -> Response:
    office = _office(code)
    att = session().get(Attachment, attachment_id)
    if att is None or att.office_id != office.id or not _postings(office.id, case_id=att.case_id):
        abort(404)  # only files of published postings are public
    content = storage.default().get(att.storage_key)
    media = sniff(content).media_type or "application/octet-stream"
    return send_file(io.BytesIO(content), mimetype=media, as_attachment=not media.startswith("image/"),
                     download_name=att.name, max_age=3600, etag=att.sha256)


ATOM = "http://www.w3.org/2005/Atom"


@bp.get("/<string(maxlength=32):code>/feed.atom")
def feed(code: str) -> Response:
    office = _office(code)
    items = _postings(office.id)[:50]
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "zh-Hant-TW"})
    home = url_for(".index", code=code, _external=True)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    sub(root, "title", f"{office.name} 性別主流化專區")
    sub(root, "id", home)
    sub(root, "link", href=home)
    sub(root, "link", rel="self", href=url_for(".feed", code=code, _external=True))
    updated = max((p.published_at for p in items), default=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    sub(root, "updated", updated.isoformat())
    sub(sub(root, "author"), "name", office.name)
    for p in items:
        link = p.external_url or url_for(".posting", code=code, case_id=p.case_id, _external=True)
        entry = sub(root, "entry")
        sub(entry, "title", p.heading)
        sub(entry, "id", url_for(".posting", code=code, case_id=p.case_id, _external=True))
        sub(entry, "link", href=link)
        sub(entry, "updated", p.published_at.isoformat())
        sub(entry, "summary", p.body[:500])
    xml = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return Response(xml, mimetype="application/atom+xml")
