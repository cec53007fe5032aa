"""The API's routes for cases: load (``web.access``) → act (one ``workflow.cases`` call) → JSON.

Typed errors of the operations become JSON errors (``web.api.errors.from_domain``): NotFound 404,
PermissionDenied 403, Conflict 409 (naming who acted first), TransitionNotAllowed 409,
ConditionFailed and ValidationError 422 (per-field messages).
"""

from __future__ import annotations

import io
from typing import Any

from flask import abort, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased
from werkzeug.wrappers import Response

from documents.service import document_store
from publishing import retry
from web import case_documents, case_page
from web.access import load_case_for, readable_cases
from web.api import errors as api_errors
from web.api import schemas as sch
from web.api.blueprint import api_user, bp
from web.api.common import ID, case_url, definition, documented, domain
from web.cases import MEDIA_TYPES, ready_document
from web.db import database, session
from web.i18n import localized
from web.labels import event_label, kind_label, period_label, state_label, trigger_label
from web.mine import creatable
from workflow import clock
from workflow.calendar import deadlines
from workflow.cases import drafts
from workflow.engine import registry
from workflow.engine.definitions import Definition, FieldSpec
from workflow.errors import PermissionDenied, ValidationError
from workflow.models import Case, HistoryEvent, Office, Unit, User
from workflow.people import permissions
from workflow.roles import ROLE_LABELS


# -- me -------------------------------------------------------------------------------------------
@bp.get("/me")
@bp.response(200, sch.MeSchema)
@documented()
def me() -> dict[str, Any]:
    """The token's user: office, unit and roles today (own and delegated)."""
    s = session()
    user = s.get(User, api_user().id)
    assert user is not None  # the token was just checked against an active user
    office = s.get(Office, user.office_id)
    assert office is not None
    caps = permissions.capacities(s, user.id, user.office_id, clock.today())
    units = {u.id: u for u in s.scalars(select(Unit).where(Unit.office_id == user.office_id))}
    principals = {u.id: u.display_name for u in s.scalars(
        select(User).where(User.id.in_({c.on_behalf_of for c in caps if c.on_behalf_of})))}
    unit = units.get(user.unit_id) if user.unit_id else None

    def unit_name(unit_id: int | None) -> str | None:
        u = units.get(unit_id) if unit_id else None
        return localized(u.name, u.name_en) if u else None

    return {
        "id": user.id, "login": user.login, "display_name": user.display_name,
        "office": {"id": office.id, "code": office.code, "name": localized(office.name, office.name_en)},
        "unit": {"id": unit.id, "name": localized(unit.name, unit.name_en)} if unit else None,
        "roles": [{"role": c.role, "label": localized(*ROLE_LABELS.get(c.role, (c.role, c.role))),
                   "unit_id": c.unit_id, "unit_name": unit_name(c.unit_id), "on_behalf_of_id": c.on_behalf_of,
                   "on_behalf_of": principals.get(c.on_behalf_of) if c.on_behalf_of else None} for c in caps],
    }


# -- kinds ----------------------------------------------------------------------------------------
def _field_spec(spec: FieldSpec) -> dict[str, Any]:
    return {"name": spec.name, "label": localized(spec.label, spec.label_en), "type": spec.type,
            "required": spec.required, "max_length": spec.max_length, "min": spec.min, "max": spec.max,
            "choices": list(spec.choices), "min_rows": spec.min_rows, "max_rows": spec.max_rows,
            "columns": [_field_spec(c) for c in spec.columns]}


@bp.get("/kinds")
@bp.response(200, sch.KindListSchema)
@documented()
def kinds() -> dict[str, Any]:
    """The kinds of case this user may open (POST /cases), with the units and the fields of each."""
    user = api_user()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for o in creatable(session(), user.id, user.office_id):
        by_kind.setdefault(o.kind, []).append({"id": o.unit_id, "name": o.unit_name})
    items = []
    for kind, units in by_kind.items():
        defn = registry.default().latest(kind)
        items.append({"kind": kind, "label": localized(defn.label, defn.label_en), "cycle": defn.cycle,
                      "periods": list(drafts.PERIODS[defn.cycle]), "units": units,
                      "fields_": [_field_spec(f) for f in defn.fields]})
    return {"items": items}


# -- cases ----------------------------------------------------------------------------------------
def _summary(case: Case, unit_name: str) -> dict[str, Any]:
    defn = definition(case.kind, case.workflow_version)
    return {"id": case.id, "kind": case.kind, "kind_label": kind_label(case.kind), "title": case.title,
            "state": case.state, "state_label": state_label(defn, case.state), "unit_id": case.unit_id,
            "unit_name": unit_name, "roc_year": case.roc_year, "period": case.period, "version": case.version,
            "due_date": case.due_date, "entered_state_at": case.entered_state_at, "url": case_url(case.id)}


def _known_filters(state: str | None, kind: str | None) -> None:
    """An unknown kind or state matches nothing because it is a typo: say so (422) rather than
    answer an empty list that looks like "no such cases"."""
    reg = registry.default()
    errors: dict[str, tuple[str, str]] = {}
    if kind and kind not in reg.files:
        errors["kind"] = (f"沒有「{kind}」這種案件類別；可用：{'、'.join(sorted(reg.files))}",
                          f"no kind {kind!r}; known: {', '.join(sorted(reg.files))}")
    states = sorted({st.name for d in reg.files.values() if not kind or d.kind == kind for st in d.states})
    if state and state not in states:
        errors["state"] = (f"沒有「{state}」這個狀態；可用：{'、'.join(states)}",
                           f"no state {state!r}; known: {', '.join(states)}")
    if errors:
        abort(api_errors.from_domain(ValidationError(errors)))


@bp.get("/cases")
@bp.arguments(sch.CaseQuerySchema, location="query", as_kwargs=True)
@bp.response(200, sch.CaseListSchema)
@documented(422)
def cases(limit: int, state: str | None = None, kind: str | None = None, year: int | None = None,
          cursor: int | None = None) -> dict[str, Any]:
    """The office's cases you may read, newest first, limit at a time (at most 200); pass next_cursor as
    cursor for more."""
    _known_filters(state, kind)
    q = (select(Case, Unit.name, Unit.name_en).join(Unit, Unit.id == Case.unit_id)
         .where(readable_cases(api_user())))
    if state:
        q = q.where(Case.state == state)
    if kind:
        q = q.where(Case.kind == kind)
    if year:
        q = q.where(Case.roc_year == year)
    if cursor:
        q = q.where(Case.id < cursor)
    rows = session().execute(q.order_by(Case.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_summary(c, localized(name, name_en)) for c, name, name_en in rows],
            "next_cursor": rows[-1][0].id if more else None}


def _history(s: Session, case: Case) -> list[dict[str, Any]]:
    actor, principal = aliased(User), aliased(User)
    rows = s.execute(
        select(HistoryEvent, actor.display_name, principal.display_name)
        .outerjoin(actor, actor.id == HistoryEvent.actor_id)
        .outerjoin(principal, principal.id == HistoryEvent.on_behalf_of_id)
        .where(HistoryEvent.case_id == case.id).order_by(HistoryEvent.seq)
    ).all()
    return [{"seq": ev.seq, "event": ev.event,
             "label": trigger_label(ev.trigger) if ev.event == "transition" else event_label(ev.event),
             "trigger": ev.trigger, "from_state": ev.from_state, "to_state": ev.to_state, "at": ev.at,
             "actor": who, "on_behalf_of": for_whom, "comment": ev.comment,
             "changed_fields": [str(f) for f in (ev.data or {}).get("changed_fields", [])]}
            for ev, who, for_whom in rows]


def _documents(s: Session, case: Case, defn: Definition) -> list[dict[str, Any]]:
    return [{"id": d.id, "name": d.name, "label": d.label, "version": d.version, "status": d.status,
             "created_at": d.created_at, "sha256": d.sha256, "problem": d.problem,
             "downloads": {f: url_for("api.document", case_id=case.id, document_id=d.id, fmt=f) for f in d.formats}}
            for d in reversed(case_documents.versions(s, case, defn)) if d.id]  # made (or being made) by a worker


def _detail(case: Case) -> dict[str, Any]:
    s = session()
    user = api_user()
    defn = registry.default().get(database(), case.kind, case.workflow_version, s)
    unit = s.get(Unit, case.unit_id)
    submitter = s.get(User, case.submitted_by_id) if case.submitted_by_id else None
    step = deadlines.step_deadline(s, case)
    out = _summary(case, localized(unit.name, unit.name_en) if unit else "")
    out.update({
        "period_label": period_label(case.period), "final": defn.state(case.state).final,
        "fields_": case.fields or {}, "submitted_by": submitter.display_name if submitter else None,
        "revision_count": case.revision_count, "created_at": case.created_at, "updated_at": case.updated_at,
        "step": None if step is None else {
            "state": step.state, "deadline": step.deadline, "limit_days": step.limit_days,
            "used_days": step.used_days, "stopped": step.stopped, "overdue": step.overdue(clock.today())},
        "actions": [{"trigger": t.trigger, "label": trigger_label(t.trigger), "to_state": t.dest,
                     "to_state_label": state_label(defn, t.dest), "needs_comment": "comment_given" in t.conditions}
                    for t in case_page.available_transitions(s, user.id, case, defn, office_id=user.office_id)],
        "history": _history(s, case),
        "documents": _documents(s, case, defn),
    })
    return out


def _reload(case_id: int) -> Case:
    """The case as committed now (the request's read transaction may predate the write)."""
    session().rollback()
    return load_case_for(api_user(), case_id)


@bp.get(f"/cases/<{ID}:case_id>")
@bp.response(200, sch.CaseDetailSchema)
@documented(404)
def case(case_id: int) -> dict[str, Any]:
    """One case: fields, state, version, deadlines, what this user may do now, history, documents."""
    return _detail(load_case_for(api_user(), case_id))


def _creatable_unit(kind: str, unit_id: int | None) -> int:
    """The unit to open ``kind`` for, checked like the 我的案件 form; 403/422 with the reason."""
    user = api_user()
    options = creatable(session(), user.id, user.office_id)
    if not options:
        raise PermissionDenied("您的角色不能建立任何類別的案件。", "Your roles may not open any kind of case.")
    units = [o.unit_id for o in options if o.kind == kind]
    if not units:
        if kind in registry.default().kinds():
            raise PermissionDenied("您的角色不能建立這類案件。", "Your roles may not open this kind of case.")
        raise ValidationError({"kind": ("沒有這種案件類別，請從 GET /api/v1/kinds 選擇。",
                                        "no such kind; choose one from GET /api/v1/kinds")})
    if unit_id is None:
        if len(units) == 1:
            return units[0]
        raise ValidationError({"unit_id": ("這類案件可由多個課室建立，請指定 unit_id。",
                                           "several units may open this kind; give unit_id")})
    if unit_id not in units:
        raise ValidationError({"unit_id": ("這個課室不能建立這類案件，請改選課室。",
                                           "this unit may not open this kind; choose another unit")})
    return unit_id


@bp.post("/cases")
@bp.arguments(sch.NewCaseSchema)
@bp.response(201, sch.CaseDetailSchema)
@documented(400, 403, 413, 422)
def create(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Open a case (a draft) with some or all of its fields; wrong fields answer 422, per field."""
    user = api_user()

    def run() -> int:
        unit_id = _creatable_unit(data["kind"], data.get("unit_id"))
        session().rollback()  # end the read transaction before the operation opens its own
        return drafts.create_case(kind=data["kind"], unit_id=unit_id, roc_year=data["roc_year"],
                                  title=data["title"], actor=user.id, period=data["period"] or None,
                                  fields=data["fields_"], db=database())

    case_id = domain(run)
    return _detail(_reload(case_id)), 201, {"Location": case_url(case_id)}


@bp.patch(f"/cases/<{ID}:case_id>/fields")
@bp.arguments(sch.FieldsPatchSchema)
@bp.response(200, sch.CaseDetailSchema)
@documented(400, 403, 404, 409, 413, 422)
def edit_fields(data: dict[str, Any], case_id: int) -> dict[str, Any]:
    """Change a draft's fields (and title): a value replaces, null removes; version must be the current one."""
    user = api_user()
    case = load_case_for(user, case_id)
    merged = {k: v for k, v in {**(case.fields or {}), **data["fields_"]}.items() if v is not None}
    session().rollback()
    domain(lambda: drafts.save_fields(case_id, user.id, merged, data["version"], title=data.get("title"),
                                       db=database()))
    return _detail(_reload(case_id))


@bp.post(f"/cases/<{ID}:case_id>/transitions")
@bp.arguments(sch.TransitionSchema)
@bp.response(200, sch.TransitionResultSchema)
@documented(400, 403, 404, 409, 413, 422)
def transition(data: dict[str, Any], case_id: int) -> dict[str, Any]:
    """Fire an action (a trigger from the case's actions) with the version you read."""
    user = api_user()
    case = load_case_for(user, case_id)
    kind, version = case.kind, case.workflow_version
    session().rollback()
    # retry_publish runs the pre-publication checks first (refused, and counted, when they fail).
    result = domain(lambda: retry.fire_checked(case_id, data["trigger"], user.id, data["comment"], data["version"],
                                                db=database()))
    return {"id": case_id, "trigger": result.trigger, "from_state": result.from_state, "state": result.to_state,
            "state_label": state_label(definition(kind, version), result.to_state), "version": result.version}


@bp.get(f"/cases/<{ID}:case_id>/documents/<{ID}:document_id>/<any(docx, odt, pdf):fmt>")
@bp.doc(responses={"200": {"description": "The file", "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
@documented(404)
def document(case_id: int, document_id: int, fmt: str) -> Response:
    """Download a generated document (docx, odt or pdf) of a case."""
    case = load_case_for(api_user(), case_id)
    doc, key = ready_document(case, document_id, fmt)
    return send_file(io.BytesIO(document_store().get(key)), mimetype=MEDIA_TYPES[fmt], as_attachment=True,
                     download_name=f"case-{case.id}-{doc.name}-{doc.id}.{fmt}", max_age=0)
