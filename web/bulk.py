"""批次核准: a reviewer selects several cases in 我的工作, confirms the list, and approves them.

Which rows get a checkbox mirrors ``case_page.available_transitions`` (role held now, own or
delegated, for the case's unit; never a case the user or their principal submitted). The server
still checks everything again: each case is approved by ``approval.approve`` with the version
the page showed, and each outcome (approved, someone acted first, refused and why) is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.errors import conflict_message, error_message
from web.i18n import gettext as _
from web.labels import kind_label, state_label
from workflow.cases import approval
from workflow.db import Database
from workflow.engine import registry
from workflow.errors import CaseflowError, Conflict, NotFound
from workflow.models import Case, Unit, User
from workflow.people import permissions
from workflow.views.queues import QueueItem

APPROVE = "approve"
MAX_SELECTED = 200  # one confirmation page; a larger batch is a mistake, not a workflow


def can_approve(db: Database, caps: Sequence[permissions.Capacity], user_id: int, item: QueueItem) -> bool:
    """May ``user_id`` approve this queue row now (as far as the page can tell)?"""
    defn = registry.default().get(db, item.kind, item.workflow_version)
    spec = defn.transition(APPROVE, item.state)
    if spec is None:
        return False
    cap = permissions.match(caps, spec.roles, item.unit_id)
    if cap is None:
        return False
    submitted_it = item.submitted_by_id is not None and item.submitted_by_id in (user_id, cap.on_behalf_of)
    return not ("not_submitter" in spec.conditions and submitted_it)


def parse_selection(values: Sequence[str]) -> list[tuple[int, int]]:
    """``["12:3", ...]`` (case id : version the page showed) → [(12, 3), ...]; bad entries dropped."""
    out: dict[int, int] = {}
    for v in values[:MAX_SELECTED]:
        cid, sep, ver = v.partition(":")
        if sep and cid.isdigit() and ver.isdigit() and 0 < len(cid) <= 10 and 0 < len(ver) <= 10:
            out.setdefault(int(cid), int(ver))
    return list(out.items())


@dataclass(frozen=True)
class Selected:
    case_id: int
    version: int
    title: str
    kind_label: str
    unit_name: str
    state_label: str
    submitted_by: str | None
    kind: str
    workflow_version: int


def describe(db: Database, s: Session, office_id: int, selection: list[tuple[int, int]]) -> list[Selected]:
    """The selected cases of the user's office, for the confirmation page (one query)."""
    if not selection:
        return []
    versions = dict(selection)
    submitter = User.__table__.alias("submitter")
    rows = s.execute(
        select(Case.id, Case.kind, Case.workflow_version, Case.title, Case.state, Unit.name,
               submitter.c.display_name)
        .join(Unit, Unit.id == Case.unit_id)
        .outerjoin(submitter, submitter.c.id == Case.submitted_by_id)
        .where(Case.office_id == office_id, Case.id.in_(versions))
    ).all()
    by_id = {r.id: r for r in rows}
    out = []
    for cid, version in selection:
        r = by_id.get(cid)
        if r is None:
            continue  # another office's or no such case: not shown, ids reveal nothing
        defn = registry.default().get(db, r.kind, r.workflow_version, s)
        out.append(Selected(cid, version, r.title, kind_label(r.kind), r.name, state_label(defn, r.state),
                            r.display_name, r.kind, r.workflow_version))
    return out


@dataclass(frozen=True)
class Outcome:
    case_id: int
    title: str
    status: str  # "approved" | "conflict" | "refused"
    message: str


def approve_all(db: Database, user_id: int, selected: list[Selected]) -> list[Outcome]:
    """Approve each case with the version the confirmation page showed; one transaction each."""
    out = []
    for c in selected:
        try:
            result = approval.approve(c.case_id, user_id, expected_version=c.version, db=db)
        except Conflict as exc:
            out.append(Outcome(c.case_id, c.title, "conflict", conflict_message(exc)))
            continue
        except NotFound:
            out.append(Outcome(c.case_id, c.title, "refused", str(_("找不到這個案件。"))))
            continue
        except CaseflowError as exc:
            out.append(Outcome(c.case_id, c.title, "refused", error_message(exc)))
            continue
        now = state_label(registry.default().get(db, c.kind, c.workflow_version), result.to_state)
        out.append(Outcome(c.case_id, c.title, "approved", str(_("案件目前為「%(state)s」。", state=now))))
    return out
