"""我的案件: a drafter's own page: drafts, cases returned (the reviewer's comment on top), cases
under review that they submitted with whose desk each is on, and the form that opens a new case
of a kind their unit owns.

Which cases are theirs to draft comes from ``workflow.views.queues.queue_for`` (the drafting states of
each kind, narrowed by the user's capacities); which kinds they may open, from each kind's
``drafter_roles`` and owning unit. ``drafts.create_case`` checks both again. The cases under review
and who holds each come from ``workflow.views.submitted``, 50 a page. Every list follows the same
filters and order (``web.listing``, most recent first unless another order is chosen), kept in the
URL and on the pager.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from web import listing
from web.board import state_word
from web.db import database, session
from web.forms import NewCaseForm
from web.i18n import gettext as _
from web.i18n import localized
from web.labels import kind_label, period_label, state_label
from workflow import clock
from workflow.cases import drafts
from workflow.engine import registry
from workflow.engine.definitions import Definition
from workflow.errors import NotFound, PermissionDenied, ValidationError
from workflow.models import HistoryEvent, Unit, User
from workflow.people import permissions
from workflow.views.queues import QueueItem, queue_for
from workflow.views.submitted import SubmittedItem, submitted_page

bp = Blueprint("mine", __name__)
PERIOD_CHOICES = ("Q1", "Q2", "Q3", "Q4", "Y", "")
PAGE_SIZE = 50  # cases under review per page
DEFAULT_SORT = "newest"  # the most recently returned, submitted or moved on first


@dataclass(frozen=True)
class Creatable:
    kind: str
    kind_label: str
    unit_id: int
    unit_name: str
    cycle: str


@dataclass(frozen=True)
class MineRow:
    case_id: int
    title: str
    kind_label: str
    state_label: str
    period: str
    roc_year: int
    due_date: dt.date | None
    since: dt.datetime
    comment: str | None = None  # the reviewer's latest comment (returned cases)
    comment_by: str | None = None
    comment_at: dt.datetime | None = None
    unit_name: str = ""
    holders: tuple[str, ...] = ()  # whose desk it is on (cases under review)


def drafting_states(defn: Definition) -> set[str]:
    return {t.source for t in defn.transitions if t.trigger == "submit"}


def returned_states(defn: Definition) -> set[str]:
    return {t.dest for t in defn.transitions if t.trigger == "return_for_revision"}


def creatable(s: Session, user_id: int, office_id: int) -> list[Creatable]:
    """(kind, unit) pairs this user may open: the kind's owning unit, a drafter role there."""
    caps = permissions.capacities(s, user_id, office_id, clock.today())
    if not caps:
        return []
    units = {u.code: u for u in s.scalars(select(Unit).where(Unit.office_id == office_id))}
    out = []
    for kind in registry.default().kinds():
        defn = registry.default().latest(kind)
        unit = units.get(defn.default_unit)
        if unit is not None and permissions.match(caps, defn.drafter_roles, unit.id) is not None:
            out.append(Creatable(kind, localized(defn.label, defn.label_en), unit.id,
                                 localized(unit.name, unit.name_en), defn.cycle))
    return out


def can_draft() -> bool:
    """For the nav: does the logged-in user hold a drafter role for some kind?"""
    if not current_user.is_authenticated:
        return False
    if "can_draft" not in g:
        caps = permissions.capacities(session(), current_user.id, current_user.office_id, clock.today())
        reg = registry.default()
        drafters = {r for kind in reg.kinds() for r in reg.latest(kind).drafter_roles}
        # Most reviewers hold no drafter role at all: no need to look at the units then.
        g.can_draft = any(c.role in drafters for c in caps) and bool(
            creatable(session(), current_user.id, current_user.office_id))
    return bool(g.can_draft)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"can_draft": can_draft}


def new_case_form(options: list[Creatable], formdata: Any = None) -> NewCaseForm:
    form = NewCaseForm(formdata=formdata, roc_year=str(clock.today().year - 1911))
    kinds = {o.kind: o.kind_label for o in options}
    form.kind.choices = [("", _("請選擇")), *kinds.items()]
    units = {o.unit_id: o.unit_name for o in options}
    form.unit.choices = [(str(k), v) for k, v in units.items()]
    form.period.choices = [(p, period_label(p) if p else _("不分期（專案）")) for p in PERIOD_CHOICES]
    return form


def _returned_comments(s: Session, case_ids: list[int]) -> dict[int, tuple[str | None, str | None, dt.datetime]]:
    """The latest return comment per case: (comment, reviewer, when)."""
    if not case_ids:
        return {}
    rows = s.execute(
        select(HistoryEvent.case_id, HistoryEvent.comment, User.display_name, HistoryEvent.at)
        .outerjoin(User, User.id == HistoryEvent.actor_id)
        .where(HistoryEvent.case_id.in_(case_ids), HistoryEvent.trigger == "return_for_revision")
        .order_by(HistoryEvent.case_id, HistoryEvent.seq.desc())
    ).all()
    out: dict[int, tuple[str | None, str | None, dt.datetime]] = {}
    for case_id, comment, who, at in rows:
        out.setdefault(case_id, (comment, who, at))
    return out


def _row(item: QueueItem, defn: Definition | None, comment: tuple[str | None, str | None, dt.datetime] | None = None
         ) -> MineRow:
    c = comment or (None, None, None)
    return MineRow(item.case_id, item.title, kind_label(item.kind), state_label(defn, item.state),
                   period_label(item.period), item.roc_year, item.due_date, item.entered_state_at, *c)


def _defn(kind: str) -> Definition | None:
    try:
        return registry.default().latest(kind)
    except NotFound:
        return None


@dataclass(frozen=True)
class Lists:
    drafts: list[MineRow]
    returned: list[MineRow]
    reviewing: list[MineRow]
    reviewing_total: int


def _reviewing_row(item: SubmittedItem) -> MineRow:
    defn = registry.default().get(database(), item.kind, item.workflow_version, session())
    return MineRow(item.case_id, item.title, kind_label(item.kind), state_label(defn, item.state),
                   period_label(item.period), item.roc_year, item.due_date, item.entered_state_at,
                   unit_name=localized(item.unit_name, item.unit_name_en), holders=item.holders)


def _lists(s: Session, chosen: listing.Listing, page_no: int) -> Lists:
    drafts: list[QueueItem] = []
    returned: list[QueueItem] = []
    for item in queue_for(database(), current_user.id, filters=chosen.filters):
        defn = _defn(item.kind)
        if defn is None or item.state not in drafting_states(defn):
            continue
        (returned if item.state in returned_states(defn) else drafts).append(item)
    comments = _returned_comments(s, [i.case_id for i in returned])
    reviewing = submitted_page(database(), s, current_user.id, current_user.office_id, filters=chosen.filters,
                               limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
    return Lists([_row(i, _defn(i.kind)) for i in drafts],
                 [_row(i, _defn(i.kind), comments.get(i.case_id)) for i in returned],
                 [_reviewing_row(i) for i in reviewing.items], reviewing.total)


def _choices(options: list[Creatable]) -> listing.Choices:
    """A drafter's own cases are of the kinds and units they may draft for: those are the choices."""
    kinds = {o.kind: o.kind_label for o in options}
    units = {o.unit_id: o.unit_name for o in options}
    reg = registry.default()
    states = sorted({st.name for kind in kinds for st in reg.latest(kind).states if not st.final})
    return listing.Choices(list(kinds.items()), list(units.items()), [(st, state_word(st)) for st in states],
                           listing.years())


def _page_no() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10_000 else 1


def _page(form: NewCaseForm, options: list[Creatable], status: int = 200) -> tuple[str, int]:
    s = session()
    choices = _choices(options)
    chosen = listing.parse(request.args, choices, default_sort=DEFAULT_SORT)
    page_no = _page_no()
    lists = _lists(s, chosen, page_no)
    first = (page_no - 1) * PAGE_SIZE
    return render_template("mine.html", drafts=lists.drafts, returned=lists.returned, reviewing=lists.reviewing,
                           reviewing_total=lists.reviewing_total, page_no=page_no, first=first,
                           more=first + len(lists.reviewing) < lists.reviewing_total, form=form,
                           options=options, several_units=len({o.unit_id for o in options}) > 1,
                           choices=choices, listing=chosen, page_args=chosen.args(),
                           list_url=url_for("mine.show")), status


@bp.get("/mine")
@login_required
def show() -> tuple[str, int]:
    options = creatable(session(), current_user.id, current_user.office_id)
    return _page(new_case_form(options), options)


@bp.post("/mine/new")
@login_required
def new() -> Response | tuple[str, int]:
    options = creatable(session(), current_user.id, current_user.office_id)
    if not options:
        abort(403)
    form = new_case_form(options, formdata=request.form)
    if len({o.unit_id for o in options}) == 1 and not form.unit.data:
        form.unit.data = str(options[0].unit_id)
    if not form.validate():
        return _page(form, options, 422)
    unit_id = int(form.unit.data)
    if not any(o.kind == form.kind.data and o.unit_id == unit_id for o in options):
        form.unit.errors = [_("這個課室不能建立這類案件，請改選課室或案件類別。")]
        return _page(form, options, 422)
    try:
        case_id = drafts.create_case(kind=form.kind.data, unit_id=unit_id, roc_year=int(form.roc_year.data),
                                     title=form.title.data, actor=current_user.id,
                                     period=form.period.data or None, db=database())
    except ValidationError as exc:
        fields = {"period": form.period, "roc_year": form.roc_year, "title": form.title}
        for key, msg in exc.errors.items():
            target = fields.get(key, form.kind)
            target.errors = [*target.errors, localized(*msg)]
        return _page(form, options, 422)
    except (PermissionDenied, NotFound) as exc:
        form.unit.errors = [localized(exc.message, exc.message_en)]
        return _page(form, options, 422)
    return redirect(url_for("edit.edit", case_id=case_id, created=1), 303)
