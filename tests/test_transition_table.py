"""The (state, trigger, role holder) table of R2/R4, for every kind, against a reference written by hand.

The expected outcomes come from ``LINES`` and ``KINDS`` below, copied by a person from R2 and the plan,
not from the loaded definitions: a wrong declaration in ``workflow/kinds`` (a role too many, a
transition missing, a condition forgotten) makes a row of this table fail.

Every trigger of every line is tried from every state of every kind. A transition the line declares
is fired by every person of a test office (one per role, as in the demo), by a person who holds every
role and submitted the case (separation of duties), by the system (background outcomes) and by
someone from another office (who must not even see the case), with and without a comment where that
matters. A transition the line does not declare is refused whoever asks, so it is fired by the people
a wrong declaration would let through, someone with no role, and the system (see ``holders_for``).
Refusals are fired at one shared case per (kind, state); each allowed transition gets a fresh case
(driven there through the operations, or moved there by an earlier row), so the table runs in well
under a minute.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import STAFFING, UNIT_CODES, OfficeFixture, make_office
from tests.helpers import task_force_passes
from workflow.cases import approval, drafts, writes
from workflow.db import Database
from workflow.demo import sample_fields
from workflow.engine import registry
from workflow.engine.conditions import PREPUBLICATION_PROBLEMS
from workflow.errors import CaseflowError, ConditionFailed, NotFound, PermissionDenied, TransitionNotAllowed
from workflow.models import Case, HistoryEvent, Office, OutboxMessage, Unit
from workflow.people import directory

# -- the reference, by hand --------------------------------------------------------------------
# A transition: (trigger, source) -> (destination, roles, conditions). "@drafter" is the kind's
# drafter roles. Conditions are listed in the order they are checked.
Spec = tuple[str, tuple[str, ...], tuple[str, ...]]
SUBMIT = ("fields_complete", "attachments_present")
NOT_SUBMITTER = ("not_submitter",)
DECIDED = ("not_submitter", "task_force_decided")  # the table's cases reach the task force with a decision
COMMENT = ("comment_given",)
TF = ("convener", "deputy_convener")
LIAISONS = ("liaison", "deputy_liaison")
# What the pre-publication checks found (nothing): the facts publishing.retry passes with retry_publish.
CHECKED = {PREPUBLICATION_PROBLEMS: []}

_REVIEW: dict[tuple[str, str], Spec] = {
    ("submit", "draft"): ("section_review", ("@drafter",), SUBMIT),
    ("submit", "returned"): ("section_review", ("@drafter",), SUBMIT),
    ("withdraw", "draft"): ("withdrawn", ("@drafter",), ()),
    ("withdraw", "returned"): ("withdrawn", ("@drafter",), ()),
    ("take_back", "section_review"): ("draft", ("@drafter",), ("is_submitter",)),
    ("approve", "section_review"): ("secretariat_review", ("chief",), NOT_SUBMITTER),
    ("return_for_revision", "section_review"): ("returned", ("chief",), COMMENT),
    ("return_for_revision", "secretariat_review"): ("returned", ("secretariat",), COMMENT),
}


@dataclass(frozen=True)
class Line:
    states: dict[str, bool]  # name -> final
    transitions: dict[tuple[str, str], Spec]
    # How a case gets to each state: (trigger, who, comment). Who: "@submitter" (the person who
    # drafts and submits in this table), "@chief" (the owning unit's chief), a STAFFING key, "system".
    paths: dict[str, list[tuple[str, str, str | None]]]
    tasks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # background work started on entry


_TO_SECRETARIAT = [("submit", "@submitter", None), ("approve", "@chief", None)]
_TO_TASK_FORCE = [*_TO_SECRETARIAT, ("approve", "secretariat", None)]
_TO_APPROVED = [*_TO_TASK_FORCE, ("approve", "convener", None)]
_COMMON_PATHS = {
    "draft": [],
    "section_review": [("submit", "@submitter", None)],
    "returned": [("submit", "@submitter", None), ("return_for_revision", "@chief", "請補正")],
    "secretariat_review": _TO_SECRETARIAT,
    "withdrawn": [("withdraw", "@submitter", None)],
}

LINES: dict[str, Line] = {
    # draft -> section review -> secretariat review -> task force -> filed with the city group.
    # The city group acknowledges what was filed (備查) or sends it back with a comment.
    "main": Line(
        states={"draft": False, "returned": False, "section_review": False, "secretariat_review": False,
                "task_force_review": False, "approved": False, "filed": False, "acknowledged": True,
                "withdrawn": True},
        transitions={
            **_REVIEW,
            ("approve", "secretariat_review"): ("task_force_review", ("secretariat",), NOT_SUBMITTER),
            ("approve", "task_force_review"): ("approved", TF, DECIDED),
            ("return_for_revision", "task_force_review"): ("returned", TF, COMMENT),
            ("file_with_city_group", "approved"): ("filed", LIAISONS, ()),
            ("city_acknowledge", "filed"): ("acknowledged", ("city_reviewer",), ()),
            ("return_for_revision", "filed"): ("returned", ("city_reviewer",), COMMENT),
        },
        paths={**_COMMON_PATHS, "task_force_review": _TO_TASK_FORCE, "approved": _TO_APPROVED,
               "filed": [*_TO_APPROVED, ("file_with_city_group", "liaison", None)],
               "acknowledged": [*_TO_APPROVED, ("file_with_city_group", "liaison", None),
                                ("city_acknowledge", "city", None)]},
    ),
    # Plan §8: after the task force, the city group reviews it, then the next 性平會 notes it.
    "amendment": Line(
        states={"draft": False, "returned": False, "section_review": False, "secretariat_review": False,
                "task_force_review": False, "approved": False, "city_review": False, "council_pending": False,
                "filed": True, "withdrawn": True},
        transitions={
            **_REVIEW,
            ("approve", "secretariat_review"): ("task_force_review", ("secretariat",), NOT_SUBMITTER),
            ("approve", "task_force_review"): ("approved", TF, DECIDED),
            ("return_for_revision", "task_force_review"): ("returned", TF, COMMENT),
            ("file_with_city_group", "approved"): ("city_review", LIAISONS, ()),
            ("city_approve", "city_review"): ("council_pending", ("city_reviewer",), ()),
            ("return_for_revision", "city_review"): ("returned", ("city_reviewer",), COMMENT),
            ("record_council_noted", "council_pending"): ("filed", LIAISONS, ()),
        },
        paths={
            **_COMMON_PATHS, "task_force_review": _TO_TASK_FORCE, "approved": _TO_APPROVED,
            "city_review": [*_TO_APPROVED, ("file_with_city_group", "liaison", None)],
            "council_pending": [*_TO_APPROVED, ("file_with_city_group", "liaison", None),
                                ("city_approve", "city", None)],
            "filed": [*_TO_APPROVED, ("file_with_city_group", "liaison", None), ("city_approve", "city", None),
                      ("record_council_noted", "deputy_liaison", None)],
        },
    ),
    # Plan §5.5: reviewed, then published by a background worker; failures go to the secretariat.
    "posting": Line(
        states={"draft": False, "returned": False, "section_review": False, "secretariat_review": False,
                "publishing": False, "publish_failed": False, "published": True, "withdrawn": True},
        transitions={
            **_REVIEW,
            ("approve", "secretariat_review"): ("publishing", ("secretariat",), NOT_SUBMITTER),
            ("return_for_revision", "publish_failed"): ("returned", ("secretariat",), COMMENT),
            ("mark_published", "publishing"): ("published", ("system",), ()),
            ("mark_publish_failed", "publishing"): ("publish_failed", ("system",), ()),
            ("retry_publish", "publish_failed"): ("publishing", ("secretariat",), ("prepublication_checks_passed",)),
            ("record_manual_posting", "publish_failed"): ("published", ("secretariat",), COMMENT),
        },
        paths={
            **_COMMON_PATHS, "publishing": _TO_TASK_FORCE,
            "published": [*_TO_TASK_FORCE, ("mark_published", "system", None)],
            "publish_failed": [*_TO_TASK_FORCE, ("mark_publish_failed", "system", None)],
        },
        tasks={"publishing": ("publish_posting",)},
    ),
}


@dataclass(frozen=True)
class KindRef:
    line: str
    unit: str  # owning unit in the plan (its staff drafts, its chief reviews first)
    cycle: str
    drafters: tuple[str, ...] = ("staff",)
    attachments: bool = False  # photos / sign-in sheets must be attached before submitting
    documents: dict[str, tuple[str, ...]] = field(default_factory=dict)  # state -> documents on entering


_MEMO = "sign_memo"
_LETTER = {"filed": ("city_letter",)}
KINDS: dict[str, KindRef] = {
    "annual_result": KindRef("main", "personnel", "yearly", documents={
        "section_review": (_MEMO, "annual_results"), "task_force_review": ("annual_results",), **_LETTER}),
    "budget_review": KindRef("main", "accounting", "yearly", documents={
        "section_review": (_MEMO, "budget_review_table"), "task_force_review": ("budget_review_table",),
        **_LETTER}),
    "local_programme": KindRef("main", "social", "yearly", documents={"section_review": (_MEMO,), **_LETTER}),
    "outreach_event": KindRef("main", "social", "yearly", documents={"section_review": (_MEMO,), **_LETTER}),
    "outreach_report": KindRef("main", "social", "quarterly", attachments=True, documents={
        "section_review": (_MEMO, "outreach_results"), "secretariat_review": (_MEMO, "outreach_results"),
        **_LETTER}),
    "plan_amendment": KindRef("amendment", "secretariat", "adhoc", drafters=("staff", *LIAISONS), documents={
        "section_review": (_MEMO, "amendment_table"), "task_force_review": ("amendment_table",),
        "city_review": ("city_letter",)}),
    "promo_material": KindRef("main", "social", "yearly", documents={"section_review": (_MEMO,), **_LETTER}),
    "task_force_meeting": KindRef("main", "secretariat", "yearly_or_adhoc", drafters=("staff", *LIAISONS),
                                  documents={"section_review": (_MEMO, "meeting_notice"),
                                             "task_force_review": ("meeting_notice",),
                                             "approved": ("meeting_minutes",), **_LETTER}),
    "training_report": KindRef("main", "personnel", "quarterly", documents={
        "section_review": (_MEMO, "training_results"), "secretariat_review": (_MEMO, "training_results"),
        **_LETTER}),
    "web_posting": KindRef("posting", "social", "adhoc", attachments=True),
}

UNIT_SCOPED = {"staff", "chief"}  # held for one unit (R4: a chief approves only their unit's cases)
ALL_ROLES = ("staff", "chief", "secretariat", "liaison", "deputy_liaison", "convener", "deputy_convener",
             "member", "personnel", "social_affairs", "city_reviewer", "admin")
COMMENT_TEXT = "退回：請依簽到表更正時數"
SUBMITTER = "omni"  # holds every role for every unit, drafts and submits every case of the table
SYSTEM = "system"
OUTSIDER = "outsider"  # holds every role, in another office
HOLDERS = [*STAFFING, SUBMITTER, SYSTEM, OUTSIDER]
ALL_TRIGGERS = sorted({t for line in LINES.values() for t, _src in line.transitions})


def resolve(kind: str, roles: tuple[str, ...]) -> tuple[str, ...]:
    """The roles of a reference transition, with "@drafter" replaced by the kind's drafter roles."""
    drafters = KINDS[kind].drafters
    return tuple(itertools.chain.from_iterable(drafters if r == "@drafter" else (r,) for r in roles))


def holders_for(kind: str, state: str, trigger: str) -> list[str]:
    """Who fires ``trigger`` at a case in ``state``: everybody when the line declares the transition.

    When it does not, the answer is TransitionNotAllowed whoever asks, so the row is fired by the
    people a wrongly declared transition would let through (whoever holds, for this kind's unit, a
    role that fires this trigger somewhere in the line), by someone holding no role at all and by the
    system (who would get PermissionDenied). That catches any extra declaration at a fraction of the
    cost, which matters on PostgreSQL; the outsider's NotFound is checked on every declared row.
    """
    line = LINES[KINDS[kind].line]
    if (trigger, state) in line.transitions:
        return HOLDERS
    roles = {r for (t, _src), (_d, rs, _c) in line.transitions.items() if t == trigger for r in resolve(kind, rs)}
    unit = KINDS[kind].unit
    return [h for h in HOLDERS if h in (SYSTEM, "nobody")
            or (h != OUTSIDER and any(r in roles and u in (None, unit) for r, u in capacities(h)))]


def capacities(holder: str) -> set[tuple[str, str | None]]:
    """(role, unit or None) the holder has in the table's office."""
    if holder == SUBMITTER:
        scoped = {(r, u) for r in UNIT_SCOPED for u in UNIT_CODES}
        return scoped | {(r, None) for r in ALL_ROLES if r not in UNIT_SCOPED}
    unit, roles = STAFFING[holder]
    return {(r, unit if r in UNIT_SCOPED else None) for r in roles}


@dataclass(frozen=True)
class Outcome:
    dest: str | None = None  # allowed: the next state
    error: type[CaseflowError] | None = None
    detail: Any = None  # TransitionNotAllowed: the allowed triggers; ConditionFailed: the condition


def expected(kind: str, state: str, trigger: str, holder: str, *, comment: bool) -> Outcome:
    ref = KINDS[kind]
    line = LINES[ref.line]
    if holder == OUTSIDER:
        return Outcome(error=NotFound)
    spec = line.transitions.get((trigger, state))
    if spec is None:
        allowed = sorted({t for t, src in line.transitions if src == state})
        return Outcome(error=TransitionNotAllowed, detail=allowed)
    dest, roles, conditions = spec
    roles = resolve(kind, roles)
    if holder == SYSTEM:
        if "system" not in roles:
            return Outcome(error=PermissionDenied)
    elif not any(r in roles and (u is None or u == ref.unit) for r, u in capacities(holder)):
        return Outcome(error=PermissionDenied)
    submitted = any(t == "submit" for t, _who, _c in line.paths[state])
    for cond in conditions:
        if cond == "not_submitter" and submitted and holder == SUBMITTER:
            return Outcome(error=ConditionFailed, detail=cond)
        if cond == "is_submitter" and not (submitted and holder == SUBMITTER):
            return Outcome(error=ConditionFailed, detail=cond)
        if cond == "comment_given" and not comment:
            return Outcome(error=ConditionFailed, detail=cond)
        # fields_complete and attachments_present hold: the table's cases are complete; so does
        # task_force_decided: every case reaching the task force gets a meeting's decision
        # (``Table.decided``); and prepublication_checks_passed: the table fires as publishing.retry
        # does after the checks found nothing (``CHECKED``; refusals: tests/test_publishing_retry.py).
    return Outcome(dest=dest)


# -- the table's office and its cases ----------------------------------------------------------
class Table:
    """The table's office, its people, and cases of every kind in every state.

    A case moved by an allowed transition goes into a pool for its new state, where a later row can
    use it as its fresh case, so most rows need no new case at all. The rows' expectations assume
    the all-roles person submitted the case: a shared case (fired at by everybody) is always one of
    those; a fresh case may have been submitted by someone else, as long as that is not the person
    about to act under a not_submitter condition.
    """

    def __init__(self, db: Database, office: OfficeFixture, users: dict[str, int | None]) -> None:
        self.db = db
        self.office = office
        self.users = users
        self._sources: dict[tuple[str, str], int] = {}
        self._pool: dict[tuple[str, str], list[int]] = {}
        self._submitter: dict[int, str | None] = {}
        self._keys: dict[str, Iterator[tuple[int, str | None]]] = {}
        self._last_outbox = 0

    def _next_key(self, kind: str) -> tuple[int, str | None]:
        """A (ROC year, period) not used yet for this kind (one case per office/kind/year/period)."""
        if kind not in self._keys:
            cycle = KINDS[kind].cycle
            if cycle == "quarterly":
                keys: Iterator[tuple[int, str | None]] = (
                    (y, f"Q{q}") for y in range(200, 99, -1) for q in range(1, 5))
            elif cycle == "yearly":
                keys = ((y, "Y") for y in range(200, 99, -1))
            else:
                keys = itertools.repeat((115, None))
            self._keys[kind] = keys
        return next(self._keys[kind])

    def who(self, token: str, kind: str) -> int | None:
        if token == "@submitter":
            return self.users[SUBMITTER]
        if token == "@chief":
            return self.users[f"{KINDS[kind].unit}_chief"]
        return self.users[token]

    def drive(self, kind: str, state: str) -> int:
        """A new case of ``kind`` brought to ``state`` through the operations."""
        ref = KINDS[kind]
        year, period = self._next_key(kind)
        submitter = self.users[SUBMITTER]
        assert submitter is not None
        cid = drafts.create_case(
            kind=kind, unit_id=self.office.units[ref.unit], roc_year=year, period=period, title=f"{kind} table",
            actor=submitter, fields=sample_fields(kind, year, period), db=self.db)
        if ref.attachments:
            drafts.add_attachment(cid, submitter, name="photo.png", content_type="image/png",
                                  content=b"\x89PNG table", db=self.db)
        path = LINES[ref.line].paths[state]
        for trigger, who, comment in path:
            res = approval.fire(cid, trigger, self.who(who, kind), comment, db=self.db)
            if res.to_state == "task_force_review":
                self.decided(cid, kind)
        self._submitter[cid] = SUBMITTER if any(t == "submit" for t, _w, _c in path) else None
        return cid

    def fresh(self, kind: str, state: str, usable: Callable[[str | None], bool] = lambda _submitter: True) -> int:
        """A case in ``state`` that no row has used yet, whose submitter is ``usable``."""
        pooled = self._pool.get((kind, state), [])
        for i, cid in enumerate(pooled):
            if usable(self._submitter[cid]):
                return pooled.pop(i)
        return self.drive(kind, state)

    def for_holder(self, kind: str, state: str, trigger: str, holder: str) -> int:
        """A fresh case ``holder`` may move: not one they submitted if the transition forbids that."""
        _dest, _roles, conditions = LINES[KINDS[kind].line].transitions[(trigger, state)]
        if "is_submitter" in conditions:
            return self.fresh(kind, state, lambda submitter: submitter == holder)
        return self.fresh(kind, state, lambda submitter: not (submitter == holder and "not_submitter" in conditions))

    def decided(self, cid: int, kind: str) -> None:
        """A quorate meeting passes the case (for a meeting's own case: that meeting is held)."""
        if kind == "task_force_meeting":
            task_force_passes(self.db, self.office.id, meeting_case=cid)
        else:
            task_force_passes(self.db, self.office.id, cid)

    def moved(self, cid: int, kind: str, trigger: str, holder: str, dest: str) -> None:
        """Record an allowed transition: the case may serve a later row in ``dest``."""
        if dest == "task_force_review":
            self.decided(cid, kind)
        if trigger == "submit":
            self._submitter[cid] = holder
        self._pool.setdefault((kind, dest), []).append(cid)

    def source(self, kind: str, state: str) -> int:
        """The shared case of (kind, state) that refusals are fired at (submitted, if at all, by the
        all-roles person, as the expectations assume)."""
        if (kind, state) not in self._sources:
            self._sources[(kind, state)] = self.fresh(kind, state, lambda submitter: submitter in (None, SUBMITTER))
        return self._sources[(kind, state)]

    def replace_source(self, kind: str, state: str) -> int:
        """A new shared case for (kind, state), after a transition wrongly allowed moved the old one."""
        self._sources[(kind, state)] = self.drive(kind, state)
        return self._sources[(kind, state)]

    def case_row(self, cid: int) -> tuple[str, int, int]:
        """(state, version, number of history events)."""
        events = select(func.count()).select_from(HistoryEvent).where(HistoryEvent.case_id == cid)
        with self.db.engine.connect() as conn:
            state, version, n = conn.execute(
                select(Case.state, Case.version, events.scalar_subquery()).where(Case.id == cid)).one()
        return state, version, n

    def new_outbox(self, cid: int, seq: int) -> tuple[list[str], list[str]]:
        """(documents, background tasks) queued since the last call, for event ``seq`` of case ``cid``."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(OutboxMessage.id, OutboxMessage.payload).where(
                OutboxMessage.office_id == self.office.id, OutboxMessage.id > self._last_outbox)).all()
        self._last_outbox = max([self._last_outbox, *(r.id for r in rows)])
        mine = [r.payload for r in rows if r.payload.get("case_id") == cid and r.payload.get("event_seq") == seq]
        return (sorted(p["document"] for p in mine if "document" in p),
                sorted(p["task"] for p in mine if "task" in p))


@pytest.fixture(scope="module")
def table(db: Database, _password_hash: str) -> Table:
    office = make_office(db, _password_hash)
    with db.unit_of_work() as uow:
        s = uow.session
        home = s.get(Office, office.id)
        assert home is not None
        omni = directory.add_user(s, home, f"{office.code}.omni", "全能測試者", sex="X", password_hash=_password_hash)
        for role in ALL_ROLES:
            for unit in UNIT_CODES if role in UNIT_SCOPED else [None]:
                unit_row = s.get(Unit, office.units[unit]) if unit else None
                directory.grant(s, omni, role, unit=unit_row)
        other = directory.add_office(s, f"{office.code}x", "桃園市他區公所")
        other_unit = directory.add_unit(s, other, "civil", "民政課")
        outsider = directory.add_user(s, other, f"{office.code}.outsider", "他區人員", sex="F", unit=other_unit,
                                      password_hash=_password_hash)
        for role in ALL_ROLES:
            directory.grant(s, outsider, role, unit=other_unit)
        uow.commit()
        users: dict[str, int | None] = {**office.users, SUBMITTER: omni.id, OUTSIDER: outsider.id, SYSTEM: None}
    return Table(db, office, users)


# -- the table ---------------------------------------------------------------------------------
def flow_order(line: Line) -> list[str]:
    """The line's states in the order cases flow through them (returned after the reviews that send
    cases there, final states last), so the cases one row moves serve the rows after it."""
    moving = [s for s, final in line.states.items() if not final and s != "returned"]
    return [*moving, "returned", *(s for s, final in line.states.items() if final)]


def _rows() -> list[Any]:
    rows = []
    for kind in sorted(registry.default().files):
        line = LINES[KINDS[kind].line] if kind in KINDS else None
        for state in flow_order(line) if line else ["?"]:
            for trigger in ALL_TRIGGERS:
                rows.append(pytest.param(kind, state, trigger, id=f"{kind}-{state}-{trigger}"))
    return rows


def _describe(exc: BaseException | None, res: writes.Result | None) -> str:
    if exc is not None:
        return f"{type(exc).__name__}({exc})"
    assert res is not None
    return f"allowed -> {res.to_state}"


@pytest.mark.parametrize(("kind", "state", "trigger"), _rows())
def test_transition(table: Table, kind: str, state: str, trigger: str) -> None:
    assert kind in KINDS, f"kind {kind!r} is declared but missing from this test's reference table"
    source = table.source(kind, state)
    before = table.case_row(source)
    assert before[0] == state
    attempts: list[tuple[str, bool, Outcome]] = []  # (holder, with a comment?, expected outcome)
    for holder in holders_for(kind, state, trigger):
        plain = expected(kind, state, trigger, holder, comment=False)
        attempts.append((holder, False, plain))
        commented = expected(kind, state, trigger, holder, comment=True)
        if commented != plain:  # the comment matters here: try it with one too
            attempts.append((holder, True, commented))
    problems: list[str] = []

    def refuse(attempt: tuple[str, bool, Outcome]) -> tuple[CaseflowError | None, writes.Result | None]:
        """Fire at the row's shared case (``source``, replaced if a wrongly allowed attempt moved it)."""
        holder, comment, _want = attempt
        try:
            return None, approval.fire(source, trigger, table.users[holder], COMMENT_TEXT if comment else None,
                                       db=table.db, facts=CHECKED)
        except CaseflowError as e:
            return e, None

    refusals = [a for a in attempts if a[2].dest is None]
    for (holder, comment, want), (exc, res) in zip(refusals, map(refuse, refusals), strict=True):
        who = f"{holder}{' with a comment' if comment else ''}"
        assert want.error is not None
        if res is not None:  # wrongly allowed: the shared case moved on; the next attempts need another
            problems.append(f"{who}: expected {want.error.__name__}, got {_describe(exc, res)}")
            source = table.replace_source(kind, state)
            before = table.case_row(source)
        elif not isinstance(exc, want.error):
            problems.append(f"{who}: expected {want.error.__name__}, got {_describe(exc, res)}")
        elif isinstance(exc, TransitionNotAllowed) and exc.allowed != want.detail:
            problems.append(f"{who}: TransitionNotAllowed lists {exc.allowed}, expected {want.detail}")
        elif isinstance(exc, ConditionFailed) and exc.condition != want.detail:
            problems.append(f"{who}: condition {exc.condition!r} failed, expected {want.detail!r}")
    if table.case_row(source) != before:
        problems.append("a refused transition changed the case")

    for holder, comment, want in (a for a in attempts if a[2].dest):
        who = f"{holder}{' with a comment' if comment else ''}"
        cid = table.for_holder(kind, state, trigger, holder)
        _state, version, events = table.case_row(cid)
        exc, res = None, None
        try:
            res = approval.fire(cid, trigger, table.users[holder], COMMENT_TEXT if comment else None,
                                expected_version=version, db=table.db, facts=CHECKED)
        except CaseflowError as e:
            exc = e
        if res is None or res.to_state != want.dest:
            problems.append(f"{who}: expected allowed -> {want.dest}, got {_describe(exc, res)}")
            continue
        table.moved(cid, kind, trigger, holder, want.dest)
        after = table.case_row(cid)
        if after != (want.dest, version + 1, events + 1):
            problems.append(f"{who}: (state, version, events) after the transition are {after}, "
                            f"expected {(want.dest, version + 1, events + 1)}")
        queued = table.new_outbox(cid, res.event_seq)
        want_queued = (sorted(KINDS[kind].documents.get(want.dest, ())),
                       sorted(LINES[KINDS[kind].line].tasks.get(want.dest, ())))
        if queued != want_queued:
            problems.append(f"{who}: entering {want.dest} queued (documents, tasks) {queued}, "
                            f"expected {want_queued}")
    assert not problems, f"{kind} in {state}, {trigger}:\n  " + "\n  ".join(problems)


# -- the declarations, compared with the reference ---------------------------------------------
def test_every_kind_is_in_the_reference() -> None:
    assert sorted(registry.default().files) == sorted(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_declared_workflow_matches_the_reference(kind: str) -> None:
    defn = registry.default().latest(kind)
    ref = KINDS[kind]
    line = LINES[ref.line]
    assert {s.name: s.final for s in defn.states} == line.states
    assert defn.initial == "draft"
    assert defn.drafter_roles == ref.drafters
    assert defn.default_unit == ref.unit
    assert defn.cycle == ref.cycle
    assert (defn.min_attachments > 0) == ref.attachments
    declared = {(t.trigger, t.source): (t.dest, tuple(sorted(t.roles)), t.conditions) for t in defn.transitions}
    wanted = {key: (dest, tuple(sorted(resolve(kind, roles))), conds)
              for key, (dest, roles, conds) in line.transitions.items()}
    assert declared == wanted
    assert {s.name: s.documents for s in defn.states if s.documents} == ref.documents
    assert {s.name: s.tasks for s in defn.states if s.tasks} == line.tasks


# -- the submit conditions, which the table's complete cases always meet -----------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_submit_needs_complete_fields_and_attachments(office: OfficeFixture, kind: str) -> None:
    ref = KINDS[kind]
    drafter = office.users[f"{ref.unit}_staff"]
    incomplete = office.case(kind, complete=False)
    with pytest.raises(ConditionFailed) as err:
        approval.submit(incomplete, drafter, db=office.db)
    assert err.value.condition == "fields_complete"

    bare = office.case(kind, roc_year=114)  # complete fields, no attachment yet (another period)
    if ref.attachments:
        with pytest.raises(ConditionFailed) as err:
            approval.submit(bare, drafter, db=office.db)
        assert err.value.condition == "attachments_present"
        drafts.add_attachment(bare, drafter, name="簽到表.pdf", content_type="application/pdf",
                              content=b"%PDF-1.4 sign-in sheet", db=office.db)
    res = approval.submit(bare, drafter, db=office.db)
    assert res.to_state == "section_review"
