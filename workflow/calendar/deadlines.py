"""Step deadlines: how many working days a review step may take, and when the current one ends.

Limits are data (``step_limits``: per kind, or '*' for every kind; NULL means "until the task
force's next meeting"). The deadline is derived from the case history, never stored: while a case
is returned to its drafter the reviewer's clock stops, and the working days that reviewer had
already used count again when the case comes back to the same step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Integer, any_, bindparam, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from workflow import clock
from workflow.calendar import workdays
from workflow.models import Case, HistoryEvent, StepLimit

RETURNED = "returned"
RETURN_TRIGGER = "return_for_revision"
MEETING_KIND = "task_force_meeting"


@dataclass(frozen=True)
class StepDeadline:
    state: str  # the step the clock belongs to (for a returned case: the step that returned it)
    deadline: dt.date | None  # None: no limit, or no next meeting known yet
    limit_days: int | None  # None: until the next task force meeting
    used_days: int
    stopped: bool = False  # the case is returned: this step's clock is not running
    stopped_since: dt.date | None = None

    def overdue(self, today: dt.date) -> bool:
        return not self.stopped and self.deadline is not None and self.deadline < today


class CaseClock(NamedTuple):  # a tuple: built for every row of a page, fast to make
    """What the deadline needs to know about a case (a row or an ORM object)."""

    id: int
    office_id: int
    kind: str
    state: str
    entered_state_at: dt.datetime


# Built once (a queue page runs them on every request); on PostgreSQL the history of a page's cases
# is asked for with one array parameter rather than fifty.
_LIMITS = select(StepLimit.kind, StepLimit.state, StepLimit.working_days)
_HISTORY_COLUMNS = (HistoryEvent.case_id, HistoryEvent.at, HistoryEvent.trigger, HistoryEvent.from_state,
                    HistoryEvent.to_state)
_HISTORY_ORDER = (HistoryEvent.case_id, HistoryEvent.seq)
_HISTORY = (select(*_HISTORY_COLUMNS)
            .where(HistoryEvent.case_id.in_(bindparam("ids", expanding=True)), HistoryEvent.event == "transition")
            .order_by(*_HISTORY_ORDER))
_HISTORY_PG = (select(*_HISTORY_COLUMNS)
               .where(HistoryEvent.case_id == any_(bindparam("ids", type_=postgresql.ARRAY(Integer))),
                      HistoryEvent.event == "transition")
               .order_by(*_HISTORY_ORDER))
_MEETINGS = select(Case.office_id, Case.fields).where(
    Case.kind == MEETING_KIND, Case.office_id.in_(bindparam("offices", expanding=True)), Case.state != "withdrawn")


def limits(s: Session) -> dict[tuple[str, str], int | None]:
    return {(kind, state): days for kind, state, days in s.execute(_LIMITS)}


def limit_for(table: dict[tuple[str, str], int | None], kind: str, state: str) -> tuple[bool, int | None]:
    """(has a limit, working days or None for 'until the next meeting')."""
    for key in ((kind, state), ("*", state)):
        if key in table:
            return True, table[key]
    return False, None


def _local(at: dt.datetime) -> dt.date:
    return at.astimezone(clock.TAIPEI).date()


def next_meetings(s: Session, office_ids: Iterable[int]) -> dict[int, list[dt.date]]:
    """Meeting dates of each office's task force meetings (from their cases' fields), sorted."""
    out: dict[int, list[dt.date]] = {}
    ids = set(office_ids)
    if not ids:
        return out
    rows = s.execute(_MEETINGS, {"offices": sorted(ids)})
    for office_id, fields in rows:
        raw = (fields or {}).get("meeting_date")
        try:
            day = dt.date.fromisoformat(str(raw))
        except ValueError:
            continue
        out.setdefault(office_id, []).append(day)
    for days in out.values():
        days.sort()
    return out


def step_deadlines(
    s: Session, cases: Sequence[CaseClock], *, today: dt.date | None = None,
    calendars: dict[int, workdays.WorkCalendar] | None = None,
) -> dict[int, StepDeadline]:
    """Deadlines of the current step of each case that has a limited step (constant queries)."""
    today = today or clock.today()
    table = limits(s)
    wanted = [c for c in cases if c.state == RETURNED or limit_for(table, c.kind, c.state)[0]]
    if not wanted:
        return {}
    history: dict[int, list[tuple[dt.datetime, str | None, str | None, str | None]]] = {}
    stmt = _HISTORY_PG if s.get_bind().dialect.name == "postgresql" else _HISTORY
    for row in s.execute(stmt, {"ids": [c.id for c in wanted]}):
        history.setdefault(row.case_id, []).append((row.at, row.trigger, row.from_state, row.to_state))
    calendars = dict(calendars or {})
    for office_id in {c.office_id for c in wanted} - set(calendars):
        calendars[office_id] = workdays.for_office(s, office_id)
    meetings = next_meetings(s, {c.office_id for c in wanted})
    out = {}
    for c in wanted:
        d = _deadline(c, history.get(c.id, []), table, calendars[c.office_id], meetings.get(c.office_id, []), today)
        if d is not None:
            out[c.id] = d
    return out


def _used_before(events: list[tuple[dt.datetime, str | None, str | None, str | None]], state: str,
                 cal: workdays.WorkCalendar, upto: int | None = None) -> int:
    """Working days used in ``state`` in earlier visits that ended with a return (the clock stopped
    then); a visit that ended otherwise (approved) closed the step, and the count starts again."""
    used = 0
    entered: dt.datetime | None = None
    for at, trigger, from_state, to_state in events[:upto]:
        if from_state == state and entered is not None:
            if trigger == RETURN_TRIGGER:
                used += cal.working_days_between(_local(entered), _local(at))
            else:
                used = 0
            entered = None
        if to_state == state:
            entered = at
    return used


def _deadline(c: CaseClock, events: list[tuple[dt.datetime, str | None, str | None, str | None]],
              table: dict[tuple[str, str], int | None], cal: workdays.WorkCalendar, meetings: list[dt.date],
              today: dt.date) -> StepDeadline | None:
    if c.state == RETURNED:
        # The clock of the step that returned it is stopped: show what is left of it.
        last = next((e for e in reversed(events) if e[3] == RETURNED), None)
        if last is None or last[2] is None:
            return None
        step = last[2]
        has, days = limit_for(table, c.kind, step)
        if not has:
            return None
        used = _used_before(events, step, cal)
        return StepDeadline(step, None, days, used, stopped=True, stopped_since=_local(last[0]))
    has, days = limit_for(table, c.kind, c.state)
    entered = _local(c.entered_state_at)
    if days is None:
        nxt = next((m for m in meetings if m >= entered), None)
        return StepDeadline(c.state, nxt, None, 0)
    # Earlier visits are those before the event that brought the case into this state.
    last_entry = max((i for i, e in enumerate(events) if e[3] == c.state), default=None)
    used = _used_before(events, c.state, cal, last_entry)
    remaining = max(days - used, 0)
    deadline = cal.add_working_days(entered, remaining) if remaining else cal.next_working_day(entered)
    return StepDeadline(c.state, deadline, days, used + cal.working_days_between(entered, today))


def step_deadline(s: Session, case: Case, *, today: dt.date | None = None) -> StepDeadline | None:
    clk = CaseClock(case.id, case.office_id, case.kind, case.state, case.entered_state_at)
    return step_deadlines(s, [clk], today=today).get(case.id)
