"""The database for the web app, and one read-only unit of work per request for loading pages.

Writes never go through this session: a view calls one ``workflow.cases`` function, which
opens its own unit of work and commits once. The read session is closed when the request ends.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from workflow import db as dbmod
from workflow.db import Database
from workflow.people import permissions

_EXT = "caseflow_db"


def init_db(app: Flask, url: str) -> Database:
    database = dbmod.configure(url)
    app.extensions[_EXT] = database
    app.teardown_appcontext(_close_session)
    return database


def database() -> Database:
    db: Database = current_app.extensions[_EXT]
    return db


def session() -> Session:
    """This request's read session (opened on first use)."""
    if "caseflow_uow_cm" not in g:
        cm = database().unit_of_work(write=False)
        g.caseflow_uow = cm.__enter__()
        g.caseflow_uow_cm = cm
        # Read only: the user's capacities are loaded once per request (nav, page, helpers).
        g.caseflow_uow.session.info[permissions.CACHE_KEY] = {}
    s: Session = g.caseflow_uow.session
    return s


def _close_session(_exc: BaseException | None) -> None:
    cm = g.pop("caseflow_uow_cm", None)
    g.pop("caseflow_uow", None)
    if cm is not None:
        cm.__exit__(None, None, None)  # rolls back: nothing is ever committed here
