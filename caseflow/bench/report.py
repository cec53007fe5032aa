"""``caseflow bench all --report FILE.md``: the run as Markdown, the machine first, then one table row
per measurement (value, the floor measured in the same run, ratio, goal, result), then what was
missed or not run, in words."""

from __future__ import annotations

from caseflow.bench import Result
from caseflow.bench.suite import Report

UNITS = {"us": "µs", "bytes": "B"}


def number(value: float, unit: str) -> str:
    """1234.6 ms -> "1,235 ms"; 42.26 ms -> "42.3 ms"; 2.999 s -> "3.00 s"; a count stays whole."""
    if value != value:  # NaN
        return "—"
    a = abs(value)
    if a >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    elif a >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:#.3g}"  # three significant digits, trailing zeros kept: 3.00 s
    return f"{text} {UNITS.get(unit, unit)}".strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(bench: str, r: Result) -> str:
    if r.not_run:
        cells = [bench, r.name, "—", "—", "—", r.not_run, "NOT RUN"]
    else:
        cells = [bench, r.name.strip(), number(r.value, r.unit),
                 "—" if r.floor is None else number(r.floor, r.unit),
                 "—" if r.ratio is None else f"{r.ratio:.2f}", r.goal, r.verdict]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def machine_line(report: Report) -> str:
    m = report.machine
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v)
    load = ""
    if report.load_before is not None and report.load_after is not None:
        load = (f" Load average (1 min): {report.load_before:.1f} at the start, {report.load_after:.1f} at the end "
                f"(on {m['cores']} cores).")
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB memory; {m['os']}; {m['database']}; "
            f"Redis {m['redis'] or '(none)'}; {m['libreoffice'] or 'no LibreOffice'}; "
            f"{'wrk' if m['wrk'] else 'no wrk (a Python client instead)'}; Python {m['python']}; {libs}.{load}")


def markdown(report: Report) -> str:
    c = report.counts()
    minutes, seconds = divmod(int(report.seconds), 60)
    lines = [
        f"`{report.command}`, started {report.started}, took {minutes} min {seconds:02d} s.",
        "",
        f"Machine: {machine_line(report)}",
        "",
        "| bench | measurement | value | floor (same run) | ratio | goal | result |",
        "|---|---|--:|--:|--:|---|---|",
        *(_row(b, r) for b, r in report.results()),
        "",
        f"**{c['met']} goals met, {c['missed']} missed, {c['not_run']} not run.**",
    ]
    missed = [(b, r) for b, r in report.results() if r.passed is False and not r.not_run]
    not_run = [(b, r) for b, r in report.results() if r.not_run]
    for b, r in missed:
        lines.append(f"- Missed ({b}): {r.name.strip()}: {number(r.value, r.unit)}"
                     + ("" if r.ratio is None else f", ratio {r.ratio:.2f}") + f" against the goal {r.goal}.")
    for b, r in not_run:
        lines.append(f"- Not run ({b}): {r.name.strip()}: {r.not_run}.")
    return "\n".join(lines) + "\n"
