"""Queues as queries: the cases a user can act on now, oldest first, with days waiting.

Which states are in whose queue comes from the declarations (``Definition.actor_roles``); the
user's capacities today (own roles and delegations, unit-scoped where the role is) narrow it.
A page of the queue and its total are one SELECT, whatever the number of rows.

The page is picked per state: one branch per state, each reading the ``ix_cases_wait`` index
(office, state, entered_state_at, id) in order and stopping after the page, so a queue of
thousands costs what a queue of fifty does; the branches are merged, and only the page's rows
are joined to their unit and submitter.

A queue can be narrowed (``QueueFilter``: kind, unit, step, due, ROC year) and sorted by waiting
time (the default, oldest first, or newest first), due date or title: the same single statement,
each branch then sorting its own state's cases by that order before the merge.
"""

from __future__ import annotations

import datetime as dt
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Date, Integer, String, TextClause, bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TextualSelect
from sqlalchemy.types import TypeEngine

from workflow import clock
from workflow.db import Database
from workflow.engine import registry
from workflow.models import User
from workflow.models.base import UtcDateTime
from workflow.people import permissions
from workflow.roles import SYSTEM


class QueueItem(NamedTuple):  # a tuple: built for every row of a page, fast to make
    case_id: int
    kind: str
    title: str
    state: str
    unit_name: str
    roc_year: int
    period: str | None
    version: int
    entered_state_at: dt.datetime
    days_waiting: int
    due_date: dt.date | None
    submitted_by: str | None
    revision_count: int
    unit_id: int = 0
    submitted_by_id: int | None = None  # for "may this user approve it" (never what they submitted)
    workflow_version: int = 0


SORTS = ("waiting", "newest", "due", "title")  # oldest in the step first; newest; due date; title
DUE_SOON_DAYS = 14


@dataclass(frozen=True)
class QueueFilter:
    """What a person narrowed their queue to, and its order; None: any."""

    kind: str | None = None
    unit_id: int | None = None
    state: str | None = None
    due: str | None = None  # "overdue" (due before today) or "soon" (due within DUE_SOON_DAYS)
    year: int | None = None  # ROC year the case covers
    sort: str = "waiting"

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"not a queue order: {self.sort!r}")
        if self.due not in (None, "overdue", "soon"):
            raise ValueError(f"not a due filter: {self.due!r}")

    @property
    def narrowed(self) -> bool:
        return any(v is not None for v in (self.kind, self.unit_id, self.state, self.due, self.year))


NO_FILTER = QueueFilter()


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int  # every case in the queue, not only this page's


StateSet = tuple[str, int, str, frozenset[str]]


@dataclass(frozen=True)
class _Versions:
    """What the queues need to know of a set of stored workflow versions."""

    sets: list[StateSet]  # (kind, version, state, roles that act there)
    having: dict[str, frozenset[tuple[str, int]]]  # state -> the (kind, version)s that have it


# Computed once per registry and list of stored versions (a stored version never changes).
_VERSIONS: weakref.WeakKeyDictionary[registry.Registry, tuple[tuple[tuple[str, int], ...], _Versions]] = (
    weakref.WeakKeyDictionary())


def _versions(db: Database, s: Session) -> tuple[tuple[tuple[str, int], ...], _Versions]:
    reg = registry.default()
    stored = tuple(reg.stored_versions(db, s))
    hit = _VERSIONS.get(reg)
    if hit is not None and hit[0] == stored:
        return hit
    sets: list[StateSet] = []
    having: dict[str, set[tuple[str, int]]] = {}
    for kind, version in stored:
        defn = reg.get(db, kind, version, s)
        drafting = {t.source for t in defn.transitions if t.trigger == "submit"}
        for st in defn.states:
            having.setdefault(st.name, set()).add((kind, version))
            roles = defn.actor_roles(st.name) - {SYSTEM}
            if roles:
                marker = {"__draft__"} if st.name in drafting else set()
                sets.append((kind, version, st.name, frozenset(roles | marker)))
    found = (stored, _Versions(sets, {st: frozenset(kv) for st, kv in having.items()}))
    _VERSIONS[reg] = found
    return found


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # kind and state names (definitions enforce it)
# (state, unit or None, barred submitters or None) -> kind -> versions
Groups = dict[tuple[str, int | None, frozenset[int] | None], dict[str, list[int]]]


def _groups(versions: _Versions, user_id: int, caps: Sequence[permissions.Capacity]) -> Groups:
    """Which cases are this user's, per state: kinds and versions, unit, submitters barred."""
    groups: Groups = {}
    for kind, version, state, roles in versions.sets:
        for cap in caps:
            if cap.role not in roles:
                continue
            # Nobody reviews what they (or their principal) submitted: not in their queue.
            barred = None if "__draft__" in roles else frozenset(
                {user_id} | ({cap.on_behalf_of} if cap.on_behalf_of else set()))
            listed = groups.setdefault((state, cap.unit_id, barred), {}).setdefault(kind, [])
            if version not in listed:
                listed.append(version)
    return groups


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"not a kind or state name: {value!r}")
    return f"'{value}'"


def _ints(values: Iterable[int]) -> str:
    return ", ".join(str(int(v)) for v in sorted(values))


def _per_state(versions: _Versions, groups: Groups) -> dict[str, str]:
    """state -> SQL condition on the case (constants only: names checked above, numbers)."""
    per_state: dict[str, list[str]] = {}
    for (state, unit_id, barred), kinds in sorted(groups.items(), key=lambda kv: repr(kv[0])):
        parts = []
        if frozenset((k, v) for k, vs in kinds.items() for v in vs) != versions.having.get(state):
            # Not every kind and version that has this state: say which ones.
            c = " OR ".join(f"(kind = {_name(k)} AND workflow_version IN ({_ints(vs)}))"
                            for k, vs in sorted(kinds.items()))
            parts.append(f"({c})")
        if unit_id is not None:
            parts.insert(0, f"unit_id = {int(unit_id)}")
        if barred is not None:
            parts.append(f"(submitted_by_id IS NULL OR submitted_by_id NOT IN "
                         f"({_ints(barred)}))")
        per_state.setdefault(_name(state), []).append("(" + (" AND ".join(parts) or "1 = 1") + ")")
    return {state: " OR ".join(cs) for state, cs in sorted(per_state.items())}


_CONDITIONS: dict[tuple[Any, ...], dict[str, str]] = {}


def _conditions(db: Database, s: Session, user_id: int, caps: Sequence[permissions.Capacity]) -> dict[str, str]:
    """The per-state conditions of this user's queue, worked out once per process for the same
    capacities and stored versions."""
    stored, versions = _versions(db, s)
    key = (db.url, stored, user_id, tuple(caps))
    found = _CONDITIONS.get(key)
    if found is None:
        found = _per_state(versions, _groups(versions, user_id, caps))
        if len(_CONDITIONS) > 4096:
            _CONDITIONS.clear()
        _CONDITIONS[key] = found
    return found


@dataclass(frozen=True)
class _Statements:
    page: TextualSelect  # the page's rows, each with the queue's total
    count: TextClause  # the total alone (a page past the end has no row to carry it)


_STATEMENTS: dict[tuple[Any, ...], _Statements] = {}
_TYPES: dict[str, TypeEngine[Any]] = {"entered_state_at": UtcDateTime(), "due_date": Date()}
# Per order: the columns a branch carries for it, and the ORDER BY (``{p}``: the table's alias).
_ORDERS: dict[str, tuple[str, str]] = {
    "waiting": ("entered_state_at", "{p}entered_state_at, {p}id"),
    "newest": ("entered_state_at", "{p}entered_state_at DESC, {p}id DESC"),
    "due": ("due_date, entered_state_at",
            "CASE WHEN {p}due_date IS NULL THEN 1 ELSE 0 END, {p}due_date, {p}entered_state_at, {p}id"),
    "title": ("title", "{p}title, {p}id"),
}
# A filter's condition on a branch and the parameters it binds.
_FILTERS: dict[str, str] = {
    "kind": "kind = :f_kind", "unit_id": "unit_id = :f_unit", "year": "roc_year = :f_year",
    "overdue": "due_date < :f_today", "soon": "due_date >= :f_today AND due_date <= :f_soon",
}
_BINDS: dict[str, BindParameter[Any]] = {
    "f_kind": bindparam("f_kind", type_=String()), "f_unit": bindparam("f_unit", type_=Integer()),
    "f_year": bindparam("f_year", type_=Integer()), "f_today": bindparam("f_today", type_=Date()),
    "f_soon": bindparam("f_soon", type_=Date()),
}


def _filter_sql(f: QueueFilter) -> tuple[str, ...]:
    """The names of the conditions ``f`` adds (its values are bound, never written into the SQL)."""
    names = [k for k in ("kind", "unit_id", "year") if getattr(f, k) is not None]
    if f.due is not None:
        names.append(f.due)
    return tuple(names)


def _filter_params(f: QueueFilter, today: dt.date) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if f.kind is not None:
        params["f_kind"] = f.kind
    if f.unit_id is not None:
        params["f_unit"] = f.unit_id
    if f.year is not None:
        params["f_year"] = f.year
    if f.due is not None:
        params["f_today"] = today
        if f.due == "soon":
            params["f_soon"] = today + dt.timedelta(days=DUE_SOON_DAYS)
    return params


def _statements(conds: dict[str, str], sort: str = "waiting", filters: tuple[str, ...] = ()) -> _Statements:
    """The page and count SQL for these per-state conditions, order and filters, built once per
    process.

    The page takes the first ``:upto`` (offset + limit) of each state in the page's order (for the
    default order, each branch reads the ``ix_cases_wait`` range of its state in order and stops
    there); merges them; keeps the page; and only then joins the page's rows to their unit and
    submitter. The total is one count per state (index-only on PostgreSQL), summed, carried on
    every row.
    """
    key = (tuple(conds.items()), sort, filters)
    found = _STATEMENTS.get(key)
    if found is not None:
        return found
    extra = "".join(f" AND {_FILTERS[name]}" for name in filters)
    columns, order = _ORDERS[sort]
    branches = [f"SELECT * FROM (SELECT id, {columns} FROM cases WHERE office_id = :office AND state = {st} "
                f"AND ({c}){extra} ORDER BY {order.format(p='')} LIMIT :upto) AS b{i}"
                for i, (st, c) in enumerate(conds.items())]
    counts = [f"SELECT count(*) AS n FROM cases WHERE office_id = :office AND state = {st} AND ({c}){extra}"
              for st, c in conds.items()]
    total = f"SELECT coalesce(sum(n), 0) FROM ({' UNION ALL '.join(counts)}) AS t"
    page = (
        "SELECT c.id, c.kind, c.title, c.state, u.name AS unit_name, c.roc_year, c.period, c.version, "
        "c.entered_state_at, c.due_date, s.display_name AS submitted_by, c.revision_count, c.unit_id, "
        f"c.submitted_by_id, c.workflow_version, ({total}) AS total "
        f"FROM (SELECT id, {columns} FROM ({' UNION ALL '.join(branches)}) AS m "
        f"ORDER BY {order.format(p='')} LIMIT :limit OFFSET :offset) AS p "
        "JOIN cases AS c ON c.id = p.id JOIN units AS u ON u.id = c.unit_id "
        "LEFT OUTER JOIN users AS s ON s.id = c.submitted_by_id "
        f"ORDER BY {order.format(p='p.')}"
    )
    binds = [b for name, b in _BINDS.items() if f":{name}" in extra]
    found = _Statements(text(page).bindparams(*binds).columns(**_TYPES), text(total).bindparams(*binds))
    if len(_STATEMENTS) > 4096:
        _STATEMENTS.clear()
    _STATEMENTS[key] = found
    return found


def queue_states(db: Database, s: Session, user_id: int, caps: Sequence[permissions.Capacity]) -> list[str]:
    """The states (steps) this user's queue can hold: the choices of its step filter."""
    return [st.strip("'") for st in _conditions(db, s, user_id, caps)] if caps else []


def queue_page(db: Database, s: Session, user_id: int, office_id: int, *, today: dt.date | None = None,
               limit: int = 50, offset: int = 0, caps: Sequence[permissions.Capacity] | None = None,
               count: bool = True, filters: QueueFilter = NO_FILTER) -> QueuePage:
    """One page of ``user_id``'s queue in ``office_id`` (their own office), read in ``s``, with the
    total number of cases in the queue (as narrowed by ``filters``): one statement whatever the
    size (two for a page past the end). ``count`` is kept for callers that do not show the total;
    it costs nothing extra."""
    today = today or clock.today()
    registry.default().sync(db)
    if caps is None:
        caps = permissions.capacities(s, user_id, office_id, today)
    conds = _conditions(db, s, user_id, caps) if caps else {}
    if filters.state is not None:
        conds = {st: c for st, c in conds.items() if st == f"'{filters.state}'"}
    if not conds:
        return QueuePage([], 0)
    stmts = _statements(conds, filters.sort, _filter_sql(filters))
    params = {"office": office_id, **_filter_params(filters, today)}
    items = []
    rows = s.execute(stmts.page, {**params, "upto": offset + limit, "limit": limit, "offset": offset}).all()
    for (case_id, kind, title, state, unit_name, roc_year, period, version, entered, due_date, submitted_by,
         revision_count, unit_id, submitted_by_id, workflow_version, _total) in rows:
        waited = (today - entered.astimezone(clock.TAIPEI).date()).days
        items.append(QueueItem(case_id, kind, title, state, unit_name, roc_year, period, version, entered,
                               max(waited, 0), due_date, submitted_by, revision_count, unit_id, submitted_by_id,
                               workflow_version))
    total = int(rows[0][-1] or 0) if rows else 0  # every row carries the queue's total
    if not items and offset and count:
        total = int(s.scalar(stmts.count, params) or 0)
    return QueuePage(items, total)


def queue_for(db: Database, user_id: int, *, today: dt.date | None = None, limit: int = 500,
              offset: int = 0, filters: QueueFilter = NO_FILTER) -> list[QueueItem]:
    today = today or clock.today()
    registry.default().sync(db)
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        user = s.get(User, user_id)
        if user is None or not user.active:
            return []
        return queue_page(db, s, user.id, user.office_id, today=today, limit=limit, offset=offset,
                          count=False, filters=filters).items
