"""``caseflow bench all``: one run, one report (text, JSON, Markdown) with the machine; a bench that lacks
something says what and how to get it, and the others still run. The Markdown table is checked row
by row on a report built here; the command itself runs the transitions bench for real at its
smallest size on a SQLite file of its own, with the peer and the load run lacking what they need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from caseflow.bench import Result, load, machine, not_run, report, suite
from tests.servers import free_port
from workflow.db import Database


def _report() -> suite.Report:
    r = suite.Report("caseflow bench all", "2026-12-06T09:00:00+08:00",
                     {"cpu": "Xeon", "cores": 2, "memory_gib": 23.5, "os": "Linux 6", "database": "PostgreSQL 15.20",
                      "database_url": "postgresql+psycopg://postgres@127.0.0.1/x", "redis": "7.0.15",
                      "libreoffice": "LibreOffice 7.4.7.2", "wrk": False, "python": "3.11.7",
                      "libraries": {"SQLAlchemy": "2.1.9", "locust": None}},
                     suite.Sizes(), load_before=6.2, load_after=5.1, seconds=312)
    r.sections = [
        suite.Section("transitions", [Result("transition p50 (postgresql)", 1649.4, "us", 826.0, 1.997, "ratio <= 2.0",
                                             True)], 12.0),
        suite.Section("peer", [Result("caseflow four-step | approval", 640.0, "steps/s", 610.0, 1.049, "ratio >= 1.5",
                                      False),
                               Result("  floor: Core", 1200.0, "steps/s", None, None, "informational", None)], 9.0),
        suite.Section("load", [not_run("load: not run", "needs Redis: set REDIS_URL")], 0.0),
    ]
    return r


def test_the_markdown_report_is_the_machine_a_row_per_measurement_and_what_was_missed() -> None:
    text = report.markdown(_report())
    lines = text.splitlines()
    assert lines[0] == "`caseflow bench all`, started 2026-12-06T09:00:00+08:00, took 5 min 12 s."
    machine_line = next(ln for ln in lines if ln.startswith("Machine: "))
    for fact in ("Xeon, 2 cores, 23.5 GiB memory", "PostgreSQL 15.20", "Redis 7.0.15", "Python 3.11.7",
                 "SQLAlchemy 2.1.9", "6.2 at the start, 5.1 at the end"):
        assert fact in machine_line, fact
    assert "locust" not in machine_line  # not installed: not listed
    rows = [ln for ln in lines if ln.startswith("| ") and not ln.startswith("| bench")]
    assert rows == [
        "| transitions | transition p50 (postgresql) | 1,649 µs | 826 µs | 2.00 | ratio <= 2.0 | PASS |",
        "| peer | caseflow four-step \\| approval | 640 steps/s | 610 steps/s | 1.05 | ratio >= 1.5 | FAIL |",
        "| peer | floor: Core | 1,200 steps/s | — | — | informational | INFO |",
        "| load | load: not run | — | — | — | needs Redis: set REDIS_URL | NOT RUN |",
    ]
    assert "**1 goals met, 1 missed, 1 not run.**" in lines
    assert "- Missed (peer): caseflow four-step | approval: 640 steps/s, ratio 1.05 against the goal ratio >= 1.5." \
        in lines
    assert "- Not run (load): load: not run: needs Redis: set REDIS_URL." in lines
    assert not _report().ok


def test_numbers_read_as_a_person_writes_them() -> None:
    assert report.number(1234.6, "ms") == "1,235 ms"
    assert report.number(0.8123, "s") == "0.812 s"
    assert report.number(2.999, "s") == "3.00 s"
    assert report.number(42.26, "ms") == "42.3 ms"
    assert report.number(0, "responses") == "0 responses"
    assert report.number(12, "stmts") == "12 stmts"
    assert report.number(float("nan"), "ms") == "—"


def test_redis_and_libreoffice_missing_are_said_in_words() -> None:
    assert machine.redis_problem(None) == \
        "needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to a running redis-server"
    closed = f"redis://127.0.0.1:{free_port()}/0"
    said = machine.redis_problem(closed)
    assert said is not None and said.startswith(f"needs Redis: REDIS_URL={closed} does not answer")
    # As on a host without LibreOffice: nothing but the virtualenv on PATH.
    code = "from caseflow.bench import machine; print(machine.libreoffice_problem())"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PATH": str(Path(sys.executable).parent)},
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "needs LibreOffice: apt-get install libreoffice-writer-nogui python3-uno"


def test_the_load_run_says_what_it_lacks(tmp_path: Path) -> None:
    sqlite = Database(f"sqlite:///{tmp_path / 'load.db'}")
    said = load.problem(sqlite, "redis://127.0.0.1:6379/0")
    assert said is not None and said.startswith("needs PostgreSQL: set DATABASE_URL=postgresql://")
    postgres = Database("postgresql://postgres@127.0.0.1:1/never")  # never connected: only its dialect is asked
    assert load.problem(postgres, None) == machine.redis_problem(None)
    sqlite.dispose()
    postgres.dispose()


def _bench_all(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'bench.db'}", "CASEFLOW_INSTANCE": str(tmp_path)}
    code = ("import sys; sys.modules['SpiffWorkflow'] = None; from caseflow.cli import main; "
            f"main({['bench', 'all', *args]!r})")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                          check=False)


@pytest.mark.slow  # a SQLite file of its own whatever DATABASE_URL says: once per CI run is enough
def test_bench_all_runs_what_it_can_and_says_what_it_cannot(tmp_path: Path) -> None:
    md = tmp_path / "report.md"
    done = _bench_all(tmp_path, "--skip", "documents,web,calendar,registers,search", "--cases", "1000", "--json",
                      "--report", str(md))
    assert done.returncode == 1, done.stderr  # two benches could not run: not every goal is met
    out = json.loads(done.stdout)
    assert [b["bench"] for b in out["benches"]] == ["transitions", "peer", "load"]
    transitions, peer, load = (b["results"] for b in out["benches"])
    first = transitions[0]
    assert first["name"] == "transition p50 (sqlite)" and first["floor"] > 0
    assert first["ratio"] == round(first["value"] / first["floor"], 3)
    assert all(r["pass"] is not None and "not_run" not in r for r in transitions)
    spiff = "needs SpiffWorkflow 3.1-3.2, the bench extra: pip install -e '.[bench]'"
    assert peer == [{"name": "peer: not run", "value": 0.0, "unit": "", "floor": None, "ratio": None, "goal": "",
                     "pass": None, "not_run": spiff}]
    assert load[0]["not_run"].startswith("needs PostgreSQL")
    assert out["summary"]["not_run"] == 2 and out["summary"]["met"] + out["summary"]["missed"] == len(transitions)
    m = out["machine"]
    assert m["database"].startswith("SQLite ") and m["cores"] == os.cpu_count() and m["python"] == \
        ".".join(map(str, sys.version_info[:3]))
    assert m["libraries"]["SQLAlchemy"] and m["redis"] is None
    text = md.read_text()
    assert "| transitions | transition p50 (sqlite) |" in text
    assert "| peer | peer: not run | — | — | — | needs SpiffWorkflow 3.1-3.2, the bench extra: pip install -e " \
           "'.[bench]' | NOT RUN |" in text
    assert f"took {int(out['seconds']) // 60} min" in text.splitlines()[0]


@pytest.mark.slow
def test_an_unknown_bench_to_skip_is_refused_with_the_names(tmp_path: Path) -> None:
    done = _bench_all(tmp_path, "--skip", "transitions,speed")
    assert done.returncode == 2
    assert done.stderr.strip() == ("caseflow: unknown bench speed; choose from calendar, documents, load, peer, "
                                   "registers, search, transitions, web")
