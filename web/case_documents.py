"""The documents of a case as people read them: one entry per document (簽, 成果表, 函, ...) with its
latest version first and the earlier ones folded, versions numbered per document and named by the
step they were made for; whether any is still being made (the list then refreshes itself, see
web/static/documents.js); and, for one that failed, what went wrong and whom to tell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from documents.service import CONVERT_TOPIC
from web.labels import document_label, state_label
from workflow.cases.approval import DOCUMENT_TOPIC
from workflow.engine.definitions import Definition
from workflow.models import Case, Document, HistoryEvent, OutboxMessage


@dataclass(frozen=True)
class DocumentView:
    id: int  # 0 for one asked for whose row the worker has not made yet
    name: str  # sign_memo, training_results, ...
    label: str
    version: int  # 1 for the first of this name on this case, 2 for the next, ...
    status: str  # pending, rendering, ready, failed
    created_at: dt.datetime
    step: str  # the state whose entry asked for it (課長審核, ...)
    formats: list[str]
    problem: str | None
    sha256: str | None = None
    converting: bool = False  # ready as .docx, its ODT and PDF still being made

    @property
    def in_progress(self) -> bool:
        return self.status in ("pending", "rendering") or self.converting


@dataclass(frozen=True)
class DocumentGroup:
    """One document of the case: its latest version, and the earlier ones, newest first."""

    label: str
    latest: DocumentView
    earlier: list[DocumentView] = field(default_factory=list)


def versions(s: Session, case: Case, defn: Definition) -> list[DocumentView]:
    """Every version of every document of the case in the order they were asked for, including
    those still waiting in the outbox for a worker, from the rows alone (at most three statements)."""
    rows = s.execute(
        select(Document, HistoryEvent.to_state)
        .outerjoin(HistoryEvent, and_(HistoryEvent.case_id == Document.case_id, HistoryEvent.seq == Document.cause_seq))
        .where(Document.case_id == case.id).order_by(Document.cause_seq, Document.id)).all()
    doc_ids = [d.id for d, _state in rows]
    waiting = s.execute(select(OutboxMessage.topic, OutboxMessage.payload, OutboxMessage.created_at).where(
        OutboxMessage.office_id == case.office_id, OutboxMessage.processed_at.is_(None),
        or_(and_(OutboxMessage.topic == DOCUMENT_TOPIC, OutboxMessage.payload["case_id"].as_integer() == case.id),
            and_(OutboxMessage.topic == CONVERT_TOPIC,
                 OutboxMessage.payload["document_id"].as_integer().in_(doc_ids or [0]))))).all()
    converting = {int(p["document_id"]) for topic, p, _at in waiting if topic == CONVERT_TOPIC}
    made = {(d.name, d.cause_seq) for d, _state in rows}
    unmade = sorted(((int(p["event_seq"]), str(p["document"]), at) for topic, p, at in waiting
                     if topic == DOCUMENT_TOPIC and (p["document"], p["event_seq"]) not in made), key=lambda u: u[:2])
    steps = dict(s.execute(select(HistoryEvent.seq, HistoryEvent.to_state).where(
        HistoryEvent.case_id == case.id, HistoryEvent.seq.in_({seq for seq, _n, _at in unmade}))).all()) \
        if unmade else {}
    asked: list[tuple[int, int, Document | None, str | None, str, dt.datetime]] = [
        (d.cause_seq, d.id, d, to_state, d.name, d.created_at) for d, to_state in rows]
    asked += [(seq, 0, None, steps.get(seq), name, at) for seq, name, at in unmade]
    count: dict[str, int] = {}
    out = []
    for _seq, _id, d, to_state, name, at in sorted(asked, key=lambda a: (a[0], a[1] == 0, a[1])):
        count[name] = count.get(name, 0) + 1
        step = state_label(defn, to_state) if to_state else ""
        if d is None:
            out.append(DocumentView(0, name, document_label(name), count[name], "pending", at, step, [], None))
            continue
        formats = [f for f, key in (("docx", d.storage_key), ("odt", d.odt_key), ("pdf", d.pdf_key)) if key]
        out.append(DocumentView(
            d.id, d.name, document_label(d.name), count[name], d.status, d.created_at, step,
            formats if d.status == "ready" else [], d.last_error if d.status == "failed" else d.conversion_error,
            d.sha256, converting=d.status == "ready" and d.id in converting))
    return out


def groups(all_versions: list[DocumentView]) -> list[DocumentGroup]:
    """One entry per document, the most recently made first."""
    by_name: dict[str, list[DocumentView]] = {}
    for v in all_versions:
        by_name.setdefault(v.name, []).append(v)
    out = [DocumentGroup(v[-1].label, v[-1], list(reversed(v[:-1]))) for v in by_name.values()]
    return sorted(out, key=lambda g: (g.latest.created_at, g.latest.id), reverse=True)


def in_progress(docs: list[DocumentGroup]) -> bool:
    return any(g.latest.in_progress for g in docs)
