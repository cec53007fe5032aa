"""``caseflow bench``: the benchmarks, each printing its numbers and the floor it compares against
(exit 1 when a goal is missed). The measurements themselves are ``caseflow.bench``."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from caseflow.cli.base import App, dump, fail, main, pass_app


@main.group()
def bench() -> None:
    """Benchmarks that print their numbers and the floor they compare against."""


def report(results: list[Any], as_json: bool) -> None:
    """Print a bench's results (a line each, or the JSON list); exit 1 if a goal was missed."""
    if as_json:
        dump([r.as_json() for r in results])
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


@bench.command("registers")
@click.option("--json", "as_json", is_flag=True)
@click.option("-n", "n", default=20, show_default=True, help="Compliance computations timed.")
@pass_app
def bench_registers(app: App, as_json: bool, n: int) -> None:
    """Training import of 10,000 rows, and compliance for 300 people: time and SQL statements."""
    from caseflow.bench import registers as br

    results = br.run(app.db, n=n)
    report(results, as_json)


@bench.command("search")
@click.option("--json", "as_json", is_flag=True)
@click.option("--cases", "n_cases", default=10_000, show_default=True, help="Cases of the searched office.")
@click.option("-n", "n", default=50, show_default=True, help="Searches timed per kind of query.")
@pass_app
def bench_search(app: App, as_json: bool, n_cases: int, n: int) -> None:
    """搜尋 over an office of 10,000 cases: p95 per kind of query against the index alone, statements."""
    from caseflow.bench import search as bs

    results = bs.run(app.db, cases=n_cases, n=n)
    report(results, as_json)
@bench.command("peer")
@click.option("--json", "as_json", is_flag=True)
@click.option("--rounds", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Rounds of 5 four-step approvals per engine.")
@pass_app
def bench_peer(app: App, as_json: bool, rounds: int) -> None:
    """caseflow's four-step approval against SpiffWorkflow's (the bench extra), persisted steps per second."""
    from caseflow.bench import peer

    report(peer.run(app.db, rounds=rounds), as_json)


@bench.command("load")
@click.option("--json", "as_json", is_flag=True)
@click.option("--seconds", default=60, show_default=True, type=click.IntRange(5, 600), help="Length of the day.")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path),
              help="Where the logs and locust's CSV go (default: a new temporary folder).")
@pass_app
def bench_load(app: App, as_json: bool, seconds: int, folder: Path | None) -> None:
    """20 people of a fresh office for a day of at most --seconds: gunicorn, a Celery worker and locust
    on the configured PostgreSQL and Redis; no 5xx, chains verify, documents ready, p95 per page."""
    import tempfile

    from caseflow.bench import load

    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="caseflow-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    click.echo(f"logs and locust's CSV: {folder}", err=True)
    report(load.run(app.db, seconds=seconds, folder=folder), as_json)


@bench.command("all")
@click.option("--json", "as_json", is_flag=True, help="The whole report as JSON on stdout.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report as a Markdown table to this file.")
@click.option("--full", is_flag=True, help="Each bench at the size it runs alone (100,000 cases, 60 s of load, ...).")
@click.option("--cases", type=click.IntRange(1000, 1_000_000), help="Cases for the memory, board and web benches.")
@click.option("--skip", default="", help="Comma-separated benches not to run (transitions, peer, documents, web, "
                                          "calendar, registers, load).")
@pass_app
def bench_all(app: App, as_json: bool, report_path: Path | None, full: bool, cases: int | None, skip: str) -> None:
    """Every bench in one run, on the configured database (a scratch one: the benches add offices and
    100,000s of cases): metric, floor measured in the same run, ratio, goal, pass, and the machine.
    Exit 1 when a goal is missed or a bench could not run."""
    from caseflow.bench import report as markdown
    from caseflow.bench import suite

    sizes = suite.FULL if full else suite.Sizes()
    if cases is not None:
        sizes = replace(sizes, cases=cases)
    names = {n for n, _lacks, _run in suite.plan(sizes)}
    skipped = frozenset(s.strip() for s in skip.split(",") if s.strip())
    if skipped - names:
        fail(f"unknown bench {', '.join(sorted(skipped - names))}; choose from {', '.join(sorted(names))}")
    command = "caseflow bench all" + (" --full" if full else "") + (f" --cases {cases}" if cases else "") + \
        (f" --skip {skip}" if skipped else "")
    result = suite.run(app.db, sizes, command, skip=skipped,
                       echo=(lambda _line: None) if as_json else (lambda line: click.echo(line)))
    if report_path is not None:
        report_path.write_text(markdown.markdown(result))
    if as_json:
        dump(result.as_json())
    else:
        c = result.counts()
        click.echo(f"== {c['met']} goals met, {c['missed']} missed, {c['not_run']} not run "
                   f"({result.seconds / 60:.1f} min)")
        click.echo(f"machine: {markdown.machine_line(result)}")
        if report_path is not None:
            click.echo(f"report: {report_path}")
    if not result.ok:
        sys.exit(1)
