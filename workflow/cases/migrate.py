"""Moving running cases of a kind onto another version of its workflow (``caseflow workflow migrate``):
each case keeps its state where the target version has a state of that name, or goes where the
``mapping`` says; a state the target neither has nor maps is refused before anything moves. The
moves happen in one transaction, each with a ``migrated`` event in the case's history (from and to
version and state) under the same compare-and-set as any transition.

Final cases (filed, withdrawn, ...) are history: they stay on the version they ended on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from workflow import clock
from workflow.cases import writes
from workflow.db import Database
from workflow.engine import audit, registry
from workflow.errors import NotFound, ValidationError
from workflow.models import Case, Office


@dataclass(frozen=True)
class Move:
    case_id: int
    title: str
    office_code: str
    from_version: int
    from_state: str
    to_state: str | None  # None: the target has no such state and the mapping says nothing

    @property
    def blocked(self) -> bool:
        return self.to_state is None


@dataclass(frozen=True)
class Plan:
    kind: str
    to_version: int
    moves: list[Move]

    @property
    def blocked(self) -> list[Move]:
        return [m for m in self.moves if m.blocked]


def plan(db: Database, kind: str, to_version: int, mapping: Mapping[str, str], *,
         office_code: str | None = None) -> Plan:
    """Where each running case of ``kind`` not on ``to_version`` would go; nothing is written."""
    reg = registry.default()
    reg.latest(kind)  # an unknown kind: a clear error
    target = reg.get(db, kind, to_version)
    names = set(target.state_names)
    wrong = sorted(f"{old}={new}" for old, new in mapping.items() if new not in names)
    if wrong:
        raise ValidationError({"map": (f"目標版本沒有這些狀態：{'、'.join(wrong)}；可用：{'、'.join(sorted(names))}",
                                       f"the target version has no such state: {', '.join(wrong)}; "
                                       f"its states: {', '.join(sorted(names))}")})
    moves = []
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        q = (select(Case.id, Case.title, Case.workflow_version, Case.state, Office.code)
             .join(Office, Office.id == Case.office_id)
             .where(Case.kind == kind, Case.workflow_version != to_version).order_by(Case.id))
        if office_code is not None:
            if s.scalar(select(Office.id).where(Office.code == office_code)) is None:
                raise NotFound(f"沒有代碼為 {office_code} 的區公所", f"no office {office_code!r}")
            q = q.where(Office.code == office_code)
        for cid, title, version, state, code in s.execute(q):
            if reg.get(db, kind, version, s).state(state).final:
                continue
            to = mapping.get(state, state if state in names else None)
            moves.append(Move(cid, title, code, version, state, to))
    return Plan(kind, to_version, moves)


def apply(db: Database, p: Plan, actor_id: int | None = None) -> int:
    """Move every case of the plan in one transaction; refused (nothing moved) if any is blocked or
    a case changed since the plan was made."""
    if p.blocked:
        states = sorted({m.from_state for m in p.blocked})
        raise ValidationError({"map": (f"這些狀態在目標版本中沒有對應：{'、'.join(states)}；請用 --map 舊=新 指定",
                                       f"no state in the target version for: {', '.join(states)}; "
                                       "give --map OLD=NEW")})
    now = clock.now()
    with db.unit_of_work() as uow:
        s = uow.session
        for m in p.moves:
            case = s.get_one(Case, m.case_id)
            if (case.workflow_version, case.state) != (m.from_version, m.from_state):
                raise writes.conflict(db, case.id, case.version)
            assert m.to_state is not None
            history = writes.history_row(
                case, seq=case.history_seq + 1, prev_hash=case.history_head or audit.GENESIS, event="migrated",
                at=now, actor_id=actor_id, on_behalf_of_id=None, from_state=m.from_state, to_state=m.to_state,
                data={"from_version": m.from_version, "to_version": p.to_version})
            values = {"workflow_version": p.to_version, "state": m.to_state, "updated_at": now}
            if m.to_state != m.from_state:
                values["entered_state_at"] = now
            writes.write(s, db, case, values, history)
        uow.commit()
    return len(p.moves)
