"""Logging in and out, the login rate limits, session cookies and the security headers."""

from __future__ import annotations

import datetime as dt
import re
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


ATTACKER, OWNER = "203.0.113.7", "198.51.100.20"  # documentation addresses (RFC 5737)


def from_address(app: Flask, address: str, **environ: str) -> Browser:
    """A browser whose requests come from ``address`` (and carry ``environ``, e.g. proxy headers)."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, **environ})
    return Browser(client)


@pytest.mark.fault
def test_wrong_passwords_from_one_address_are_refused_with_when_to_try_again(
    app: Flask, office: OfficeFixture
) -> None:
    attacker = from_address(app, ATTACKER)
    victim = office.logins["personnel_chief"]
    for _ in range(5):
        assert attacker.login(victim, "guess").status_code == 200
    blocked = attacker.login(victim, "guess")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 61  # the first rung: a minute
    page = text(blocked)
    assert "登入失敗的次數過多" in page
    # How long, and until when (a ROC date and Taipei time).
    assert re.search(r"請於 \d+ (秒|分鐘)後（\d{3}\.\d{2}\.\d{2} \d{2}:\d{2}）再試", page), page
    # The form comes back with the login name kept and the password not.
    html = blocked.get_data(as_text=True)
    assert f'value="{victim}"' in html and "guess" not in html
    assert attacker.login(victim).status_code == 429  # even the right password waits here: no oracle


@pytest.mark.fault
def test_the_owner_gets_in_from_another_address_while_the_attacker_is_throttled(
    app: Flask, office: OfficeFixture
) -> None:
    attacker = from_address(app, ATTACKER)
    victim = office.logins["personnel_chief"]
    for _ in range(6):
        attacker.login(victim, "guess")
    assert attacker.login(victim, "guess").status_code == 429
    owner = from_address(app, OWNER)
    assert owner.login(victim).status_code == 303
    assert owner.get("/").status_code == 200
    # The owner's own typo from their address counts against them only, not the attacker's tally.
    assert from_address(app, OWNER).login(victim, "typo").status_code == 200
    assert attacker.login(victim).status_code == 429


def test_another_account_from_the_same_address_is_not_refused(app: Flask, office: OfficeFixture) -> None:
    b = from_address(app, ATTACKER)
    for _ in range(6):
        b.login(office.logins["personnel_chief"], "guess")
    assert from_address(app, ATTACKER).login(office.logins["secretariat"]).status_code == 303


def test_the_wait_grows_as_failures_pile_up(app: Flask, office: OfficeFixture) -> None:
    """OWASP's growing delays: 5 failures cost a minute, the next 5 ten minutes, and so on."""
    import time_machine

    victim = office.logins["civil_chief"]
    with time_machine.travel(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        b = from_address(app, ATTACKER)
        for _ in range(5):
            assert b.login(victim, "guess").status_code == 200
        first = b.login(victim, "guess")
        # Retry-After: the window's end, rounded up by Flask-Limiter (one second over at most).
        assert first.status_code == 429 and int(first.headers["Retry-After"]) <= 61
        clock.shift(dt.timedelta(seconds=61))
        for _ in range(5):
            assert b.login(victim, "guess").status_code == 200
        second = b.login(victim, "guess")
        assert second.status_code == 429
        assert 61 < int(second.headers["Retry-After"]) <= 601  # the ten-minute rung
        assert "分鐘後" in text(second)
        clock.shift(dt.timedelta(seconds=61))
        assert b.login(victim).status_code == 429  # a minute is no longer enough
        clock.shift(dt.timedelta(minutes=10))
        assert b.login(victim).status_code == 303


@pytest.mark.fault
def test_failures_from_one_address_get_429(db, tmp_path, monkeypatch, office: OfficeFixture) -> None:
    """Password spraying: many accounts from one address hit the per-address limit."""
    from web import create_app

    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "DATABASE_URL": db.url, "LOGIN_LIMIT_PER_ADDRESS": "3 per minute",
                     "BACKGROUND_WORK": False})
    b = from_address(app, ATTACKER)
    for key in ("civil_staff", "civil_chief", "social_staff"):
        assert b.login(office.logins[key], "guess").status_code == 200
    assert b.login(office.logins["social_chief"], "guess").status_code == 429
    # Everyone else, elsewhere, is unaffected.
    assert from_address(app, OWNER).login(office.logins["social_chief"]).status_code == 303


@pytest.mark.parametrize(("address", "counted_as"), [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # an IPv6 subscriber's whole /64 is one address
    ("::ffff:203.0.113.7", "203.0.113.7"),
])
def test_addresses_are_counted_by_what_one_client_holds(app: Flask, address: str, counted_as: str) -> None:
    from web.auth import client_address

    with app.test_request_context("/login", environ_base={"REMOTE_ADDR": address}):
        assert client_address() == counted_as


def test_behind_a_trusted_proxy_the_client_address_is_counted(db, tmp_path, monkeypatch,
                                                              office: OfficeFixture) -> None:
    from web import create_app

    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "DATABASE_URL": db.url, "BACKGROUND_WORK": False, "TRUSTED_PROXIES": 1,
                      "LOGIN_LIMIT_PER_ADDRESS": "2 per minute"})

    def via_proxy(client_ip: str) -> Browser:
        return from_address(app, "127.0.0.1", HTTP_X_FORWARDED_FOR=client_ip)

    for key in ("civil_staff", "civil_chief"):
        assert via_proxy(ATTACKER).login(office.logins[key], "guess").status_code == 200
    assert via_proxy(ATTACKER).login(office.logins["social_staff"], "guess").status_code == 429
    assert via_proxy(OWNER).login(office.logins["social_staff"]).status_code == 303


@pytest.mark.fault
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
@pytest.mark.fault
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
