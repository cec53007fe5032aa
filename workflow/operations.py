"""Operations: the only way a case changes. Each is one use case and one transaction.

Shape of every operation (cosmicpython's handlers, indico's operations): load the case, check the
actor may act, check the transition and its conditions, write state + history + outbox, commit once.
The write is a compare-and-set on ``version`` (``UPDATE ... WHERE id = :id AND version = :seen``):
portable to SQLite, where ``FOR UPDATE`` is silently dropped, and it makes the loser of a race get
``Conflict`` instead of overwriting.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Table, bindparam, func, insert, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow import audit, clock, engine, permissions, registry, storage
from workflow import fields as fieldmod
from workflow.conditions import CONDITIONS, CheckContext
from workflow.db import Database, UnitOfWork
from workflow.db import default as default_db
from workflow.definitions import TASK_TOPICS, Definition
from workflow.errors import (
    ConditionFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    ValidationError,
)
from workflow.models import Attachment, Case, HistoryEvent, OutboxMessage, Unit, User
from workflow.roles import SYSTEM

log = logging.getLogger(__name__)
DOCUMENT_TOPIC = "document.render"
# Events ``record_event`` appends without changing the case's version (what workers did: a document
# generated, a publication attempt). Every other event changed the case: a Conflict names its author.
APPENDED_EVENTS: frozenset[str] = frozenset({"document", "publication"})

_cases = cast(Table, Case.__table__)
_users = cast(Table, User.__table__)
_outbox = cast(Table, OutboxMessage.__table__)
_INSERT_HISTORY = insert(cast(Table, HistoryEvent.__table__))
_INSERT_OUTBOX = insert(_outbox)
# One round trip: the case, the actor's office and whether the account is active, and one row per
# capacity (role) the actor holds today in their office (NULL role when none).
_caps = permissions.capacities_in_own_office().subquery("caps")
_LOAD_FOR_FIRE = (
    select(
        _cases,
        select(_users.c.office_id).where(_users.c.id == bindparam("user_id")).scalar_subquery().label("actor_office"),
        select(_users.c.active).where(_users.c.id == bindparam("user_id")).scalar_subquery().label("actor_active"),
        _caps.c.role.label("cap_role"), _caps.c.unit_id.label("cap_unit"), _caps.c.user_id.label("cap_principal"),
    )
    .select_from(_cases.outerjoin(_caps, true()))
    .where(_cases.c.id == bindparam("case_id"))
)
_COUNT_ATTACHMENTS = select(func.count()).where(Attachment.case_id == bindparam("case_id"))


class CaseLike(Protocol):
    """A case as an ORM object or a row: what the write helpers read from it."""

    @property
    def id(self) -> int: ...
    @property
    def office_id(self) -> int: ...
    @property
    def version(self) -> int: ...
    @property
    def history_seq(self) -> int: ...
PERIODS = {
    "quarterly": ("Q1", "Q2", "Q3", "Q4"),
    "yearly": ("Y",),
    "yearly_or_adhoc": ("Y", None),
    "adhoc": (None,),
}


@dataclass(frozen=True)
class Result:
    case_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    event_seq: int
    outbox_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Actor:
    """The acting user as the operation saw it (after checking they exist and are active)."""

    id: int
    office_id: int
    display_name: str


# -- helpers ----------------------------------------------------------------------------------
def _db(db: Database | None) -> Database:
    return db or default_db()


def _load_actor(s: Session, actor_id: int) -> Actor:
    row = s.execute(
        select(User.id, User.office_id, User.display_name, User.active).where(User.id == actor_id)
    ).one_or_none()
    if row is None or not row.active:
        raise PermissionDenied("找不到此使用者或帳號已停用", f"user {actor_id} does not exist or is inactive")
    return Actor(row.id, row.office_id, row.display_name)


def _load_case(s: Session, case_id: int, actor: Actor | None) -> Case:
    case = s.get(Case, case_id)
    # A case of another office does not exist as far as this actor is concerned.
    if case is None or (actor is not None and case.office_id != actor.office_id):
        raise NotFound(f"找不到案件 {case_id}", f"no case {case_id}")
    return case


def _conflict(db: Database, case_id: int, expected: int) -> Conflict:
    """Who acted first and when, read after the losing transaction rolled back: the author of the
    latest event that changed the case (its state or fields), not of a document or publication
    attempt the workers appended since (``APPENDED_EVENTS``)."""
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        current = s.scalar(select(Case.version).where(Case.id == case_id)) or expected
        last = s.execute(
            select(User.display_name, HistoryEvent.at)
            .outerjoin(User, User.id == HistoryEvent.actor_id)
            .where(HistoryEvent.case_id == case_id, HistoryEvent.event.not_in(APPENDED_EVENTS))
            .order_by(HistoryEvent.seq.desc())
            .limit(1)
        ).one_or_none()
    return Conflict(case_id, by=last[0] if last else None, at=last[1] if last else None,
                    current_version=current, expected_version=expected)


def _history_row(
    case: CaseLike,
    *,
    seq: int,
    prev_hash: str,
    event: str,
    at: dt.datetime,
    actor_id: int | None,
    on_behalf_of_id: int | None,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The next history row for ``case``, hash-chained to ``prev_hash``; inserted after the CAS."""
    data = data or {}
    h = audit.event_hash(
        prev_hash, case_id=case.id, seq=seq, event=event, at=at, actor_id=actor_id,
        on_behalf_of_id=on_behalf_of_id, trigger=trigger, from_state=from_state, to_state=to_state,
        comment=comment, data=data,
    )
    return dict(
        office_id=case.office_id, case_id=case.id, seq=seq, event=event, at=at, actor_id=actor_id,
        on_behalf_of_id=on_behalf_of_id, trigger=trigger, from_state=from_state, to_state=to_state,
        comment=comment, data=data, prev_hash=prev_hash, hash=h,
    )


def _write(
    s: Session, database: Database, case: CaseLike, values: dict[str, Any], history: dict[str, Any]
) -> None:
    """Compare-and-set the case row, then append its history event; Conflict if someone was first.

    The UPDATE comes first so a concurrent writer blocks on the row lock and then matches no row,
    rather than colliding on the (case_id, seq) key of the history table.
    """
    values = {**values, "history_seq": history["seq"], "history_head": history["hash"]}
    try:
        ok = _cas_update(s, case, values)
        if ok:
            s.connection().execute(_INSERT_HISTORY, history)
    except IntegrityError:
        ok = False
    if not ok:
        s.rollback()
        with database.unit_of_work(write=False) as uow:
            current = uow.session.scalar(select(_cases.c.version).where(_cases.c.id == case.id))
        if current == case.version:
            raise _HistoryMoved()
        raise _conflict(database, case.id, case.version)


def _cas_update(s: Session, case: CaseLike, values: dict[str, Any]) -> bool:
    res = s.connection().execute(
        update(_cases)
        .where(_cases.c.id == case.id, _cases.c.version == case.version,
               _cases.c.history_seq == case.history_seq)
        .values(version=_cases.c.version + 1, **values)
    )
    return res.rowcount == 1


_T = TypeVar("_T")


class _HistoryMoved(Exception):
    """Only the history moved under us (a document was recorded): the operation simply runs again."""


def _retrying(fn: Callable[[], _T]) -> _T:
    for _attempt in range(5):
        try:
            return fn()
        except _HistoryMoved:
            continue
    raise RuntimeError("the case history kept moving; try again")


def _clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    text = fieldmod._CONTROL.sub("", comment).strip()
    if len(text) > 4000:
        raise ValidationError({"comment": ("意見最多 4000 字", "comment is at most 4000 characters")})
    return text or None


def allowed_triggers(defn: Definition, state: str) -> list[str]:
    return sorted({t.trigger for t in defn.transitions_from(state)})


# -- fire -------------------------------------------------------------------------------------
def fire(
    case_id: int,
    trigger: str,
    actor: int | None,
    comment: str | None = None,
    expected_version: int | None = None,
    *,
    db: Database | None = None,
    data: Mapping[str, Any] | None = None,
) -> Result:
    """Fire ``trigger`` on a case as user ``actor`` (None: the system, for background outcomes).

    Raises NotFound, Conflict, PermissionDenied, TransitionNotAllowed, ConditionFailed or
    ValidationError; on any of them nothing was written. After the commit, the after-commit
    listeners (the outbox relay) are told which outbox rows were written.
    """
    database = _db(db)
    comment = _clean_comment(comment)
    registry.default().sync(database)  # outside the transaction: it may write new versions
    for _attempt in range(5):
        try:
            result = _fire_once(database, case_id, trigger, actor, comment, expected_version, data)
        except _HistoryMoved:
            continue
        notify_committed(result.outbox_ids)
        return result
    raise _conflict(database, case_id, expected_version or 0)


def _fire_once(
    database: Database,
    case_id: int,
    trigger: str,
    actor: int | None,
    comment: str | None,
    expected_version: int | None,
    data: Mapping[str, Any] | None,
) -> Result:
    with database.unit_of_work() as uow:
        s = uow.session
        rows = s.connection().execute(
            _LOAD_FOR_FIRE, {"case_id": case_id, "user_id": actor, "today": clock.today()}
        ).all()
        case = rows[0] if rows else None
        who_id: int | None = None
        if actor is not None:
            if case is not None and case.actor_office is None:
                raise PermissionDenied("找不到此使用者", f"user {actor} does not exist")
            if case is not None and not case.actor_active:
                raise PermissionDenied("帳號已停用", f"user {actor} is inactive")
            who_id = actor
        # A case of another office does not exist as far as this actor is concerned.
        if case is None or (actor is not None and case.actor_office != case.office_id):
            raise NotFound(f"找不到案件 {case_id}", f"no case {case_id}")
        seen = case.version
        if expected_version is not None and expected_version != seen:
            raise _conflict(database, case_id, expected_version)
        defn = registry.default().get(database, case.kind, case.workflow_version, s)
        spec = defn.transition(trigger, case.state)
        if spec is None:
            allowed = allowed_triggers(defn, case.state)
            st = defn.state(case.state)
            raise TransitionNotAllowed(
                f"案件目前為「{st.label}」，不能執行「{trigger}」；可執行：{'、'.join(allowed) or '無（已結案）'}",
                f"cannot {trigger!r} from {case.state!r}; allowed: {', '.join(allowed) or 'none (final)'}",
                allowed=allowed,
            )
        if who_id is None:
            if SYSTEM not in spec.roles:
                raise PermissionDenied("此步驟須由使用者執行", f"{trigger!r} must be done by a person")
            on_behalf: int | None = None
        else:
            caps = sorted(
                (permissions.capacity_from_row(who_id, r.cap_role, r.cap_unit, r.cap_principal)
                 for r in rows if r.cap_role is not None),
                key=lambda c: c.on_behalf_of is not None,
            )
            cap = permissions.match(caps, spec.roles, case.unit_id)
            if cap is None:
                unit = s.get(Unit, case.unit_id)
                zh, en = permissions.describe_roles(spec.roles, unit_name=unit.name if unit else None)
                raise PermissionDenied(f"需要以下角色之一才能執行此動作：{zh}", f"needs one of the roles: {en}")
            on_behalf = cap.on_behalf_of
        ctx = CheckContext(
            definition=defn,
            fields=case.fields or {},
            attachment_count=_attachment_count(s, case.id) if "attachments_present" in spec.conditions else 0,
            actor_id=who_id,
            principal_id=on_behalf or who_id,
            submitted_by_id=case.submitted_by_id,
            comment=comment,
        )
        for name in spec.conditions:
            failure = CONDITIONS[name].check(ctx)
            if failure is not None:
                raise ConditionFailed(name, failure[0], failure[1])
        new_state = engine.apply(defn, case.state, trigger)
        if new_state != spec.dest:  # the shared machine and the declaration disagree: a bug
            raise RuntimeError(f"machine refused {trigger} from {case.state} for {case.kind}")

        now = clock.now()
        seq = case.history_seq + 1
        event_data: dict[str, Any] = {}
        values: dict[str, Any] = {"state": new_state, "updated_at": now, "entered_state_at": now}
        if trigger == "submit":
            values["submitted_by_id"] = who_id
            values["last_submitted_fields"] = case.fields
            if case.last_submitted_fields is not None:
                event_data["changed_fields"] = fieldmod.changed_fields(case.last_submitted_fields, case.fields)
        elif trigger == "return_for_revision":
            values["revision_count"] = case.revision_count + 1
            event_data["revision"] = case.revision_count + 1
        if data:
            event_data.update(data)
        history = _history_row(
            case, seq=seq, prev_hash=case.history_head or audit.GENESIS, event="transition", at=now,
            actor_id=who_id, on_behalf_of_id=on_behalf, trigger=trigger,
            from_state=case.state, to_state=new_state, comment=comment, data=event_data,
        )
        _write(s, database, case, values, history)
        outbox_ids = _enqueue_documents(s, case, defn, new_state, seq, now)
        uow.commit()
        return Result(case_id, trigger, case.state, new_state, seen + 1, seq, outbox_ids)


def _attachment_count(s: Session, case_id: int) -> int:
    return int(s.connection().execute(_COUNT_ATTACHMENTS, {"case_id": case_id}).scalar_one())


def _enqueue_documents(
    s: Session, case: CaseLike, defn: Definition, state: str, seq: int, now: dt.datetime
) -> tuple[int, ...]:
    spec = defn.state(state)
    docs, tasks = spec.documents, spec.tasks
    if not docs and not tasks:
        return ()
    rows = [
        {
            "office_id": case.office_id,
            "topic": DOCUMENT_TOPIC,
            "payload": {"case_id": case.id, "document": doc, "event_seq": seq},
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        for doc in docs
    ] + [
        # A declared background task (e.g. publish_posting), under its own topic (TASK_TOPICS).
        {
            "office_id": case.office_id,
            "topic": TASK_TOPICS[task],
            "payload": {"case_id": case.id, "task": task, "event_seq": seq},
            "created_at": now,
            "available_at": now,
            "attempts": 0,
        }
        for task in tasks
    ]
    conn = s.connection()
    # The ids go to the after-commit listeners (the relay publishes exactly these rows), so every
    # row's id must come back, not only a single row's.
    if not conn.dialect.insert_returning:
        keys = [conn.execute(_INSERT_OUTBOX, row).inserted_primary_key for row in rows]
        return tuple(int(k[0]) for k in keys if k is not None)
    if len(rows) == 1:
        return (conn.execute(_INSERT_OUTBOX.returning(_outbox.c.id), rows[0]).scalar_one(),)
    return tuple(conn.execute(_INSERT_OUTBOX.returning(_outbox.c.id, sort_by_parameter_order=True), rows).scalars())


# -- after commit -----------------------------------------------------------------------------
_listeners: list[Callable[[tuple[int, ...]], None]] = []


def on_committed(listener: Callable[[tuple[int, ...]], None]) -> None:
    """Call ``listener(outbox_ids)`` after each operation that wrote outbox rows has committed.

    The relay registers here. A failing listener is logged, never raised: the rows are committed
    and the relay's periodic sweep sends whatever a listener missed.
    """
    if listener not in _listeners:
        _listeners.append(listener)


def clear_listeners() -> None:
    _listeners.clear()


def notify_committed(outbox_ids: tuple[int, ...]) -> None:
    if not outbox_ids:
        return
    for listener in list(_listeners):
        try:
            listener(outbox_ids)
        except Exception:  # the sweep covers it; never fail the user's committed action
            log.exception("after-commit listener failed for outbox rows %s", outbox_ids)


# -- events that are not transitions ---------------------------------------------------------
def record_event(
    case_id: int,
    event: str,
    *,
    data: dict[str, Any],
    actor: int | None = None,
    comment: str | None = None,
    session: Session | None = None,
    db: Database | None = None,
) -> int:
    """Append a non-transition event (a generated document, a publication attempt) to the case's
    hash chain without changing its version, so nobody's open page goes stale because of it.

    With ``session``, the append joins the caller's transaction (its effect and its history commit
    together); compare-and-set on the chain length makes concurrent appends safe. Returns the seq.
    """
    if event not in APPENDED_EVENTS:
        raise ValueError(f"{event!r} is not an appended event ({', '.join(sorted(APPENDED_EVENTS))}): "
                         "an event that changes the case goes through _write with its version")
    if session is None:
        database = _db(db)
        for _attempt in range(10):
            with database.unit_of_work() as uow:
                try:
                    seq = _append_event(uow.session, case_id, event, data, actor, comment)
                except _HistoryMoved:
                    continue
                uow.commit()
                return seq
        raise RuntimeError(f"could not append to the history of case {case_id}")
    return _append_event(session, case_id, event, data, actor, comment)


def _append_event(
    s: Session, case_id: int, event: str, data: dict[str, Any], actor: int | None, comment: str | None
) -> int:
    row = s.connection().execute(
        select(_cases.c.id, _cases.c.office_id, _cases.c.version, _cases.c.history_seq, _cases.c.history_head)
        .where(_cases.c.id == case_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"找不到案件 {case_id}", f"no case {case_id}")
    seq: int = row.history_seq + 1
    history = _history_row(row, seq=seq, prev_hash=row.history_head, event=event, at=clock.now(),
                           actor_id=actor, on_behalf_of_id=None, comment=comment, data=data)
    res = s.connection().execute(
        update(_cases).where(_cases.c.id == case_id, _cases.c.history_seq == row.history_seq)
        .values(history_seq=seq, history_head=history["hash"])
    )
    if res.rowcount != 1:
        raise _HistoryMoved()
    s.connection().execute(_INSERT_HISTORY, history)
    return seq


# -- named wrappers ---------------------------------------------------------------------------
def submit(case_id: int, actor: int, expected_version: int | None = None, *, db: Database | None = None) -> Result:
    return fire(case_id, "submit", actor, expected_version=expected_version, db=db)


def approve(
    case_id: int, actor: int, comment: str | None = None, expected_version: int | None = None,
    *, db: Database | None = None,
) -> Result:
    return fire(case_id, "approve", actor, comment, expected_version, db=db)


def return_for_revision(
    case_id: int, actor: int, comment: str, expected_version: int | None = None, *, db: Database | None = None
) -> Result:
    return fire(case_id, "return_for_revision", actor, comment, expected_version, db=db)


def withdraw(
    case_id: int, actor: int, comment: str | None = None, expected_version: int | None = None,
    *, db: Database | None = None,
) -> Result:
    return fire(case_id, "withdraw", actor, comment, expected_version, db=db)


def file_with_city_group(
    case_id: int, actor: int, comment: str | None = None, expected_version: int | None = None,
    *, db: Database | None = None,
) -> Result:
    return fire(case_id, "file_with_city_group", actor, comment, expected_version, db=db)


# -- creating and editing ---------------------------------------------------------------------
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
    database = _db(db)
    reg = registry.default()
    defn = reg.latest(kind)
    version = reg.current_version(database, kind)
    _check_period(defn, roc_year, period)
    title = " ".join(fieldmod._CONTROL.sub("", title or "").split())
    if not title or len(title) > 200:
        raise ValidationError({"title": ("請填寫標題（最多 200 字）", "a title of at most 200 characters is required")})
    clean = fieldmod.clean(defn, fields or {}, complete=False)
    with database.unit_of_work() as uow:
        s = uow.session
        unit = s.get(Unit, unit_id)
        if actor is not None:
            who = _load_actor(s, actor)
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
        history = _history_row(
            case, seq=1, prev_hash=audit.GENESIS, event="created", at=now, actor_id=actor,
            on_behalf_of_id=None, to_state=defn.initial,
            data={"kind": kind, "roc_year": roc_year, "period": period, "workflow_version": version},
        )
        case.history_head = history["hash"]
        s.execute(insert(HistoryEvent).values(**history))
        s.flush()
        uow.commit()
        return case.id


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
    who = _load_actor(s, actor)
    case = _load_case(s, case_id, who)
    if expected_version is not None and expected_version != case.version:
        raise _conflict(database, case_id, expected_version)
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
    return _retrying(lambda: _save_fields_once(case_id, actor, fields, expected_version, title, _db(db)))


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
        history = _history_row(
            case, seq=seq, prev_hash=case.history_head, event="edited", at=now,
            actor_id=who.id, on_behalf_of_id=on_behalf, data={"changed_fields": changed},
        )
        _write(uow.session, database, case, values, history)
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
    database = _db(db)
    key, digest = storage.default().put(content)
    return _retrying(lambda: _add_attachment_once(case_id, actor, name, content_type, content, key, digest,
                                                  expected_version, database))


def remove_attachment(case_id: int, actor: int, attachment_id: int, expected_version: int | None = None, *,
                      db: Database | None = None) -> str:
    """Take a wrongly uploaded file off a draft (only while it can be edited, only by a drafter of
    its unit); the history records what was removed, and the stored file stays (content-addressed:
    documents made earlier and the history still name it). Returns the attachment's name."""
    database = _db(db)
    return _retrying(lambda: _remove_attachment_once(case_id, actor, attachment_id, expected_version, database))


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
        history = _history_row(
            case, seq=case.history_seq + 1, prev_hash=case.history_head, event="attachment_removed", at=now,
            actor_id=who.id, on_behalf_of_id=on_behalf,
            data={"attachment_id": attachment_id, "name": name, "sha256": digest},
        )
        _write(s, database, case, {"updated_at": now}, history)
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
        history = _history_row(
            case, seq=seq, prev_hash=case.history_head, event="attachment", at=now, actor_id=who.id,
            on_behalf_of_id=on_behalf, data={"attachment_id": att.id, "name": att.name, "sha256": digest},
        )
        _write(s, database, case, {"updated_at": now}, history)
        uow.commit()
        return att.id
