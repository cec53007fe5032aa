"""專案小組: the cases waiting for task force approval, as the agenda of the next meeting.

The meeting date comes from the office's task force meeting cases (``deadlines.next_meetings``):
the first one from today on. Items are grouped as the agenda of a 性別平等專案小組 meeting is:
報告事項 (results to note) and 討論事項 (plans, budgets and amendments to decide on).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from web.access import holds_any
from web.db import session
from web.i18n import lazy_gettext as _l
from web.labels import kind_label, period_label
from workflow import clock
from workflow.calendar import deadlines
from workflow.models import Case, Unit
from workflow.roles import Role

bp = Blueprint("task_force", __name__)
VIEWERS = frozenset({Role.CONVENER, Role.DEPUTY_CONVENER, Role.MEMBER, Role.LIAISON, Role.DEPUTY_LIAISON})
STATE = "task_force_review"
# Kinds the task force decides on; every other kind is reported to it.
DISCUSSION_KINDS = frozenset({"plan_amendment", "budget_review", "local_programme"})
SECTIONS = (("report", _l("報告事項")), ("discussion", _l("討論事項")))


def can_see_task_force() -> bool:
    return holds_any(VIEWERS)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"can_see_task_force": can_see_task_force}


@dataclass(frozen=True)
class AgendaItem:
    case_id: int
    kind_label: str
    title: str
    unit_name: str
    period: str
    roc_year: int
    since: dt.datetime


def next_meeting(office_id: int, today: dt.date) -> dt.date | None:
    days = deadlines.next_meetings(session(), [office_id]).get(office_id, [])
    return next((d for d in days if d >= today), None)


def agenda(office_id: int) -> dict[str, list[AgendaItem]]:
    rows = session().execute(
        select(Case.id, Case.kind, Case.title, Case.roc_year, Case.period, Case.entered_state_at, Unit.name)
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.office_id == office_id, Case.state == STATE, Case.kind != deadlines.MEETING_KIND)
        .order_by(Case.entered_state_at, Case.id)
    )
    out: dict[str, list[AgendaItem]] = {key: [] for key, _label in SECTIONS}
    for r in rows:
        section = "discussion" if r.kind in DISCUSSION_KINDS else "report"
        out[section].append(AgendaItem(r.id, kind_label(r.kind), r.title, r.name, period_label(r.period),
                                       r.roc_year, r.entered_state_at))
    return out


@bp.get("/task-force")
@login_required
def show() -> str:
    if not can_see_task_force():
        abort(403)
    items = agenda(current_user.office_id)
    return render_template("task_force.html", meeting=next_meeting(current_user.office_id, clock.today()),
                           sections=[(key, label, items[key]) for key, label in SECTIONS],
                           total=sum(len(v) for v in items.values()))
