"""The floor of ``caseflow bench web``'s load test: a minimal Flask app, one 50-row SELECT per request
on the same database (the office's first 50 cases by id), JSON out. No templates, no extensions.

So that the comparison is fair it pays what any logged-in request pays before the page's own work:
it is served by the same gunicorn settings (``bench.web._gunicorn``), reads the same session cookie
(the benchmark sends it) and verifies its signature with the same secret key and cookie name, and
takes a pooled connection from an engine configured as the app's (``workflow.db.Database``: pool
size, pre-ping). What it does not do is the page's work: loading the user, their roles, the queue.
"""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify, session
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from web.security import cookie_config
from workflow.config import load_settings
from workflow.db import Database

app = Flask(__name__)
_settings = load_settings()
app.config.update(SECRET_KEY=_settings.secret_key, **cookie_config(_settings.cookie_secure))
_db = Database(os.environ["DATABASE_URL"])
_OFFICE = int(os.environ.get("CASEFLOW_FLOOR_OFFICE", "1"))
_QUERY = text("SELECT id, title, state, entered_state_at FROM cases WHERE office_id = :o "
              "ORDER BY id LIMIT 50")


@app.get("/floor")
def floor() -> ResponseReturnValue:
    if "_user_id" not in session:  # the cookie was missing, or its signature did not verify
        abort(401)
    with _db.engine.connect() as conn:
        rows = conn.execute(_QUERY, {"o": _OFFICE}).all()
    return jsonify([{"id": r.id, "title": r.title, "state": r.state, "at": r.entered_state_at.isoformat()}
                    for r in rows])
