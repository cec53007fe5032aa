"""``caseflow``: set up, run and inspect the product from the command line.

Bad input (unknown case, user, trigger or kind; a field that fails validation) prints one clear
line on stderr and exits 2, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy import func, select

from workflow import audit, clock, operations, registry
from workflow.config import load_settings
from workflow.db import Database, configure
from workflow.errors import CaseflowError
from workflow.models import Case, HistoryEvent, RoleAssignment, Unit, User

EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    click.echo(f"caseflow: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _json_default(o: Any) -> Any:
    if isinstance(o, dt.datetime | dt.date):
        return o.isoformat()
    raise TypeError(type(o))


def _dump(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default))


class App:
    """Lazily opened database for the commands."""

    def __init__(self) -> None:
        self.settings = load_settings()
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = configure(self.settings.database_url)
        return self._db


pass_app = click.make_pass_decorator(App, ensure=True)


class Id(click.ParamType):
    """The number of a row (a case, a document): anything else is one ``caseflow:`` line, exit 2
    (``_Group``), rather than click's usage text."""

    name = "id"

    def __init__(self, what: str, listing: str) -> None:
        self.what, self.listing = what, listing

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isascii() and text.isdigit():
            return int(text)
        self.fail(f"the {self.what} id must be a number, e.g. 12, not {value!r} (see `{self.listing}`)", param, ctx)


CASE_ID = Id("case", "caseflow cases list")
DOCUMENT_ID = Id("document", "caseflow documents list CASE_ID")


class _Group(click.Group):
    """Turn caseflow's typed errors (and a malformed id) into one line and exit code 2 for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CaseflowError as exc:
            fail(exc.message_en)
        except click.BadParameter as exc:
            if exc.param is None or not isinstance(exc.param.type, Id):
                raise
            fail(exc.message)


@click.group(cls=_Group)
def main() -> None:
    """caseflow: case management for a district office's gender-mainstreaming plan."""


# -- setup and running ------------------------------------------------------------------------
@main.command()
@click.option("--demo", is_flag=True, help="Also create the demo district office with cases of every kind.")
@pass_app
def init(app: App, demo: bool) -> None:
    """Create or upgrade the database schema (and optionally the demo office)."""
    from workflow import demo as demo_mod
    from workflow.migrate import upgrade
    from workflow.models import Office

    app.settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(app.db)
    versions = registry.default().sync(app.db)
    click.echo(f"database ready: {app.db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"workflows: {len(versions)} kinds registered")
    if demo:
        with app.db.unit_of_work(write=False) as uow:
            exists = uow.session.scalar(select(Office.id).where(Office.code == demo_mod.OFFICE_CODE))
        if exists:
            click.echo("demo office already present")
        else:
            demo_mod.seed(app.db)
            click.echo("demo office created")
        print_logins(app.db)


def print_logins(db: Database) -> None:
    from workflow.demo import DEMO_PASSWORD

    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(User.login, User.display_name, User.title, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .order_by(User.id, RoleAssignment.id)
        ).all()
    by_user: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for login, name, title, role in rows:
        by_user.setdefault(login, []).append(role)
        names[login] = f"{name}（{title}）" if title else name
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for login, roles in by_user.items():
        click.echo(f"  {login:<20} {', '.join(roles):<28} {names[login]}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo/--no-demo", default=False, help="Create the demo office first if the database is empty.")
@pass_app
def serve(app: App, host: str, port: int, demo: bool) -> None:
    """Run the web app (the embedded default: SQLite, background work in-process)."""
    from web import create_app
    from workflow.migrate import upgrade

    upgrade(app.db)
    if demo:
        from workflow import demo as demo_mod
        from workflow.models import Office

        with app.db.unit_of_work(write=False) as uow:
            empty = uow.session.scalar(select(func.count(Office.id))) == 0
        if empty:
            demo_mod.seed(app.db)
            print_logins(app.db)
    flask_app = create_app()
    click.echo(f"caseflow is running at http://{host}:{port}/  (Ctrl+C to stop)")
    flask_app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


# -- users and cases --------------------------------------------------------------------------
@main.group()
def users() -> None:
    """People and their roles."""


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def users_list(app: App, as_json: bool) -> None:
    with app.db.unit_of_work(write=False) as uow:
        s = uow.session
        rows = s.execute(select(User).order_by(User.office_id, User.id)).scalars().all()
        roles: dict[int, list[str]] = {}
        for ra in s.scalars(select(RoleAssignment).order_by(RoleAssignment.id)):
            roles.setdefault(ra.user_id, []).append(ra.role)
        out: list[dict[str, Any]] = [{"id": u.id, "login": u.login, "name": u.display_name, "office_id": u.office_id,
                "unit_id": u.unit_id, "title": u.title, "active": u.active, "roles": roles.get(u.id, [])}
               for u in rows]
    if as_json:
        _dump(out)
        return
    for u in out:
        click.echo(f"{u['id']:>4}  {u['login']:<20} {u['name']:<8} {','.join(u['roles'])}")


def _user_id(db: Database, login: str) -> int:
    with db.unit_of_work(write=False) as uow:
        uid = uow.session.scalar(select(User.id).where(User.login == login))
    if uid is None:
        fail(f"no user with login {login!r} (see `caseflow users list`)")
    return uid


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
        _dump(rows)
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
            "allowed_triggers": operations.allowed_triggers(defn, c.state), "history": history,
        }


@case.command("show")
@click.argument("case_id", type=CASE_ID)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def case_show(app: App, case_id: int, as_json: bool) -> None:
    d = case_dict(app.db, case_id)
    if as_json:
        _dump(d)
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


@case.command("fire")
@click.argument("case_id", type=CASE_ID)
@click.argument("trigger")
@click.option("--as", "login", required=True, help="Login of the user who acts.")
@click.option("--comment", help="Comment (required when returning for revision).")
@click.option("--expected-version", type=int, help="Refuse if the case has changed since this version.")
@pass_app
def case_fire(app: App, case_id: int, trigger: str, login: str, comment: str | None,
              expected_version: int | None) -> None:
    uid = _user_id(app.db, login)
    res = operations.fire(case_id, trigger, uid, comment, expected_version, db=app.db)
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


@main.group()
def workflow() -> None:
    """The declared workflows."""


@workflow.command("show")
@click.argument("kind")
@click.option("--case", "case_id", type=CASE_ID, help="Mark this case's current state in the diagram.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the Mermaid diagram (default: KIND.mmd).")
@pass_app
def workflow_show(app: App, kind: str, case_id: int | None, output: Path | None) -> None:
    """Print a kind's states and transitions and write its diagram (Mermaid)."""
    from workflow.diagram import mermaid

    reg = registry.default()
    current = None
    if case_id is not None:
        with app.db.unit_of_work(write=False) as uow:
            c = uow.session.get(Case, case_id)
            if c is None:
                fail(f"no case {case_id}")
            if c.kind != kind:
                fail(f"case {case_id} is a {c.kind}, not a {kind}")
            defn = reg.get(app.db, kind, c.workflow_version, uow.session)
            current = c.state
    else:
        defn = reg.latest(kind)
    click.echo(f"{defn.kind}: {defn.label} / {defn.label_en} (plan {defn.plan_ref}, cycle {defn.cycle})")
    click.echo("states:")
    for st in defn.states:
        mark = " <== current" if st.name == current else ""
        extra = " [final]" if st.final else ""
        docs = f"  documents: {', '.join(st.documents)}" if st.documents else ""
        click.echo(f"  {st.name:<20} {st.label}{extra}{docs}{mark}")
    click.echo("transitions:")
    for t in defn.transitions:
        cond = f"  if {', '.join(t.conditions)}" if t.conditions else ""
        click.echo(f"  {t.trigger:<22} {t.source:>18} -> {t.dest:<18} by {', '.join(t.roles)}{cond}")
    out = output or Path(f"{kind}.mmd")
    out.write_text(mermaid(defn, current), encoding="utf-8")
    click.echo(f"diagram written to {out}")


@main.group()
def bench() -> None:
    """Benchmarks that print their numbers and the floor they compare against."""


def report(results: list[Any], as_json: bool) -> None:
    """Print a bench's results (a line each, or the JSON list); exit 1 if a goal was missed."""
    if as_json:
        _dump([r.as_json() for r in results])
    else:
        for r in results:
            click.echo(r.line())
    if any(r.passed is False for r in results):
        sys.exit(1)


@bench.command("transitions")
@click.option("--json", "as_json", is_flag=True)
@click.option("--cases", "n_cases", default=100_000, show_default=True, help="Cases for the memory measurement.")
@click.option("--ops", default=400, show_default=True, help="Transitions timed per measurement.")
@pass_app
def bench_transitions(app: App, as_json: bool, n_cases: int, ops: int) -> None:
    from caseflow.bench import transitions as bt

    results = bt.run(app.db, n_cases=n_cases, ops=ops)
    report(results, as_json)


@bench.command("documents")
@click.option("--json", "as_json", is_flag=True)
@click.option("-n", "n", default=20, show_default=True, help="Documents timed per measurement.")
@pass_app
def bench_documents(app: App, as_json: bool, n: int) -> None:
    from caseflow.bench import documents as bd

    results = bd.run(app.db, n=n)
    report(results, as_json)


@bench.command("calendar")
@click.option("--json", "as_json", is_flag=True)
@click.option("--offices", default=13, show_default=True, help="Offices generated for 4 plan years.")
@click.option("--cases", "n_cases", default=100_000, show_default=True, help="Cases behind the overdue board.")
@click.option("-n", "n", default=50, show_default=True, help="Board requests timed.")
@pass_app
def bench_calendar(app: App, as_json: bool, offices: int, n_cases: int, n: int) -> None:
    from caseflow.bench import plan_calendar as bc

    results = bc.run(app.db, offices=offices, n_cases=n_cases, n=n)
    report(results, as_json)


@bench.command("seed")
@click.option("--cases", "n_cases", default=100_000, show_default=True, help="Cases over all offices.")
@click.option("--offices", default=13, show_default=True, help="District offices (Taoyuan has 13).")
@pass_app
def bench_seed(app: App, n_cases: int, offices: int) -> None:
    """Fill the configured database for `bench web` (Core bulk inserts; adds, never deletes)."""
    from caseflow.bench import web as bw

    click.echo(bw.describe_seed(bw.seed(app.db, cases=n_cases, offices=offices)))


@bench.command("web")
@click.option("--json", "as_json", is_flag=True)
@click.option("-n", "n", default=100, show_default=True, help="Requests timed per page.")
@click.option("--seconds", default=5.0, show_default=True, help="Duration of each load run.")
@pass_app
def bench_web(app: App, as_json: bool, n: int, seconds: float) -> None:
    """Queue, case page and secretariat queue: p95, SQL statements per page, req/s under load."""
    from caseflow.bench import web as bw

    results = bw.run(app.db, n=n, seconds=seconds)
    report(results, as_json)


@main.command()
@click.option("--concurrency", default=1, show_default=True, type=int)
@click.option("--queues", default="celery,conversions", show_default=True,
              help="Comma-separated queues: `celery` (renders, publications, sweeps) and `conversions` "
                   "(LibreOffice ODT/PDF). Run one worker per queue to keep conversions from delaying .docx.")
@click.option("--loglevel", default="INFO", show_default=True)
@pass_app
def worker(app: App, concurrency: int, queues: str, loglevel: str) -> None:
    """Run a Celery worker (needs REDIS_URL): renders documents from the outbox and converts them."""
    from tasks.app import QUEUES

    if not app.settings.redis_url:
        fail("REDIS_URL is not set; the embedded default renders documents inside `caseflow serve`")
    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in chosen if q not in QUEUES]
    if unknown or not chosen:
        fail(f"unknown queue {', '.join(unknown) or '(none)'}; choose from {', '.join(QUEUES)}")
    os.execvp(sys.executable, [sys.executable, "-m", "celery", "-A", "tasks.app:celery_app", "worker",
                               f"--concurrency={concurrency}", "-O", "fair", f"--loglevel={loglevel}",
                               "--include", "tasks.calendar", f"--queues={','.join(chosen)}",
                               "--without-gossip", "--without-mingle"])


@main.command()
@click.option("--loglevel", default="INFO", show_default=True)
@pass_app
def beat(app: App, loglevel: str) -> None:
    """Run Celery beat (needs REDIS_URL): the outbox sweep and, later, the plan's schedules."""
    if not app.settings.redis_url:
        fail("REDIS_URL is not set; the embedded default sweeps the outbox inside `caseflow serve`")
    schedule = app.settings.instance_path / "celerybeat-schedule"
    app.settings.instance_path.mkdir(parents=True, exist_ok=True)
    os.execvp(sys.executable, [sys.executable, "-m", "celery", "-A", "tasks.app:celery_app", "beat",
                               f"--loglevel={loglevel}", f"--schedule={schedule}"])


@main.group()
def documents() -> None:
    """Generated documents."""


@documents.command("list")
@click.argument("case_id", type=CASE_ID)
@pass_app
def documents_list(app: App, case_id: int) -> None:
    from workflow.models import Document

    with app.db.unit_of_work(write=False) as uow:
        rows = list(uow.session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id)))
    if not rows:
        fail(f"case {case_id} has no documents (or does not exist)")
    for d in rows:
        formats = ",".join(f for f, k in (("docx", d.storage_key), ("odt", d.odt_key), ("pdf", d.pdf_key)) if k)
        click.echo(f"{d.id:>6}  {d.name:<20} event #{d.cause_seq:<4} {d.status:<9} {formats:<13} "
                   f"{(d.sha256 or '')[:12]}  {d.last_error or d.conversion_error or ''}")


@documents.command("rerender")
@click.argument("document_id", type=DOCUMENT_ID)
@pass_app
def documents_rerender(app: App, document_id: int) -> None:
    """Render a document again from its recorded inputs and compare the text with the stored file."""
    from documents.service import document_store, rerender
    from documents.text import docx_text
    from workflow.models import Document

    with app.db.unit_of_work(write=False) as uow:
        doc = uow.session.get(Document, document_id)
        if doc is None or doc.storage_key is None:
            fail(f"no rendered document {document_id} (see `caseflow documents list CASE_ID`)")
        key = doc.storage_key
    try:
        again = rerender(app.db, document_id)
    except LookupError as exc:
        fail(str(exc))
    same = docx_text(again) == docx_text(document_store().get(key))
    click.echo(f"document {document_id}: text {'identical' if same else 'DIFFERS'} when rendered again")
    if not same:
        sys.exit(1)


@documents.command("template-upload")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--office", "office_code", required=True, help="The office whose template it becomes.")
@click.option("--as", "login", required=True, help="Login of an administrator of that office.")
@pass_app
def documents_template_upload(app: App, name: str, file: Path, office_code: str, login: str) -> None:
    """Validate a replacement .docx template for document NAME and make it the office's template in force."""
    from documents import templates_admin
    from documents.render import TemplateProblem
    from workflow import permissions
    from workflow.models import Office
    from workflow.roles import Role

    with app.db.unit_of_work(write=False) as uow:
        s = uow.session
        office_id = s.scalar(select(Office.id).where(Office.code == office_code))
        if office_id is None:
            fail(f"no office {office_code!r}")
        user = s.scalar(select(User).where(User.login == login, User.office_id == office_id))
        if user is None:
            fail(f"no user {login!r} in office {office_code!r} (see `caseflow users list`)")
        caps = permissions.capacities(s, user.id, office_id, clock.today())
        if not any(c.role == Role.ADMIN for c in caps):
            fail(f"{login} does not hold the admin role in office {office_code!r}")
        user_id = user.id
    try:
        stored = templates_admin.upload(app.db, office_id, name, file.read_bytes(), user_id)
    except TemplateProblem as exc:
        fail(f"template refused: {exc.message_en} ({exc.message})")
    click.echo(f"{name}: version {stored.version} in force for {office_code} (sha256 {stored.sha256[:12]})")


@main.command("now", hidden=True)
def show_now() -> None:
    click.echo(f"{clock.now().isoformat()} (ROC {clock.current_roc_year()})")


# -- the plan's calendar ----------------------------------------------------------------------
@main.group()
def plan() -> None:
    """The plan's calendar: obligations, due dates, generating a year's cases."""


@plan.command("generate")
@click.option("--year", "roc_year", type=int, required=True, help="ROC year, e.g. 115.")
@click.option("--office", "office_code", help="One office's code.")
@click.option("--all", "all_offices", is_flag=True, help="Every office (shows a progress bar).")
@pass_app
def plan_generate(app: App, roc_year: int, office_code: str | None, all_offices: bool) -> None:
    """Open the year's plan cases with their due dates; running it again creates nothing new."""
    from workflow import plan as plan_mod
    from workflow.models import Office

    if bool(office_code) == all_offices:
        fail("give exactly one of --office CODE or --all")
    registry.default().sync(app.db)
    if all_offices:
        with app.db.unit_of_work(write=False) as uow:
            total = uow.session.scalar(select(func.count()).select_from(Office)) or 0
            plan_mod.obligations(uow.session, roc_year)  # refuse a year outside the plan before the bar
        with click.progressbar(length=total, label=f"ROC {roc_year}", file=sys.stderr) as bar:
            results = plan_mod.generate(app.db, roc_year, on_office=lambda _r: bar.update(1))
    else:
        results = plan_mod.generate(app.db, roc_year, office_codes=[office_code or ""])
    for r in results:
        missing = f", no unit {', '.join(sorted(set(r.missing_units)))}" if r.missing_units else ""
        click.echo(f"{r.office_code}: {len(r.created)} created, {r.existing} already there{missing}")
    click.echo(f"ROC {roc_year}: {sum(len(r.created) for r in results)} cases created in {len(results)} offices")


@plan.command("show")
@click.option("--year", "roc_year", type=int, help="ROC year (default: this year).")
@click.option("--office", "office_code", help="Move due dates by this office's closure days.")
@pass_app
def plan_show(app: App, roc_year: int | None, office_code: str | None) -> None:
    """The obligations of the year's plan and their due dates."""
    from workflow import plan as plan_mod
    from workflow import workdays
    from workflow.models import Office

    year = roc_year or clock.current_roc_year()
    with app.db.unit_of_work(write=False) as uow:
        s = uow.session
        office_id = None
        if office_code:
            office_id = s.scalar(select(Office.id).where(Office.code == office_code))
            if office_id is None:
                fail(f"no office {office_code!r}")
        cal = workdays.for_office(s, office_id)
        for ob in plan_mod.obligations(s, year):
            click.echo(f"{ob.due_date(year, cal).isoformat()}  {ob.kind:<20} {ob.period:<3} {ob.unit_code:<12} "
                       f"{ob.title_for(year)}  → {ob.receiver}")


@plan.command("closure")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--office", "office_code", help="One office (default: every office).")
@click.option("--reason", default="停班", show_default=True)
@pass_app
def plan_closure(app: App, day: dt.datetime, office_code: str | None, reason: str) -> None:
    """Record an office closure day (停班, e.g. a typhoon day): it stops counting as a working day."""
    from workflow.models import Office, OfficeClosure

    with app.db.unit_of_work() as uow:
        s = uow.session
        office_id = None
        if office_code:
            office_id = s.scalar(select(Office.id).where(Office.code == office_code))
            if office_id is None:
                fail(f"no office {office_code!r}")
        s.add(OfficeClosure(office_id=office_id, day=day.date(), reason=reason, created_at=clock.now()))
        uow.commit()
    click.echo(f"closure recorded: {day.date().isoformat()} ({office_code or 'every office'})")


@main.group()
def reminders() -> None:
    """Deadline reminders (the daily beat task runs the same code)."""


@reminders.command("send")
@pass_app
def reminders_send(app: App) -> None:
    """Decide today's due-soon and overdue reminders, notify in the app and send the e-mails."""
    from workflow import reminders as rem

    registry.default().sync(app.db)
    decided = rem.decide(app.db, days_before=app.settings.remind_days_before)
    sent = rem.send_pending(app.db, rem.mailer_from_settings(app.settings))
    click.echo(f"{decided} reminders decided, {sent} e-mails sent")
