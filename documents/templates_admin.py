"""Replacing a document's template: validate an upload against a sample of that document's context,
store it, and make it the office's template in force (the web's 管理 page and the CLI share this).

The sample context is built by the document's own context builder (``documents.context.BUILDERS``)
from a small demo-like case, so it has exactly the keys a real render has: a template accepted here
renders for real cases too. Older uploads are deactivated, never deleted (documents record the
template version they were rendered from); reverting deactivates them all (the built-in v0 again).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from documents.context import BUILDERS, DOCUMENT_LABELS, Loaded
from documents.render import TemplateProblem, validate_template
from documents.service import document_store
from workflow import clock
from workflow.db import Database
from workflow.demo import sample_fields
from workflow.engine import registry
from workflow.models import DocumentTemplate, User
from workflow.people import admin_log

# The case kind whose fields fill each document's sample.
SAMPLE_KIND = {
    "sign_memo": "training_report",
    "training_results": "training_report",
    "outreach_results": "outreach_report",
    "annual_results": "annual_result",
    "budget_review_table": "budget_review",
    "meeting_notice": "task_force_meeting",
    "meeting_minutes": "task_force_meeting",
    "amendment_table": "plan_amendment",
    "city_letter": "training_report",
}
SAMPLE_YEAR = 115


def document_names() -> list[str]:
    return list(BUILDERS)


def sample_context(name: str) -> dict[str, Any]:
    """What ``name``'s builder makes of a small demo-like case (every key a real render has)."""
    kind = SAMPLE_KIND[name]
    defn = registry.default().latest(kind)
    period = {"quarterly": "Q1", "yearly": "Y"}.get(defn.cycle)
    at = dt.datetime(SAMPLE_YEAR + 1911, 4, 8, 2, 0, tzinfo=dt.UTC)
    history = [
        SimpleNamespace(event="transition", at=at, actor_id=1, trigger="submit", comment=""),
        SimpleNamespace(event="transition", at=at + dt.timedelta(days=1), actor_id=2, trigger="approve",
                        comment="同意 & 陳核 <範例>"),
        SimpleNamespace(event="transition", at=at + dt.timedelta(days=2), actor_id=3, trigger="approve",
                        comment="", from_state="task_force_review", data={"task_force_decision": {
                            "meeting_id": 1, "number": 1, "held_on": at.date().isoformat(), "decision": "passed"}}),
    ]
    case = SimpleNamespace(id=1, office_id=1, unit_id=1, kind=kind, title=f"{SAMPLE_YEAR}年{defn.label}（範例）",
                           roc_year=SAMPLE_YEAR, period=period, version=3, revision_count=1, drafter_id=1,
                           fields=sample_fields(kind, SAMPLE_YEAR, period))
    loaded = SimpleNamespace(
        case=case, office=SimpleNamespace(name="桃園市範例區公所", address="桃園市範例區範例路1號",
                                                    phone="(03)000-0000"), unit=SimpleNamespace(name="人事室"),
        defn=defn, names={1: "王小明", 2: "李課長", 3: "陳區長"}, history=history, cause=history[-1],
        chief="李課長", convener="陳區長", receiver="桃園市政府性別平等辦公室",
        attachments=[SimpleNamespace(storage_key="sample", name="活動照片.png", content_type="image/png")],
    )
    return BUILDERS[name](cast(Loaded, loaded))


def check_name(name: str) -> None:
    if name not in BUILDERS:
        raise TemplateProblem(f"沒有「{name}」這種文件；可用的文件：{'、'.join(BUILDERS)}",
                              f"unknown document {name!r}; known: {', '.join(BUILDERS)}")


@dataclass(frozen=True)
class Stored:
    name: str
    version: int
    sha256: str


# A concurrent upload of the same document takes the version number this one read: it is numbered
# again after theirs, this many times, before the uploader is asked to reload.
UPLOAD_ATTEMPTS = 3


def _latest_version(s: Session, office_id: int, name: str) -> int:
    return s.scalar(select(func.max(DocumentTemplate.version)).where(
        DocumentTemplate.office_id == office_id, DocumentTemplate.name == name)) or 0


def _version_taken(db: Database, office_id: int, name: str, version: int) -> bool:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(DocumentTemplate.id).where(
            DocumentTemplate.office_id == office_id, DocumentTemplate.name == name,
            DocumentTemplate.version == version)) is not None


def upload(db: Database, office_id: int, name: str, data: bytes, actor_id: int | None) -> Stored:
    """Validate ``data`` as ``name``'s template and make it the office's template in force.

    Raises TemplateProblem (zh-TW ``message``) when the file is not a usable template, or when other
    uploads of the same document kept taking the next version number (reload and look first).
    """
    check_name(name)
    validate_template(data, sample_context(name))
    key, sha = document_store().put(data)
    for _attempt in range(UPLOAD_ATTEMPTS):
        version = 0
        try:
            with db.unit_of_work() as uow:
                s = uow.session
                version = _latest_version(s, office_id, name) + 1
                s.execute(update(DocumentTemplate).where(DocumentTemplate.office_id == office_id,
                                                         DocumentTemplate.name == name).values(active=False))
                s.add(DocumentTemplate(office_id=office_id, name=name, version=version, sha256=sha, storage_key=key,
                                       uploaded_by_id=actor_id, uploaded_at=clock.now(), active=True))
                admin_log.record(s, office_id, actor_id, "template.upload", name=name, version=version, sha256=sha,
                                 size=len(data))
                uow.commit()
        except IntegrityError:
            if not _version_taken(db, office_id, name, version):
                raise  # not the (office, name, version) key: a real fault, not a race
            continue  # someone else's upload took this number a moment ago: number ours after it
        return Stored(name, version, sha)
    label = DOCUMENT_LABELS.get(name, name)
    raise TemplateProblem(
        f"其他人剛剛也上傳了「{label}」的範本，這份沒有啟用；請重新整理頁面，看過目前的版本後再上傳。",
        f"someone else uploaded a template for {name!r} a moment ago; yours was not put in force: "
        "reload the page, check the versions there, and upload again")


def revert(db: Database, office_id: int, name: str, actor_id: int | None) -> int:
    """Back to the built-in template: deactivate every upload (kept for reproducibility)."""
    check_name(name)
    with db.unit_of_work() as uow:
        s = uow.session
        ids = list(s.scalars(select(DocumentTemplate.id).where(
            DocumentTemplate.office_id == office_id, DocumentTemplate.name == name,
            DocumentTemplate.active.is_(True))))
        s.execute(update(DocumentTemplate).where(DocumentTemplate.id.in_(ids)).values(active=False))
        n = len(ids)
        admin_log.record(s, office_id, actor_id, "template.revert", name=name, deactivated=n)
        uow.commit()
    return n


@dataclass(frozen=True)
class Version:
    version: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str
    active: bool


@dataclass(frozen=True)
class InForce:
    name: str
    label: str
    version: int  # 0: the built-in template
    versions: list[Version]


def in_force(s: Session, office_id: int) -> list[InForce]:
    """Each document, the version in force for the office, and every upload (newest first)."""
    rows = s.execute(select(DocumentTemplate, User.display_name)
                     .outerjoin(User, User.id == DocumentTemplate.uploaded_by_id)
                     .where(DocumentTemplate.office_id == office_id)
                     .order_by(DocumentTemplate.name, DocumentTemplate.version.desc())).all()
    by_name: dict[str, list[Version]] = {}
    for t, who in rows:
        by_name.setdefault(t.name, []).append(Version(t.version, t.sha256, t.uploaded_at, who or "", t.active))
    out = []
    for name in BUILDERS:
        versions = by_name.get(name, [])
        current = next((v.version for v in versions if v.active), 0)
        out.append(InForce(name, DOCUMENT_LABELS.get(name, name), current, versions))
    return out
