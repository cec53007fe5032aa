"""Outreach (宣導, plan §5.3(二)): the events each unit held, with participants by sex, the
materials handed out (文宣) and photos with captions and alt text; the social affairs section's
one public event a year, shown as met or not; and the rows the quarterly 宣導成果表 takes.

Every change is recorded with what it was before (``admin_log``, same transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow import filetypes, rocdate, storage
from workflow.errors import NotFound, ValidationError
from workflow.models import OutreachEvent, OutreachMaterial, OutreachPhoto, Unit
from workflow.models.registers import OUTREACH_TOPICS
from workflow.people import admin_log
from workflow.registers.training import period_bounds
from workflow.rocdate import roc_year_bounds

TOPIC_WORDS = {"cedaw": ("CEDAW", "CEDAW"), "gender_equality": ("性別平等", "gender equality")}
MAX_PARTICIPANTS = 100_000
MAX_PHOTO_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Rules:
    """Plan §5.3(二)1: the social affairs section holds at least one public event a year."""

    public_unit: str = "social"
    public_events_per_year: int = 1


DEFAULT_RULES = Rules()
FIELDS = ("unit_id", "name", "held_on", "place", "topic", "audience", "public", "male", "female")


def _clean(s: Session, office_id: int, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    errors: dict[str, tuple[str, str]] = {}
    for key, limit, zh in (("name", 200, "活動名稱"), ("place", 100, "地點"), ("audience", 100, "對象")):
        text = " ".join(str(out.get(key) or "").split())
        out[key] = text
        if not text or len(text) > limit:
            errors[key] = (f"請填寫{zh}（最多 {limit} 字）", f"{key} is required, at most {limit} characters")
    if out.get("topic") not in OUTREACH_TOPICS:
        errors["topic"] = ("請選擇宣導主題：CEDAW 或性別平等", "choose the topic: CEDAW or gender equality")
    if not isinstance(out.get("held_on"), dt.date):
        errors["held_on"] = ("請填寫活動日期，例如 113.04.10", "a date is required, e.g. 113.04.10")
    for key, zh in (("male", "男性"), ("female", "女性")):
        n = out.get(key)
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_PARTICIPANTS:
            errors[key] = (f"{zh}參與人數須為 0 到 {MAX_PARTICIPANTS:,} 的整數",
                           f"{key} participants must be a whole number from 0 to {MAX_PARTICIPANTS:,}")
    unit_office = s.scalar(select(Unit.office_id).where(Unit.id == out.get("unit_id")))
    if unit_office != office_id:
        errors["unit_id"] = ("請選擇本所的辦理單位", "choose one of this office's units")
    out["public"] = bool(out.get("public"))
    if errors:
        raise ValidationError(errors)
    return out


def _materials(items: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    out = []
    for i, (kind, count) in enumerate(items, start=1):
        kind = " ".join((kind or "").split())
        if not kind and not count:
            continue
        if not kind or len(kind) > 50 or not isinstance(count, int) or not 0 < count <= 1_000_000:
            raise ValidationError({f"materials.{i}": (
                f"第 {i} 項文宣：請填寫種類（最多 50 字）與份數（1 以上的整數）",
                f"material {i}: a kind (at most 50 characters) and a count of at least 1")})
        out.append((kind, count))
    return out


def _snapshot(s: Session, event: OutreachEvent) -> dict[str, Any]:
    mats = s.execute(select(OutreachMaterial.kind, OutreachMaterial.count)
                     .where(OutreachMaterial.event_id == event.id).order_by(OutreachMaterial.id)).all()
    return {**{k: getattr(event, k) for k in FIELDS}, "materials": [[k, c] for k, c in mats]}


def add_event(s: Session, office_id: int, actor_id: int | None, *, materials: Sequence[tuple[str, int]] = (),
              **values: Any) -> OutreachEvent:
    """Record an event; refused with a message per field when a value is wrong."""
    clean = _clean(s, office_id, values)
    mats = _materials(materials)
    event = OutreachEvent(office_id=office_id, **{k: clean[k] for k in FIELDS})
    s.add(event)
    s.flush()
    s.add_all(OutreachMaterial(event_id=event.id, kind=k, count=c) for k, c in mats)
    s.flush()
    admin_log.record(s, office_id, actor_id, "outreach.event.add", event_id=event.id, before=None,
                     after=_snapshot(s, event))
    return event


def own_event(s: Session, office_id: int, event_id: int) -> OutreachEvent:
    event = s.get(OutreachEvent, event_id)
    if event is None or event.office_id != office_id:
        raise NotFound("找不到這場宣導活動", f"no outreach event {event_id}")
    return event


def update_event(s: Session, office_id: int, actor_id: int | None, event_id: int, *,
                 materials: Sequence[tuple[str, int]] = (), **values: Any) -> OutreachEvent:
    """Correct an event (its materials replaced by ``materials``); before and after are recorded."""
    event = own_event(s, office_id, event_id)
    before = _snapshot(s, event)
    clean = _clean(s, office_id, values)
    mats = _materials(materials)
    for k in FIELDS:
        setattr(event, k, clean[k])
    for m in s.scalars(select(OutreachMaterial).where(OutreachMaterial.event_id == event.id)):
        s.delete(m)
    s.flush()
    s.add_all(OutreachMaterial(event_id=event.id, kind=k, count=c) for k, c in mats)
    s.flush()
    admin_log.record(s, office_id, actor_id, "outreach.event.update", event_id=event.id, before=before,
                     after=_snapshot(s, event))
    return event


def add_photo(s: Session, office_id: int, actor_id: int | None, event_id: int, content: bytes, *,
              caption: str, alt_text: str) -> OutreachPhoto:
    """Keep a photo of the event: an image Pillow opens (JPEG, PNG or WebP), with a caption and
    the alt text a screen reader says in its place."""
    event = own_event(s, office_id, event_id)
    caption, alt_text = " ".join((caption or "").split()), " ".join((alt_text or "").split())
    errors: dict[str, tuple[str, str]] = {}
    if len(content) > MAX_PHOTO_BYTES:
        errors["photo"] = ("照片超過 10 MB，請縮小後再上傳", "the photo is over 10 MB")
    else:
        kind = filetypes.identify(content)
        if not kind.is_image:
            errors["photo"] = (("這個檔案看似圖片但無法開啟，請重新匯出後再上傳" if kind.problem == filetypes.BAD_IMAGE
                                else "請上傳 JPEG、PNG 或 WebP 照片"), "upload a JPEG, PNG or WebP photo that opens")
    if not caption or len(caption) > 200:
        errors["caption"] = ("請填寫照片說明（最多 200 字）", "a caption of at most 200 characters is required")
    if not alt_text or len(alt_text) > 200:
        errors["alt_text"] = ("請填寫替代文字：照片呈現的內容（最多 200 字），供視障者使用",
                              "alt text (what the photo shows, at most 200 characters) is required")
    if errors:
        raise ValidationError(errors)
    key, _digest = storage.default().put(content)
    photo = OutreachPhoto(event_id=event.id, storage_key=key, content_type=kind.media_type or "", caption=caption,
                          alt_text=alt_text, uploaded_by_id=actor_id)
    s.add(photo)
    s.flush()
    admin_log.record(s, office_id, actor_id, "outreach.photo.add", event_id=event.id, photo_id=photo.id,
                     before=None, after={"caption": caption, "alt_text": alt_text, "storage_key": key})
    return photo


def events(s: Session, office_id: int, first: dt.date, last: dt.date) -> list[tuple[OutreachEvent, str, str, int]]:
    """(event, unit name, materials in words, photo count) for the days, in date order; three
    statements whatever the number of events."""
    rows = s.execute(select(OutreachEvent, Unit.name).join(Unit, Unit.id == OutreachEvent.unit_id)
                     .where(OutreachEvent.office_id == office_id, OutreachEvent.held_on >= first,
                            OutreachEvent.held_on <= last)
                     .order_by(OutreachEvent.held_on, OutreachEvent.id)).all()
    ids = [e.id for e, _u in rows]
    words: dict[int, list[str]] = {}
    photos: dict[int, int] = {}
    if ids:
        for m in s.execute(select(OutreachMaterial.event_id, OutreachMaterial.kind, OutreachMaterial.count)
                           .where(OutreachMaterial.event_id.in_(ids)).order_by(OutreachMaterial.id)):
            words.setdefault(m.event_id, []).append(f"{m.kind} {m.count:,} 份")
        photos = dict(s.execute(select(OutreachPhoto.event_id, func.count()).where(OutreachPhoto.event_id.in_(ids))
                                .group_by(OutreachPhoto.event_id)).all())
    return [(e, unit, "、".join(words.get(e.id, [])), photos.get(e.id, 0)) for e, unit in rows]


def photos(s: Session, event_id: int) -> list[OutreachPhoto]:
    return list(s.scalars(select(OutreachPhoto).where(OutreachPhoto.event_id == event_id).order_by(OutreachPhoto.id)))


def report_rows(s: Session, office_id: int, roc_year: int, period: str | None) -> list[dict[str, Any]]:
    """The 宣導成果表's rows for a quarter (or the year): one per event, participants by sex."""
    first, last = period_bounds(roc_year, period)
    return [{"event": e.name, "date": e.held_on.isoformat(), "place": e.place, "audience": e.audience,
             "male": e.male, "female": e.female, "materials": mats[:200]}
            for e, _unit, mats, _n in events(s, office_id, first, last)]


@dataclass(frozen=True)
class YearCheck:
    events: int  # all the office's events that year
    public_events: int  # the social affairs section's public ones
    need: int

    @property
    def met(self) -> bool:
        return self.public_events >= self.need


def year_check(s: Session, office_id: int, roc_year: int, rules: Rules = DEFAULT_RULES) -> YearCheck:
    first, last = roc_year_bounds(roc_year)
    in_year = (OutreachEvent.office_id == office_id, OutreachEvent.held_on >= first, OutreachEvent.held_on <= last)
    total = s.scalar(select(func.count()).select_from(OutreachEvent).where(*in_year)) or 0
    public = s.scalar(select(func.count()).select_from(OutreachEvent).join(Unit, Unit.id == OutreachEvent.unit_id)
                      .where(*in_year, OutreachEvent.public, Unit.code == rules.public_unit)) or 0
    return YearCheck(int(total), int(public), rules.public_events_per_year)


EXPORT_HEADER = ["活動名稱", "日期", "地點", "主題", "對象", "辦理單位", "公開活動", "男", "女", "合計", "文宣",
                 "照片數"]


def export_rows(s: Session, office_id: int, roc_year: int) -> list[list[Any]]:
    first, last = roc_year_bounds(roc_year)
    return [[e.name, rocdate.short(e.held_on), e.place, TOPIC_WORDS[e.topic][0], e.audience, unit,
             "是" if e.public else "否", e.male, e.female, e.male + e.female, mats, n]
            for e, unit, mats, n in events(s, office_id, first, last)]
