"""Security headers on error answers too: a crashing view (500), a database gone (503), a refused body (413)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from web import create_app
from web.security import HEADERS
from workflow.db import Database

pytestmark = [pytest.mark.fault]


@pytest.fixture
def app(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Not TESTING: an unhandled exception goes to the 500 page as in production."""
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": "memory://", "BACKGROUND_WORK": False,
                      "CONFIGURE_LOGGING": False})

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("a bug")

    @app.get("/api/v1/boom")
    def api_boom() -> str:
        raise RuntimeError("a bug")

    @app.get("/db-gone")
    def db_gone() -> str:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    return app


@pytest.mark.parametrize(("url", "status"), [("/boom", 500), ("/api/v1/boom", 500), ("/db-gone", 503),
                                             ("/no-such-page", 404), ("/api/v1/no-such", 404)])
def test_error_answers_carry_every_security_header(app: Flask, url: str, status: int) -> None:
    resp = app.test_client().get(url)
    assert resp.status_code == status
    missing = {name: resp.headers.get(name) for name, value in HEADERS.items() if resp.headers.get(name) != value}
    assert missing == {}
    assert resp.headers["Cache-Control"] == "no-store"
    assert "a bug" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)


def test_an_oversized_body_is_413_with_the_headers(app: Flask) -> None:
    resp = app.test_client().post("/login", data={"username": "x" * (2 * 1024 * 1024)})
    assert resp.status_code == 413
    assert all(resp.headers.get(name) == value for name, value in HEADERS.items())
