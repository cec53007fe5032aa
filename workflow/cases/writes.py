"""The one write path every case operation shares: the acting user, the compare-and-set on the
case's ``version``, the hash-chained history row, appended events, and the after-commit listeners.

The write is a compare-and-set (``UPDATE ... WHERE id = :id AND version = :seen``): portable to
SQLite, where ``FOR UPDATE`` is silently dropped, and it makes the loser of a race get ``Conflict``
instead of overwriting. The operations themselves are ``approval`` (transitions) and ``drafts``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Table, Update, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from workflow import clock
from workflow.db import Database
from workflow.db import default as default_db
from workflow.engine import audit
from workflow.engine import fields as fieldmod
from workflow.errors import Conflict, NotFound, PermissionDenied, ValidationError
from workflow.models import Case, HistoryEvent, User

log = logging.getLogger(__name__)
# Events ``record_event`` appends without changing the case's version (what workers did: a document
# generated, a publication attempt). Every other event changed the case: a Conflict names its author.
APPENDED_EVENTS: frozenset[str] = frozenset({"document", "publication"})

_cases = cast(Table, Case.__table__)
_INSERT_HISTORY = insert(cast(Table, HistoryEvent.__table__))


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


def resolve_db(db: Database | None) -> Database:
    return db or default_db()


def load_actor(s: Session, actor_id: int) -> Actor:
    row = s.execute(
        select(User.id, User.office_id, User.display_name, User.active).where(User.id == actor_id)
    ).one_or_none()
    if row is None or not row.active:
        raise PermissionDenied("找不到此使用者或帳號已停用", f"user {actor_id} does not exist or is inactive")
    return Actor(row.id, row.office_id, row.display_name)


def load_case(s: Session, case_id: int, actor: Actor | None) -> Case:
    case = s.get(Case, case_id)
    # A case of another office does not exist as far as this actor is concerned.
    if case is None or (actor is not None and case.office_id != actor.office_id):
        raise NotFound(f"找不到案件 {case_id}", f"no case {case_id}")
    return case


def conflict(db: Database, case_id: int, expected: int) -> Conflict:
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


def history_row(
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


def write(
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
        lost(s, database, case)


def lost(s: Session, database: Database, case: CaseLike) -> None:
    """The compare-and-set matched no row: roll back, then raise HistoryMoved if only the history
    moved (run again) or Conflict naming who changed the case."""
    s.rollback()
    with database.unit_of_work(write=False) as uow:
        current = uow.session.scalar(select(_cases.c.version).where(_cases.c.id == case.id))
    if current == case.version:
        raise HistoryMoved()
    raise conflict(database, case.id, case.version)


def _cas_update(s: Session, case: CaseLike, values: dict[str, Any]) -> bool:
    params = {"c_id": case.id, "c_version": case.version, "c_seq": case.history_seq}
    if any(isinstance(v, ClauseElement) for v in values.values()):  # an expression: its own statement
        res = s.connection().execute(_cas_statement(()).values(**values), params)
        return res.rowcount == 1
    keys = tuple(sorted(values))
    stmt = _cas_statements.get(keys)
    if stmt is None:  # built once per set of changed columns (building one costs more than running it on SQLite)
        stmt = _cas_statements[keys] = _cas_statement(keys)
    res = s.connection().execute(stmt, params | {f"v_{k}": v for k, v in values.items()})
    return res.rowcount == 1


_cas_statements: dict[tuple[str, ...], Update] = {}


def _cas_statement(keys: tuple[str, ...]) -> Update:
    return (
        update(_cases)
        .where(_cases.c.id == bindparam("c_id"), _cases.c.version == bindparam("c_version"),
               _cases.c.history_seq == bindparam("c_seq"))
        .values(version=_cases.c.version + 1, **{k: bindparam(f"v_{k}", type_=_cases.c[k].type) for k in keys})
    )


_T = TypeVar("_T")


class HistoryMoved(Exception):
    """Only the history moved under us (a document was recorded): the operation simply runs again."""


def retrying(fn: Callable[[], _T]) -> _T:
    for _attempt in range(5):
        try:
            return fn()
        except HistoryMoved:
            continue
    raise RuntimeError("the case history kept moving; try again")


def clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    text = fieldmod._CONTROL.sub("", comment).strip()
    if len(text) > 4000:
        raise ValidationError({"comment": ("意見最多 4000 字", "comment is at most 4000 characters")})
    return text or None


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
    on_behalf_of: int | None = None,
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
                         "an event that changes the case goes through write with its version")
    if session is None:
        database = resolve_db(db)
        for _attempt in range(10):
            with database.unit_of_work() as uow:
                try:
                    seq = _append_event(uow.session, case_id, event, data, actor, on_behalf_of, comment)
                except HistoryMoved:
                    continue
                uow.commit()
                return seq
        raise RuntimeError(f"could not append to the history of case {case_id}")
    return _append_event(session, case_id, event, data, actor, on_behalf_of, comment)


def _append_event(
    s: Session, case_id: int, event: str, data: dict[str, Any], actor: int | None, on_behalf_of: int | None,
    comment: str | None,
) -> int:
    row = s.connection().execute(
        select(_cases.c.id, _cases.c.office_id, _cases.c.version, _cases.c.history_seq, _cases.c.history_head)
        .where(_cases.c.id == case_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"找不到案件 {case_id}", f"no case {case_id}")
    seq: int = row.history_seq + 1
    history = history_row(row, seq=seq, prev_hash=row.history_head, event=event, at=clock.now(),
                           actor_id=actor, on_behalf_of_id=on_behalf_of, comment=comment, data=data)
    res = s.connection().execute(
        update(_cases).where(_cases.c.id == case_id, _cases.c.history_seq == row.history_seq)
        .values(history_seq=seq, history_head=history["hash"])
    )
    if res.rowcount != 1:
        raise HistoryMoved()
    s.connection().execute(_INSERT_HISTORY, history)
    return seq

