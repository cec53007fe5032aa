"""Web test fixtures: an app on the test database with CSRF enabled, and a browser-like client.

The client fetches pages and posts the forms it finds on them, carrying their CSRF token and
hidden fields, as a person using the page would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import TEST_PASSWORD, OfficeFixture
from web import create_app
from workflow.cases import approval
from workflow.db import Database
from workflow.models import Case


class FormParser(HTMLParser):
    """action -> {field name: value} for every <form> on a page (inputs and textareas; ticked boxes only)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict[str, str]] = {}
        self._action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._action = a.get("action", "")
            self.forms.setdefault(self._action, {})
        elif tag in ("input", "textarea") and self._action is not None and "name" in a:
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return  # as a browser does: an unticked box is not sent
            self.forms[self._action][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._action = None


def forms(html: str) -> dict[str, dict[str, str]]:
    p = FormParser()
    p.feed(html)
    return p.forms


def csrf_token(html: str) -> str:
    """The CSRF token of any form on the page (one per session, whatever the form)."""
    for fields in forms(html).values():
        for name, value in fields.items():
            if name.endswith("csrf_token") and value:
                return value
    raise AssertionError("no CSRF token on the page")


def text(resp: TestResponse) -> str:
    """The page's text with tags dropped and whitespace collapsed, for 'the page says' checks."""
    return " ".join(re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)).split())


class Browser:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str, **kw: Any) -> TestResponse:
        return self.client.get(url, **kw)

    def login(self, login: str, password: str = TEST_PASSWORD, next_url: str = "") -> TestResponse:
        url = "/login" + (f"?next={next_url}" if next_url else "")
        page = self.client.get(url)
        return self.client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                           "username": login, "password": password})

    def submit(self, page_url: str, action: str, **fields: str) -> TestResponse:
        """Post the form whose action is ``action`` on ``page_url``, with its hidden fields."""
        page = self.client.get(page_url)
        found = forms(page.get_data(as_text=True))
        assert action in found, f"no form posting to {action} on {page_url}: {sorted(found)}"
        data = dict(found[action])
        prefix = action.rsplit("/", 1)[-1] + "-"
        data.update({prefix + k: v for k, v in fields.items()})
        return self.client.post(action, data=data)


@pytest.fixture
def app(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))  # the secret key file goes here
    return create_app({"TESTING": True, "DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": "memory://",
                       "BACKGROUND_WORK": False})


@pytest.fixture
def browser(app: Flask) -> Callable[[], Browser]:
    """A factory: each call is a new browser (its own cookies)."""
    return lambda: Browser(app.test_client())


@pytest.fixture
def as_user(browser: Callable[[], Browser], office: OfficeFixture) -> Callable[[str], Browser]:
    """A browser logged in as ``office.logins[key]``."""

    def login(key: str) -> Browser:
        b = browser()
        resp = b.login(office.logins[key])
        assert resp.status_code == 303, text(resp)
        return b

    return login


@dataclass(frozen=True)
class CaseNow:
    state: str
    version: int


def case_row(db: Database, case_id: int) -> CaseNow:
    """The case's state and version as the database has them now."""
    with db.unit_of_work(write=False) as uow:
        row = uow.session.execute(select(Case.state, Case.version).where(Case.id == case_id)).one()
        return CaseNow(row.state, row.version)


def submitted(office: OfficeFixture, kind: str = "training_report") -> int:
    """A case its unit's staff member has sent to the chief (state section_review)."""
    cid = office.case(kind)
    unit = {"training_report": "personnel", "outreach_report": "social"}[kind]
    approval.fire(cid, "submit", office.users[f"{unit}_staff"], db=office.db)
    return cid
