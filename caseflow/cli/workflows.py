"""``caseflow workflow show``: a kind's states and transitions, and its diagram as Mermaid."""

from __future__ import annotations

from pathlib import Path

import click

from caseflow.cli.base import CASE_ID, App, fail, main, pass_app
from workflow.engine import registry
from workflow.models import Case


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
