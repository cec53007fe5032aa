"""``caseflow cases`` / ``case`` / ``audit``: list and show cases, export one's history for an
auditor, fire a transition as a user, and verify every case's hash-chained history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from caseflow.cli.base import CASE_ID, App, dump, fail, main, pass_app, user_id
from documents import convert, history_export
from publishing import retry
from web.exports import export
from workflow.cases import approval
from workflow.db import Database
from workflow.engine import audit, registry
from workflow.models import Case, HistoryEvent, Unit, User


@main.group()
def cases() -> None:
    """Lists of cases."""


@cases.command("list")
@click.option("--state", help="Only cases in this state.")
@click.option("--kind", help="Only cases of this kind.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def cases_list(app: App, state: str | None, kind: str | None, as_json: bool) -> None:
    reg = registry.default()
    if kind is not None:
        reg.latest(kind)  # unknown kind: a clear error
    if state is not None:
        known = {s.name for d in reg.files.values() for s in d.states}
        if state not in known:
            fail(f"unknown state {state!r}; known states: {', '.join(sorted(known))}")
    with app.db.unit_of_work(write=False) as uow:
        q = select(Case, Unit.name).join(Unit, Unit.id == Case.unit_id).order_by(Case.id)
        if state:
            q = q.where(Case.state == state)
        if kind:
            q = q.where(Case.kind == kind)
        rows = [
            {"id": c.id, "office_id": c.office_id, "kind": c.kind, "roc_year": c.roc_year, "period": c.period,
             "title": c.title, "unit": unit, "state": c.state, "version": c.version, "due_date": c.due_date}
            for c, unit in uow.session.execute(q)
        ]
    if as_json:
        dump(rows)
        return
    for r in rows:
        click.echo(f"{r['id']:>6}  {r['kind']:<20} {r['roc_year']} {r['period'] or '-':<3} "
                   f"{r['state']:<20} v{r['version']:<3} {r['title']}")


@main.group()
def case() -> None:
    """One case."""


def case_dict(db: Database, case_id: int) -> dict[str, Any]:
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        c = s.get(Case, case_id)
        if c is None:
            fail(f"no case {case_id} (see `caseflow cases list`)")
        defn = registry.default().get(db, c.kind, c.workflow_version, s)
        names = dict(s.execute(select(User.id, User.display_name)).all())
        history = [
            {"seq": e.seq, "event": e.event, "at": e.at, "actor": names.get(e.actor_id) if e.actor_id else None,
             "on_behalf_of": names.get(e.on_behalf_of_id) if e.on_behalf_of_id else None,
             "trigger": e.trigger, "from": e.from_state, "to": e.to_state, "comment": e.comment, "data": e.data}
            for e in s.scalars(select(HistoryEvent).where(HistoryEvent.case_id == case_id).order_by(HistoryEvent.seq))
        ]
        return {
            "id": c.id, "office_id": c.office_id, "kind": c.kind, "kind_label": defn.label, "roc_year": c.roc_year,
            "period": c.period, "title": c.title, "unit_id": c.unit_id, "state": c.state,
            "state_label": defn.state(c.state).label, "version": c.version, "workflow_version": c.workflow_version,
            "fields": c.fields, "due_date": c.due_date, "revision_count": c.revision_count,
            "allowed_triggers": approval.allowed_triggers(defn, c.state), "history": history,
        }


@case.command("show")
@click.argument("case_id", type=CASE_ID)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def case_show(app: App, case_id: int, as_json: bool) -> None:
    d = case_dict(app.db, case_id)
    if as_json:
        dump(d)
        return
    click.echo(f"Case {d['id']}: {d['title']}")
    click.echo(f"  kind {d['kind']} ({d['kind_label']}), {d['roc_year']} {d['period'] or ''}")
    click.echo(f"  state {d['state']} ({d['state_label']}), version {d['version']}, "
               f"workflow v{d['workflow_version']}, returned {d['revision_count']} time(s)")
    click.echo(f"  can fire now: {', '.join(d['allowed_triggers']) or '(final state)'}")
    click.echo("  history:")
    for h in d["history"]:
        who = h["actor"] or "system"
        if h["on_behalf_of"]:
            who += f" for {h['on_behalf_of']}"
        move = f"{h['from']} -> {h['to']}" if h["from"] else (h["to"] or "")
        click.echo(f"   #{h['seq']:<3} {h['at']:%Y-%m-%d %H:%M} {h['event']:<10} {h['trigger'] or '':<22} "
                   f"{move:<40} {who}" + (f"  «{h['comment']}»" if h["comment"] else ""))


@case.command("history")
@click.argument("case_id", type=CASE_ID)
@click.option("--format", "fmt", type=click.Choice(["csv", "ods", "xlsx", "pdf"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--by", "exported_by", default="caseflow", show_default=True, help="Who exports, printed on the PDF.")
@pass_app
def case_history(app: App, case_id: int, fmt: str, output: Path, exported_by: str) -> None:
    """A case's history for an auditor, with its hash chain check (exit 1 when the chain is broken)."""
    with app.db.unit_of_work(write=False) as uow:
        if uow.session.get(Case, case_id) is None:
            fail(f"no case {case_id} (see `caseflow cases list`)")
    h = history_export.load(app.db, case_id)
    if fmt == "pdf":
        converter = convert.default()
        if converter is None:
            raise click.ClickException("PDF needs LibreOffice (soffice), which is not installed; use --format csv")
        output.write_bytes(history_export.to_pdf(h, exported_by, converter))
    else:
        output.write_bytes(export(fmt, f"案件{case_id}歷程", history_export.HEADER, history_export.table_rows(h)))
    click.echo(f"{len(h.rows)} events written to {output}; chain: {'intact' if h.intact else 'BROKEN'}")
    if not h.intact:
        click.echo(f"caseflow: {h.check}", err=True)
        sys.exit(1)


@case.command("fire")
@click.argument("case_id", type=CASE_ID)
@click.argument("trigger")
@click.option("--as", "login", required=True, help="Login of the user who acts.")
@click.option("--comment", help="Comment (required when returning for revision).")
@click.option("--expected-version", type=int, help="Refuse if the case has changed since this version.")
@pass_app
def case_fire(app: App, case_id: int, trigger: str, login: str, comment: str | None,
              expected_version: int | None) -> None:
    uid = user_id(app.db, login)
    res = retry.fire_checked(case_id, trigger, uid, comment, expected_version, db=app.db)
    click.echo(f"case {res.case_id}: {res.from_state} -> {res.to_state} (version {res.version})")


# -- audit and workflows ----------------------------------------------------------------------
@main.group("audit")
def audit_group() -> None:
    """The tamper-evident history."""


@audit_group.command("verify")
@pass_app
def audit_verify(app: App) -> None:
    """Walk every case's hash chain; name the first broken link; exit 1 if any."""
    checked = 0
    broken = []
    for _case_id, brk in audit.verify(app.db):
        checked += 1
        if brk is not None:
            broken.append(brk)
    if broken:
        click.echo(f"BROKEN: {len(broken)} of {checked} case histories fail verification", err=True)
        click.echo(f"first broken link: {broken[0]}", err=True)
        for b in broken[1:20]:
            click.echo(f"  also: {b}", err=True)
        sys.exit(1)
    click.echo(f"ok: {checked} case histories verified")
