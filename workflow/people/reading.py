"""Who may read a case: reading follows the role (R8, issue 13).

A draft is read by its unit (people of the unit, and anyone holding a staff or chief role for it,
代理 included), by its drafter, and by the secretariat, the liaisons and administrators. Once it has
left its first draft (submitted; a returned case was submitted), the reviewers on its path read it
too: whoever holds a role that acts on the kind's workflow (a chief for the case's unit only), and
the task force's members wherever its convener decides. Everyone else of the office gets "not
found", as for another office's case.

``may_read`` answers for one case; ``readable`` is the same rule as a SQL condition, for lists
and search, so both always agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import Session

from workflow.db import Database
from workflow.engine import registry
from workflow.engine.definitions import Definition
from workflow.models import Case
from workflow.people.permissions import Capacity
from workflow.roles import SYSTEM, UNIT_SCOPED, Role

# Read every case of the office, drafts included.
READ_ALL: frozenset[str] = frozenset({Role.SECRETARIAT, Role.LIAISON, Role.DEPUTY_LIAISON, Role.ADMIN})


@dataclass(frozen=True)
class Reader:
    """A person as far as reading goes: who, their own unit, and their capacities today."""

    user_id: int
    unit_id: int | None
    caps: Sequence[Capacity]

    @property
    def reads_all(self) -> bool:
        return any(c.role in READ_ALL for c in self.caps)

    @property
    def units(self) -> frozenset[int]:
        """Their own unit and every unit they hold a staff or chief role for (own or 代理)."""
        out = {c.unit_id for c in self.caps if c.role in UNIT_SCOPED and c.unit_id is not None}
        if self.unit_id is not None:
            out.add(self.unit_id)
        return frozenset(out)


def path_roles(definitions: Iterable[Definition]) -> frozenset[str]:
    """The roles that act anywhere on these workflows (the system aside); the task force's members
    review wherever its convener decides. The city group's reviewers are not among them: they read
    what reached the city (``city_reads``), never the office's own steps."""
    roles = {r for d in definitions for t in d.transitions for r in t.roles} - {SYSTEM, Role.CITY_REVIEWER}
    if Role.CONVENER in roles or Role.DEPUTY_CONVENER in roles:
        roles.add(Role.MEMBER)
    return frozenset(roles)


def _on_path(reader: Reader, roles: frozenset[str], unit_id: int) -> bool:
    return any(c.role in roles and (c.role not in UNIT_SCOPED or c.unit_id == unit_id) for c in reader.caps)


def city_reads(reader: Reader) -> bool:
    return any(c.role == Role.CITY_REVIEWER for c in reader.caps)


def may_read(reader: Reader, case: Case, defn: Definition) -> bool:
    if reader.reads_all or case.unit_id in reader.units or reader.user_id in (case.drafter_id, case.submitted_by_id):
        return True
    if city_reads(reader) and case.state in defn.city_states():
        return True
    return case.state != defn.initial and _on_path(reader, path_roles([defn]), case.unit_id)


def readable(reader: Reader, definitions: Mapping[str, Sequence[Definition]]) -> ColumnElement[bool]:
    """``may_read`` as a condition on ``Case`` (the office is the caller's to add): for each kind
    (``definitions``: every version of it, so a case on an older version is not lost), the states
    past its first draft where this reader is on the path."""
    if reader.reads_all:
        return true()
    own = [Case.drafter_id == reader.user_id, Case.submitted_by_id == reader.user_id]
    if reader.units:
        own.append(Case.unit_id.in_(sorted(reader.units)))
    reviewed = []
    if city_reads(reader):
        reviewed.append(city_condition(definitions))
    for kind, versions in definitions.items():
        roles = path_roles(versions)
        office_wide = any(c.role in roles and c.role not in UNIT_SCOPED for c in reader.caps)
        units = sorted({c.unit_id for c in reader.caps
                        if c.role in roles and c.role in UNIT_SCOPED and c.unit_id is not None})
        if not office_wide and not units:
            continue
        initial = {d.initial for d in versions}
        where = and_(Case.kind == kind, Case.state.not_in(sorted(initial)))
        reviewed.append(where if office_wide else and_(where, Case.unit_id.in_(units)))
    clauses = [*own, *reviewed]
    return or_(*clauses) if clauses else false()


def city_condition(definitions: Mapping[str, Sequence[Definition]]) -> ColumnElement[bool]:
    """Cases in a state the city group holds or reads (filed, acknowledged, under its review)."""
    return or_(*(and_(Case.kind == kind, Case.state.in_(sorted(set().union(*(d.city_states() for d in versions)))))
                 for kind, versions in definitions.items()), false())


def every_version(db: Database, s: Session) -> dict[str, list[Definition]]:
    """Every stored version of every kind (read once per process; versions are only ever added)."""
    out: dict[str, list[Definition]] = {}
    for kind, version in registry.default().stored_versions(db, s):
        out.setdefault(kind, []).append(registry.default().get(db, kind, version, s))
    return out
