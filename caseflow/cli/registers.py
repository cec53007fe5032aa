"""``caseflow registers`` / ``compliance``: import the training register, export every register
(training, compliance, task force members and meetings, outreach, budget), and the office's yearly
compliance with the plan (task force composition, the liaison's rank, training, outreach, budget)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from caseflow.cli.base import EXIT_BAD_INPUT, App, dump, main, office_id, pass_app
from web.exports import FORMATS, export
from workflow import clock, rocdate
from workflow.db import Database
from workflow.registers import budget, meetings, outreach, task_force, training, training_import
from workflow.registers.training_import import ImportRefused


@main.group()
def registers() -> None:
    """The plan's registers: training, task force, outreach, budget."""


@registers.group("import")
def import_group() -> None:
    """Import a register from a file."""


@import_group.command("training")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--office", "office_code", required=True, help="The office whose people took the courses.")
@pass_app
def import_training(app: App, file: Path, office_code: str) -> None:
    """A CSV of training records, all or nothing: on any bad row, one line per error, nothing imported."""
    oid = office_id(app.db, office_code)
    try:
        with app.db.unit_of_work() as uow:
            summary = training_import.import_csv(uow.session, oid, None, file.read_bytes())
            uow.commit()
    except ImportRefused as exc:
        for e in exc.errors:
            click.echo(f"caseflow: {e.line()}", err=True)
        click.echo(f"caseflow: nothing imported ({len(exc.errors)} error(s)); fix the file and import it again",
                   err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(summary.line())


@registers.group("export")
def export_group() -> None:
    """Export a register."""


def _export_register(app: App, office_code: str, roc_year: int, fmt: str, output: Path, title: str,
                     header: list[str], rows_of: Callable[[Session, int, int], list[list[Any]]],
                     noun: str = "rows") -> None:
    oid = office_id(app.db, office_code)
    with app.db.unit_of_work(write=False) as uow:
        rows = rows_of(uow.session, oid, roc_year)
    output.write_bytes(export(fmt, f"{roc_year}年{title}", header, rows))
    click.echo(f"{len(rows)} {noun} written to {output}")


def _export_options(f: Any) -> Any:
    for option in reversed([
            click.option("--office", "office_code", required=True),
            click.option("--year", "roc_year", type=int, required=True, help="ROC year, e.g. 115."),
            click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="csv", show_default=True),
            click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)]):
        f = option(f)
    return f


@export_group.command("training")
@_export_options
@pass_app
def export_training(app: App, office_code: str, roc_year: int, fmt: str, output: Path) -> None:
    """The year's records in the import's columns (a CSV imports back as it was)."""
    _export_register(app, office_code, roc_year, fmt, output, "培力紀錄", training_import.EXPORT_HEADER,
                     training_import.export_rows, noun="records")


@export_group.command("compliance")
@_export_options
@pass_app
def export_compliance(app: App, office_code: str, roc_year: int, fmt: str, output: Path) -> None:
    """Each person's hours in the year against the plan's, and what they lack."""
    _export_register(app, office_code, roc_year, fmt, output, "培力時數達成情形", training.COMPLIANCE_HEADER,
                     lambda s, oid, year: training.compliance_rows(training.compliance(s, oid, year)))


@export_group.command("task-force")
@_export_options
@pass_app
def export_task_force(app: App, office_code: str, roc_year: int, fmt: str, output: Path) -> None:
    """The task force members whose term touches the year, with sex, role, seat and term."""
    _export_register(app, office_code, roc_year, fmt, output, "專案小組委員", task_force.EXPORT_HEADER,
                     task_force.export_rows)


@export_group.command("meetings")
@_export_options
@pass_app
def export_meetings(app: App, office_code: str, roc_year: int, fmt: str, output: Path) -> None:
    """The year's task force meetings: attendance by sex, quorum, and each decision."""
    _export_register(app, office_code, roc_year, fmt, output, "專案小組會議", meetings.EXPORT_HEADER,
                     meetings.export_rows)


@export_group.command("outreach")
@_export_options
@pass_app
def export_outreach(app: App, office_code: str, roc_year: int, fmt: str, output: Path) -> None:
    """The year's outreach events with participants by sex and materials."""
    _export_register(app, office_code, roc_year, fmt, output, "宣導紀錄", outreach.EXPORT_HEADER, outreach.export_rows)


@export_group.command("budget")
@_export_options
@pass_app
def export_budget(app: App, office_code: str, roc_year: int, fmt: str, output: Path) -> None:
    """The year's gender budget items with budgeted and executed amounts."""
    _export_register(app, office_code, roc_year, fmt, output, "性別預算", budget.EXPORT_HEADER, budget.export_rows)


def compliance_dict(db: Database, oid: int, roc_year: int) -> dict[str, Any]:
    """The office's compliance for scripts (the keys are kept stable): outreach ``met`` is the
    social affairs section's public event; budget ``executed`` sums the items reported so far."""
    day = min(clock.today(), rocdate.roc_year_bounds(roc_year)[1])
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        comp = task_force.composition(task_force.in_office(s, oid, day))
        liaison = task_force.liaison(s, oid, day)
        people = training.compliance(s, oid, roc_year)
        events = outreach.year_check(s, oid, roc_year)
        money = budget.totals(budget.items(s, oid, roc_year))
    return {
        "task_force": {"members": comp.members, "women": comp.women, "men": comp.men,
                       "min_per_sex": comp.min_per_sex, "target_per_sex": comp.target_per_sex,
                       "rule_met": comp.rule_met, "target_met": comp.target_met},
        "liaison": {"name": liaison.name, "rank_ok": liaison.rank_ok},
        "training": [p.as_json() for p in people],
        "outreach": {"events": events.events, "met": events.met},
        "budget": money.as_json(),
    }


@main.command()
@click.option("--office", "office_code", required=True)
@click.option("--year", "roc_year", type=int, required=True, help="ROC year, e.g. 115.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def compliance(app: App, office_code: str, roc_year: int, as_json: bool) -> None:
    """Does the office keep the plan's rules this year: task force, liaison, training hours."""
    out = compliance_dict(app.db, office_id(app.db, office_code), roc_year)
    if as_json:
        dump(out)
        return
    tf = out["task_force"]
    click.echo(f"task force: {tf['members']} members, {tf['women']} women, {tf['men']} men; at least "
               f"{tf['min_per_sex']} of each: {'met' if tf['rule_met'] else 'NOT MET'}; target {tf['target_per_sex']}: "
               f"{'met' if tf['target_met'] else 'not met'}")
    li = out["liaison"]
    click.echo(f"liaison: {li['name'] or '(none)'}{'' if li['rank_ok'] else ' (not section-chief level)'}")
    short = [p for p in out["training"] if not p["met"]]
    click.echo(f"training: {len(out['training']) - len(short)} of {len(out['training'])} people met the hours")
    for p in short:
        click.echo(f"  {p['name']}（{p['unit']}）: {'；'.join(p['missing'])}")
    ev, money = out["outreach"], out["budget"]
    click.echo(f"outreach: {ev['events']} events; social affairs public event: {'met' if ev['met'] else 'NOT MET'}")
    click.echo(f"budget: {money['items']} items, NT$ {money['budgeted']:,} budgeted, "
               f"NT$ {money['executed']:,} executed")
