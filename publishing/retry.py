"""重新刊登: the secretariat sends a failed posting again, but only what can succeed.

A posting that fails its own pre-publication checks (``publishing.checks``: a photo without alt
text, a phone number in the text, a file type the zone does not publish) would fail again at once,
so ``retry_publish`` runs the checks on the posting as it stands and:

- finds problems: refuses, and counts the refusal as an attempt in the case history (who tried,
  what is wrong) without moving the case, so 等候時間 keeps counting from the first failure; the
  error names each problem and where to fix it;
- finds none: fires ``retry_publish`` with the checks' result (the transition's condition
  ``prepublication_checks_passed`` refuses a retry whose checks were not run), on the version that
  was checked, so an edit in between makes it a conflict rather than an unchecked retry.

``fire_checked`` is what every entry point that fires a trigger by name uses (the case page, the
API, the command line): ``retry_publish`` goes through here, anything else to ``approval.fire``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from publishing import checks
from publishing.publishers import configured_name
from publishing.service import check, load_posting
from workflow import clock
from workflow.cases import approval, posting, writes
from workflow.config import load_publish_settings
from workflow.db import Database
from workflow.engine import registry
from workflow.engine.conditions import PREPUBLICATION_PROBLEMS
from workflow.errors import ConditionFailed, PermissionDenied
from workflow.models import Case, HistoryEvent, Publication
from workflow.people import permissions

TRIGGER = posting.RETRY
CONDITION = "prepublication_checks_passed"


class RetryRefused(ConditionFailed):
    """The posting fails its pre-publication checks: not sent; the refusal was counted as attempt
    number ``attempt`` in the case history."""

    def __init__(self, problems: Sequence[checks.Problem], attempt: int) -> None:
        zh, en = checks.summary(problems)
        super().__init__(
            CONDITION,
            f"不能重新刊登：刊登前檢查未通過，送出也會再次失敗。請先修正以下問題（刊登失敗處理 → 修正後重新刊登），"
            f"再重新刊登：{zh}",
            f"Not sent again: the pre-publication checks fail, so it would fail again. Fix these first "
            f"(failed postings → fix and publish again), then retry: {en}")
        self.problems = list(problems)
        self.attempt = attempt


@dataclass(frozen=True)
class Checked:
    """The posting as checked: its version then, and what the checks found."""

    version: int
    state: str
    problems: list[checks.Problem]


def check_case(s: Session, case: Case) -> list[checks.Problem]:
    """What the pre-publication checks find in the posting as committed (reads its files)."""
    return check(load_posting(s, case))


def problems_now(db: Database, case_id: int) -> list[checks.Problem]:
    """The checks on the posting as now committed, in a fresh read (for the pages that offer a retry)."""
    with db.unit_of_work(write=False) as uow:
        case = uow.session.get(Case, case_id)
        return check_case(uow.session, case) if case is not None else []


def retry_publish(case_id: int, actor: int, comment: str | None = None, expected_version: int | None = None, *,
                  db: Database | None = None) -> writes.Result:
    """Send a failed posting to publishing again, if its checks pass; else ``RetryRefused``."""
    database = writes.resolve_db(db)
    checked = _check(database, case_id, actor, expected_version)
    if checked.state == posting.FAILED and checked.problems:
        attempt = writes.retrying(lambda: _record_refusal(database, case_id, actor, checked, comment))
        raise RetryRefused(checked.problems, attempt)
    facts = {PREPUBLICATION_PROBLEMS: [(p.message, p.message_en) for p in checked.problems]}
    return approval.fire(case_id, TRIGGER, actor, comment, checked.version, db=database, facts=facts)


def fire_checked(case_id: int, trigger: str, actor: int, comment: str | None = None,
                 expected_version: int | None = None, *, db: Database | None = None) -> writes.Result:
    """``approval.fire``, except that ``retry_publish`` runs the pre-publication checks first."""
    if trigger == TRIGGER:
        return retry_publish(case_id, actor, comment, expected_version, db=db)
    return approval.fire(case_id, trigger, actor, comment, expected_version, db=db)


def _check(database: Database, case_id: int, actor: int, expected_version: int | None) -> Checked:
    with database.unit_of_work(write=False) as uow:
        s = uow.session
        who = writes.load_actor(s, actor)
        case = writes.load_case(s, case_id, who)
        if expected_version is not None and expected_version != case.version:
            raise writes.conflict(database, case_id, expected_version)
        problems = check_case(s, case) if case.kind == posting.KIND and case.state == posting.FAILED else []
        return Checked(case.version, case.state, problems)


def _record_refusal(database: Database, case_id: int, actor: int, checked: Checked, comment: str | None) -> int:
    """Count the refused attempt and append it to the history, after the same checks of who may
    retry and of the version that ``approval.fire`` makes (nothing is recorded for someone who
    could not have retried). Returns the attempt's number."""
    registry.default().sync(database)
    for _try in range(2):  # a second try only if another refusal created the publication row first
        with database.unit_of_work() as uow:
            s = uow.session
            who = writes.load_actor(s, actor)
            case = writes.load_case(s, case_id, who)
            if case.version != checked.version:
                raise writes.conflict(database, case_id, checked.version)
            defn = registry.default().get(database, case.kind, case.workflow_version, s)
            spec = defn.transition(TRIGGER, case.state)
            if spec is None:  # moved on meanwhile (the version check makes this a bug guard)
                raise writes.conflict(database, case_id, checked.version)
            cap = permissions.match(permissions.capacities(s, who.id, case.office_id, clock.today()), spec.roles,
                                    case.unit_id)
            if cap is None:
                zh, en = permissions.describe_roles(spec.roles)
                raise PermissionDenied(f"需要以下角色之一才能執行此動作：{zh}", f"needs one of the roles: {en}")
            row = _publication(s, case)
            row.total_attempts += 1
            reason, reason_en = checks.summary(checked.problems)
            row.status, row.last_error, row.last_error_en, row.updated_at = "failed", reason, reason_en, clock.now()
            try:
                s.flush()
            except IntegrityError:
                uow.session.rollback()
                continue
            writes.record_event(case_id, "publication", session=s, actor=who.id, on_behalf_of=cap.on_behalf_of,
                                comment=writes.clean_comment(comment), data={
                                    "round": row.round_seq, "attempt": row.attempts, "total": row.total_attempts,
                                    "publisher": row.publisher, "outcome": "refused", "error": reason,
                                    "error_en": reason_en, "problems": [p.code for p in checked.problems]})
            uow.commit()
            return row.total_attempts
    raise RuntimeError(f"could not record the refused retry of case {case_id}")


def _publication(s: Session, case: Case) -> Publication:
    """The posting's publication row; made now for a posting that failed without one (the demo's)."""
    row = s.scalar(select(Publication).where(Publication.case_id == case.id).with_for_update())
    if row is not None:
        return row
    round_seq = s.scalar(select(func.max(HistoryEvent.seq)).where(
        HistoryEvent.case_id == case.id, HistoryEvent.to_state == posting.PUBLISHING)) or case.history_seq
    now = clock.now()
    row = Publication(office_id=case.office_id, case_id=case.id, idempotency_key=uuid.uuid4().hex,
                      publisher=configured_name(load_publish_settings()), status="failed", round_seq=round_seq,
                      attempts=0, total_attempts=0, created_at=now, updated_at=now)
    s.add(row)
    return row
