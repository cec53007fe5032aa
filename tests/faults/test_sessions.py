"""Session cookies replayed: from another user agent (killed: session_protection "strong") and after
logout (refused: logging out bumps the user's session epoch, which the session's id carries)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, csrf_token
from web import create_app
from workflow.db import Database

pytestmark = [pytest.mark.fault]

OWNER_UA, THIEF_UA = "Mozilla/5.0 (Windows NT 10.0) Firefox/140.0", "curl/8.14"


@pytest.fixture
def app(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    return create_app({"TESTING": True, "DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": "memory://",
                       "BACKGROUND_WORK": False})


def _client(app: Flask, ua: str) -> FlaskClient:
    c = app.test_client()
    c.environ_base.update({"HTTP_USER_AGENT": ua, "REMOTE_ADDR": "198.51.100.20"})
    return c


def _session_cookie(client: FlaskClient, app: Flask) -> str:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def test_a_session_cookie_used_from_another_user_agent_is_dropped(app: Flask, office: OfficeFixture) -> None:
    owner = _client(app, OWNER_UA)
    assert Browser(owner).login(office.logins["personnel_chief"]).status_code == 303
    assert owner.get("/").status_code == 200
    thief = _client(app, THIEF_UA)
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], _session_cookie(owner, app))
    resp = thief.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert thief.get("/").status_code == 302  # the stolen session was deleted, not just refused once
    # The same cookie with the owner's user agent still works: the owner is not logged out.
    assert owner.get("/").status_code == 200


def test_a_session_cookie_with_the_same_user_agent_and_address_is_accepted(app: Flask,
                                                                           office: OfficeFixture) -> None:
    """What the binding does not cover: a copy used with the owner's user agent and address is the owner."""
    owner = _client(app, OWNER_UA)
    assert Browser(owner).login(office.logins["personnel_chief"]).status_code == 303
    twin = _client(app, OWNER_UA)
    twin.set_cookie(app.config["SESSION_COOKIE_NAME"], _session_cookie(owner, app))
    assert twin.get("/").status_code == 200


def test_after_logout_the_same_client_is_logged_out(app: Flask, office: OfficeFixture) -> None:
    owner = _client(app, OWNER_UA)
    b = Browser(owner)
    assert b.login(office.logins["personnel_chief"]).status_code == 303
    page = owner.get("/")
    assert owner.post("/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))}).status_code == 303
    assert owner.get("/").status_code == 302


def test_a_cookie_copied_before_logout_is_refused_after_it(app: Flask, office: OfficeFixture) -> None:
    owner = _client(app, OWNER_UA)
    assert Browser(owner).login(office.logins["personnel_chief"]).status_code == 303
    page = owner.get("/")
    copied = _session_cookie(owner, app)
    assert owner.post("/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))}).status_code == 303
    replay = _client(app, OWNER_UA)
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], copied)
    resp = replay.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # Logging in again works, with a new session.
    assert Browser(owner).login(office.logins["personnel_chief"]).status_code == 303
    assert owner.get("/").status_code == 200
    assert replay.get("/").status_code == 302  # the old copy stays refused
