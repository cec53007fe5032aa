"""``caseflow workflow show`` / ``versions`` / ``migrate``: a kind's states and transitions and its
diagram as Mermaid, the versions stored, and moving running cases onto another version."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import func, select

from caseflow.cli.base import CASE_ID, App, fail, main, pass_app
from workflow.cases import migrate
from workflow.engine import registry
from workflow.models import Case, WorkflowVersion


@main.group()
def workflow() -> None:
    """The declared workflows."""


@workflow.command("show")
@click.argument("kind")
@click.option("--case", "case_id", type=CASE_ID, help="Mark this case's current state in the diagram.")
@click.option("--variant", default="", help="An office variant's definition (e.g. fuxing).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the Mermaid diagram (default: KIND.mmd).")
@pass_app
def workflow_show(app: App, kind: str, case_id: int | None, variant: str, output: Path | None) -> None:
    """Print a kind's states and transitions and write its diagram (Mermaid)."""
    from workflow.engine.diagram import mermaid

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
        if variant and variant not in reg.variants:
            fail(f"no variant {variant!r}; known: {', '.join(sorted(reg.variants)) or 'none'}")
        defn = reg.latest(kind, variant)
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


@workflow.command("versions")
@click.argument("kind")
@pass_app
def workflow_versions(app: App, kind: str) -> None:
    """Every stored version of a kind, its variant and how many cases run on it."""
    reg = registry.default()
    reg.latest(kind)
    reg.sync(app.db)
    with app.db.unit_of_work(write=False) as uow:
        s = uow.session
        counts = dict(s.execute(select(Case.workflow_version, func.count()).where(Case.kind == kind)
                                .group_by(Case.workflow_version)).all())
        for version, variant, at in s.execute(
                select(WorkflowVersion.version, WorkflowVersion.variant, WorkflowVersion.registered_at)
                .where(WorkflowVersion.kind == kind).order_by(WorkflowVersion.version)):
            click.echo(f"  v{version:<3} {variant or '(default)':<10} registered {at:%Y-%m-%d %H:%M}  "
                       f"{counts.get(version, 0)} cases")


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            fail(f"--map takes OLD=NEW (a state of the case's version = a state of the target), not {pair!r}")
        out[old.strip()] = new.strip()
    return out


@workflow.command("migrate")
@click.argument("kind")
@click.option("--to", "to_version", type=int, required=True, help="The version to move running cases onto.")
@click.option("--map", "pairs", multiple=True, metavar="OLD=NEW", help="Where a state the target lacks goes.")
@click.option("--office", "office_code", help="Only this office's cases.")
@click.option("--dry-run", is_flag=True, help="List what would move where; change nothing.")
@pass_app
def workflow_migrate(app: App, kind: str, to_version: int, pairs: tuple[str, ...], office_code: str | None,
                     dry_run: bool) -> None:
    """Move a kind's running cases onto another version, in one transaction, each move in history."""
    p = migrate.plan(app.db, kind, to_version, _mapping(pairs), office_code=office_code)
    for m in p.moves:
        where = m.to_state if m.to_state is not None else "?? (no such state: give --map)"
        click.echo(f"  case {m.case_id} ({m.office_code}) v{m.from_version} {m.from_state} -> "
                   f"v{p.to_version} {where}   {m.title}")
    if p.blocked:
        states = sorted({m.from_state for m in p.blocked})
        fail(f"{len(p.blocked)} case(s) in states v{p.to_version} lacks: {', '.join(states)}; "
             "give --map OLD=NEW for each (nothing moved)")
    if dry_run:
        click.echo(f"{len(p.moves)} case(s) would move to v{p.to_version} (dry run: nothing moved)")
        return
    moved = migrate.apply(app.db, p)
    click.echo(f"{moved} case(s) moved to v{p.to_version}")
