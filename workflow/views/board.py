"""The liaison's board (聯絡人): an office's overdue cases and those due within the horizon, by unit and
by step, with who holds each one; and the figures behind its charts (on-time rate per quarter, cases
by state per unit).

A fixed number of queries whatever the number of cases: the list is limited, the counts are
GROUP BYs over the ``ix_cases_due`` index (office, state, due date).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Date, bindparam, case, func, select, text
from sqlalchemy.orm import Session

from workflow import clock
from workflow.db import Database
from workflow.engine import registry
from workflow.models import Case, Unit
from workflow.people import holders

HORIZON_DAYS = 14
# SQLite without ANALYZE prefers the queue index (office, state, unit) and reads the table; the board's
# index covers every column these counts read.
_HINT = "INDEXED BY ix_cases_due"


class BoardRow(NamedTuple):  # a tuple: built for every row of a page, fast to make
    case_id: int
    kind: str
    title: str
    unit_id: int
    unit_name: str
    state: str
    roc_year: int
    period: str | None
    due_date: dt.date
    days_overdue: int  # negative: days left
    holders: tuple[str, ...]
    revision_count: int


@dataclass(frozen=True)
class Count:
    key: str  # unit id as text, or state name
    label: str
    overdue: int
    due_soon: int


@dataclass(frozen=True)
class QuarterRate:
    label: str  # the months the cases fell due in: "115.04-06"
    on_time: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.total if self.total else None


@dataclass
class Board:
    today: dt.date
    horizon: int
    rows: list[BoardRow]
    total: int
    by_unit: list[Count]
    by_step: list[tuple[str, Count]]  # (kind-independent state name, counts)
    units: list[tuple[int, str]]
    on_time: list[QuarterRate] = field(default_factory=list)
    states_by_unit: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def overdue(self) -> int:
        return sum(c.overdue for c in self.by_unit)

    @property
    def due_soon(self) -> int:
        return sum(c.due_soon for c in self.by_unit)


def state_names() -> tuple[set[str], set[str]]:
    """(open states, all states) over every declared kind and variant: a state is open while the
    office still owes the case (not final, and not with the city group, which holds what was filed)."""
    defs = registry.default().current_definitions()
    every = {st.name for d in defs for st in d.states}
    closed = {st.name for d in defs for st in d.states if st.final or st.city}
    return every - closed, every


def never_delivered() -> set[str]:
    """Final states a case reaches without delivering anything (withdrawn): not due any more."""
    defs = registry.default().current_definitions()
    return {st.name for d in defs for st in d.states if st.final and not st.city and not st.delivers}


def board(
    db: Database,
    office_id: int,
    *,
    today: dt.date | None = None,
    unit_id: int | None = None,
    state: str | None = None,
    kind: str | None = None,
    only: str | None = None,  # "overdue" or "soon"
    horizon: int = HORIZON_DAYS,
    limit: int | None = 50,  # None: every row (the exports)
    offset: int = 0,
    charts: bool = True,
    steps: bool = True,  # False: counts by unit only (``by_step`` left empty), a lighter count
    session: Session | None = None,  # the caller's read session (the web request's); else one of its own
) -> Board:
    """The board as of ``today``: its counts, and the rows ``offset`` to ``offset + limit`` by due date
    (the most overdue first). A fixed number of statements, whatever the number of cases."""
    if session is not None:
        return _board(db, session, office_id, today=today, unit_id=unit_id, state=state, kind=kind, only=only,
                      horizon=horizon, limit=limit, offset=offset, charts=charts, steps=steps)
    with db.unit_of_work(write=False) as uow:
        return _board(db, uow.session, office_id, today=today, unit_id=unit_id, state=state, kind=kind, only=only,
                      horizon=horizon, limit=limit, offset=offset, charts=charts, steps=steps)


def _board(db: Database, s: Session, office_id: int, *, today: dt.date | None, unit_id: int | None,
           state: str | None, kind: str | None, only: str | None, horizon: int, limit: int | None, offset: int,
           charts: bool, steps: bool) -> Board:
    today = today or clock.today()
    open_states, all_states = state_names()
    wanted = sorted(open_states if state is None else open_states & {state})
    until = today - dt.timedelta(days=1) if only == "overdue" else today + dt.timedelta(days=horizon)
    # Plain SQL for the queries that touch many rows: on SQLite they must say INDEXED BY (its
    # planner otherwise prefers the queue index, which does not cover them, and reads every row);
    # SQLAlchemy renders no table hints for SQLite.
    where = ["office_id = :office", "due_date <= :until"]
    params: dict[str, Any] = {"office": office_id, "until": until, "today": today}
    if only == "soon":
        where.append("due_date >= :today")
    if unit_id is not None:
        where.append("unit_id = :unit")
        params["unit"] = unit_id
    if kind is not None:
        where.append("kind = :kind")
        params["kind"] = kind
    sqlite = s.get_bind().dialect.name == "sqlite"
    source = "cases INDEXED BY ix_cases_due" if sqlite else "cases"
    cond = " AND ".join(where)

    def sql(stmt: str) -> Any:
        binds = [bindparam("states", expanding=True), bindparam("until", type_=Date()),
                 bindparam("today", type_=Date())]
        return text(stmt).bindparams(*[b for b in binds if f":{b.key}" in stmt])

    units = [(r.id, r.name) for r in s.execute(select(Unit.id, Unit.name).where(Unit.office_id == office_id)
                                                .order_by(Unit.id))]
    unit_names = dict(units)
    # Overdue and due soon, by unit and step (the cost of the board: every late case is counted).
    late = "COUNT(*)" if only == "overdue" else "SUM(CASE WHEN due_date < :today THEN 1 ELSE 0 END)"
    grouped = "unit_id, state" if steps else "unit_id, '' AS state"
    counts = s.execute(sql(
        f"SELECT {grouped}, {late}, COUNT(*) FROM {source} WHERE {cond} AND state IN :states "
        f"GROUP BY unit_id{', state' if steps else ''}"), {**params, "states": wanted}
    ).all() if wanted else []
    columns = ("c.id, c.kind, c.title, c.unit_id, c.state, c.roc_year, c.period, c.due_date, c.drafter_id, "
               "c.workflow_version, c.revision_count")
    if not wanted:
        rows: Sequence[Any] = []
    elif limit is None:
        # Every row (the exports): one ordered read.
        hint = " INDEXED BY ix_cases_due" if sqlite else ""
        rows = s.execute(sql(f"SELECT {columns} FROM cases AS c{hint} WHERE {cond} AND state IN :states "
                             f"ORDER BY c.due_date, c.id"), {**params, "states": wanted}).all()
    else:
        # The page: the first ``offset + limit`` of each state from its own range of the due-date
        # index, merged; only the page's rows are then read. One sort of the office's overdue
        # cases to keep fifty is what made a large board slow.
        branch_params: dict[str, Any] = {}
        branches = []
        for i, st in enumerate(wanted):
            branch_params[f"s{i}"] = st
            branches.append(f"SELECT * FROM (SELECT id, due_date FROM {source} WHERE {cond} AND state = :s{i} "
                            f"ORDER BY due_date, id LIMIT :upto) AS b{i}")
        page = (f"SELECT id, due_date FROM ({' UNION ALL '.join(branches)}) AS m "
                f"ORDER BY due_date, id LIMIT :limit OFFSET :offset")
        page_params = {k: v for k, v in params.items() if f":{k}" in cond}
        rows = s.execute(sql(f"SELECT {columns} FROM ({page}) AS p JOIN cases AS c ON c.id = p.id "
                             f"ORDER BY p.due_date, p.id"),
                         {**page_params, **branch_params, "upto": offset + limit, "limit": limit,
                          "offset": offset}).all()
    roles = holders.office_roles(s, [office_id], today)[office_id]
    reg = registry.default()
    who_cache: dict[tuple[str, int, str, int, int | None], tuple[str, ...]] = {}
    out_rows = []
    for case_id, kind_, title, unit, st, roc_year, period, due_date, drafter_id, version, revisions in rows:
        key = (kind_, version, st, unit, drafter_id)
        who = who_cache.get(key)
        if who is None:
            defn = reg.get(db, kind_, version, s)
            who = tuple(roles.names.get(u, "?") for u in holders.holders(defn, st, unit, drafter_id, roles))
            who_cache[key] = who
        due = due_date if isinstance(due_date, dt.date) else dt.date.fromisoformat(str(due_date))
        out_rows.append(BoardRow(case_id, kind_, title, unit, unit_names.get(unit, ""), st, roc_year, period, due,
                                 (today - due).days, who, revisions))
    result = _summarise(counts, unit_names)
    b = Board(today, horizon, out_rows, sum(int(c[3]) for c in counts), result[0], result[1] if steps else [],
              units)
    if charts:
        b.on_time, b.states_by_unit = _charts(s, office_id, today, unit_names, all_states)
    return b


# The charts summarise years of cases and change slowly (by the day, as cases are delivered); each
# process keeps them for a few minutes per office, so the board itself stays quick at any size.
CHART_TTL_SECONDS = 300.0
_chart_cache: dict[tuple[int, dt.date], tuple[float, list[QuarterRate], dict[str, dict[str, int]]]] = {}
_chart_lock = threading.Lock()


def _charts(s: Session, office_id: int, today: dt.date, unit_names: dict[int, str], all_states: set[str]
            ) -> tuple[list[QuarterRate], dict[str, dict[str, int]]]:
    key = (office_id, today)
    now = time.monotonic()
    with _chart_lock:
        hit = _chart_cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1], hit[2]
    on_time = _on_time(s, office_id, today)
    by_unit = _states_by_unit(s, office_id, today, unit_names, all_states)
    with _chart_lock:
        if len(_chart_cache) > 1000:
            _chart_cache.clear()
        _chart_cache[key] = (now + CHART_TTL_SECONDS, on_time, by_unit)
    return on_time, by_unit


def forget_charts() -> None:
    with _chart_lock:
        _chart_cache.clear()


def _summarise(counts: Sequence[Any], unit_names: dict[int, str]
               ) -> tuple[list[Count], list[tuple[str, Count]]]:
    by_unit: dict[int, list[int]] = {}
    by_step: dict[str, list[int]] = {}
    for unit_id, state, late, n in counts:
        late_n = int(late or 0)
        for bucket in (by_unit.setdefault(unit_id, [0, 0]), by_step.setdefault(state, [0, 0])):
            bucket[0] += late_n
            bucket[1] += int(n) - late_n
    units = [Count(str(u), unit_names.get(u, ""), v[0], v[1]) for u, v in by_unit.items()]
    units.sort(key=lambda c: (-c.overdue, -c.due_soon, c.label))
    steps = [(st, Count(st, st, v[0], v[1])) for st, v in by_step.items()]
    steps.sort(key=lambda x: (-x[1].overdue, -x[1].due_soon, x[0]))
    return units, steps


def end_of_due_day(s: Session) -> Any:
    """The end of ``due_date`` in Taipei (UTC+8, no daylight saving) as a UTC instant: due date + 16 h."""
    if s.get_bind().dialect.name == "sqlite":  # datetimes are stored as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'
        return func.datetime(Case.due_date, "+16 hours")
    return func.timezone("UTC", Case.due_date + text("interval '16 hours'"))


def _quarter(d: dt.date) -> tuple[int, int]:
    return d.year - 1911, (d.month - 1) // 3 + 1


def _on_time(s: Session, office_id: int, today: dt.date) -> list[QuarterRate]:
    """Per quarter of due date, over the last eight quarters up to today: cases due then that were
    delivered (filed/published) by the end of their due date, out of all due then (withdrawn aside)."""
    start = dt.date(today.year - 1, 1, 1)
    _open, every = state_names()
    considered = sorted(every - never_delivered())
    base = [Case.office_id == office_id, Case.state.in_(considered), Case.due_date >= start, Case.due_date <= today]
    on_time = case((Case.delivered_at < end_of_due_day(s), 1), else_=0)
    rows = s.execute(select(Case.due_date, func.sum(on_time), func.count()).with_hint(Case, _HINT, "sqlite")
                     .where(*base).group_by(Case.due_date))
    per: dict[tuple[int, int], list[int]] = {}
    for due, ok, n in rows:
        bucket = per.setdefault(_quarter(due), [0, 0])
        bucket[0] += int(ok or 0)
        bucket[1] += int(n)
    # Labelled by the months the cases fell due in (115.04-06), not "115Q2": the reports due in
    # April are the 第1季 ones, and a "Q2" bar read as the second quarter's reports.
    return [QuarterRate(f"{y}.{3 * q - 2:02d}-{3 * q:02d}", v[0], v[1]) for (y, q), v in sorted(per.items())]


def _states_by_unit(s: Session, office_id: int, today: dt.date, unit_names: dict[int, str],
                    all_states: set[str]) -> dict[str, dict[str, int]]:
    """Cases due this year, by unit and state."""
    rows = s.execute(select(Case.unit_id, Case.state, func.count()).with_hint(Case, _HINT, "sqlite").where(
        Case.office_id == office_id, Case.state.in_(sorted(all_states)),
        Case.due_date >= dt.date(today.year, 1, 1), Case.due_date <= dt.date(today.year, 12, 31),
    ).group_by(Case.unit_id, Case.state))
    out: dict[str, dict[str, int]] = {}
    for unit_id, state, n in rows:
        out.setdefault(unit_names.get(unit_id, str(unit_id)), {})[state] = int(n)
    return out
