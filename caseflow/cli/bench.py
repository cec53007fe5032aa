"""``caseflow bench``: the benchmarks, each printing its numbers and the floor it compares against
(exit 1 when a goal is missed). The measurements themselves are ``caseflow.bench``."""

from __future__ import annotations

import sys
from typing import Any

import click

from caseflow.cli.base import App, dump, main, pass_app


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
