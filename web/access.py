"""Access to objects named in a URL, in one place: every view that takes an id goes through here.

A case of another office, or one of this office the user may not read (another unit's draft),
answers 404 exactly like a case that does not exist, so ids reveal nothing. What a user may *do*
with a case is decided by ``workflow.cases`` (role, unit, separation of duties); this module
decides only what they may *see* (the rule itself is ``workflow.people.reading``).
"""

from __future__ import annotations

from collections.abc import Container
from typing import Protocol

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, false

from web.db import database, session
from workflow import clock
from workflow.engine import registry
from workflow.models import Case
from workflow.people import permissions, reading


class OfficeMember(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def office_id(self) -> int: ...

    @property
    def unit_id(self) -> int | None: ...

    @property
    def office_kind(self) -> str: ...


def reader(user: OfficeMember) -> reading.Reader:
    """The person as far as reading goes (their capacities are kept for the request)."""
    return reading.Reader(user.id, user.unit_id,
                          permissions.capacities(session(), user.id, user.office_id, clock.today()))


def load_case_for(user: OfficeMember, case_id: int) -> Case:
    """The case with this id if ``user`` may read it (``workflow.people.reading``: its office, and
    its unit or the reviewers on its path); otherwise abort with 404, as for a case that does not
    exist."""
    case = session().get(Case, case_id)
    if case is None:
        abort(404)
    defn = registry.default().get(database(), case.kind, case.workflow_version, session())
    if case.office_id != user.office_id:
        # The city group's reviewers read every district's cases that reached the city.
        if not (user.office_kind == "city" and reading.city_reads(reader(user)) and case.state in defn.city_states()):
            abort(404)
    elif not reading.may_read(reader(user), case, defn):
        abort(404)
    return case


def readable_cases(user: OfficeMember) -> ColumnElement[bool]:
    """The same rule as a condition on ``Case`` for lists and search (the office included; for the
    city group, every district's cases that reached the city)."""
    versions = reading.every_version(database(), session())
    if user.office_kind == "city":
        return reading.city_condition(versions) if reading.city_reads(reader(user)) else false()
    return and_(Case.office_id == user.office_id, reading.readable(reader(user), versions))


def holds_any(roles: Container[str]) -> bool:
    """Does the logged-in user hold one of ``roles`` today, own or delegated? For nav links and the
    gates of whole pages; the request's read session keeps the capacities, so asking again is free."""
    if not current_user.is_authenticated:
        return False
    caps = permissions.capacities(session(), current_user.id, current_user.office_id, clock.today())
    return any(c.role in roles for c in caps)
