"""The ``caseflow`` command group and what every command shares: the lazily opened database,
ids as arguments, and typed errors as one ``caseflow:`` line with exit code 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any, NoReturn

import click
from sqlalchemy import select

from workflow.config import load_settings
from workflow.db import Database, configure
from workflow.errors import CaseflowError
from workflow.models import Office, User

EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    click.echo(f"caseflow: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _json_default(o: Any) -> Any:
    if isinstance(o, dt.datetime | dt.date):
        return o.isoformat()
    raise TypeError(type(o))


def dump(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default))


class App:
    """Lazily opened database for the commands."""

    def __init__(self) -> None:
        self.settings = load_settings()
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = configure(self.settings.database_url)
        return self._db


pass_app = click.make_pass_decorator(App, ensure=True)


class Id(click.ParamType):
    """The number of a row (a case, a document): anything else is one ``caseflow:`` line, exit 2
    (``_Group``), rather than click's usage text."""

    name = "id"

    def __init__(self, what: str, listing: str) -> None:
        self.what, self.listing = what, listing

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isascii() and text.isdigit():
            return int(text)
        self.fail(f"the {self.what} id must be a number, e.g. 12, not {value!r} (see `{self.listing}`)", param, ctx)


CASE_ID = Id("case", "caseflow cases list")
DOCUMENT_ID = Id("document", "caseflow documents list CASE_ID")


class _Group(click.Group):
    """Turn caseflow's typed errors (and a malformed id) into one line and exit code 2 for every command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CaseflowError as exc:
            fail(exc.message_en)
        except click.BadParameter as exc:
            if exc.param is None or not isinstance(exc.param.type, Id):
                raise
            fail(exc.message)


@click.group(cls=_Group)
def main() -> None:
    """caseflow: case management for a district office's gender-mainstreaming plan."""


def user_id(db: Database, login: str) -> int:
    with db.unit_of_work(write=False) as uow:
        uid = uow.session.scalar(select(User.id).where(User.login == login))
    if uid is None:
        fail(f"no user with login {login!r} (see `caseflow users list`)")
    return uid


def office_id(db: Database, code: str) -> int:
    with db.unit_of_work(write=False) as uow:
        found = uow.session.scalar(select(Office.id).where(Office.code == code))
    if found is None:
        fail(f"no office {code!r}")
    return found
