"""Transitions: ``fire`` moves a case along its workflow (submit, approve, return, withdraw, file),
checking the actor's role (or 代理), the transition and its conditions, then writes state, history
and the outbox rows (the documents the new state needs, its background tasks, and the hand-off
notice that tells the people who now hold the case) in one transaction (``writes.write``).

Shape of every operation (cosmicpython's handlers, indico's operations): load the case, check the
actor may act, check the transition and its conditions, write state + history + outbox, commit once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, true
from sqlalchemy.orm import Session

from workflow import clock, metrics
from workflow.cases import one_trip, writes
from workflow.cases.writes import Result
from workflow.db import Database
from workflow.engine import audit, machine, registry
from workflow.engine import fields as fieldmod
from workflow.engine.conditions import CONDITIONS, CheckContext
from workflow.engine.definitions import TASK_TOPICS, Definition
from workflow.errors import ConditionFailed, NotFound, PermissionDenied, TransitionNotAllowed
from workflow.models import Attachment, Case, Office, Unit, User
from workflow.people import permissions
from workflow.registers import meetings, written
from workflow.roles import SYSTEM

DOCUMENT_TOPIC = "document.render"
# Every transition's notice to the people who now hold the case (workflow.notifications.handoffs).
HANDOFF_TOPIC = "notify.handoff"
_cases = cast(Table, Case.__table__)
_users = cast(Table, User.__table__)
_offices = cast(Table, Office.__table__)
# One round trip: the case, the actor's office and whether the account is active, the case's
# attachment count, and one row per capacity (role) the actor holds today in their office (NULL
# role when none).
_caps = permissions.capacities_in_own_office().subquery("caps")
_LOAD_FOR_FIRE = (
    select(
        _cases,
        select(_users.c.office_id).where(_users.c.id == bindparam("user_id")).scalar_subquery().label("actor_office"),
        select(_users.c.active).where(_users.c.id == bindparam("user_id")).scalar_subquery().label("actor_active"),
        select(_offices.c.kind).join(_users, _users.c.office_id == _offices.c.id)
        .where(_users.c.id == bindparam("user_id")).scalar_subquery().label("actor_office_kind"),
        # What the "attachments_present" condition counts, read here rather than in a round trip of its own.
        select(func.count()).where(Attachment.case_id == _cases.c.id).scalar_subquery().label("attachment_count"),
        _caps.c.role.label("cap_role"), _caps.c.unit_id.label("cap_unit"), _caps.c.user_id.label("cap_principal"),
    )
    .select_from(_cases.outerjoin(_caps, true()))
    .where(_cases.c.id == bindparam("case_id"))
)


def allowed_triggers(defn: Definition, state: str) -> list[str]:
    return sorted({t.trigger for t in defn.transitions_from(state)})


# -- fire -------------------------------------------------------------------------------------
def fire(
    case_id: int,
    trigger: str,
    actor: int | None,
    comment: str | None = None,
    expected_version: int | None = None,
    *,
    db: Database | None = None,
    data: Mapping[str, Any] | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Result:
    """Fire ``trigger`` on a case as user ``actor`` (None: the system, for background outcomes).

    ``facts``: what the caller found that a condition needs and the domain cannot compute (the
    pre-publication checks of ``publishing/``, see ``conditions.PREPUBLICATION_PROBLEMS``).

    Raises NotFound, Conflict, PermissionDenied, TransitionNotAllowed, ConditionFailed or
    ValidationError; on any of them nothing was written. After the commit, the after-commit
    listeners (the outbox relay) are told which outbox rows were written.
    """
    database = writes.resolve_db(db)
    comment = writes.clean_comment(comment)
    registry.default().sync(database)  # outside the transaction: it may writes.write new versions
    for _attempt in range(5):
        try:
            result = _fire_once(database, case_id, trigger, actor, comment, expected_version, data, facts)
        except writes.HistoryMoved:
            continue
        writes.notify_committed(result.outbox_ids)
        return result
    raise writes.conflict(database, case_id, expected_version or 0)


def _fire_once(
    database: Database,
    case_id: int,
    trigger: str,
    actor: int | None,
    comment: str | None,
    expected_version: int | None,
    data: Mapping[str, Any] | None,
    facts: Mapping[str, Any] | None = None,
) -> Result:
    # One statement writes (one_trip): on PostgreSQL it is its own transaction (see unit_of_work).
    with database.unit_of_work(one_statement=True) as uow:
        s = uow.session
        rows = s.connection().execute(
            _LOAD_FOR_FIRE, {"case_id": case_id, "user_id": actor, "today": clock.today()}
        ).all()
        case = rows[0] if rows else None
        who_id: int | None = None
        if actor is not None:
            if case is not None and case.actor_office is None:
                raise PermissionDenied("找不到此使用者", f"user {actor} does not exist")
            if case is not None and not case.actor_active:
                raise PermissionDenied("帳號已停用", f"user {actor} is inactive")
            who_id = actor
        if case is None:
            raise NotFound(f"找不到案件 {case_id}", f"no case {case_id}")
        defn = registry.default().get(database, case.kind, case.workflow_version, s)
        # A case of another office does not exist as far as this actor is concerned; the city
        # group's reviewers see every office's cases in the states it holds or reads.
        if actor is not None and case.actor_office != case.office_id and not (
                case.actor_office_kind == "city" and case.state in defn.city_states()):
            raise NotFound(f"找不到案件 {case_id}", f"no case {case_id}")
        seen = case.version
        if expected_version is not None and expected_version != seen:
            raise writes.conflict(database, case_id, expected_version)
        spec = defn.transition(trigger, case.state)
        if spec is None:
            allowed = allowed_triggers(defn, case.state)
            st = defn.state(case.state)
            raise TransitionNotAllowed(
                f"案件目前為「{st.label}」，不能執行「{trigger}」；可執行：{'、'.join(allowed) or '無（已結案）'}",
                f"cannot {trigger!r} from {case.state!r}; allowed: {', '.join(allowed) or 'none (final)'}",
                allowed=allowed,
            )
        if who_id is None:
            if SYSTEM not in spec.roles:
                raise PermissionDenied("此步驟須由使用者執行", f"{trigger!r} must be done by a person")
            on_behalf: int | None = None
        else:
            caps = sorted(
                (permissions.capacity_from_row(who_id, r.cap_role, r.cap_unit, r.cap_principal)
                 for r in rows if r.cap_role is not None),
                key=lambda c: c.on_behalf_of is not None,
            )
            cap = permissions.match(caps, spec.roles, case.unit_id)
            if cap is None:
                unit = s.get(Unit, case.unit_id)
                zh, en = permissions.describe_roles(spec.roles, unit_name=unit.name if unit else None)
                raise PermissionDenied(f"需要以下角色之一才能執行此動作：{zh}", f"needs one of the roles: {en}")
            on_behalf = cap.on_behalf_of
        ctx = CheckContext(
            definition=defn,
            fields=case.fields or {},
            attachment_count=case.attachment_count,
            actor_id=who_id,
            principal_id=on_behalf or who_id,
            submitted_by_id=case.submitted_by_id,
            comment=comment,
            task_force_decision=_task_force_decision(s, case) if "task_force_decided" in spec.conditions else None,
            facts=facts or {},
        )
        for name in spec.conditions:
            failure = CONDITIONS[name].check(ctx)
            if failure is not None:
                raise ConditionFailed(name, failure[0], failure[1])
        new_state = machine.apply(defn, case.state, trigger)
        if new_state != spec.dest:  # the shared machine and the declaration disagree: a bug
            raise RuntimeError(f"machine refused {trigger} from {case.state} for {case.kind}")

        now = clock.now()
        seq = case.history_seq + 1
        event_data: dict[str, Any] = {}
        values: dict[str, Any] = {"state": new_state, "updated_at": now, "entered_state_at": now}
        if new_state in defn.delivering_states():
            values["delivered_at"] = now  # what the plan asked of the office is done: its deadline is met
        elif new_state in {t.source for t in defn.transitions if t.trigger == "submit"}:
            values["delivered_at"] = None  # back with the office (the city sent it back): owed again
        if trigger == "submit":
            values["submitted_by_id"] = who_id
            values["last_submitted_fields"] = case.fields
            if case.last_submitted_fields is not None:
                event_data["changed_fields"] = fieldmod.changed_fields(case.last_submitted_fields, case.fields)
        elif trigger == "return_for_revision":
            values["revision_count"] = case.revision_count + 1
            event_data["revision"] = case.revision_count + 1
        if ctx.task_force_decision is not None:
            event_data["task_force_decision"] = dict(ctx.task_force_decision)  # what the 函 cites
        if data:
            event_data.update(data)
        history = writes.history_row(
            case, seq=seq, prev_hash=case.history_head or audit.GENESIS, event="transition", at=now,
            actor_id=who_id, on_behalf_of_id=on_behalf, trigger=trigger,
            from_state=case.state, to_state=new_state, comment=comment, data=event_data,
        )
        outbox_ids = one_trip.write_transition(
            s, database, case, values, history, _outbox_rows(case, defn, new_state, seq, now))
        uow.commit()
        metrics.TRANSITIONS.labels(kind=case.kind, trigger=trigger).inc()
        return Result(case_id, trigger, case.state, new_state, seen + 1, seq, outbox_ids)


def _task_force_decision(s: Session, case: Any) -> dict[str, Any] | None:
    """A quorate meeting's decision, else (where the office allows it) enough written approvals."""
    ref = meetings.approving_decision(s, case.id, case.kind, case.entered_state_at)
    if ref is not None:
        return ref.as_json()
    return written.approving(s, case) if case.kind != meetings.MEETING_KIND else None


def _outbox_rows(
    case: writes.CaseLike, defn: Definition, state: str, seq: int, now: dt.datetime
) -> list[dict[str, Any]]:
    """The transition's outbox rows: its documents, its tasks, and its hand-off notice (always: who
    is told, if anyone, is decided by its consumer, off the user's request)."""
    spec = defn.state(state)
    payloads = (
        [(DOCUMENT_TOPIC, {"case_id": case.id, "document": doc, "event_seq": seq}) for doc in spec.documents]
        # A declared background task (e.g. publish_posting), under its own topic (TASK_TOPICS).
        + [(TASK_TOPICS[task], {"case_id": case.id, "task": task, "event_seq": seq}) for task in spec.tasks]
        + [(HANDOFF_TOPIC, {"case_id": case.id, "event_seq": seq})]
    )
    return [{"office_id": case.office_id, "topic": topic, "payload": payload, "created_at": now,
             "available_at": now, "attempts": 0} for topic, payload in payloads]


# -- named wrappers ---------------------------------------------------------------------------
def submit(case_id: int, actor: int, expected_version: int | None = None, *, db: Database | None = None) -> Result:
    return fire(case_id, "submit", actor, expected_version=expected_version, db=db)


def approve(
    case_id: int, actor: int, comment: str | None = None, expected_version: int | None = None,
    *, db: Database | None = None,
) -> Result:
    return fire(case_id, "approve", actor, comment, expected_version, db=db)


def return_for_revision(
    case_id: int, actor: int, comment: str, expected_version: int | None = None, *, db: Database | None = None
) -> Result:
    return fire(case_id, "return_for_revision", actor, comment, expected_version, db=db)


def withdraw(
    case_id: int, actor: int, comment: str | None = None, expected_version: int | None = None,
    *, db: Database | None = None,
) -> Result:
    return fire(case_id, "withdraw", actor, comment, expected_version, db=db)


def file_with_city_group(
    case_id: int, actor: int, comment: str | None = None, expected_version: int | None = None,
    *, db: Database | None = None,
) -> Result:
    return fire(case_id, "file_with_city_group", actor, comment, expected_version, db=db)

