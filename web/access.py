"""Access to objects named in a URL, in one place: every view that takes an id goes through here.

A case of another office answers 404 exactly like a case that does not exist, so ids reveal
nothing. What a user may *do* with a case is decided by ``workflow.operations`` (role, unit,
separation of duties); this module decides only what they may *see*.
"""

from __future__ import annotations

from typing import Protocol

from flask import abort

from web.db import session
from workflow.models import Case


class OfficeMember(Protocol):
    @property
    def office_id(self) -> int: ...


def load_case_for(user: OfficeMember, case_id: int) -> Case:
    """The case with this id if ``user``'s office owns it; otherwise abort with 404."""
    case = session().get(Case, case_id)
    if case is None or case.office_id != user.office_id:
        abort(404)
    return case
