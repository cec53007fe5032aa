"""Logging in and out, the login rate limits, session cookies and the security headers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, csrf_token, submitted, text
from workflow.models import User

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# -- logging in -------------------------------------------------------------------------------
def test_login_lands_on_the_queue(browser: Callable[[], Browser], office: OfficeFixture) -> None:
    b = browser()
    resp = b.login(office.logins["personnel_chief"])
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    page = b.get("/")
    assert page.status_code == 200
    assert "personnel_chief" in text(page) and "我的工作" in text(page)


@pytest.mark.parametrize("who", ["wrong password", "unknown account"])
def test_failed_login_does_not_say_which_part_was_wrong(
    browser: Callable[[], Browser], office: OfficeFixture, who: str
) -> None:
    b = browser()
    login = office.logins["personnel_chief"] if who == "wrong password" else "no.such.person"
    resp = b.login(login, "not-the-password")
    assert resp.status_code == 200
    assert "帳號或密碼錯誤" in text(resp)
    assert b.get("/").status_code == 302  # still not logged in


def test_pages_need_a_login_and_come_back_after_it(browser: Callable[[], Browser], office: OfficeFixture) -> None:
    cid = submitted(office)
    b = browser()
    resp = b.get(f"/cases/{cid}")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    assert "請先登入。" in text(b.get(resp.headers["Location"]))
    resp = b.login(office.logins["personnel_chief"], next_url=f"/cases/{cid}")
    assert resp.headers["Location"] == f"/cases/{cid}"


def test_login_never_redirects_off_site(browser: Callable[[], Browser], office: OfficeFixture) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        resp = browser().login(office.logins["personnel_chief"], next_url=target)
        assert resp.headers["Location"] == "/", target


def test_repeated_failures_for_one_account_get_429(
    browser: Callable[[], Browser], office: OfficeFixture
) -> None:
    b = browser()
    victim = office.logins["personnel_chief"]
    for _ in range(5):
        assert b.login(victim, "guess").status_code == 200
    blocked = b.login(victim, "guess")
    assert blocked.status_code == 429
    assert "嘗試次數過多" in text(blocked) and blocked.headers["Retry-After"]
    assert b.login(victim).status_code == 429  # even the right password waits: no oracle
    # The limit is per account: another account from the same address still gets in.
    assert browser().login(office.logins["secretariat"]).status_code == 303


def test_failures_from_one_address_get_429(db, tmp_path, monkeypatch, office: OfficeFixture) -> None:
    from web import create_app

    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "DATABASE_URL": db.url, "LOGIN_LIMIT_PER_IP": "3 per minute",
                     "BACKGROUND_WORK": False})
    b = Browser(app.test_client())
    for key in ("civil_staff", "civil_chief", "social_staff"):
        assert b.login(office.logins[key], "guess").status_code == 200
    assert b.login(office.logins["social_chief"], "guess").status_code == 429


def test_logout_is_a_post_and_ends_the_session(as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_chief")
    page = b.get("/")
    assert b.client.get("/logout").status_code == 405
    resp = b.client.post("/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert resp.status_code == 303
    assert b.get("/").status_code == 302


def test_a_password_change_ends_existing_sessions(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    b = as_user("personnel_chief")
    assert b.get("/").status_code == 200
    with office.db.unit_of_work() as uow:
        user = uow.session.get(User, office.users["personnel_chief"])
        assert user is not None
        user.password_hash = "scrypt:changed"
        uow.commit()
    assert b.get("/").status_code == 302


# -- headers and cookies ----------------------------------------------------------------
def test_security_headers_on_pages_and_errors(as_user: Callable[[str], Browser]) -> None:
    b = as_user("personnel_chief")
    for url, status in [("/", 200), ("/login", 303), ("/no/such/page", 404), ("/static/caseflow.css", 200)]:
        resp = b.get(url)
        assert resp.status_code == status, url
        for name, value in SECURITY_HEADERS.items():
            assert resp.headers.get(name) == value, (url, name)


def test_session_cookie_flags(browser: Callable[[], Browser], office: OfficeFixture) -> None:
    resp = browser().login(office.logins["personnel_chief"])
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("caseflow_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_when_configured(db, tmp_path, monkeypatch) -> None:
    from web import create_app

    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    monkeypatch.setenv("CASEFLOW_COOKIE_SECURE", "1")
    app: Flask = create_app({"DATABASE_URL": db.url, "BACKGROUND_WORK": False})
    c = app.config
    assert c["SESSION_COOKIE_SECURE"] and c["REMEMBER_COOKIE_SECURE"]
    assert c["SESSION_COOKIE_NAME"].startswith("__Host-") and c["REMEMBER_COOKIE_NAME"].startswith("__Host-")
    assert c["REMEMBER_COOKIE_HTTPONLY"] and c["REMEMBER_COOKIE_SAMESITE"] == "Lax"
