"""Drafts: opening a case (one per kind, year and period), saving its fields and title, and adding
or removing attachments (a posting's may come from a 宣導 event's photos); only in the drafter's
states and only by a drafter of its unit (or 代理).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from workflow import clock, storage
from workflow.cases import writes
from workflow.cases.approval import allowed_triggers
from workflow.cases.writes import Actor
from workflow.db import Database, UnitOfWork
from workflow.engine import audit, registry
from workflow.engine import fields as fieldmod
from workflow.engine.definitions import Definition
from workflow.errors import NotFound, PermissionDenied, TransitionNotAllowed, ValidationError
from workflow.models import Attachment, Case, HistoryEvent, Office, OutreachEvent, OutreachPhoto, Unit
from workflow.people import permissions

PERIODS = {
    "quarterly": ("Q1", "Q2", "Q3", "Q4"),
    "yearly": ("Y",),
    "yearly_or_adhoc": ("Y", None),
    "adhoc": (None,),
}


# A period as people say it (zh-TW, English): in messages, never the code.
PERIOD_WORDS: dict[str | None, tuple[str, str]] = {
    "Q1": ("第1季", "Q1"), "Q2": ("第2季", "Q2"), "Q3": ("第3季", "Q3"), "Q4": ("第4季", "Q4"),
    "Y": ("全年度", "the whole year"), None: ("不分期（專案）", "no period (ad hoc)"),
}


def _period_words(period: str | None) -> tuple[str, str]:
    return PERIOD_WORDS.get(period, (period or "", period or ""))


def _check_period(defn: Definition, roc_year: int, period: str | None) -> None:
    allowed = PERIODS[defn.cycle]
    if period not in allowed:
        zh = "、".join(_period_words(p)[0] for p in allowed)
        en = ", ".join(_period_words(p)[1] for p in allowed)
        raise ValidationError({"period": (f"「{defn.label}」的期別請選：{zh}",
                                          f"choose the period of a {defn.label_en}: {en}")})
    if not 100 <= roc_year <= 200:
        raise ValidationError({"roc_year": ("民國年須在 100 到 200 之間", "ROC year must be between 100 and 200")})


def create_case(
    *,
    kind: str,
    unit_id: int,
    roc_year: int,
    title: str,
    actor: int | None,
    period: str | None = None,
    fields: Mapping[str, Any] | None = None,
    due_date: dt.date | None = None,
    office_id: int | None = None,
    db: Database | None = None,
) -> int:
    """Open a case in its kind's initial state; ``actor`` None means the plan calendar (system)."""
    database = writes.resolve_db(db)
    reg = registry.default()
    reg.latest(kind)  # an unknown kind: a clear error before anything else
    variant = _variant_of_unit(database, unit_id)
    defn = reg.latest(kind, variant)
    version = reg.current_version(database, kind, variant)  # outside the transaction: it may register versions
    _check_period(defn, roc_year, period)
    title = " ".join(fieldmod._CONTROL.sub("", title or "").split())
    if not title or len(title) > 200:
        raise ValidationError({"title": ("請填寫標題（最多 200 字）", "a title of at most 200 characters is required")})
    clean = fieldmod.clean(defn, fields or {}, complete=False)
    with database.unit_of_work() as uow:
        s = uow.session
        unit = s.get(Unit, unit_id)
        if actor is not None:
            who = writes.load_actor(s, actor)
            if unit is None or unit.office_id != who.office_id:
                raise NotFound(f"找不到課室 {unit_id}", f"no unit {unit_id}")
            caps = permissions.capacities(s, who.id, who.office_id, clock.today())
            if permissions.match(caps, defn.drafter_roles, unit_id) is None:
                zh, en = permissions.describe_roles(defn.drafter_roles, unit_name=unit.name)
                raise PermissionDenied(f"需要以下角色才能建立此類案件：{zh}", f"creating needs one of: {en}")
            office = who.office_id
        else:
            if unit is None or (office_id is not None and unit.office_id != office_id):
                raise NotFound(f"找不到課室 {unit_id}", f"no unit {unit_id}")
            office = unit.office_id
        now = clock.now()
        case = Case(
            office_id=office, unit_id=unit_id, kind=kind, roc_year=roc_year, period=period, title=title,
            state=defn.initial, version=1, workflow_version=version, fields=clean, drafter_id=actor,
            due_date=due_date, created_at=now, updated_at=now, entered_state_at=now,
            history_seq=1, history_head="",
        )
        s.add(case)
        try:
            s.flush()
        except IntegrityError:
            s.rollback()
            raise _duplicate(database, office, kind, roc_year, period, defn) from None
        history = writes.history_row(
            case, seq=1, prev_hash=audit.GENESIS, event="created", at=now, actor_id=actor,
            on_behalf_of_id=None, to_state=defn.initial,
            data={"kind": kind, "roc_year": roc_year, "period": period, "workflow_version": version},
        )
        case.history_head = history["hash"]
        s.execute(insert(HistoryEvent).values(**history))
        s.flush()
        uow.commit()
        return case.id


def _variant_of_unit(database: Database, unit_id: int) -> str:
    """The workflow variant of the office a unit belongs to ("" for none, or an unknown unit)."""
    with database.unit_of_work(write=False) as uow:
        return str(uow.session.scalar(select(Office.workflow_variant).join(Unit, Unit.office_id == Office.id)
                                      .where(Unit.id == unit_id)) or "")


def _duplicate(database: Database, office_id: int, kind: str, roc_year: int, period: str | None,
               defn: Definition) -> ValidationError:
    """The one-case-per-period key said no: name the case that already exists."""
    with database.unit_of_work(write=False) as uow:
        existing = uow.session.scalar(select(Case.id).where(
            Case.office_id == office_id, Case.kind == kind, Case.roc_year == roc_year, Case.period == period,
            Case.state != "withdrawn"))  # a withdrawn case leaves its period free (the key is partial)
    zh, en = _period_words(period)
    return ValidationError({"period": (
        f"{roc_year}年{zh}的「{defn.label}」已經存在（案件 {existing}），同一期別只能有一件",
        f"the {defn.label_en} for ROC year {roc_year}, {en}, already exists (case {existing}): one per period")})


def _edit(
    uow: UnitOfWork, database: Database, case_id: int, actor: int, expected_version: int | None
) -> tuple[Case, Definition, Actor, int | None]:
    """Load a case for editing: only in the drafter's states, only by a drafter of its unit."""
    s = uow.session
    who = writes.load_actor(s, actor)
    case = writes.load_case(s, case_id, who)
    if expected_version is not None and expected_version != case.version:
        raise writes.conflict(database, case_id, expected_version)
    defn = registry.default().get(database, case.kind, case.workflow_version, s)
    editable = {t.source for t in defn.transitions if t.trigger == "submit"}
    if case.state not in editable:
        raise TransitionNotAllowed(
            f"案件目前為「{defn.state(case.state).label}」，只有草稿或退回修正時可以修改",
            f"case is {case.state!r}; it can be edited only as a draft or when returned",
            allowed=allowed_triggers(defn, case.state),
        )
    cap = permissions.match(permissions.capacities(s, who.id, case.office_id, clock.today()),
                            defn.drafter_roles, case.unit_id)
    if cap is None:
        zh, en = permissions.describe_roles(defn.drafter_roles)
        raise PermissionDenied(f"需要以下角色才能修改：{zh}", f"editing needs one of: {en}")
    return case, defn, who, cap.on_behalf_of


def save_fields(
    case_id: int,
    actor: int,
    fields: Mapping[str, Any],
    expected_version: int | None = None,
    *,
    title: str | None = None,
    db: Database | None = None,
) -> int:
    """Save a draft's fields (incomplete is fine, wrong is not); returns the new version."""
    database = writes.resolve_db(db)
    return writes.retrying(lambda: _save_fields_once(case_id, actor, fields, expected_version, title, database))


def _save_fields_once(
    case_id: int, actor: int, fields: Mapping[str, Any], expected_version: int | None, title: str | None,
    database: Database,
) -> int:
    registry.default().sync(database)
    with database.unit_of_work() as uow:
        case, defn, who, on_behalf = _edit(uow, database, case_id, actor, expected_version)
        clean = fieldmod.clean(defn, fields, complete=False)
        values: dict[str, Any] = {"fields": clean}
        if title is not None:
            t = " ".join(fieldmod._CONTROL.sub("", title).split())
            if not t or len(t) > 200:
                raise ValidationError({"title": ("請填寫標題（最多 200 字）", "a title of at most 200 characters")})
            values["title"] = t
        changed = fieldmod.changed_fields(case.fields, clean)
        if title is not None and values["title"] != case.title:
            changed.append("title")
        if not changed:  # saved as it was: nothing to record, and no new version for others to trip on
            return case.version
        now = clock.now()
        seq = case.history_seq + 1
        values["updated_at"] = now
        history = writes.history_row(
            case, seq=seq, prev_hash=case.history_head, event="edited", at=now,
            actor_id=who.id, on_behalf_of_id=on_behalf, data={"changed_fields": changed},
        )
        writes.write(uow.session, database, case, values, history)
        uow.commit()
        return case.version + 1


def add_attachment(
    case_id: int,
    actor: int,
    *,
    name: str,
    content_type: str,
    content: bytes,
    expected_version: int | None = None,
    db: Database | None = None,
) -> int:
    """Store a file for a draft (content-addressed) and record it; returns the attachment id."""
    database = writes.resolve_db(db)
    key, digest = storage.default().put(content)
    return writes.retrying(lambda: _add_attachment_once(case_id, actor, name, content_type, content, key, digest,
                                                  expected_version, database))


def add_event_photos(case_id: int, actor: int, event_id: int, expected_version: int | None = None, *,
                     db: Database | None = None) -> list[int]:
    """Attach the photos of one of the office's 宣導 events (the register's, with their captions and
    alt texts) to a draft that takes photos, as copies: from here the posting's review and its
    pre-publication checks decide what the public sees. Photos already attached are skipped; one
    history event names the event. Returns the new attachment ids."""
    database = writes.resolve_db(db)
    return writes.retrying(lambda: _add_event_photos_once(case_id, actor, event_id, expected_version, database))


_PHOTO_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


def _add_event_photos_once(case_id: int, actor: int, event_id: int, expected_version: int | None,
                           database: Database) -> list[int]:
    registry.default().sync(database)
    with database.unit_of_work() as uow:
        case, defn, who, on_behalf = _edit(uow, database, case_id, actor, expected_version)
        s = uow.session
        if not defn.min_attachments:
            raise ValidationError({"event": (f"「{defn.label}」不附活動照片", f"a {defn.label_en} takes no photos")})
        event = s.get(OutreachEvent, event_id)
        if event is None or event.office_id != case.office_id:
            raise NotFound("找不到這場宣導活動", f"no outreach event {event_id}")
        photos = list(s.scalars(select(OutreachPhoto).where(OutreachPhoto.event_id == event.id)
                                .order_by(OutreachPhoto.id)))
        have = set(s.scalars(select(Attachment.sha256).where(Attachment.case_id == case.id)))
        now = clock.now()
        added: list[Attachment] = []
        for n, photo in enumerate(photos, start=1):
            content = storage.default().get(photo.storage_key)
            digest = hashlib.sha256(content).hexdigest()
            if digest in have:
                continue
            have.add(digest)
            name = f"{event.name[:120]}-{n}{_PHOTO_EXTENSIONS.get(photo.content_type, '')}"
            added.append(Attachment(
                office_id=case.office_id, case_id=case.id, name=name, content_type=photo.content_type,
                size=len(content), sha256=digest, storage_key=photo.storage_key, uploaded_by_id=who.id,
                uploaded_at=now, alt_text=photo.alt_text, caption=photo.caption))
        if not added:
            raise ValidationError({"event": (
                "這場活動的照片都已加入本案" if photos else "這場活動在宣導紀錄中沒有照片",
                "its photos are all attached already" if photos else "the event has no photos in the register")},
                {"event": ("", "")})  # the message says which
        s.add_all(added)
        s.flush()
        history = writes.history_row(
            case, seq=case.history_seq + 1, prev_hash=case.history_head, event="attachment", at=now,
            actor_id=who.id, on_behalf_of_id=on_behalf,
            data={"name": f"{event.name}（{len(added)} 張照片，取自宣導紀錄）", "outreach_event_id": event.id,
                  "attachments": [{"attachment_id": a.id, "name": a.name, "sha256": a.sha256} for a in added]})
        writes.write(s, database, case, {"updated_at": now}, history)
        uow.commit()
        return [a.id for a in added]


def remove_attachment(case_id: int, actor: int, attachment_id: int, expected_version: int | None = None, *,
                      db: Database | None = None) -> str:
    """Take a wrongly uploaded file off a draft (only while it can be edited, only by a drafter of
    its unit); the history records what was removed, and the stored file stays (content-addressed:
    documents made earlier and the history still name it). Returns the attachment's name."""
    database = writes.resolve_db(db)
    return writes.retrying(lambda: _remove_attachment_once(case_id, actor, attachment_id, expected_version, database))


def _remove_attachment_once(case_id: int, actor: int, attachment_id: int, expected_version: int | None,
                            database: Database) -> str:
    registry.default().sync(database)
    with database.unit_of_work() as uow:
        case, _defn, who, on_behalf = _edit(uow, database, case_id, actor, expected_version)
        s = uow.session
        att = s.get(Attachment, attachment_id)
        if att is None or att.case_id != case.id:
            raise NotFound(f"這個案件沒有附件 {attachment_id}", f"case {case_id} has no attachment {attachment_id}")
        name, digest = att.name, att.sha256
        s.delete(att)
        s.flush()
        now = clock.now()
        history = writes.history_row(
            case, seq=case.history_seq + 1, prev_hash=case.history_head, event="attachment_removed", at=now,
            actor_id=who.id, on_behalf_of_id=on_behalf,
            data={"attachment_id": attachment_id, "name": name, "sha256": digest},
        )
        writes.write(s, database, case, {"updated_at": now}, history)
        uow.commit()
        return name


def _add_attachment_once(
    case_id: int, actor: int, name: str, content_type: str, content: bytes, key: str, digest: str,
    expected_version: int | None, database: Database,
) -> int:
    registry.default().sync(database)
    with database.unit_of_work() as uow:
        case, _defn, who, on_behalf = _edit(uow, database, case_id, actor, expected_version)
        s = uow.session
        now = clock.now()
        att = Attachment(
            office_id=case.office_id, case_id=case.id, name=name[:255], content_type=content_type[:100],
            size=len(content), sha256=digest, storage_key=key, uploaded_by_id=who.id, uploaded_at=now,
        )
        s.add(att)
        s.flush()
        seq = case.history_seq + 1
        history = writes.history_row(
            case, seq=seq, prev_hash=case.history_head, event="attachment", at=now, actor_id=who.id,
            on_behalf_of_id=on_behalf, data={"attachment_id": att.id, "name": att.name, "sha256": digest},
        )
        writes.write(s, database, case, {"updated_at": now}, history)
        uow.commit()
        return att.id
