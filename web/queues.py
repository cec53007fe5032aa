"""我的工作: the cases the logged-in user can act on now, oldest first (``workflow.queues``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from web.board import can_see_board, state_word
from web.db import database, session
from web.labels import kind_label, state_label
from workflow import board, clock, deadlines, registry
from workflow.errors import NotFound
from workflow.queues import QueueItem, queue_for

bp = Blueprint("queues", __name__)


@dataclass(frozen=True)
class QueueRow:
    item: QueueItem
    kind_label: str
    state_label: str
    overdue: bool
    step: deadlines.StepDeadline | None = None  # the review step's own deadline (working days)
    step_overdue: bool = False


def _row(item: QueueItem, step: deadlines.StepDeadline | None = None) -> QueueRow:
    try:
        defn = registry.default().latest(item.kind)
    except NotFound:
        defn = None
    overdue = item.due_date is not None and item.due_date < clock.today()
    today = clock.today()
    return QueueRow(item, kind_label(item.kind), state_label(defn, item.state), overdue, step,
                    step is not None and step.overdue(today))


@bp.get("/")
@login_required
def my_work() -> str:
    items = queue_for(database(), current_user.id)
    steps = deadlines.step_deadlines(session(), [
        deadlines.CaseClock(i.case_id, current_user.office_id, i.kind, i.state, i.entered_state_at) for i in items])
    # The liaison's first page says which units are late with what, as of today.
    late = board.board(database(), current_user.office_id, only="overdue", limit=10, charts=False) \
        if can_see_board() else None
    return render_template("queue.html", rows=[_row(i, steps.get(i.case_id)) for i in items], late=late,
                           state_word=state_word, kind_label=kind_label)
