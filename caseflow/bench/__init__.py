"""Benchmarks: each measures our code and, in the same run, the floor it is compared against."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Result:
    """One line of a bench: ``value`` against ``floor``; ``ratio`` = value / floor; ``goal`` on ratio
    (or on value when there is no floor). ``not_run`` says what was missing when the measurement
    could not be made at all (Redis, LibreOffice, a bench extra): neither met nor missed."""

    name: str
    value: float
    unit: str
    floor: float | None
    ratio: float | None
    goal: str
    passed: bool | None  # None: informational, no goal
    not_run: str | None = None

    @property
    def verdict(self) -> str:
        if self.not_run:
            return "NOT RUN"
        return "INFO" if self.passed is None else "PASS" if self.passed else "FAIL"

    def as_json(self) -> dict[str, Any]:
        out = {"name": self.name, "value": round(self.value, 3), "unit": self.unit,
               "floor": None if self.floor is None else round(self.floor, 3),
               "ratio": None if self.ratio is None else round(self.ratio, 3),
               "goal": self.goal, "pass": self.passed}
        return out | {"not_run": self.not_run} if self.not_run else out

    def line(self) -> str:
        if self.not_run:
            return f"NOT RUN  {self.name}: {self.not_run}"
        floor = "" if self.floor is None else f"  floor {self.floor:.3f} {self.unit}"
        ratio = "" if self.ratio is None else f"  ratio {self.ratio:.2f}"
        return f"{self.verdict}  {self.name:<44} {self.value:>10.3f} {self.unit}{floor}{ratio}  goal {self.goal}"


def not_run(name: str, why: str) -> Result:
    """A measurement that could not be made here, saying what it needs."""
    return Result(name, 0.0, "", None, None, "", None, not_run=why)


def ratio_result(name: str, value: float, floor: float, unit: str, max_ratio: float) -> Result:
    r = value / floor if floor else float("inf")
    return Result(name, value, unit, floor, r, f"ratio <= {max_ratio}", r <= max_ratio)


def time_each(fn: Callable[[], object], n: int) -> list[float]:
    """Wall time of each of ``n`` calls, in microseconds."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - t0) / 1000)
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def settle(db: Any, tables: tuple[str, ...] = ("cases", "case_history")) -> None:
    """After bulk inserts: what autovacuum does on a live database (planner statistics, and on
    PostgreSQL the visibility map that index-only scans need), so a bench measures the steady
    state rather than a table the planner has never seen."""
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
