"""Render one document for one outbox message, exactly once in effect.

A document's identity is (case, document name, the history event that caused it): one row, made
with a unique key, however often the message is delivered. A worker claims the row with a lease
(compare-and-set); only the lease holder may mark it ready, in the same transaction as the history
event and the outbox row's ``processed_at``. A worker that dies leaves a lease that expires, and
the next delivery finishes the job. Files are stored by content hash, so a lost race wastes a
render but never makes a second version.

The ODT and PDF copies are a second, slower step (LibreOffice, about a second): marking the .docx
ready writes a ``document.convert`` outbox row in the same transaction, and that row is handled by
its own task on its own queue, so a conversion never holds up the next person's .docx.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from documents import context as contexts
from documents import convert, render
from workflow import clock, logs, metrics, storage
from workflow.cases import approval, writes
from workflow.config import load_settings
from workflow.db import Database
from workflow.models import Document, DocumentTemplate, OutboxMessage
from workflow.storage import FileStore

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
CONVERT_TOPIC = "document.convert"

# The statements of a render's two transactions, built once: Core with bound parameters, so every
# execution hits SQLAlchemy's compiled cache without building the statement or walking it for its
# cache key again.
_documents = cast(Table, Document.__table__)
_outbox = cast(Table, OutboxMessage.__table__)
_templates = cast(Table, DocumentTemplate.__table__)
_LEASED = {"status": "rendering", "lease_owner": bindparam("d_owner"), "lease_until": bindparam("d_lease_until")}
_IDENTITY = and_(_documents.c.case_id == bindparam("d_case_id"), _documents.c.name == bindparam("d_name"),
                 _documents.c.cause_seq == bindparam("d_seq"))
_READ_MESSAGE = select(_outbox.c.topic, _outbox.c.payload, _outbox.c.office_id).where(
    _outbox.c.id == bindparam("outbox_id"))
_TAKE_LEASE = (
    update(_documents)
    .where(_IDENTITY, or_(_documents.c.status.in_(("pending", "failed")),
                          and_(_documents.c.status == "rendering", _documents.c.lease_until < bindparam("now"))))
    .values(attempts=_documents.c.attempts + 1, **_LEASED).returning(_documents.c.id)
)
_READ_STATUS = select(_documents.c.id, _documents.c.status).where(_IDENTITY)
_TEMPLATE_IN_FORCE = (
    select(_templates.c.storage_key, _templates.c.sha256, _templates.c.version)
    .where(_templates.c.office_id == bindparam("office_id"), _templates.c.name == bindparam("name"),
           _templates.c.active.is_(True))
    .order_by(_templates.c.version.desc()).limit(1)
)
# The rendered document's columns (``_render``'s result) and the lease check: only the holder
# marks it ready.
_RESULT_COLUMNS = ("context", "sha256", "size", "storage_key", "template_sha256", "template_version",
                   "case_version")
_MARK_READY = (
    update(_documents)
    .where(_documents.c.id == bindparam("doc_id"), _documents.c.status == "rendering",
           _documents.c.lease_owner == bindparam("owner"))
    .values(status="ready", rendered_at=bindparam("now"), last_error=None, lease_until=None,
            **{c: bindparam(f"r_{c}", type_=_documents.c[c].type) for c in _RESULT_COLUMNS})
)
_MARK_PROCESSED = update(_outbox).where(_outbox.c.id == bindparam("outbox_id")).values(
    processed_at=bindparam("now"))
_INSERT_OUTBOX = insert(_outbox)
_INSERTS: dict[str, Any] = {}  # dialect name -> INSERT ... ON CONFLICT DO NOTHING RETURNING id


@dataclass(frozen=True)
class Outcome:
    document_id: int | None
    status: str  # ready, already_ready, busy (someone else holds the lease), skipped, failed
    # Outbox rows this step committed for the next one (the conversion): publish them after commit.
    follow_up: tuple[int, ...] = ()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


_store: FileStore | None = None


def document_store() -> FileStore:
    global _store
    if _store is None:
        settings = load_settings()
        _store = FileStore(settings.documents_path or settings.instance_path / "documents")
    return _store


def configure_store(root: Path) -> FileStore:
    global _store
    _store = FileStore(root)
    return _store


def template_for(db: Database, office_id: int, name: str, session: Session | None = None) -> tuple[bytes, str, int]:
    """(bytes, sha256, version) of the template in force: the office's newest active upload, else
    the built-in file (version 0)."""
    params = {"office_id": office_id, "name": name}
    if session is not None:
        row = session.connection().execute(_TEMPLATE_IN_FORCE, params).first()
    else:
        with db.unit_of_work(write=False) as uow:
            row = uow.session.connection().execute(_TEMPLATE_IN_FORCE, params).first()
    if row is not None:
        return document_store().get(row.storage_key), row.sha256, row.version
    return _builtin(name)


@functools.lru_cache(maxsize=32)
def _builtin(name: str) -> tuple[bytes, str, int]:
    data = (TEMPLATES / f"{name}.docx").read_bytes()
    return data, hashlib.sha256(data).hexdigest(), 0


def process_outbox(db: Database, outbox_id: int, *, owner: str | None = None, lease_seconds: int | None = None,
                   convert_formats: bool = True) -> Outcome:
    """Handle one ``document.render`` outbox message. Safe to run any number of times.

    With ``convert_formats`` the ready document also gets a ``document.convert`` outbox row (in the
    transaction that marks it ready), returned in ``Outcome.follow_up`` for the caller to publish."""
    owner = owner or worker_id()
    lease = dt.timedelta(seconds=lease_seconds or load_settings().document_lease_seconds)
    claimed = _claim(db, outbox_id, owner, lease)
    if claimed is None:
        metrics.DOCUMENT_RENDERS.labels(document="", outcome="skipped").inc()
        return Outcome(None, "skipped")
    doc_id, status, office_id, case_id, name, seq = claimed.key
    if status != "claimed":
        outcome = Outcome(doc_id, "busy")
        if status == "ready":
            _mark_processed(db, outbox_id)
            outcome = Outcome(doc_id, "already_ready")
        metrics.DOCUMENT_RENDERS.labels(document=name, outcome=outcome.status).inc()
        return outcome
    try:
        if claimed.problem is not None:
            raise claimed.problem
        assert claimed.inputs is not None
        started = time.perf_counter()
        result = _render(claimed.inputs)
        metrics.RENDER_SECONDS.labels(document=name).observe(time.perf_counter() - started)
    except Exception as exc:
        _fail(db, doc_id, owner, exc)
        metrics.DOCUMENT_RENDERS.labels(document=name, outcome="failed").inc()
        raise
    done = _finish(db, doc_id, owner, outbox_id, office_id, case_id, name, seq, result, convert_formats)
    metrics.DOCUMENT_RENDERS.labels(document=name, outcome=done.status).inc()
    return done


@dataclass(frozen=True)
class _Inputs:
    """What one render needs, read in the transaction that took the lease."""

    context: dict[str, Any]
    case_version: int
    template: bytes
    template_sha256: str
    template_version: int


@dataclass(frozen=True)
class _Claimed:
    key: tuple[int, str, int, int, str, int]  # (document id, "claimed" | its status, office, case, name, seq)
    inputs: _Inputs | None = None
    problem: Exception | None = None  # the inputs could not be read: the document is marked failed


def _inputs(s: Session, db: Database, office_id: int, case_id: int, name: str, seq: int) -> _Inputs:
    loaded = contexts.Loaded(s, db, case_id, seq)
    template, sha, version = template_for(db, office_id, name, s)
    return _Inputs(contexts.BUILDERS[name](loaded), loaded.case.version, template, sha, version)


def _claim(db: Database, outbox_id: int, owner: str, lease: dt.timedelta) -> _Claimed | None:
    """Find or create the document row for this message and try to take its lease, in one
    transaction, reading what the render needs in the same transaction when the lease is ours.

    The first delivery creates the row already leased to itself (one INSERT ... ON CONFLICT DO
    NOTHING); a later one takes the lease of a pending or failed row, or of one whose lease has run
    out, by compare-and-set, or learns the row's status. Not a durable commit (see
    ``Database.unit_of_work``): a lease lost in a crash is taken again by the next delivery."""
    with db.unit_of_work(durable=False) as uow:
        s = uow.session
        conn = s.connection()
        msg = conn.execute(_READ_MESSAGE, {"outbox_id": outbox_id}).one_or_none()
        if msg is None or msg.topic != approval.DOCUMENT_TOPIC:
            return None
        case_id, name = int(msg.payload["case_id"]), str(msg.payload["document"])
        seq, office_id = int(msg.payload["event_seq"]), int(msg.office_id)
        logs.bind(case_id=case_id)
        now = clock.now()
        params = {"d_office_id": office_id, "d_case_id": case_id, "d_name": name, "d_seq": seq,
                  "d_outbox_id": outbox_id, "d_owner": owner, "d_lease_until": now + lease, "now": now}
        doc_id = conn.execute(_insert_leased(conn.dialect.name), params).scalar()
        if doc_id is None:
            doc_id = conn.execute(_TAKE_LEASE, params).scalar()
        if doc_id is None:
            row = conn.execute(_READ_STATUS, params).one()
            return _Claimed((int(row.id), str(row.status), office_id, case_id, name, seq))
        key = (int(doc_id), "claimed", office_id, case_id, name, seq)
        try:
            inputs = _inputs(s, db, office_id, case_id, name, seq)
        except DBAPIError:
            raise  # the database's trouble, not the document's: nothing committed, the task retries
        except Exception as exc:  # a builder or template problem: keep the claim, record it as failed
            uow.commit()
            return _Claimed(key, problem=exc)
        uow.commit()
        return _Claimed(key, inputs)


def _insert_leased(dialect: str) -> Any:
    """The first delivery's INSERT of the document row, already leased to itself; ON CONFLICT on
    the document's identity does nothing (PostgreSQL and SQLite both have it). Built once per
    dialect."""
    stmt = _INSERTS.get(dialect)
    if stmt is None:
        dialect_insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (dialect_insert(_documents)
                .values(office_id=bindparam("d_office_id"), case_id=bindparam("d_case_id"), name=bindparam("d_name"),
                        cause_seq=bindparam("d_seq"), outbox_id=bindparam("d_outbox_id"), attempts=1,
                        created_at=bindparam("now"), **_LEASED)
                .on_conflict_do_nothing(index_elements=["case_id", "name", "cause_seq"])
                .returning(_documents.c.id))
        _INSERTS[dialect] = stmt
    return stmt


def _get_or_create(db: Database, office_id: int, case_id: int, name: str, seq: int, outbox_id: int) -> int:
    q = select(Document.id).where(Document.case_id == case_id, Document.name == name, Document.cause_seq == seq)
    with db.unit_of_work() as uow:
        found = uow.session.scalar(q)
        if found is not None:
            return found
        doc = Document(office_id=office_id, case_id=case_id, name=name, cause_seq=seq, outbox_id=outbox_id,
                       status="pending", attempts=0, created_at=clock.now())
        uow.session.add(doc)
        try:
            uow.commit()
            return doc.id
        except IntegrityError:
            pass  # another delivery created it a moment ago
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(q)  # type: ignore[return-value]


def _render(inputs: _Inputs) -> dict[str, Any]:
    # Fault-injection knob for tests: stretch each render so a test can kill a worker mid-render.
    # Unset (no delay) in every real deployment.
    delay = float(os.environ.get("CASEFLOW_RENDER_DELAY_SECONDS") or 0)
    if delay > 0:
        time.sleep(delay)
    data = render.render_docx(inputs.template, inputs.context, load_image=storage.default().get)
    key, digest = document_store().put(data)
    return {"context": inputs.context, "sha256": digest, "size": len(data), "storage_key": key,
            "template_sha256": inputs.template_sha256, "template_version": inputs.template_version,
            "case_version": inputs.case_version}


def process_conversion(db: Database, outbox_id: int) -> Outcome:
    """Handle one ``document.convert`` outbox message: add the ODT and PDF. Safe to repeat."""
    with db.unit_of_work(write=False) as uow:
        msg = uow.session.get(OutboxMessage, outbox_id)
        if msg is None or msg.topic != CONVERT_TOPIC:
            return Outcome(None, "skipped")
        doc_id = int(msg.payload["document_id"])
        processed = msg.processed_at is not None
    if not processed:
        convert_document(db, doc_id)
        _mark_processed(db, outbox_id)
    return Outcome(doc_id, "converted" if not processed else "already_converted")


def queue_missing_conversions(db: Database, *, office_id: int | None = None, limit: int = 1000) -> tuple[int, ...]:
    """Give every ready document still without its ODT or PDF (made before conversions existed, or
    whose conversion failed or was lost) a ``document.convert`` outbox row, newest first, at most
    ``limit``; returns the new rows' ids for the caller to publish (the sweep sends any it misses).

    Idempotent: a document that already has an unprocessed conversion row gets no second one, so
    running it twice, or beside a worker busy converting, queues each document once. A conversion
    that failed (LibreOffice missing, a file it cannot open) is queued again by the next run, which
    is why beat runs this daily rather than with every outbox sweep."""
    with db.unit_of_work() as uow:
        s = uow.session
        waiting = {int(p["document_id"]) for p in s.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.topic == CONVERT_TOPIC,
                                                OutboxMessage.processed_at.is_(None)))
                   if isinstance(p, dict) and "document_id" in p}
        q = (select(Document.id, Document.office_id)
             .where(Document.status == "ready", Document.storage_key.is_not(None),
                    or_(Document.odt_key.is_(None), Document.pdf_key.is_(None)))
             .order_by(Document.id.desc()))
        if office_id is not None:
            q = q.where(Document.office_id == office_id)
        now = clock.now()
        rows = [{"office_id": office, "topic": CONVERT_TOPIC, "payload": {"document_id": doc_id},
                 "created_at": now, "available_at": now, "attempts": 0}
                for doc_id, office in s.execute(q) if doc_id not in waiting][:limit]
        conn = s.connection()
        ids = tuple(int(conn.execute(_INSERT_OUTBOX, row).inserted_primary_key[0])  # type: ignore[index]
                    for row in rows)
        uow.commit()
    return ids


def convert_document(db: Database, doc_id: int) -> None:
    """Add the ODT and PDF of a ready document (after the .docx is already downloadable). Safe to
    repeat: files are content-addressed and the keys are only filled where missing."""
    with db.unit_of_work(write=False) as uow:
        doc = uow.session.get(Document, doc_id)
        if doc is None or doc.status != "ready" or doc.storage_key is None:
            return
        if doc.odt_key and doc.pdf_key:
            return
        key = doc.storage_key
        logs.bind(case_id=doc.case_id)
    store = document_store()
    converter = convert.default()
    values: dict[str, Any] = {}
    if converter is None:
        values["conversion_error"] = "LibreOffice 未安裝，僅提供 .docx"
        metrics.CONVERSIONS.labels(format="", outcome="unavailable").inc()
    else:
        data = store.get(key)
        try:
            values["odt_key"], _ = store.put(convert.convert_timed(converter, data, "odt"))
            values["pdf_key"], _ = store.put(convert.convert_timed(converter, data, "pdf"))
            values["conversion_error"] = None
        except convert.ConversionError as exc:
            values["conversion_error"] = f"轉檔失敗：{exc}"
    with db.unit_of_work() as uow:
        uow.session.execute(update(Document).where(Document.id == doc_id).values(**values)
                            .execution_options(synchronize_session=False))
        uow.commit()


def _finish(db: Database, doc_id: int, owner: str, outbox_id: int, office_id: int, case_id: int, name: str,
            seq: int, result: dict[str, Any], convert_formats: bool) -> Outcome:
    # Not a durable commit: if a crash loses it, the document, its history event and the outbox
    # row's processed mark are lost together, and the sweep's redelivery renders it again.
    with db.unit_of_work(durable=False) as uow:
        s = uow.session
        conn = s.connection()
        now = clock.now()
        res = conn.execute(_MARK_READY, {"doc_id": doc_id, "owner": owner, "now": now,
                                         **{f"r_{c}": result[c] for c in _RESULT_COLUMNS}})
        if res.rowcount != 1:
            return Outcome(doc_id, "busy")  # our lease ran out and another worker took over
        writes.record_event(case_id, "document", session=s, data={
            "document_id": doc_id, "document": name, "cause_seq": seq, "sha256": result["sha256"],
            "label": contexts.DOCUMENT_LABELS.get(name, name)})
        conn.execute(_MARK_PROCESSED, {"outbox_id": outbox_id, "now": clock.now()})
        follow_up: tuple[int, ...] = ()
        if convert_formats:
            now = clock.now()
            key = conn.execute(_INSERT_OUTBOX.values(
                office_id=office_id, topic=CONVERT_TOPIC, payload={"document_id": doc_id}, created_at=now,
                available_at=now, attempts=0)).inserted_primary_key
            follow_up = (int(key[0]),) if key else ()
        uow.commit()
    return Outcome(doc_id, "ready", follow_up)


def _fail(db: Database, doc_id: int, owner: str, exc: Exception) -> None:
    text = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Document).where(Document.id == doc_id, Document.lease_owner == owner)
            .values(status="failed", last_error=str(text)[:2000], lease_until=None)
            .execution_options(synchronize_session=False))
        uow.commit()


def _mark_processed(db: Database, outbox_id: int) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id,
                                                        OutboxMessage.processed_at.is_(None))
                            .values(processed_at=clock.now()).execution_options(synchronize_session=False))
        uow.commit()


def rerender(db: Database, doc_id: int) -> bytes:
    """Render a stored document again from its recorded context and template (for checking)."""
    with db.unit_of_work(write=False) as uow:
        doc = uow.session.get(Document, doc_id)
        if doc is None or doc.context is None:
            raise LookupError(f"no rendered document {doc_id}")
        ctx, office_id, name, tsha = doc.context, doc.office_id, doc.name, doc.template_sha256
    template, sha, _v = template_for(db, office_id, name)
    if sha != tsha:
        with db.unit_of_work(write=False) as uow:
            key = uow.session.scalar(select(DocumentTemplate.storage_key).where(
                DocumentTemplate.office_id == office_id, DocumentTemplate.sha256 == tsha))
        if key is None:
            raise LookupError(f"the template {(tsha or '')[:12]} used for document {doc_id} is no longer stored")
        template = document_store().get(key)
    return render.render_docx(template, ctx, load_image=storage.default().get)
