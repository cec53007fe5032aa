"""What the case page shows, computed from the case and its workflow: plain values for the template.

Kept apart from the view so ``cases.py`` stays load → check → act → render, and so the queries a
page runs are in one place (a constant number, whatever the length of the history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from publishing import retry
from publishing.checks import Problem
from web.case_documents import DocumentGroup, groups, versions
from web.forms import ActionForm
from web.i18n import gettext as _
from web.i18n import localized
from web.labels import (
    document_label,
    event_label,
    kind_label,
    period_label,
    publication_detail,
    state_label,
    trigger_label,
)
from workflow import clock, rocdate
from workflow.calendar import deadlines
from workflow.cases import posting
from workflow.db import Database
from workflow.engine import registry
from workflow.engine.definitions import Definition, FieldSpec, TransitionSpec
from workflow.models import Attachment, Case, HistoryEvent, Unit, User
from workflow.people import permissions


@dataclass(frozen=True)
class FieldView:
    label: str
    type: str
    value: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    name: str = ""


@dataclass(frozen=True)
class StateView:
    label: str
    current: bool
    final: bool
    exits: list[str]


@dataclass(frozen=True)
class ActionView:
    trigger: str
    label: str
    dest_label: str
    needs_comment: bool
    secondary: bool  # sends the case back or away: drawn less prominently
    form: ActionForm
    needs_confirm: bool = False  # ends the case for good (withdraw): a box to tick first
    takes_comment: bool = False  # an optional 意見 (e.g. on 核准), kept in the history


# Triggers that end a case for good: the form asks for a ticked box, so one click cannot do it.
CONFIRMED_TRIGGERS = frozenset({"withdraw"})
SECONDARY_TRIGGERS = frozenset({"return_for_revision", "withdraw", "take_back"})
# Actions of the drafter on their own case: nobody reads a comment there.
NO_COMMENT_TRIGGERS = frozenset({"submit", "withdraw", "take_back"})


@dataclass(frozen=True)
class HistoryView:
    at: dt.datetime
    what: str
    actor: str
    on_behalf_of: str | None
    from_label: str
    to_label: str
    comment: str | None
    detail: str


@dataclass(frozen=True)
class AttachmentView:
    name: str
    content_type: str
    size: int
    uploaded_by: str
    uploaded_at: dt.datetime
    id: int = 0  # for the download link (web/uploads.py)
    alt_text: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class CasePage:
    case: Case
    kind_label: str
    state_label: str
    unit_name: str
    period_label: str
    submitted_by: str | None
    fields: list[FieldView]
    states: list[StateView]
    actions: list[ActionView]
    history: list[HistoryView]
    attachments: list[AttachmentView]
    documents: list[DocumentGroup]
    step: deadlines.StepDeadline | None = None  # the current review step's deadline (or its stopped clock)
    step_overdue: bool = False
    # A posting whose publication failed: what its pre-publication checks find now (重新刊登 is not
    # offered until they pass).
    publish_problems: list[str] = field(default_factory=list)

    @property
    def can_edit(self) -> bool:
        """The user may submit it now, so it is a draft (or returned) of theirs: offer the edit form."""
        return any(a.trigger == "submit" for a in self.actions)


def build(db: Database, s: Session, user_id: int, case: Case, *, office_id: int | None = None) -> CasePage:
    """The case page for ``user_id``, whose roles are those of ``office_id`` (their own office: the
    case's, or the city group's for its reviewers)."""
    defn = registry.default().get(db, case.kind, case.workflow_version, s)
    unit = s.get(Unit, case.unit_id)
    submitter = s.get(User, case.submitted_by_id) if case.submitted_by_id else None
    problems = publish_problems(s, case)
    return CasePage(
        case=case,
        kind_label=kind_label(case.kind),
        state_label=state_label(defn, case.state),
        unit_name=localized(unit.name, unit.name_en) if unit else "",
        period_label=period_label(case.period),
        submitted_by=submitter.display_name if submitter else None,
        fields=[_field(spec, (case.fields or {}).get(spec.name)) for spec in defn.fields],
        states=_states(defn, case.state),
        actions=[_action(t, defn, case.version) for t in available_transitions(s, user_id, case, defn, problems,
                                                                            office_id=office_id)],
        history=_history(s, case, defn),
        attachments=_attachments(s, case.id),
        documents=groups(versions(s, case, defn)),
        step=(step := deadlines.step_deadline(s, case)),
        step_overdue=step is not None and step.overdue(clock.today()),
        publish_problems=[localized(p.message, p.message_en) for p in problems],
    )


def publish_problems(s: Session, case: Case) -> list[Problem]:
    """For a posting whose publication failed, what its pre-publication checks find now; else none."""
    if case.kind != posting.KIND or case.state != posting.FAILED:
        return []
    return retry.check_case(s, case)


def available_transitions(s: Session, user_id: int, case: Case, defn: Definition,
                          problems: list[Problem] | None = None, *, office_id: int | None = None
                          ) -> list[TransitionSpec]:
    """Transitions this user holds a role for now, in declaration order.

    Mirrors the checks of ``approval.fire`` that do not depend on the form: role (own or
    delegated, unit-scoped), and separation of duties (no approving what you submitted); and
    重新刊登 only when the posting passes its pre-publication checks (``problems``, run here if not
    given). The server still checks everything again when the form is posted.
    """
    caps = permissions.capacities(s, user_id, office_id or case.office_id, clock.today())
    out = []
    for t in defn.transitions_from(case.state):
        cap = permissions.match(caps, t.roles, case.unit_id)
        if cap is None:
            continue
        submitted_it = case.submitted_by_id is not None and case.submitted_by_id in (user_id, cap.on_behalf_of)
        if ("not_submitter" in t.conditions and submitted_it) or ("is_submitter" in t.conditions and not submitted_it):
            continue
        if t.trigger == retry.TRIGGER and (problems if problems is not None else publish_problems(s, case)):
            continue  # it would be refused: the page says what to fix instead
        out.append(t)
    return out


def _action(t: TransitionSpec, defn: Definition, version: int) -> ActionView:
    form = ActionForm(prefix=t.trigger, formdata=None, version=str(version))
    return ActionView(t.trigger, trigger_label(t.trigger), state_label(defn, t.dest), "comment_given" in t.conditions,
                      t.trigger in SECONDARY_TRIGGERS, form, t.trigger in CONFIRMED_TRIGGERS,
                      t.trigger not in NO_COMMENT_TRIGGERS)


def _states(defn: Definition, current: str) -> list[StateView]:
    return [
        StateView(
            label=state_label(defn, st.name),
            current=st.name == current,
            final=st.final,
            exits=[f"{trigger_label(t.trigger)} → {state_label(defn, t.dest)}" for t in defn.transitions_from(st.name)],
        )
        for st in defn.states
    ]


def _format(spec: FieldSpec, value: Any) -> str:
    if value is None or value == "":
        return ""
    if spec.type == "date":
        try:
            return rocdate.short(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if spec.type == "bool":
        return str(_("是") if value else _("否"))
    if spec.type == "int" and isinstance(value, int):
        return f"{value:,}"
    if spec.type == "decimal" and isinstance(value, int | float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _field(spec: FieldSpec, value: Any) -> FieldView:
    label = localized(spec.label, spec.label_en)
    if spec.type != "rows":
        return FieldView(label, spec.type, _format(spec, value), name=spec.name)
    rows = value if isinstance(value, list) else []
    return FieldView(
        label, "rows",
        columns=[localized(c.label, c.label_en) for c in spec.columns],
        rows=[[_format(c, r.get(c.name)) for c in spec.columns] for r in rows if isinstance(r, dict)], name=spec.name,
    )


def _history(s: Session, case: Case, defn: Definition) -> list[HistoryView]:
    actor, principal = aliased(User), aliased(User)
    rows = s.execute(
        select(HistoryEvent, actor.display_name, principal.display_name)
        .outerjoin(actor, actor.id == HistoryEvent.actor_id)
        .outerjoin(principal, principal.id == HistoryEvent.on_behalf_of_id)
        .where(HistoryEvent.case_id == case.id)
        .order_by(HistoryEvent.seq)
    ).all()
    labels = {f.name: localized(f.label, f.label_en) for f in defn.fields} | {"title": _("標題")}
    out = []
    for ev, actor_name, principal_name in rows:
        data = ev.data or {}
        detail = ""
        if data.get("changed_fields"):
            detail = _("變更：%(fields)s", fields="、".join(labels.get(n, n) for n in data["changed_fields"]))
        elif data.get("document"):
            detail = document_label(str(data["document"]))
        elif data.get("name"):  # an attachment's name
            detail = str(data["name"])
        elif ev.event == "migrated":
            detail = _("流程第 %(a)s 版 → 第 %(b)s 版", a=data.get("from_version"), b=data.get("to_version"))
        elif ev.event == "publication":
            detail = publication_detail(data)
        out.append(HistoryView(
            at=ev.at,
            what=trigger_label(ev.trigger) if ev.event == "transition" else event_label(ev.event),
            actor=actor_name or _("系統"),
            on_behalf_of=principal_name,
            from_label=state_label(defn, ev.from_state),
            to_label=state_label(defn, ev.to_state),
            comment=ev.comment,
            detail=detail,
        ))
    return out


def _attachments(s: Session, case_id: int) -> list[AttachmentView]:
    rows = s.execute(
        select(Attachment, User.display_name)
        .join(User, User.id == Attachment.uploaded_by_id)
        .where(Attachment.case_id == case_id)
        .order_by(Attachment.id)
    ).all()
    return [AttachmentView(a.name, a.content_type, a.size, name, a.uploaded_at, a.id, a.alt_text, a.caption)
            for a, name in rows]
