"""Random walks through the case engine (Hypothesis stateful testing), with the invariants of R2/R8
checked after every step.

One fresh office per example. Rules open cases of random kinds, fire random triggers as random
people (right ones, wrong ones, the system), with and without comments, with stale expected
versions, edit drafts, add attachments and set up delegations. After each step: every case is in a
declared state of its own workflow version, versions only grow, one history event per version, a
successful transition wrote exactly one event and exactly its destination's documents to the outbox,
a refused one wrote nothing, nobody approved what they submitted, and the hash chains verify.

Profiles: ``caseflow`` (50 examples, the default) and ``ci`` (200 examples; HYPOTHESIS_PROFILE=ci).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from tests.conftest import STAFFING, UNIT_CODES, OfficeFixture
from workflow import clock
from workflow.cases import approval, drafts, writes
from workflow.db import Database
from workflow.demo import sample_fields
from workflow.engine import audit, registry
from workflow.engine import fields as fieldmod
from workflow.engine.definitions import Definition
from workflow.errors import CaseflowError, Conflict
from workflow.models import Case, HistoryEvent, OutboxMessage, RoleAssignment, Unit, User
from workflow.people import directory
from workflow.roles import UNIT_SCOPED

settings.register_profile(
    "caseflow", max_examples=50, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", settings.get_profile("caseflow"), max_examples=200)
PROFILE = settings.get_profile("ci" if os.environ.get("HYPOTHESIS_PROFILE") == "ci" else "caseflow")

KINDS = sorted(registry.default().files)
TRIGGERS = sorted({t.trigger for d in registry.default().files.values() for t in d.transitions})
# The conftest's people (one per role), plus two who hold several roles, as in small offices (the
# demo's 秘書室主任 is both secretariat and chief): separation of duties is tested on them.
STAFF: dict[str, tuple[str, list[str]]] = {
    **STAFFING,
    "personnel_both": ("personnel", ["staff", "chief"]),
    "secretariat_head": ("secretariat", ["chief", "secretariat", "liaison"]),
}
PEOPLE: list[str | None] = [*STAFF, None]  # None: the system (background outcomes)
MAX_CASES = 3  # per example: few cases, so the walks go deep
MOSTLY = st.sampled_from([True, True, True, False])  # complete fields, attachments: usually
COMMENTS = st.one_of(st.none(), st.just(""), st.just("   "), st.text(min_size=1, max_size=40),
                     st.just("第2列時數請更正"))
# Documents are appended to a case's history by background work, without a new version; no worker
# runs in these tests, but should one ever be installed, its events are not the transition's.
COUNTED = HistoryEvent.event != "document"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # what XML cannot hold: never stored


@dataclass(frozen=True)
class Snapshot:
    state: str
    version: int
    history_seq: int
    history_head: str
    events: int
    office_outbox: int


def quick_office(db: Database, pw_hash: str) -> OfficeFixture:
    """The conftest's office (STAFFING), built with batched inserts: one per example adds up."""
    code = f"sm{uuid.uuid4().hex[:10]}"
    with db.unit_of_work() as uow:
        s = uow.session
        office = directory.add_office(s, code, f"桃園市隨機{code}區公所")
        units = {c: Unit(office_id=office.id, code=c, name=c) for c in UNIT_CODES}
        s.add_all(units.values())
        s.flush()
        users = {key: User(office_id=office.id, unit_id=units[unit].id, login=f"{code}.{key}", display_name=key,
                           sex="F" if len(key) % 2 else "M", password_hash=pw_hash)
                 for key, (unit, _roles) in STAFF.items()}
        s.add_all(users.values())
        s.flush()
        s.add_all(RoleAssignment(office_id=office.id, user_id=users[key].id, role=role,
                                 unit_id=units[unit].id if role in UNIT_SCOPED else None,
                                 valid_from=dt.date(2023, 1, 1))
                  for key, (unit, roles) in STAFF.items() for role in roles)
        uow.commit()
        return OfficeFixture(db, office.id, code, {k: u.id for k, u in units.items()},
                             {k: u.id for k, u in users.items()}, {k: f"{code}.{k}" for k in STAFF})


class CaseMachine(RuleBasedStateMachine):
    db: Database
    pw_hash: str

    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.office: OfficeFixture = quick_office(self.db, self.pw_hash)
        self.unit_code = {uid: code for code, uid in self.office.units.items()}
        self.versions: dict[int, int] = {}
        self.next_year: dict[str, int] = {}
        self.delegations: list[tuple[str, str, str, dt.date, dt.date]] = []
        # Set when a step wrote to a case. A refused step is checked to have changed nothing in the
        # case row (version, chain length and head), the history or the outbox, so the chains need
        # verifying again only after a write.
        self.written = True

    # -- helpers ------------------------------------------------------------------------------
    def uid(self, key: str | None) -> int | None:
        return None if key is None else self.office.users[key]

    def snapshot(self, cid: int) -> Snapshot:
        events = select(func.count()).select_from(HistoryEvent).where(HistoryEvent.case_id == cid, COUNTED)
        outbox = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.office_id == self.office.id)
        with self.db.engine.connect() as conn:
            row = conn.execute(select(Case.state, Case.version, Case.history_seq, Case.history_head,
                                      events.scalar_subquery(),
                                      outbox.scalar_subquery()).where(Case.id == cid)).one()
        return Snapshot(*row)

    def case_info(self, cid: int) -> tuple[Definition, str, str]:
        """(its workflow definition, its unit code, its state)."""
        with self.db.unit_of_work(write=False) as uow:
            c = uow.session.get(Case, cid)
            assert c is not None
            defn = registry.default().get(self.db, c.kind, c.workflow_version, uow.session)
            return defn, self.unit_code[c.unit_id], c.state

    def holders(self, roles: tuple[str, ...], unit: str) -> list[str | None]:
        """Who holds one of ``roles`` (for ``unit`` if unit-scoped) today, in person or as a delegate."""
        def fits(role: str, home: str) -> bool:
            return role in roles and (role not in UNIT_SCOPED or home == unit)

        out: list[str | None] = [None] if "system" in roles else []
        today = clock.today()
        for key, (home, held) in STAFF.items():
            delegated = [(r, STAFF[p][0]) for p, to, r, first, last in self.delegations
                         if to == key and first <= today <= last]
            if any(fits(r, home) for r in held) or any(fits(r, h) for r, h in delegated):
                out.append(key)
        return out

    def check_refused(self, before: Snapshot, cid: int, exc: CaseflowError) -> None:
        after = self.snapshot(cid)
        assert after == before, f"refused with {type(exc).__name__} ({exc}) but wrote {before} -> {after}"

    def check_fired(self, before: Snapshot, cid: int, res: writes.Result, trigger: str,
                    actor: int | None, comment: str | None) -> None:
        self.written = True
        after = self.snapshot(cid)
        assert after.version == before.version + 1
        assert after.history_seq == before.history_seq + 1
        assert after.events == before.events + 1, "a transition writes exactly one history event"
        assert after.state == res.to_state
        defn, _unit, _state = self.case_info(cid)
        with self.db.unit_of_work(write=False) as uow:
            s = uow.session
            ev = s.scalars(select(HistoryEvent).where(HistoryEvent.case_id == cid)
                           .order_by(HistoryEvent.seq.desc()).limit(1)).one()
            assert (ev.event, ev.seq, ev.trigger, ev.from_state, ev.to_state, ev.actor_id) == (
                "transition", res.event_seq, trigger, before.state, res.to_state, actor)
            assert ev.seq == after.history_seq
            assert ev.comment == (CONTROL.sub("", comment or "").strip() or None)
            rows = s.execute(select(OutboxMessage.topic, OutboxMessage.payload).where(
                OutboxMessage.office_id == self.office.id).order_by(OutboxMessage.id.desc())
                .limit(after.office_outbox - before.office_outbox)).all()
        payloads = [p for _t, p in rows]
        # Exactly what the destination declares (its documents and its background tasks), and the
        # one notice that tells whoever now holds the case.
        dest = defn.state(res.to_state)
        assert after.office_outbox - before.office_outbox == len(dest.documents) + len(dest.tasks) + 1
        assert sorted(p["document"] for p in payloads if "document" in p) == sorted(dest.documents)
        assert sorted(p["task"] for p in payloads if "task" in p) == sorted(dest.tasks)
        assert [t for t, _p in rows].count(approval.HANDOFF_TOPIC) == 1
        assert all((p["case_id"], p["event_seq"]) == (cid, res.event_seq) for p in payloads)

    # -- rules --------------------------------------------------------------------------------
    @precondition(lambda self: len(self.versions) < MAX_CASES)
    @rule(target=cases, kind=st.sampled_from(KINDS), complete=MOSTLY, attach=MOSTLY,
          drafter_pick=st.integers(0, 3))
    def open_case(self, kind: str, complete: bool, attach: bool, drafter_pick: int) -> int:
        defn = registry.default().latest(kind)
        unit = defn.default_unit
        drafters = [k for k in self.holders(defn.drafter_roles, unit) if k is not None]
        drafter = drafters[drafter_pick % len(drafters)]
        year = self.next_year.get(kind, 200)
        self.next_year[kind] = year - 1
        period = {"quarterly": "Q1", "yearly": "Y"}.get(defn.cycle)
        fields = sample_fields(kind, year, period) if complete else {}
        cid = drafts.create_case(kind=kind, unit_id=self.office.units[unit], roc_year=year, period=period,
                                 title=f"{kind} {year}", actor=self.office.users[drafter], fields=fields,
                                 db=self.db)
        if attach:
            drafts.add_attachment(cid, self.office.users[drafter], name="照片.png", content_type="image/png",
                                  content=b"\x89PNG random walk", db=self.db)
        self.written = True
        snap = self.snapshot(cid)
        assert (snap.state, snap.version, snap.events) == (defn.initial, 1 + attach, 1 + attach)
        self.versions[cid] = snap.version
        return cid

    def _fire(self, cid: int, trigger: str, who: str | None, comment: str | None, stale: int) -> None:
        before = self.snapshot(cid)
        expected_version = None if stale == 0 else before.version + stale
        if expected_version is not None and expected_version < 1:
            expected_version = before.version + 1
        actor = self.uid(who)
        try:
            res = approval.fire(cid, trigger, actor, comment, expected_version, db=self.db)
        except CaseflowError as exc:
            if expected_version is not None and expected_version != before.version:
                assert isinstance(exc, Conflict), f"stale version gave {type(exc).__name__}: {exc}"
                assert exc.current_version == before.version
            self.check_refused(before, cid, exc)
            return
        assert expected_version in (None, before.version)
        self.check_fired(before, cid, res, trigger, actor, comment)

    @rule(case=cases, trigger=st.sampled_from(TRIGGERS), who=st.sampled_from(PEOPLE), comment=COMMENTS,
          stale=st.sampled_from([0, 0, 0, -1, 1]))
    def fire_anything(self, case: int, trigger: str, who: str | None, comment: str | None, stale: int) -> None:
        """Any trigger, anyone: mostly refusals, which must leave no trace."""
        self._fire(case, trigger, who, comment, stale)

    @rule(case=cases, data=st.data())
    def fire_plausible(self, case: int, data: st.DataObject) -> None:
        """A trigger the case's state declares, usually fired by someone holding its role."""
        defn, unit, state = self.case_info(case)
        specs = defn.transitions_from(state)
        if not specs:
            return
        spec = data.draw(st.sampled_from(specs), label="transition")
        holders = self.holders(spec.roles, unit)
        who = data.draw(st.sampled_from(holders) if holders and data.draw(st.integers(0, 4), label="odds")
                        else st.sampled_from(PEOPLE), label="who")
        comment = data.draw(st.one_of(st.just("請依意見修正"), COMMENTS), label="comment")
        stale = data.draw(st.sampled_from([0, 0, 0, 0, -1]), label="stale")
        self._fire(case, spec.trigger, who, comment, stale)

    @rule(case=cases, data=st.data())
    def advance(self, case: int, data: st.DataObject) -> None:
        """The right person does what the state declares (with a comment): walks reach deep states."""
        defn, unit, state = self.case_info(case)
        specs = defn.transitions_from(state)
        if not specs:
            return
        spec = data.draw(st.sampled_from(specs), label="transition")
        holders = self.holders(spec.roles, unit)
        if holders:
            self._fire(case, spec.trigger, data.draw(st.sampled_from(holders), label="who"), "已核閱", 0)

    @rule(case=cases, data=st.data())
    def act_as_submitter(self, case: int, data: st.DataObject) -> None:
        """Whoever submitted the case tries what its state declares (approving it, most of all)."""
        with self.db.unit_of_work(write=False) as uow:
            c = uow.session.get(Case, case)
            assert c is not None
            submitter = c.submitted_by_id
        defn, _unit, state = self.case_info(case)
        specs = defn.transitions_from(state)
        if submitter is None or not specs:
            return
        who = next(k for k, v in self.office.users.items() if v == submitter)
        self._fire(case, data.draw(st.sampled_from(specs), label="transition").trigger, who, "自行核准", 0)

    @rule(case=cases, who=st.sampled_from(list(STAFF)), change=st.booleans(), bad=st.booleans())
    def edit(self, case: int, who: str, change: bool, bad: bool) -> None:
        """Save a draft's fields (only its drafters, only in draft or returned)."""
        before = self.snapshot(case)
        with self.db.unit_of_work(write=False) as uow:
            c = uow.session.get(Case, case)
            assert c is not None
            fields: dict[str, Any] = dict(c.fields)
            stored = dict(c.fields)
            kind = c.kind
            defn = registry.default().get(self.db, c.kind, c.workflow_version, uow.session)
        if change:
            fields = sample_fields(kind, 115, "Q2")
        if bad:
            fields["no_such_field"] = "x"
        try:
            new_version = drafts.save_fields(case, self.office.users[who], fields, db=self.db)
        except CaseflowError as exc:
            self.check_refused(before, case, exc)
            return
        assert not bad, "an unknown field was accepted"
        after = self.snapshot(case)
        if not fieldmod.changed_fields(stored, fieldmod.clean(defn, fields, complete=False)):
            # Saved as it was: nothing recorded, the version stays.
            assert (after.version, after.events, after.state) == (before.version, before.events, before.state)
        else:
            self.written = True
            assert (after.version, after.events, after.state) == (before.version + 1, before.events + 1,
                                                                  before.state)
        assert new_version == after.version

    @precondition(lambda self: self.versions and len(self.delegations) < 3)
    @rule(principal=st.sampled_from(["personnel_chief", "social_chief", "secretariat_chief", "secretariat",
                                     "convener", "liaison"]),
          to=st.sampled_from(list(STAFF)), start=st.integers(-2, 1), length=st.integers(0, 3))
    def delegate(self, principal: str, to: str, start: int, length: int) -> None:
        """代理: a principal hands their role to someone for a few days (maybe not including today)."""
        if principal == to:
            return
        role = STAFF[principal][1][0]
        first = clock.today() + dt.timedelta(days=start)
        self.delegations.append((principal, to, role, first, first + dt.timedelta(days=length)))
        with self.db.unit_of_work() as uow:
            s = uow.session
            p, d = s.get(User, self.office.users[principal]), s.get(User, self.office.users[to])
            assert p is not None and d is not None
            directory.delegate(s, p, d, role, first, first + dt.timedelta(days=length), "公差")
            uow.commit()

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def cases_are_consistent(self) -> None:
        with self.db.unit_of_work(write=False) as uow:
            s = uow.session
            rows = s.execute(select(Case.id, Case.kind, Case.workflow_version, Case.state, Case.version,
                                    Case.history_seq).where(Case.office_id == self.office.id)).all()
            events = s.execute(select(HistoryEvent.case_id, HistoryEvent.seq, HistoryEvent.event,
                                      HistoryEvent.trigger, HistoryEvent.actor_id, HistoryEvent.on_behalf_of_id)
                               .where(HistoryEvent.office_id == self.office.id)
                               .order_by(HistoryEvent.case_id, HistoryEvent.seq)).all()
            for cid, kind, wv, state, version, seq in rows:
                defn = registry.default().get(self.db, kind, wv, s)
                assert state in defn.state_names, f"case {cid} is in undeclared state {state!r}"
                assert version >= self.versions.get(cid, 1), f"case {cid} went back to version {version}"
                self.versions[cid] = version
                counted = [e for e in events if e.case_id == cid and e.event != "document"]
                assert len(counted) == version, f"case {cid}: version {version} but {len(counted)} events"
                assert max((e.seq for e in events if e.case_id == cid), default=0) == seq
        submitter: dict[int, int | None] = {}
        for e in events:
            if e.trigger == "submit":
                submitter[e.case_id] = e.actor_id
            elif e.trigger == "approve" and submitter.get(e.case_id) is not None:
                assert submitter[e.case_id] not in (e.actor_id, e.on_behalf_of_id), (
                    f"case {e.case_id}: approved (event #{e.seq}) by the person who submitted it")

    @invariant()
    def history_verifies(self) -> None:
        if not self.written:
            return
        self.written = False
        broken = [b for _cid, b in audit.verify(self.db, office_id=self.office.id) if b is not None]
        assert not broken, [str(b) for b in broken]


@pytest.mark.fault
def test_random_walks(db: Database, _password_hash: str) -> None:
    moves: list[str] = []  # the destination of every transition the walks made

    class Walk(CaseMachine):
        def teardown(self) -> None:
            with self.db.unit_of_work(write=False) as uow:
                moves.extend(uow.session.scalars(select(HistoryEvent.to_state).where(
                    HistoryEvent.office_id == self.office.id, HistoryEvent.event == "transition")))

    Walk.db = db
    Walk.pw_hash = _password_hash
    run_state_machine_as_test(Walk, settings=PROFILE)
    # The walks must mostly move cases, not only be refused, or they test little. (Which states they
    # reach varies from run to run; that they move at all must not.)
    assert len(moves) >= PROFILE.max_examples // 5 and "section_review" in moves, sorted(set(moves))
