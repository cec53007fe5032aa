"""The plan as data: which plan covers a year, what it obliges each office to deliver, and when.

``generate`` opens a year's cases for one office or all of them. It is idempotent because of the
database's one-case-per-(office, kind, year, period) key: a case that exists is skipped (read first,
to be quick), and one created by someone else in between makes ``create_case`` fail on that key,
which is counted as existing too.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.calendar import workdays
from workflow.cases import drafts
from workflow.db import Database
from workflow.errors import NotFound, ValidationError
from workflow.models import Case, Office, PlanObligation, PlanPeriod, Unit


@dataclass(frozen=True)
class Obligation:
    kind: str
    period: str
    unit_code: str
    title: str  # with "{year}" for the ROC year
    due_month: int
    due_day: int
    due_year_offset: int
    receiver: str
    plan_ref: str

    def nominal_due(self, roc_year: int) -> dt.date:
        """The date as the plan states it (the day clipped to the month's last day)."""
        year = roc_year + 1911 + self.due_year_offset
        last = _calendar.monthrange(year, self.due_month)[1]
        return dt.date(year, self.due_month, min(self.due_day, last))

    def due_date(self, roc_year: int, cal: workdays.WorkCalendar) -> dt.date:
        """The nominal date, moved to the next working day when the office does not work that day."""
        return cal.next_working_day(self.nominal_due(roc_year))

    def title_for(self, roc_year: int) -> str:
        return self.title.replace("{year}", str(roc_year))


def periods_label(s: Session) -> str:
    codes = s.scalars(select(PlanPeriod.code).order_by(PlanPeriod.first_year)).all()
    return "、".join(codes) or "（無）"


def plan_for_year(s: Session, roc_year: int) -> PlanPeriod:
    """The plan covering ``roc_year``; ValidationError naming the plan periods there are otherwise."""
    plan = s.scalar(select(PlanPeriod).where(PlanPeriod.first_year <= roc_year, PlanPeriod.last_year >= roc_year))
    if plan is None:
        label = periods_label(s)
        raise ValidationError({"year": (
            f"民國 {roc_year} 年不在計畫期間內（計畫期間：{label}年）",
            f"ROC year {roc_year} is outside the plan period ({label})")})
    return plan


def obligations(s: Session, roc_year: int) -> list[Obligation]:
    plan = plan_for_year(s, roc_year)
    rows = s.scalars(select(PlanObligation).where(PlanObligation.plan_id == plan.id, PlanObligation.active)
                     .order_by(PlanObligation.id))
    return [Obligation(r.kind, r.period, r.unit_code, r.title, r.due_month, r.due_day, r.due_year_offset,
                       r.receiver, r.plan_ref) for r in rows]


def due_date_for(s: Session, office_id: int, kind: str, roc_year: int, period: str | None) -> dt.date | None:
    """The plan's due date for one case key (None when the plan has no such obligation)."""
    try:
        obs = obligations(s, roc_year)
    except ValidationError:
        return None
    for ob in obs:
        if ob.kind == kind and ob.period == period:
            return ob.due_date(roc_year, workdays.for_office(s, office_id))
    return None


@dataclass
class Generated:
    office_code: str
    created: list[int] = field(default_factory=list)
    existing: int = 0
    missing_units: list[str] = field(default_factory=list)


def generate(
    db: Database,
    roc_year: int,
    *,
    office_codes: list[str] | None = None,
    on_office: Callable[[Generated], None] | None = None,
) -> list[Generated]:
    """Open ``roc_year``'s plan cases, with their due dates, in the given offices (None: all)."""
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        obs = obligations(s, roc_year)  # refuses a year outside every plan period
        q = select(Office.id, Office.code).order_by(Office.id)
        if office_codes is not None:
            q = q.where(Office.code.in_(office_codes))
        offices = s.execute(q).all()
        if office_codes is not None:
            unknown = sorted(set(office_codes) - {o.code for o in offices})
            if unknown:
                raise NotFound(f"找不到機關 {', '.join(unknown)}", f"no office {', '.join(unknown)}")
    out = []
    for office_id, code in offices:
        result = _generate_office(db, office_id, code, roc_year, obs)
        out.append(result)
        if on_office is not None:
            on_office(result)
    return out


def _generate_office(db: Database, office_id: int, code: str, roc_year: int, obs: list[Obligation]) -> Generated:
    result = Generated(code)
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        cal = workdays.for_office(s, office_id)
        units = {r.code: r.id for r in s.execute(select(Unit.code, Unit.id).where(Unit.office_id == office_id))}
        have = {(r.kind, r.period) for r in s.execute(select(Case.kind, Case.period).where(
            Case.office_id == office_id, Case.roc_year == roc_year))}
    for ob in obs:
        if (ob.kind, ob.period) in have:
            result.existing += 1
            continue
        unit_id = units.get(ob.unit_code)
        if unit_id is None:
            result.missing_units.append(ob.unit_code)
            continue
        try:
            cid = drafts.create_case(
                kind=ob.kind, unit_id=unit_id, roc_year=roc_year, period=ob.period, title=ob.title_for(roc_year),
                actor=None, due_date=ob.due_date(roc_year, cal), office_id=office_id, db=db)
        except ValidationError as exc:
            if "period" not in exc.errors:  # not the unique key: a real problem
                raise
            result.existing += 1  # created by someone else since we looked
            continue
        result.created.append(cid)
    return result


def first_working_day_due(db: Database, today: dt.date) -> int | None:
    """The ROC year to generate today, if today is on or after its first working day and a plan covers
    it (the daily beat task calls this; generating is idempotent, so a missed day catches up)."""
    roc_year = today.year - 1911
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        try:
            plan_for_year(s, roc_year)
        except ValidationError:
            return None
        if today < workdays.for_office(s, None).first_working_day(today.year):
            return None
    return roc_year
