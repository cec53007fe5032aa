"""``caseflow bench peer``: the peer runs the same four-step approval as caseflow, and both persist
every step.

The BPMN file is checked against the plan amendment's declared line (the same steps, each acted on
by the role caseflow asks for), the caseflow side is the real operation end to end, and the peer
itself runs where the bench extra is installed (SpiffWorkflow is not a test dependency: the brief
keeps it to ``.[bench]``); where it is not, the bench says how to get it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import func, select

from caseflow.bench import peer
from workflow.cases.approval import DOCUMENT_TOPIC, HANDOFF_TOPIC
from workflow.db import Database
from workflow.engine import audit, registry
from workflow.models import Case, HistoryEvent, OutboxMessage

BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def _process() -> ET.Element:
    process = ET.parse(peer.BPMN).getroot().find(f"bpmn:process[@id='{peer.PROCESS}']", BPMN_NS)
    assert process is not None
    return process


def test_the_bpmn_process_is_the_plan_amendments_four_steps_with_their_roles() -> None:
    process = _process()
    lanes = {ref.text: lane.get("name") for lane in process.iterfind("bpmn:laneSet/bpmn:lane", BPMN_NS)
             for ref in lane.iterfind("bpmn:flowNodeRef", BPMN_NS)}
    flows = {f.get("id"): f for f in process.iterfind("bpmn:sequenceFlow", BPMN_NS)}
    tasks = [t.get("id") for t in process.iterfind("bpmn:userTask", BPMN_NS)]
    assert tasks == [task for _trigger, task, _role in peer.STEPS]
    defn = registry.default().latest("plan_amendment")
    for k, (trigger, task, role) in enumerate(peer.STEPS):
        # caseflow's step: the trigger leaves the state of the same name, for the same role.
        t = defn.transition(trigger, task)
        assert t is not None, (trigger, task)
        assert role in {"staff" if r == "@drafter" else r for r in t.roles}, (task, t.roles)
        assert lanes[task] == role
        if k == 0:
            continue
        # A review approves to the next step (or the end) and returns to the draft by default.
        gateway = process.find(f"bpmn:exclusiveGateway[@id='{task.replace('_review', '')}_decision']", BPMN_NS)
        assert gateway is not None, task
        outgoing = {flows[o.text].get("targetRef"): flows[o.text] for o in gateway.iterfind("bpmn:outgoing", BPMN_NS)}
        after = peer.STEPS[k + 1][1] if k + 1 < len(peer.STEPS) else "approved"
        condition = outgoing[after].find("bpmn:conditionExpression", BPMN_NS)
        assert condition is not None and condition.text == 'decision == "approve"'
        assert gateway.get("default") == outgoing["draft"].get("id")
    assert defn.transition("approve", "task_force_review").dest == "approved"  # type: ignore[union-attr]


def test_the_caseflow_side_is_the_real_approval_persisted_step_by_step(db: Database) -> None:
    ours = peer.Caseflow(db)
    case_id = ours.open()
    states = [ours.step(case_id, k) for k in range(3)]
    ours.task_force_passes([case_id])
    states.append(ours.step(case_id, 3))
    assert states == ["section_review", "secretariat_review", "task_force_review", "approved"]
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        case = s.get(Case, case_id)
        assert case is not None and case.state == "approved"
        events = list(s.scalars(select(HistoryEvent).where(HistoryEvent.case_id == case_id)
                                .order_by(HistoryEvent.seq)))
        outbox = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.payload["case_id"].as_integer() == case_id, OutboxMessage.topic == DOCUMENT_TOPIC))
        told = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.payload["case_id"].as_integer() == case_id, OutboxMessage.topic == HANDOFF_TOPIC))
    assert [e.trigger for e in events if e.event == "transition"] == ["submit", "approve", "approve", "approve"]
    assert audit.verify_case(events, case) is None
    assert outbox == 3  # 簽 and 修正對照表 for the chief, the 修正對照表 again for the task force
    assert told == 4  # each step tells the people who hold the case next


def test_the_peer_runs_the_same_approval_and_persists_every_step(db: Database) -> None:
    import SpiffWorkflow  # noqa: F401  (run-tests installs the bench extra: a missing peer fails here)
    spiff = peer.Spiff(db)
    try:
        inst = spiff.open()
        with pytest.raises(PermissionError):
            spiff.step(inst, "chief")  # the draft is the staff's lane
        done = [spiff.step(inst, role, reload=k % 2 == 1) for k, (_t, _task, role) in enumerate(peer.STEPS)]
        returned = spiff.open()
        spiff.step(returned, "staff")
        spiff.step(returned, "chief", "return")  # back to the draft, as caseflow's return for revision
        assert spiff.step(returned, "staff") == "draft"
        with db.engine.connect() as conn:
            rows = conn.execute(select(peer.peer_audit.c.task, peer.peer_audit.c.prev_hash, peer.peer_audit.c.hash)
                                .where(peer.peer_audit.c.workflow_id == inst.id).order_by(peer.peer_audit.c.seq)).all()
            version, state = conn.execute(select(peer.peer_workflows.c.version, peer.peer_workflows.c.state)
                                          .where(peer.peer_workflows.c.id == inst.id)).one()
    finally:
        spiff.drop()
    assert done == [task for _t, task, _role in peer.STEPS]
    assert spiff.completed(inst)
    assert [r.task for r in rows] == done
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, len(rows)))
    assert version == 5 and json.loads(state)  # four steps after the first write, each a whole workflow as JSON


def test_without_the_bench_extra_the_peer_says_how_to_get_it(tmp_path: Path) -> None:
    """Run as the command line does, with SpiffWorkflow made unimportable in that process only."""
    code = ("import sys; sys.modules['SpiffWorkflow'] = None; from caseflow.cli import main; "
            "main(['bench', 'peer', '--json'])")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'peer.db'}", "CASEFLOW_INSTANCE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr  # not run is neither met nor missed
    [line] = json.loads(done.stdout)
    assert line["not_run"] == "needs SpiffWorkflow 3.1-3.2, the bench extra: pip install -e '.[bench]'"
    assert line["pass"] is None
