"""我的工作: the cases the logged-in user can act on now, oldest first (``workflow.views.queues``), and
批次核准 from it: select → confirm (a plain page, no JavaScript) → approve each (``web.bulk``).

The queue can be narrowed and sorted (``web.listing``: kind, unit, step, due, year; waiting time,
due date, title) with a GET form, kept in the URL and on the pager. For the secretariat and the
liaisons the page opens with one line, the number of overdue cases, which unfolds (<details>, no
script) into the late cases by unit, so the queue itself stays at the top of the page. A case the
person holds only as a delegate (代理) says for whom (``workflow.views.held_for``): 「代理 張家豪（課長）」.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from web import bulk, listing
from web.board import can_see_board, state_word
from web.db import database, session
from web.i18n import gettext as _
from web.i18n import localized
from web.labels import held_for_label, kind_label, state_label
from web.page_cache import kept_while_unchanged
from workflow import clock
from workflow.calendar import deadlines
from workflow.engine import registry
from workflow.errors import NotFound
from workflow.models import Unit
from workflow.people import permissions
from workflow.views import board
from workflow.views.held_for import held_for
from workflow.views.queues import QueueItem, queue_page, queue_states

bp = Blueprint("queues", __name__)
PAGE_SIZE = 50  # the oldest first; a reviewer works from the top, the page stays fast at any backlog
KEPT_PAGES = frozenset(str(n) for n in range(1, 6))  # ?page= values web.page_cache keeps


class QueueRow(NamedTuple):  # a tuple: built for every row of a page, fast to make
    item: QueueItem
    kind_label: str
    state_label: str
    overdue: bool
    step: deadlines.StepDeadline | None = None  # the review step's own deadline (working days)
    step_overdue: bool = False
    approvable: bool = False  # gets a checkbox for 批次核准
    held_for: str = ""  # 「代理 張家豪（課長）」 when held only as someone's delegate


def _row(item: QueueItem, today: dt.date, labels: dict[tuple[str, str], tuple[str, str]],
         step: deadlines.StepDeadline | None = None, approvable: bool = False, held: str = "") -> QueueRow:
    words = labels.get((item.kind, item.state))
    if words is None:
        try:
            defn = registry.default().latest(item.kind)
        except NotFound:
            defn = None
        words = labels[(item.kind, item.state)] = (kind_label(item.kind), state_label(defn, item.state))
    overdue = item.due_date is not None and item.due_date < today
    return QueueRow(item, words[0], words[1], overdue, step, step is not None and step.overdue(today), approvable,
                    held)


def unit_choices(office_id: int) -> list[tuple[int, str]]:
    rows = session().execute(select(Unit.id, Unit.name, Unit.name_en).where(Unit.office_id == office_id)
                             .order_by(Unit.id))
    return [(uid, localized(name, name_en)) for uid, name, name_en in rows]


def kind_choices() -> list[tuple[str, str]]:
    return [(k, kind_label(k)) for k in registry.default().kinds()]


@bp.get("/")
@login_required
@kept_while_unchanged(args={"page": KEPT_PAGES, **listing.plausible()})
def my_work() -> str:
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    s, db, today = session(), database(), clock.today()
    user_id, office_id = current_user.id, current_user.office_id
    caps = permissions.capacities(s, user_id, office_id, today)
    # The units are read only when the page shows its filters (or a unit was asked for).
    asked = any(request.args.get(k) for k in listing.ARGS)
    units = unit_choices(office_id) if request.args.get("unit") else []
    states = [(st, state_word(st)) for st in queue_states(db, s, user_id, caps)]
    choices = listing.Choices(kind_choices(), units, states, listing.years())
    chosen = listing.parse(request.args, choices)
    # One page of the oldest cases (or in the order asked for), and how many there are in all.
    queue = queue_page(db, s, user_id, office_id, today=today, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE,
                       caps=caps, filters=chosen.filters)
    items = queue.items
    steps = deadlines.step_deadlines(s, [
        deadlines.CaseClock(i.case_id, office_id, i.kind, i.state, i.entered_state_at) for i in items], today=today)
    # The liaison's first page says how many cases are late, folded to one line that opens.
    late = board.board(db, office_id, only="overdue", limit=10, charts=False, steps=False, session=s, today=today) \
        if can_see_board() else None
    labels: dict[tuple[str, str], tuple[str, str]] = {}
    held = {cid: held_for_label(h) for cid, h in held_for(db, s, user_id, office_id, items, caps=caps).items()}
    rows = [_row(i, today, labels, steps.get(i.case_id), bulk.can_approve(db, caps, user_id, i),
                 held.get(i.case_id, "")) for i in items]
    first = (page_no - 1) * PAGE_SIZE
    show_filters = asked or queue.total > 0
    if show_filters and not units:
        choices = listing.Choices(choices.kinds, unit_choices(office_id), choices.states, choices.years)
    return render_template("queue.html", rows=rows, late=late, state_word=state_word, kind_label=kind_label,
                           any_approvable=any(r.approvable for r in rows), page_no=page_no,
                           more=first + len(items) < queue.total, total=queue.total, first=first,
                           words=_words(), choices=choices if show_filters else None, listing=chosen,
                           page_args=chosen.args(), list_url=url_for("queues.my_work"),
                           sort_words={k: str(v) for k, v in listing.SORT_WORDS.items()})


def _words() -> dict[str, str]:
    """The words the table repeats on every row, translated once per page (not once per row)."""
    return {"overdue": _("已逾期"), "step_overdue": _("審核逾時"), "meeting": _("下次專案小組會議"),
            "returned": _("退回 %(n)s 次"), "select": _("選取「%(title)s」")}


@bp.get("/approve-selected")
@login_required
def confirm_approve() -> str:
    """The confirmation page: the selected cases, and one button that approves them all."""
    selected = bulk.describe(database(), session(), current_user.office_id,
                             bulk.parse_selection(request.args.getlist("case")))
    return render_template("bulk_confirm.html", selected=selected)


@bp.post("/approve-selected")
@login_required
def approve_selected() -> str:
    # CSRFProtect (app-wide) has refused the request already if its token was missing or wrong.
    selected = bulk.describe(database(), session(), current_user.office_id,
                             bulk.parse_selection(request.form.getlist("case")))
    session().rollback()  # end the read transaction before each approval opens its own
    outcomes = bulk.approve_all(database(), current_user.id, selected)
    return render_template("bulk_result.html", outcomes=outcomes)
