"""What the API's route modules share: the id converter, the documented error statuses, the
definition of a case's kind, running an operation with its errors as JSON, and a case's URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, url_for

from web.api import errors as api_errors
from web.api import schemas as sch
from web.api.blueprint import bp
from web.db import database, session
from workflow.engine import registry
from workflow.engine.definitions import Definition
from workflow.errors import CaseflowError, NotFound

F = TypeVar("F", bound=Callable[..., Any])
# Ids in URLs: positive 32-bit integers (the columns' range). Anything else is no route (404),
# never a database error: SQLite refuses integers over 64 bits, PostgreSQL over the column's type.
ID = "int(min=1, max=2147483647)"


def documented(*statuses: int) -> Callable[[F], F]:
    """Document the error statuses a route answers (401 and 429 on every route)."""
    def wrap(fn: F) -> F:
        for status in sorted({401, 429, *statuses}):
            fn = bp.alt_response(status, schema=sch.ErrorSchema,
                                 description=api_errors.HTTP[status][2])(fn)
        return fn
    return wrap


def definition(kind: str, version: int) -> Definition | None:
    try:
        return registry.default().get(database(), kind, version, session())
    except NotFound:
        return None


def domain(fn: Callable[[], Any]) -> Any:
    """Run an operation; its typed errors become the API's JSON errors."""
    try:
        return fn()
    except CaseflowError as exc:
        abort(api_errors.from_domain(exc))


def case_url(case_id: int) -> str:
    return url_for("api.case", case_id=case_id)
