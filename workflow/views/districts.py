"""The city group's cross-district view (推動組): for each district office, in one ROC year, how much
of what fell due was delivered on time per quarter, whether its task force keeps the one-third rule,
how many of its civil servants met the training hours, and its outreach; read from the cases and the
registers, never typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from workflow import clock
from workflow.models import Case, Office
from workflow.registers import outreach, task_force, training
from workflow.rocdate import roc_year_bounds
from workflow.views.board import end_of_due_day, never_delivered


@dataclass
class District:
    office_id: int
    code: str
    name: str
    due: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # per quarter of due date
    on_time: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    members: int = 0
    women: int = 0
    men: int = 0
    rule_met: bool = False
    target_met: bool = False
    trained: int = 0  # civil servants who met the year's hours
    people: int = 0
    events: int = 0
    public_event: bool = False

    def rate(self, quarter: int) -> float | None:
        """On-time share for a quarter (0-3), None when nothing fell due."""
        return self.on_time[quarter] / self.due[quarter] if self.due[quarter] else None

    @property
    def year_rate(self) -> float | None:
        due = sum(self.due)
        return sum(self.on_time) / due if due else None


def districts(s: Session, roc_year: int, today: dt.date | None = None) -> list[District]:
    """Every district office (not the city's own organisation), in office order."""
    today = today or clock.today()
    first, last = roc_year_bounds(roc_year)
    day = min(today, last)
    out = {o.id: District(o.id, o.code, o.name) for o in s.scalars(
        select(Office).where(Office.kind == "district").order_by(Office.id))}
    if not out:
        return []
    withdrawn = sorted(never_delivered())
    rows = s.execute(
        select(Case.office_id, Case.due_date, func.count(),
               func.sum(case((Case.delivered_at < end_of_due_day(s), 1), else_=0)))
        .where(Case.office_id.in_(list(out)), Case.due_date >= first, Case.due_date <= min(last, today),
               Case.state.not_in(withdrawn))
        .group_by(Case.office_id, Case.due_date))
    for office_id, due_date, n, ok in rows:
        q = (due_date.month - 1) // 3
        out[office_id].due[q] += int(n)
        out[office_id].on_time[q] += int(ok or 0)
    for d in out.values():
        comp = task_force.composition(task_force.in_office(s, d.office_id, day))
        d.members, d.women, d.men = comp.members, comp.women, comp.men
        d.rule_met, d.target_met = comp.rule_met, comp.target_met
        people = training.compliance(s, d.office_id, roc_year)
        d.people, d.trained = len(people), sum(1 for p in people if p.met)
        check = outreach.year_check(s, d.office_id, roc_year)
        d.events, d.public_event = check.events, check.met
    return list(out.values())


EXPORT_HEADER = ["區公所", "第1季準時率", "第2季準時率", "第3季準時率", "第4季準時率", "全年準時率", "到期案件",
                 "專案小組委員", "女", "男", "三分之一規定", "40%目標", "培力達成人數", "應受訓人數", "宣導活動",
                 "社會課公開活動"]


def export_rows(rows: list[District]) -> list[list[str | int]]:
    def pct(x: float | None) -> str:
        return "" if x is None else f"{x:.0%}"

    return [[d.name, *(pct(d.rate(q)) for q in range(4)), pct(d.year_rate), sum(d.due), d.members, d.women, d.men,
             "符合" if d.rule_met else "不符", "達成" if d.target_met else "未達", d.trained, d.people, d.events,
             "已辦" if d.public_event else "未辦"] for d in rows]
