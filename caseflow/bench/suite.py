"""``caseflow bench all``: every bench in one run, one report (text, JSON or a Markdown table).

Each bench runs in turn on the configured database, in this process, with sizes that finish in
a few minutes on two cores (``Sizes``; ``FULL`` is what each bench uses when run alone). A bench
that needs something this machine lacks (Redis, LibreOffice, gunicorn, a bench extra, PostgreSQL)
reports a NOT RUN line saying what and how to get it, and one that breaks reports the error; the
others still run. The report starts with the machine: on a shared one the load average matters.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from caseflow.bench import Result, machine
from workflow import clock
from workflow.config import load_settings
from workflow.db import Database


@dataclass(frozen=True)
class Sizes:
    cases: int = 20_000  # transitions' memory bench, the calendar's board, the web bench's seed
    ops: int = 400  # transitions timed
    documents: int = 10  # documents through the pipeline (half as many conversions)
    board: int = 50  # board requests timed
    web_requests: int = 50  # requests timed per page
    web_seconds: float = 3.0  # each load round of the web bench
    compliance: int = 20  # compliance computations timed
    peer_rounds: int = 10  # rounds of 5 four-step approvals per engine
    load_seconds: int = 30  # the load run


FULL = Sizes(cases=100_000, ops=400, documents=20, board=50, web_requests=100, web_seconds=5.0, compliance=20,
             peer_rounds=20, load_seconds=60)


@dataclass
class Section:
    bench: str
    results: list[Result]
    seconds: float


@dataclass
class Report:
    command: str
    started: str
    machine: dict[str, Any]
    sizes: Sizes
    sections: list[Section] = field(default_factory=list)
    load_before: float | None = None
    load_after: float | None = None
    seconds: float = 0.0

    def results(self) -> list[tuple[str, Result]]:
        return [(s.bench, r) for s in self.sections for r in s.results]

    def counts(self) -> dict[str, int]:
        rs = [r for _b, r in self.results()]
        return {"met": sum(r.passed is True and not r.not_run for r in rs),
                "missed": sum(r.passed is False and not r.not_run for r in rs),
                "not_run": sum(bool(r.not_run) for r in rs)}

    @property
    def ok(self) -> bool:
        c = self.counts()
        return c["missed"] == 0 and c["not_run"] == 0

    def as_json(self) -> dict[str, Any]:
        return {"command": self.command, "started": self.started, "seconds": round(self.seconds, 1),
                "machine": self.machine | {"load_average_before": self.load_before,
                                           "load_average_after": self.load_after},
                "sizes": asdict(self.sizes), "summary": self.counts(),
                "benches": [{"bench": s.bench, "seconds": round(s.seconds, 1),
                             "results": [r.as_json() for r in s.results]} for s in self.sections]}


def _search() -> Callable[..., list[Result]] | None:
    """The search bench, in builds that have one (``caseflow.bench.search``)."""
    if importlib.util.find_spec("caseflow.bench.search") is None:
        return None
    module = importlib.import_module("caseflow.bench.search")
    return getattr(module, "run", None)


def _web(db: Database, sizes: Sizes) -> list[Result]:
    from caseflow.bench import web

    web.seed(db, cases=sizes.cases, offices=13)
    return web.run(db, n=sizes.web_requests, seconds=sizes.web_seconds)


Lacks = Callable[[Database], str | None]
Runs = Callable[[Database], list[Result]]


def plan(sizes: Sizes) -> list[tuple[str, Lacks, Runs]]:
    """(bench, what it lacks here or None, how to run it), in the report's order."""
    from caseflow.bench import documents, load, peer, plan_calendar, registers, transitions

    redis_url = load_settings().redis_url
    benches: list[tuple[str, Lacks, Runs]] = [
        ("transitions", lambda db: None, lambda db: transitions.run(db, n_cases=sizes.cases, ops=sizes.ops)),
        ("peer", lambda db: peer.spiff_problem(), lambda db: peer.run(db, rounds=sizes.peer_rounds)),
        ("documents", lambda db: None, lambda db: documents.run(db, n=sizes.documents)),
        ("web", lambda db: machine.module_problem("gunicorn", "bench"), lambda db: _web(db, sizes)),
        ("calendar", lambda db: None, lambda db: plan_calendar.run(db, n_cases=sizes.cases, n=sizes.board)),
        ("registers", lambda db: None, lambda db: registers.run(db, n=sizes.compliance)),
    ]
    search = _search()
    if search is not None:
        benches.append(("search", lambda db: None, lambda db: search(db)))
    benches.append(("load", lambda db: load.problem(db, redis_url),
                    lambda db: load.run(db, seconds=sizes.load_seconds)))
    return benches


def run(db: Database, sizes: Sizes, command: str, *, skip: frozenset[str] = frozenset(),
        echo: Callable[[str], None] = lambda _line: None) -> Report:
    """Run every bench but ``skip``; ``echo`` sees each line as it comes."""
    t0 = time.perf_counter()
    report = Report(command, clock.now().astimezone(clock.TAIPEI).isoformat(timespec="seconds"),
                    machine.describe(db, load_settings().redis_url), sizes, load_before=machine.load_average())
    for name, lacks, bench in plan(sizes):
        if name in skip:
            continue
        echo(f"== {name}")
        started = time.perf_counter()
        why = lacks(db)
        if why:
            results = [Result(f"{name}: not run", 0.0, "", None, None, "", None, not_run=why)]
        else:
            try:
                results = bench(db)
            except Exception as exc:  # one broken bench must not hide the others' numbers
                detail = traceback.format_exception_only(exc)[-1].strip()
                results = [Result(f"{name}: stopped by an error: {detail}", 0.0, "", None, None, "runs to the end",
                                  False)]
        for r in results:
            echo(r.line())
        report.sections.append(Section(name, results, time.perf_counter() - started))
    report.load_after = machine.load_average()
    report.seconds = time.perf_counter() - t0
    return report
