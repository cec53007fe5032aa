"""Web postings (性別主流化專區) after approval: the secretariat's failure queue and its actions.

``edit_posting`` changes a posting's text and its photos' alt texts and captions: by its drafter
while it is a draft (or returned), and by the secretariat while publishing has failed ("fix and
retry"); one history event either way. ``failed_postings`` / ``failed_postings_count`` are the
queue and the number on the liaison's board; a failed posting waits from its first failure, however
often it was retried since. Publishing itself is ``publishing.service`` (run by the background task);
the secretariat's retry, which runs the pre-publication checks first, is ``publishing.retry``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from workflow import clock
from workflow.cases import approval, writes
from workflow.db import Database
from workflow.engine import fields as fieldmod
from workflow.engine import registry
from workflow.errors import PermissionDenied, TransitionNotAllowed, ValidationError
from workflow.models import Attachment, Case, HistoryEvent, Publication, Unit
from workflow.people import permissions

KIND = "web_posting"
FAILED = "publish_failed"
PUBLISHING = "publishing"
RETRY = "retry_publish"
FIXERS = ("secretariat",)  # who fixes a failed posting (plan §5.5(2): 秘書室協助解決)
ALT_MAX = 500
CAPTION_MAX = 200


@dataclass(frozen=True)
class FailedPosting:
    case_id: int
    version: int
    title: str
    unit_name: str
    reason: str | None  # None: the failure recorded no reason (the page then runs the checks)
    reason_en: str | None
    failed_at: dt.datetime  # the latest failure
    attempts: int  # every attempt, sent or refused, over all rounds
    failed_since: dt.datetime | None = None  # the first failure since the secretariat approved it

    def waiting(self, now: dt.datetime | None = None) -> dt.timedelta:
        """How long it has waited: from its first failure, not reset by a retry that failed again."""
        return (now or clock.now()) - (self.failed_since or self.failed_at)


def _failed_query(office_id: int) -> Any:
    failed = HistoryEvent.trigger == "mark_publish_failed"
    last_fail = (
        select(HistoryEvent.case_id, func.max(HistoryEvent.seq).label("seq"))
        .where(HistoryEvent.office_id == office_id, failed)
        .group_by(HistoryEvent.case_id).subquery()
    )
    # A failure episode starts when the posting is sent to publishing other than by a retry (the
    # secretariat's approval, again after it was sent back and resubmitted); it waits from the
    # first failure after that.
    start = (
        select(HistoryEvent.case_id, func.max(HistoryEvent.seq).label("seq"))
        .where(HistoryEvent.office_id == office_id, HistoryEvent.to_state == PUBLISHING,
               HistoryEvent.trigger != RETRY)
        .group_by(HistoryEvent.case_id).subquery()
    )
    first = aliased(HistoryEvent)
    since = (
        select(first.case_id, func.min(first.at).label("at"))
        .join(start, and_(start.c.case_id == first.case_id, first.seq > start.c.seq))
        .where(first.office_id == office_id, first.trigger == "mark_publish_failed")
        .group_by(first.case_id).subquery()
    )
    return (
        select(Case.id, Case.version, Case.title, Case.entered_state_at, Unit.name.label("unit_name"),
               HistoryEvent.data, HistoryEvent.comment, Publication.total_attempts, since.c.at.label("since"))
        .join(Unit, Unit.id == Case.unit_id)
        .outerjoin(last_fail, last_fail.c.case_id == Case.id)
        .outerjoin(HistoryEvent, and_(HistoryEvent.case_id == Case.id, HistoryEvent.seq == last_fail.c.seq))
        .outerjoin(Publication, Publication.case_id == Case.id)
        .outerjoin(since, since.c.case_id == Case.id)
        .where(Case.office_id == office_id, Case.kind == KIND, Case.state == FAILED)
        .order_by(func.coalesce(since.c.at, Case.entered_state_at), Case.id)
    )


def failed_postings(session: Session, office_id: int) -> list[FailedPosting]:
    """The office's failed postings, longest waiting first, each with its reason if one was recorded."""
    out = []
    for r in session.execute(_failed_query(office_id)):
        data = r.data or {}
        reason = data.get("reason") or r.comment or None
        out.append(FailedPosting(r.id, r.version, r.title, r.unit_name,
                                 str(reason) if reason else None,
                                 str(data.get("reason_en") or reason) if reason else None,
                                 r.entered_state_at, int(r.total_attempts or 0), r.since))
    return out


def failed_postings_count(session: Session, office_id: int) -> int:
    """How many of the office's approved postings are stuck in ``publish_failed`` (for the board)."""
    return int(session.scalar(select(func.count()).select_from(Case).where(
        Case.office_id == office_id, Case.kind == KIND, Case.state == FAILED)) or 0)


def publishing_now(session: Session, office_id: int) -> list[tuple[int, str, dt.datetime, int, str | None]]:
    """Postings still being published (id, title, since, attempts so far, last transient error)."""
    rows = session.execute(
        select(Case.id, Case.title, Case.entered_state_at, Publication.attempts, Publication.last_error)
        .outerjoin(Publication, Publication.case_id == Case.id)
        .where(Case.office_id == office_id, Case.kind == KIND, Case.state == PUBLISHING)
        .order_by(Case.entered_state_at))
    return [(r.id, r.title, r.entered_state_at, int(r.attempts or 0), r.last_error) for r in rows]


def edit_posting(
    case_id: int,
    actor: int,
    *,
    heading: str | None = None,
    body: str | None = None,
    alt_texts: Mapping[int, str] | None = None,
    captions: Mapping[int, str] | None = None,
    expected_version: int | None = None,
    db: Database | None = None,
) -> int:
    """Change a posting's heading, body and photo alt texts and captions; returns the new case version."""
    database = writes.resolve_db(db)
    registry.default().sync(database)
    with database.unit_of_work() as uow:
        s = uow.session
        who = writes.load_actor(s, actor)
        case = writes.load_case(s, case_id, who)
        if expected_version is not None and expected_version != case.version:
            raise writes.conflict(database, case_id, expected_version)
        defn = registry.default().get(database, case.kind, case.workflow_version, s)
        drafting = {t.source for t in defn.transitions if t.trigger == "submit"}
        if case.state in drafting:
            roles: tuple[str, ...] = defn.drafter_roles
        elif case.state == FAILED:
            roles = FIXERS
        else:
            raise TransitionNotAllowed(
                f"案件目前為「{defn.state(case.state).label}」，只有草稿、退回修正或刊登失敗時可以修改",
                f"case is {case.state!r}; a posting can be edited as a draft, when returned, or after failing",
                allowed=approval.allowed_triggers(defn, case.state))
        cap = permissions.match(permissions.capacities(s, who.id, case.office_id, clock.today()), roles, case.unit_id)
        if cap is None:
            zh, en = permissions.describe_roles(roles)
            raise PermissionDenied(f"需要以下角色才能修改：{zh}", f"editing needs one of: {en}")
        values: dict[str, Any] = {}
        changed: list[str] = []
        if heading is not None or body is not None:
            new = dict(case.fields or {})
            if heading is not None:
                new["heading"] = heading
            if body is not None:
                new["body"] = body
            clean = fieldmod.clean(defn, new, complete=case.state == FAILED)
            changed = fieldmod.changed_fields(case.fields, clean)
            values["fields"] = clean
        alts_changed = _set_photo_texts(s, case, alt_texts or {}, "alt_text", ALT_MAX)
        captions_changed = _set_photo_texts(s, case, captions or {}, "caption", CAPTION_MAX)
        now = clock.now()
        seq = case.history_seq + 1
        history = writes.history_row(
            case, seq=seq, prev_hash=case.history_head, event="edited", at=now, actor_id=who.id,
            on_behalf_of_id=cap.on_behalf_of,
            data={"changed_fields": changed, **({"alt_texts": alts_changed} if alts_changed else {}),
                  **({"captions": captions_changed} if captions_changed else {})})
        writes.write(s, database, case, {**values, "updated_at": now}, history)
        uow.commit()
        return case.version + 1


_PHOTO_TEXTS = {"alt_text": ("替代文字", "Alt text", "alt text"), "caption": ("照片說明", "Caption", "a caption")}


def _set_photo_texts(s: Session, case: Case, texts: Mapping[int, str], column: str, limit: int) -> list[int]:
    """Set ``column`` (alt_text or caption) of the case's attachments; the ids whose text changed."""
    if not texts:
        return []
    zh, en, en_lower = _PHOTO_TEXTS[column]
    atts = {a.id: a for a in s.scalars(select(Attachment).where(Attachment.case_id == case.id))}
    changed = []
    for att_id, raw in texts.items():
        att = atts.get(int(att_id))
        if att is None:  # not this case's file: as if it did not exist
            raise ValidationError({column: (f"找不到附件 {att_id}", f"no attachment {att_id}")}, {column: (zh, en)})
        text = " ".join(fieldmod._CONTROL.sub("", raw or "").split())
        if len(text) > limit:
            raise ValidationError({column: (f"{zh}最多 {limit} 字", f"{en_lower} is at most {limit} characters")},
                                  {column: ("", "")})  # the message names the field
        if (getattr(att, column) or "") != text:
            setattr(att, column, text or None)
            changed.append(att.id)
    s.flush()
    return changed


def record_manual_posting(case_id: int, actor: int, url: str, note: str, expected_version: int | None = None,
                          *, db: Database | None = None) -> writes.Result:
    """The secretariat posted it by hand: record where (URL) and a note; the case is published."""
    url = (url or "").strip()
    if not url.startswith(("https://", "http://")) or len(url) > 1000 or any(c.isspace() for c in url):
        raise ValidationError({"url": ("請填寫刊登網址（以 https:// 開頭）", "give the posting's URL (https://...)")},
                              {"url": ("", "")})  # the message names the field
    result = approval.fire(case_id, "record_manual_posting", actor, note, expected_version, db=db,
                           data={"url": url, "manual": True})
    database = writes.resolve_db(db)
    with database.unit_of_work() as uow:
        row = uow.session.scalar(select(Publication).where(Publication.case_id == case_id))
        if row is not None:
            row.status, row.url, row.published_at, row.updated_at = "manual", url, clock.now(), clock.now()
            row.lease_until = row.next_attempt_at = None
            uow.commit()
    return result
