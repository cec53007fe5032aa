"""性別主流化專區: the public gender-mainstreaming zone of each office (no login), as plan §5.5 asks:
the results, each activity's posting with its photo album (captions and alt text), the reports and
minutes as ODF and PDF, a year archive, and how to reach the office. The default publisher: a web
posting is public here once its case is `published`. Plus an Atom feed of new postings.

What is public, and in which form:
- a posting's photos are its image attachments that have alt text (the pre-publication checks
  require it; a posting recorded as posted by hand elsewhere skipped them, and its photos without
  alt text stay unpublished); its other files are PDF or ODF, never anything else;
- a filed case's result document is offered as ODT and PDF only, once both exist, never as
  .docx; older documents get them from the conversion sweep (``documents.service.
  queue_missing_conversions``: beat daily, or ``caseflow documents convert-missing``);
- the 宣導 register's event photos are not shown here by themselves: they have not been through a
  posting's review and checks. A posting takes them from the register (``drafts.add_event_photos``,
  with their captions and alt texts) and they are published with it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, abort, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse

from documents.service import document_store
from publishing.sniff import sniff
from web.db import session
from web.labels import kind_label
from workflow import filetypes, rocdate, storage
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
# Editable files as ODF, fixed ones as PDF (the government's exchange formats); never .docx.
FORMATS = ("odt", "pdf")
MEDIA = {"odt": "application/vnd.oasis.opendocument.text", "pdf": "application/pdf"}
LATEST = 12  # postings on the zone's front page; the rest by year


@dataclass(frozen=True)
class ZonePhoto:
    id: int
    alt: str
    caption: str | None


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
    photos: tuple[ZonePhoto, ...] = ()


@dataclass(frozen=True)
class ZoneDocument:
    document_id: int
    case_id: int
    kind: str
    roc_year: int
    title: str
    filed_at: dt.datetime
    formats: tuple[str, ...]  # ("odt", "pdf") once converted; () while not (then it is not listed)


@dataclass(frozen=True)
class Documents:
    ready: list[ZoneDocument]
    preparing: int  # documents whose ODT and PDF are still being made


def _office(code: str) -> Office:
    office = session().scalar(select(Office).where(Office.code == code))
    if office is None:
        abort(404)
    return office


def _postings(office_id: int, *, year: int | None = None, case_id: int | None = None,
              limit: int | None = None) -> list[ZonePosting]:
    """Published postings, newest first, each with its photos (two statements however many)."""
    q = (select(Case, Publication.status, Publication.url, Publication.published_at)
         .outerjoin(Publication, Publication.case_id == Case.id)
         .where(Case.office_id == office_id, Case.kind.in_(KINDS), Case.state == "published")
         .order_by(Case.entered_state_at.desc(), Case.id.desc()))
    if year is not None:
        q = q.where(Case.roc_year == year)
    if case_id is not None:
        q = q.where(Case.id == case_id)
    if limit is not None:
        q = q.limit(limit)
    rows = session().execute(q).all()
    photos: dict[int, list[ZonePhoto]] = {}
    if rows:
        for a in session().scalars(select(Attachment).where(
                Attachment.case_id.in_([c.id for c, *_r in rows]), Attachment.content_type.startswith("image/"),
                func.length(func.trim(func.coalesce(Attachment.alt_text, ""))) > 0).order_by(Attachment.id)):
            photos.setdefault(a.case_id, []).append(ZonePhoto(a.id, a.alt_text or "", a.caption or None))
    out = []
    for case, status, url, published_at in rows:
        f = case.fields or {}
        out.append(ZonePosting(case.id, case.kind, case.roc_year, str(f.get("heading") or case.title),
                               str(f.get("body") or ""), _date(f.get("activity_date")),
                               published_at or case.entered_state_at,
                               url if status == "manual" else None, tuple(photos.get(case.id, ()))))
    return out


def _date(value: object) -> dt.date | None:
    """A stored date field (ISO, as ``workflow.engine.fields`` keeps it) as a date, shown as ROC by the page."""
    try:
        return rocdate.parse(str(value)) if value else None
    except ValueError:
        return None


def _documents(office_id: int, *, year: int | None = None, document_id: int | None = None) -> Documents:
    """The newest ready version of the result document of each delivered case of a public kind; listed
    once its ODT and PDF both exist (counted as being prepared until then)."""
    q = (select(Case.id, Case.kind, Case.roc_year, Case.title, Case.delivered_at, Document.id,
                Document.name, Document.odt_key, Document.pdf_key)
         .join(Document, Document.case_id == Case.id)
         # filed with the city group (awaiting or past its acknowledgement), not sent back since
         .where(Case.office_id == office_id, Case.delivered_at.is_not(None), Case.kind.in_(list(PUBLIC_DOCUMENTS)),
                Document.status == "ready")
         .order_by(Case.delivered_at.desc(), Case.id, Document.cause_seq.desc(), Document.id.desc()))
    if year is not None:
        q = q.where(Case.roc_year == year)
    seen: set[int] = set()
    ready, preparing = [], 0
    for cid, kind, roc_year, title, filed_at, doc_id, name, odt, pdf in session().execute(q):
        if cid in seen or name != PUBLIC_DOCUMENTS[kind] or filed_at is None:
            continue
        seen.add(cid)
        if not (odt and pdf):
            preparing += 1
            continue
        if document_id is None or doc_id == document_id:
            ready.append(ZoneDocument(doc_id, cid, kind, roc_year, title, filed_at, FORMATS))
    return Documents(ready, preparing)


def _years(office_id: int) -> list[tuple[int, int, int]]:
    """(ROC year, postings, documents) for every year with something public, newest first."""
    postings = Counter(dict(session().execute(
        select(Case.roc_year, func.count()).where(Case.office_id == office_id, Case.kind.in_(KINDS),
                                                  Case.state == "published").group_by(Case.roc_year)).all()))
    documents = Counter(d.roc_year for d in _documents(office_id).ready)
    return [(y, postings[y], documents[y]) for y in sorted(set(postings) | set(documents), reverse=True)]


def tel(phone: str) -> str:
    """A telephone number as a tel: link target: digits (and a leading +), extension dropped."""
    main = re.split(r"轉|分機|ext|#|,", phone or "", maxsplit=1, flags=re.IGNORECASE)[0]
    return ("+" if main.strip().startswith("+") else "") + re.sub(r"\D", "", main)


@bp.app_template_filter("tel")
def _tel_filter(phone: str) -> str:
    return tel(phone)


@bp.get("/<string(maxlength=32):code>/documents/<int:document_id>.<any(odt, pdf):fmt>")
def document(code: str, document_id: int, fmt: str) -> Response:
    office = _office(code)
    found = _documents(office.id, document_id=document_id).ready
    if not found:
        abort(404)  # only the converted result documents of filed cases are public
    doc = session().get(Document, document_id)
    key = {"odt": doc.odt_key, "pdf": doc.pdf_key}[fmt] if doc is not None else None
    if key is None:
        abort(404)
    return send_file(io.BytesIO(document_store().get(key)), mimetype=MEDIA[fmt], as_attachment=True,
                     download_name=f"{found[0].title}.{fmt}", max_age=3600)


@bp.get("/<string(maxlength=32):code>/")
def index(code: str) -> WerkzeugResponse | str:
    office = _office(code)
    year = request.args.get("year", type=int)
    if year is not None:  # the year filter of earlier versions: now the year's own page
        return redirect(url_for(".year", code=code, year=year), 301)
    docs = _documents(office.id)
    return render_template("zone_index.html", office=office, postings=_postings(office.id, limit=LATEST),
                           documents=docs.ready[:LATEST], more_documents=len(docs.ready) > LATEST,
                           preparing=docs.preparing, years=_years(office.id), kind_label=kind_label)


@bp.get("/<string(maxlength=32):code>/years/<int:year>")
def year(code: str, year: int) -> str:
    office = _office(code)
    years = _years(office.id)
    if year not in {y for y, _p, _d in years}:
        abort(404)
    docs = _documents(office.id, year=year)
    return render_template("zone_year.html", office=office, year=year, postings=_postings(office.id, year=year),
                           documents=docs.ready, preparing=docs.preparing, years=years, kind_label=kind_label)


@bp.get("/<string(maxlength=32):code>/postings/<int:case_id>")
def posting(code: str, case_id: int) -> str:
    office = _office(code)
    found = _postings(office.id, case_id=case_id)
    if not found:
        abort(404)
    files = [a for a in session().scalars(select(Attachment).where(Attachment.case_id == case_id)
                                          .order_by(Attachment.id))
             if a.content_type == filetypes.PDF or a.content_type.startswith(filetypes.ODF_PREFIX)]
    return render_template("zone_posting.html", office=office, p=found[0], photos=found[0].photos, files=files)


@bp.get("/<string(maxlength=32):code>/files/<int:attachment_id>")
def file(code: str, attachment_id: int) -> Response:
    office = _office(code)
    att = session().get(Attachment, attachment_id)
    found = _postings(office.id, case_id=att.case_id) if att is not None and att.office_id == office.id else []
    if att is None or not found:
        abort(404)  # only files of published postings are public
    content = storage.default().get(att.storage_key)
    media = sniff(content).media_type  # photos, PDF and ODF; anything else (.docx) is never served
    photo = media is not None and media.startswith("image/")
    if media is None or (photo and att.id not in {ph.id for ph in found[0].photos}):
        abort(404)  # not a published type, or a photo without alt text
    return send_file(io.BytesIO(content), mimetype=media, as_attachment=not photo,
                     download_name=att.name, max_age=3600, etag=att.sha256)


ATOM = "http://www.w3.org/2005/Atom"


@bp.get("/<string(maxlength=32):code>/feed.atom")
def feed(code: str) -> Response:
    office = _office(code)
    items = _postings(office.id, limit=50)
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
