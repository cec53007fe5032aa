"""The floor of ``caseflow bench web``'s load test: a minimal Flask app, one 50-row SELECT per request
on the same database (the office's first 50 cases by id), JSON out. No login, templates or middleware."""

from __future__ import annotations

import os

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import create_engine, text

from workflow.db import normalise_url

app = Flask(__name__)
_engine = create_engine(normalise_url(os.environ["DATABASE_URL"]), pool_size=4)
_OFFICE = int(os.environ.get("CASEFLOW_FLOOR_OFFICE", "1"))
_QUERY = text("SELECT id, title, state, entered_state_at FROM cases WHERE office_id = :o "
              "ORDER BY id LIMIT 50")


@app.get("/floor")
def floor() -> ResponseReturnValue:
    with _engine.connect() as conn:
        rows = conn.execute(_QUERY, {"o": _OFFICE}).all()
    return jsonify([{"id": r.id, "title": r.title, "state": r.state, "at": r.entered_state_at.isoformat()}
                    for r in rows])
