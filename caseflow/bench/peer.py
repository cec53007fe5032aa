"""``caseflow bench peer``: caseflow's four-step approval against a general BPMN engine's, on this database.

The peer is SpiffWorkflow (the bench extra, ``pip install -e '.[bench]'``) running ``approval.bpmn``:
draft → section review (課長) → secretariat review (秘書室) → task force approval (專案小組), the
line caseflow's plan amendment takes. Both sides persist every step before the next:

- caseflow: ``approval.fire`` (submit, approve, approve, approve), each one transaction with its
  checks, CAS update, hash-chained history event and outbox rows. The task force's decision that
  the last step needs is recorded between the third and fourth steps, untimed.
- SpiffWorkflow: run the ready user task (its lane checked against the actor's role) and the
  engine steps after it, serialize the whole workflow to JSON, and write it with SQLAlchemy Core:
  ``UPDATE ... WHERE version = :seen`` plus one hash-chained audit row, one transaction. The
  workflow object stays in memory between steps (the issue's set-up). An informational line
  also loads and deserializes it before each step, as a request would.

A third, informational line is the floor both stand on: Core's UPDATE + INSERT, committed (the
transitions bench's). The three are timed in interleaved rounds, so each sees the same load on
a shared machine, and reported as persisted steps per second (1 / the median time of a step).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert, select, update

from caseflow.bench import Result, median, not_run
from caseflow.bench.transitions import _Floor
from workflow import clock
from workflow.cases import approval, drafts
from workflow.db import Database
from workflow.demo import sample_fields
from workflow.engine import registry
from workflow.migrate import upgrade
from workflow.people import directory
from workflow.people.passwords import hash_password
from workflow.registers import meetings, task_force

BPMN = Path(__file__).with_name("approval.bpmn")
PROCESS = "approval"
# (caseflow trigger, BPMN task, role): the four persisted steps of one approval, in order.
STEPS = (("submit", "draft", "staff"), ("approve", "section_review", "chief"),
         ("approve", "secretariat_review", "secretariat"), ("approve", "task_force_review", "convener"))
GOAL = 1.5  # caseflow's persisted step rate over the peer's

_scratch = MetaData()
peer_workflows = Table("bench_peer_workflows", _scratch, Column("id", Integer, primary_key=True),
                       Column("version", Integer, nullable=False), Column("task", String(40)),
                       Column("state", Text, nullable=False), Column("updated_at", DateTime(timezone=True)))
peer_audit = Table("bench_peer_audit", _scratch, Column("id", Integer, primary_key=True),
                   Column("workflow_id", Integer, nullable=False), Column("seq", Integer, nullable=False),
                   Column("at", DateTime(timezone=True)), Column("actor", String(40)), Column("task", String(40)),
                   Column("decision", String(20)), Column("prev_hash", String(64)), Column("hash", String(64)))


def spiff_problem() -> str | None:
    """Why the peer cannot run here, or None."""
    try:
        import SpiffWorkflow  # noqa: F401
    except ImportError:
        return "needs SpiffWorkflow 3.1-3.2, the bench extra: pip install -e '.[bench]'"
    return None


def spiff_version() -> str:
    from importlib.metadata import version

    return version("SpiffWorkflow")


# -- the peer -----------------------------------------------------------------------------------
@dataclass
class _Instance:
    id: int
    workflow: Any
    version: int = 1
    seq: int = 0
    head: str = "0" * 64


class Spiff:
    """The BPMN process under SpiffWorkflow, persisted with Core on scratch tables."""

    def __init__(self, db: Database) -> None:
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.util.task import TaskState

        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        self.spec = parser.get_spec(PROCESS)
        self.serializer = BpmnWorkflowSerializer()
        self._workflow_cls, self._ready = BpmnWorkflow, TaskState.READY
        self.db = db
        _scratch.drop_all(db.engine)
        _scratch.create_all(db.engine)

    def open(self) -> _Instance:
        """A new process instance waiting at its draft, stored (untimed set-up)."""
        wf = self._workflow_cls(self.spec)
        wf.do_engine_steps()
        with self.db.engine.begin() as conn:
            key = conn.execute(insert(peer_workflows).values(
                version=1, task="draft", state=self.serializer.serialize_json(wf),
                updated_at=dt.datetime.now(dt.UTC))).inserted_primary_key
        assert key is not None
        return _Instance(int(key[0]), wf)

    def step(self, inst: _Instance, role: str, decision: str = "approve", *, reload: bool = False) -> str:
        """One persisted step: the ready task (checked against ``role``), the engine steps after
        it, the workflow as JSON and an audit row, committed. Returns the task's name."""
        with self.db.engine.begin() as conn:
            if reload:  # as a request would: the stored workflow, not the one in memory
                state, version = conn.execute(select(peer_workflows.c.state, peer_workflows.c.version)
                                              .where(peer_workflows.c.id == inst.id)).one()
                inst.workflow, inst.version = self.serializer.deserialize_json(state), version
            task = inst.workflow.get_next_task(state=self._ready, manual=True)
            if task is None:
                raise RuntimeError(f"peer workflow {inst.id} has no ready task")
            if task.task_spec.lane != role:
                raise PermissionError(f"{role} may not act on {task.task_spec.name} ({task.task_spec.lane})")
            task.data["decision"] = decision
            task.run()
            inst.workflow.do_engine_steps()
            now = dt.datetime.now(dt.UTC)
            res = conn.execute(update(peer_workflows)
                               .where(peer_workflows.c.id == inst.id, peer_workflows.c.version == inst.version)
                               .values(version=inst.version + 1, task=task.task_spec.name, updated_at=now,
                                       state=self.serializer.serialize_json(inst.workflow)))
            if res.rowcount != 1:
                raise RuntimeError(f"peer workflow {inst.id} lost its version")
            event = {"workflow": inst.id, "seq": inst.seq + 1, "at": now.isoformat(), "actor": role,
                     "task": task.task_spec.name, "decision": decision}
            digest = hashlib.sha256((inst.head + json.dumps(event, sort_keys=True)).encode()).hexdigest()
            conn.execute(insert(peer_audit).values(workflow_id=inst.id, seq=inst.seq + 1, at=now, actor=role,
                                                   task=task.task_spec.name, decision=decision,
                                                   prev_hash=inst.head, hash=digest))
        inst.version, inst.seq, inst.head = inst.version + 1, inst.seq + 1, digest
        return str(task.task_spec.name)

    def completed(self, inst: _Instance) -> bool:
        return bool(inst.workflow.is_completed())

    def drop(self) -> None:
        _scratch.drop_all(self.db.engine)


# -- caseflow -------------------------------------------------------------------------------------
class Caseflow:
    """An office with a person in each role of the line and a seated task force of six."""

    def __init__(self, db: Database) -> None:
        code = f"bpeer-{uuid.uuid4().hex[:8]}"
        today = clock.today()
        with db.unit_of_work() as uow:
            s = uow.session
            office = directory.add_office(s, code, f"效能對照{code}")
            unit = directory.add_unit(s, office, "secretariat", "秘書室")
            pw = hash_password("bench-only-password")
            people = {}
            for role in ("staff", "chief", "secretariat", "convener"):
                u = directory.add_user(s, office, f"{code}.{role}", role, sex="F", unit=unit, password_hash=pw)
                directory.grant(s, u, role, unit=unit if role in ("staff", "chief") else None)
                people[role] = u.id
            for i, sex in enumerate("FMFMFM"):
                task_force.add_member(s, office.id, None, name=f"委員{i + 1}", sex=sex, internal=i < 4,
                                      role="convener" if i == 0 else "member",
                                      seat="unit_chief" if i < 4 else "external_civil",
                                      term_start=today.replace(month=1, day=1))
            uow.commit()
            self.office, self.unit, self.people = office.id, unit.id, people
        self.db = db

    def open(self) -> int:
        return drafts.create_case(kind="plan_amendment", unit_id=self.unit, roc_year=115, period=None,
                                  title="bench peer", actor=self.people["staff"], db=self.db,
                                  fields=sample_fields("plan_amendment", 115, None))

    def step(self, case_id: int, k: int) -> str:
        trigger, _task, role = STEPS[k]
        return approval.fire(case_id, trigger, self.people[role], db=self.db).to_state

    def task_force_passes(self, case_ids: list[int]) -> None:
        """What the last step needs: a held, quorate meeting passing these cases (untimed)."""
        with self.db.unit_of_work() as uow:
            meetings.hold(uow.session, self.office, None, held_on=clock.today(), place="第一會議室",
                          passes=tuple(case_ids))
            uow.commit()


def _timed(fn: Any, *args: Any, **kwargs: Any) -> float:
    t0 = time.perf_counter_ns()
    fn(*args, **kwargs)
    return (time.perf_counter_ns() - t0) / 1000


def _rate(us: list[float]) -> float:
    """Persisted steps per second: 1 / the median step (a neighbour's burst on a shared machine
    moves a mean, not a median)."""
    return 1e6 / median(us) if us else 0.0


def run(db: Database, *, rounds: int = 10, batch: int = 5) -> list[Result]:
    """``rounds`` × ``batch`` approvals of four steps each, per engine, interleaved."""
    problem = spiff_problem()
    if problem:
        return [not_run("caseflow four-step approval, persisted steps/s vs SpiffWorkflow", problem)]
    upgrade(db)
    registry.default().sync(db)
    ours, spiff = Caseflow(db), Spiff(db)
    floor = _Floor(db)
    cf_us: list[float] = []
    peer_us: list[float] = []
    reload_us: list[float] = []
    floor_us: list[float] = []
    try:
        for r in range(rounds + 1):  # round 0 warms caches, connections and compiled statements
            cases = [ours.open() for _ in range(batch)]
            t_cf = [_timed(ours.step, c, k) for k in range(3) for c in cases]
            ours.task_force_passes(cases)
            t_cf += [_timed(ours.step, c, 3) for c in cases]
            kept = [spiff.open() for _ in range(batch)]
            t_peer = [_timed(spiff.step, i, role) for _t, _task, role in STEPS for i in kept]
            loaded = [spiff.open() for _ in range(batch)]
            t_reload = [_timed(spiff.step, i, role, reload=True) for _t, _task, role in STEPS for i in loaded]
            t_floor = [_timed(floor.step) for _ in range(4 * batch)]
            if not all(spiff.completed(i) for i in kept + loaded):
                raise RuntimeError("a peer workflow did not complete in four steps")
            if r:
                cf_us += t_cf
                peer_us += t_peer
                reload_us += t_reload
                floor_us += t_floor
    finally:
        spiff.drop()
        floor.drop()
    cf, peer, peer_loaded, core = _rate(cf_us), _rate(peer_us), _rate(reload_us), _rate(floor_us)
    name = f"SpiffWorkflow {spiff_version()}"
    n = len(cf_us)
    return [
        Result(f"caseflow four-step approval, persisted steps/s vs {name} ({db.dialect}, {n} steps)", cf,
               "steps/s", peer, cf / peer if peer else None, f"ratio >= {GOAL}", peer > 0 and cf / peer >= GOAL),
        Result(f"  {name}: the same approval, JSON + audit row per step", peer, "steps/s", None, None,
               "informational (the peer)", None),
        Result(f"  {name}, loading and deserializing before each step", peer_loaded, "steps/s", None, None,
               "informational (as a request would)", None),
        Result("  floor: Core UPDATE + INSERT, committed", core, "steps/s", None, None,
               "informational (what both stand on)", None),
    ]
