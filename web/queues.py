"""我的工作: the cases the logged-in user can act on now, oldest first (``workflow.queues``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from web.db import database
from web.labels import kind_label, state_label
from workflow import clock, registry
from workflow.errors import NotFound
from workflow.queues import QueueItem, queue_for

bp = Blueprint("queues", __name__)


@dataclass(frozen=True)
class QueueRow:
    item: QueueItem
    kind_label: str
    state_label: str
    overdue: bool


def _row(item: QueueItem) -> QueueRow:
    try:
        defn = registry.default().latest(item.kind)
    except NotFound:
        defn = None
    overdue = item.due_date is not None and item.due_date < clock.today()
    return QueueRow(item, kind_label(item.kind), state_label(defn, item.state), overdue)


@bp.get("/")
@login_required
def my_work() -> str:
    items = queue_for(database(), current_user.id)
    return render_template("queue.html", rows=[_row(i) for i in items])
