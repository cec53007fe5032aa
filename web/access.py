"""Access to objects named in a URL, in one place: every view that takes an id goes through here.

A case of another office answers 404 exactly like a case that does not exist, so ids reveal
nothing. What a user may *do* with a case is decided by ``workflow.cases`` (role, unit,
separation of duties); this module decides only what they may *see*.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Protocol

from flask import abort
from flask_login import current_user

from web.db import session
from workflow import clock
from workflow.models import Case
from workflow.people import permissions


class OfficeMember(Protocol):
    @property
    def office_id(self) -> int: ...


def load_case_for(user: OfficeMember, case_id: int) -> Case:
    """The case with this id if ``user``'s office owns it; otherwise abort with 404."""
    case = session().get(Case, case_id)
    if case is None or case.office_id != user.office_id:
        abort(404)
    return case


def holds_any(roles: Container[str]) -> bool:
    """Does the logged-in user hold one of ``roles`` today, own or delegated? For nav links and the
    gates of whole pages; the request's read session keeps the capacities, so asking again is free."""
    if not current_user.is_authenticated:
        return False
    caps = permissions.capacities(session(), current_user.id, current_user.office_id, clock.today())
    return any(c.role in roles for c in caps)
