"""The JSON API (/api/v1) with personal bearer tokens: what each route does, who may do it, and
that bad input and bad tokens get a clear JSON error (never a 500, never an HTML page)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, case_row, csrf_token, submitted, text
from workflow.db import Database
from workflow.models import ApiToken, User
from workflow.people import api_tokens, directory

Api = Callable[..., TestResponse]


def token_for(office: OfficeFixture, key: str, **kw: Any) -> str:
    return api_tokens.issue(office.db, office.users[key], f"test {key}", **kw).token


def api_client(app: Flask, token: str, lang: str | None = None) -> Api:
    """request(method, url, json=...) with the bearer token (and Accept-Language when given)."""
    client = app.test_client()

    def call(method: str, url: str, **kw: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        if lang:
            headers["Accept-Language"] = lang
        return client.open(url, method=method, headers=headers, **kw)

    return call


@pytest.fixture
def api_as(app: Flask, office: OfficeFixture) -> Callable[[str], Api]:
    return lambda key: api_client(app, token_for(office, key))


# -- tokens -----------------------------------------------------------------------------------------
def test_only_the_tokens_digest_is_stored(db: Database, office: OfficeFixture) -> None:
    issued = api_tokens.issue(db, office.users["personnel_staff"], "script")
    with db.unit_of_work(write=False) as uow:
        row = uow.session.get(ApiToken, issued.id)
        assert row is not None
        stored = [str(v) for v in (row.prefix, row.token_hash, row.name)]
    assert issued.token not in stored and all(issued.token not in v for v in stored)
    assert row.token_hash == api_tokens.digest(issued.token)
    assert issued.token.startswith(f"cf_{row.prefix}_")
    assert row.expires_at - row.created_at == dt.timedelta(days=90)


def test_me_names_the_user_office_and_roles_including_delegated(app: Flask, db: Database,
                                                                 office: OfficeFixture) -> None:
    with db.unit_of_work() as uow:
        s = uow.session
        chief, stand_in = s.get(User, office.users["personnel_chief"]), s.get(User, office.users["social_chief"])
        assert chief and stand_in
        directory.delegate(s, chief, stand_in, "chief", dt.date(2020, 1, 1), dt.date(2099, 12, 31), "leave")
        uow.commit()
    resp = api_client(app, token_for(office, "social_chief"))("GET", "/api/v1/me")
    assert resp.status_code == 200, resp.get_json()
    me = resp.get_json()
    assert me["id"] == office.users["social_chief"] and me["office"]["id"] == office.id
    roles = {(r["role"], r["unit_id"], r["on_behalf_of_id"]) for r in me["roles"]}
    assert roles == {("chief", office.units["social"], None),
                     ("chief", office.units["personnel"], office.users["personnel_chief"])}
    assert "Set-Cookie" not in resp.headers


@pytest.mark.parametrize("how", ["missing", "garbage", "wrong secret", "revoked", "expired", "deactivated",
                                 "cookie only"])
def test_bad_or_dead_tokens_get_401(how: str, app: Flask, db: Database, office: OfficeFixture,
                                    browser: Callable[[], Browser]) -> None:
    issued = api_tokens.issue(db, office.users["civil_staff"], "t")
    token = issued.token
    assert api_client(app, token)("GET", "/api/v1/me").status_code == 200
    headers: dict[str, str] = {"Authorization": f"Bearer {token}"}
    client: FlaskClient = app.test_client()
    if how == "missing":
        headers = {}
    elif how == "garbage":
        headers["Authorization"] = "Bearer not-a-token"
    elif how == "wrong secret":
        headers["Authorization"] = f"Bearer {token[:-4]}AAAA"
    elif how == "revoked":
        assert api_tokens.revoke(db, office.users["civil_staff"], issued.id)
    elif how == "expired":
        with db.unit_of_work() as uow:
            uow.session.execute(update(ApiToken).where(ApiToken.id == issued.id)
                                .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
            uow.commit()
    elif how == "deactivated":
        with db.unit_of_work() as uow:
            uow.session.execute(update(User).where(User.id == office.users["civil_staff"]).values(active=False))
            uow.commit()
    elif how == "cookie only":  # a logged-in browser session is no credential for the API
        b = browser()
        assert b.login(office.logins["civil_staff"]).status_code == 303
        client, headers = b.client, {}
    resp = client.get("/api/v1/me", headers=headers)
    assert resp.status_code == 401
    assert resp.get_json()["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_expires_after_its_days(app: Flask, db: Database, office: OfficeFixture) -> None:
    token = token_for(office, "civil_staff", days=1)
    call = api_client(app, token)
    assert call("GET", "/api/v1/me").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)):
        assert call("GET", "/api/v1/me").status_code == 401


def test_last_used_is_recorded(app: Flask, db: Database, office: OfficeFixture) -> None:
    issued = api_tokens.issue(db, office.users["civil_staff"], "t")
    assert api_client(app, issued.token)("GET", "/api/v1/me").status_code == 200
    with db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == issued.id)) is not None


# -- the tokens page --------------------------------------------------------------------------------
def test_tokens_page_makes_shows_once_and_revokes(app: Flask, as_user: Callable[[str], Browser],
                                                  office: OfficeFixture) -> None:
    b = as_user("personnel_staff")
    page = b.get("/account/tokens")
    assert page.status_code == 200 and "API 權杖" in text(page)
    resp = b.client.post("/account/tokens", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                  "name": "報表程式", "days": "30"})
    assert resp.status_code == 201
    html = resp.get_data(as_text=True)
    token = html.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("cf_")
    call = api_client(app, token)
    assert call("GET", "/api/v1/me").get_json()["id"] == office.users["personnel_staff"]
    again = b.get("/account/tokens")
    assert token not in again.get_data(as_text=True) and "報表程式" in text(again)
    with office.db.unit_of_work(write=False) as uow:
        row = uow.session.scalars(select(ApiToken).where(ApiToken.user_id == office.users["personnel_staff"])).one()
    assert (row.expires_at - row.created_at).days == 30
    resp = b.submit("/account/tokens", f"/account/tokens/{row.id}/revoke")
    assert resp.status_code == 303
    assert call("GET", "/api/v1/me").status_code == 401
    again = b.client.post(f"/account/tokens/{row.id}/revoke",  # again (a second tab): nothing more to record
                          data={"csrf_token": csrf_token(b.get("/account/tokens").get_data(as_text=True))})
    assert again.status_code == 303
    # Both are security events in the office's record, by the user, naming the token by its prefix
    # and never holding the token itself.
    from workflow.models import AdminEvent

    with office.db.unit_of_work(write=False) as uow:
        logged = list(uow.session.scalars(select(AdminEvent).where(
            AdminEvent.office_id == office.id, AdminEvent.what.like("api_token.%")).order_by(AdminEvent.id)))
    assert [(e.what, e.actor_id, e.data["prefix"]) for e in logged] == [
        ("api_token.issue", office.users["personnel_staff"], row.prefix),
        ("api_token.revoke", office.users["personnel_staff"], row.prefix)]
    assert token not in str([e.data for e in logged])


def test_tokens_page_refuses_bad_input_and_others_tokens(as_user: Callable[[str], Browser],
                                                         office: OfficeFixture) -> None:
    b = as_user("personnel_staff")
    token = csrf_token(b.get("/account/tokens").get_data(as_text=True))
    resp = b.client.post("/account/tokens", data={"csrf_token": token, "name": "", "days": "999"})
    assert resp.status_code == 422
    assert "請填寫名稱" in text(resp) and "1 到 365" in text(resp)
    theirs = api_tokens.issue(office.db, office.users["social_staff"], "theirs")
    resp = b.client.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": token})
    assert resp.status_code == 404
    assert api_tokens.authenticate(office.db, theirs.token) is not None


# -- kinds, create, edit ----------------------------------------------------------------------------
def test_kinds_lists_what_the_user_may_open(api_as: Callable[[str], Api]) -> None:
    kinds = {k["kind"]: k for k in api_as("personnel_staff")("GET", "/api/v1/kinds").get_json()["items"]}
    assert "training_report" in kinds
    fields = {f["name"]: f for f in kinds["training_report"]["fields"]}
    assert fields["summary"]["required"] is True and fields["courses"]["type"] == "rows"
    assert fields["courses"]["columns"]
    assert api_as("civil_staff")("GET", "/api/v1/kinds").get_json()["items"] == []


def test_create_edit_and_submit(api_as: Callable[[str], Api], office: OfficeFixture) -> None:
    call = api_as("personnel_staff")
    resp = call("POST", "/api/v1/cases", json={"kind": "training_report", "roc_year": 115, "period": "Q2",
                                               "title": "第2季培力", "fields": {"summary": "草稿"}})
    assert resp.status_code == 201, resp.get_json()
    case = resp.get_json()
    assert resp.headers["Location"] == case["url"] == f"/api/v1/cases/{case['id']}"
    assert case["state"] == "draft" and case["version"] == 1 and case["fields"] == {"summary": "草稿"}
    assert case["unit_id"] == office.units["personnel"]
    assert "submit" in [a["trigger"] for a in case["actions"]]
    cid = case["id"]
    resp = call("PATCH", f"/api/v1/cases/{cid}/fields", json={"version": 1, "fields": {
        "courses": [{"course": "CEDAW 實體課程", "date": "115.04.10", "hours": 2}]}})
    assert resp.status_code == 200, resp.get_json()
    edited = resp.get_json()
    assert edited["version"] == 2 and edited["fields"]["summary"] == "草稿"  # merged, not replaced
    assert edited["history"][-1]["event"] == "edited" and edited["history"][-1]["changed_fields"] == ["courses"]
    resp = call("PATCH", f"/api/v1/cases/{cid}/fields", json={"version": 2, "fields": {"summary": None}})
    assert resp.status_code == 200 and "summary" not in resp.get_json()["fields"]


def test_create_field_errors_are_422_per_field(api_as: Callable[[str], Api]) -> None:
    call = api_as("personnel_staff")
    resp = call("POST", "/api/v1/cases", json={"kind": "training_report", "roc_year": 115, "period": "Q3",
                                               "title": "x", "fields": {"summary": [1], "nope": 1}})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["code"] == "validation_error" and set(body["errors"]) == {"summary", "nope"}
    assert body["errors"]["nope"] == "此類案件沒有這個欄位"
    # Schema errors (unknown keys, wrong types, missing keys) name each field too.
    resp = call("POST", "/api/v1/cases", json={"kind": "training_report", "roc_year": "115", "titel": "x"})
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert set(errors) == {"roc_year", "titel", "title"}
    assert errors["titel"].startswith("沒有這個欄位") and errors["roc_year"] == "須為整數"


def test_create_refusals(api_as: Callable[[str], Api]) -> None:
    assert api_as("civil_staff")("POST", "/api/v1/cases", json={
        "kind": "training_report", "roc_year": 115, "period": "Q1", "title": "x"}).status_code == 403
    call = api_as("personnel_staff")
    resp = call("POST", "/api/v1/cases", json={"kind": "outreach_report", "roc_year": 115, "period": "Q1",
                                               "title": "x"})
    assert resp.status_code == 403 and resp.get_json()["code"] == "permission_denied"
    resp = call("POST", "/api/v1/cases", json={"kind": "no_such_kind", "roc_year": 115, "title": "x"})
    assert resp.status_code == 422 and set(resp.get_json()["errors"]) == {"kind"}


def test_bad_bodies_are_4xx_with_a_reason(api_as: Callable[[str], Api], app: Flask) -> None:
    call = api_as("personnel_staff")
    resp = call("POST", "/api/v1/cases", data="{not json", content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["code"] == "bad_request"
    resp = call("POST", "/api/v1/cases", data="x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                content_type="application/json")
    assert resp.status_code == 413 and resp.get_json()["code"] == "too_large"
    resp = call("POST", "/api/v1/cases", json=[1, 2])
    assert resp.status_code == 422
    resp = call("GET", "/api/v1/cases?limit=100000")
    assert resp.status_code == 422 and "limit" in resp.get_json()["errors"]
    resp = call("DELETE", "/api/v1/cases")
    assert resp.status_code == 405 and resp.get_json()["code"] == "method_not_allowed"
    resp = call("GET", "/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.is_json


def test_english_when_accept_language_prefers_it(app: Flask, office: OfficeFixture) -> None:
    token = token_for(office, "personnel_staff")
    body = {"kind": "training_report", "roc_year": 115, "title": "x", "extra": 1}
    en = api_client(app, token, lang="en-US,en;q=0.9,zh-TW;q=0.5")("POST", "/api/v1/cases", json=body).get_json()
    zh = api_client(app, token, lang="zh-TW,zh;q=0.9,en;q=0.5")("POST", "/api/v1/cases", json=body).get_json()
    default = api_client(app, token)("POST", "/api/v1/cases", json=body).get_json()
    assert en["errors"]["extra"] == "Unknown field." and en["message"].startswith("Some fields")
    assert zh == default and zh["errors"]["extra"].startswith("沒有這個欄位")


# -- transitions ------------------------------------------------------------------------------------
def test_fire_then_stale_version_is_409_naming_who(app: Flask, office: OfficeFixture,
                                                     api_as: Callable[[str], Api]) -> None:
    cid = submitted(office)
    chief = api_as("personnel_chief")
    case = chief("GET", f"/api/v1/cases/{cid}").get_json()
    assert {a["trigger"] for a in case["actions"]} >= {"approve", "return_for_revision"}
    resp = chief("POST", f"/api/v1/cases/{cid}/transitions", json={"trigger": "approve",
                                                                    "version": case["version"]})
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["from_state"] == "section_review" and done["state"] == case_row(office.db, cid).state
    assert done["version"] == case["version"] + 1
    # The same click again, from the page as it was: someone (the chief) was first.
    resp = chief("POST", f"/api/v1/cases/{cid}/transitions", json={"trigger": "approve",
                                                                    "version": case["version"]})
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["code"] == "conflict" and body["by"] == "personnel_chief"
    assert body["current_version"] == done["version"] and "personnel_chief" in body["message"]


def test_edit_with_stale_version_is_409(office: OfficeFixture, api_as: Callable[[str], Api]) -> None:
    cid = office.case("training_report", complete=False)
    call = api_as("personnel_staff")
    assert call("PATCH", f"/api/v1/cases/{cid}/fields", json={"version": 1, "fields": {"summary": "a"}}
                ).status_code == 200
    resp = call("PATCH", f"/api/v1/cases/{cid}/fields", json={"version": 1, "fields": {"summary": "b"}})
    assert resp.status_code == 409 and resp.get_json()["current_version"] == 2
    assert case_row(office.db, cid).version == 2


def test_missing_comment_and_failed_condition_are_422(office: OfficeFixture,
                                                      api_as: Callable[[str], Api]) -> None:
    cid = submitted(office)
    v = case_row(office.db, cid).version
    resp = api_as("personnel_chief")("POST", f"/api/v1/cases/{cid}/transitions",
                                     json={"trigger": "return_for_revision", "version": v})
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "condition_failed" and resp.get_json()["condition"] == "comment_given"
    draft = office.case("training_report", complete=False)
    resp = api_as("personnel_staff")("POST", f"/api/v1/cases/{draft}/transitions",
                                     json={"trigger": "submit", "version": 1})
    assert resp.status_code == 422 and resp.get_json()["code"] == "condition_failed"
    assert case_row(office.db, cid).state == "section_review" and case_row(office.db, draft).state == "draft"


def test_wrong_role_is_403_and_wrong_state_409(office: OfficeFixture, api_as: Callable[[str], Api]) -> None:
    cid = submitted(office)
    v = case_row(office.db, cid).version
    resp = api_as("convener")("POST", f"/api/v1/cases/{cid}/transitions", json={"trigger": "approve",
                                                                                 "version": v})
    assert resp.status_code == 403 and resp.get_json()["code"] == "permission_denied"
    # Fields change only in a draft (or a returned case); the drafter of another unit may not edit.
    resp = api_as("personnel_staff")("PATCH", f"/api/v1/cases/{cid}/fields", json={"version": v, "fields": {}})
    assert resp.status_code == 409 and resp.get_json()["code"] == "transition_not_allowed"
    draft = office.case("training_report")
    resp = api_as("liaison")("PATCH", f"/api/v1/cases/{draft}/fields", json={"version": 1, "fields": {}})
    assert resp.status_code == 403  # reads every case, drafts none of this kind
    resp = api_as("social_staff")("PATCH", f"/api/v1/cases/{draft}/fields", json={"version": 1, "fields": {}})
    assert resp.status_code == 404  # another unit's draft is not found
    assert case_row(office.db, cid).state == "section_review"


def test_another_offices_case_is_404_everywhere(app: Flask, office: OfficeFixture,
                                                 office_factory: Callable[[], OfficeFixture]) -> None:
    other = office_factory()
    foreign = submitted(other)
    call = api_client(app, token_for(office, "personnel_chief"))
    for method, url, body in [
        ("GET", f"/api/v1/cases/{foreign}", None),
        ("PATCH", f"/api/v1/cases/{foreign}/fields", {"version": 2, "fields": {}}),
        ("POST", f"/api/v1/cases/{foreign}/transitions", {"trigger": "approve", "version": 2}),
        ("GET", f"/api/v1/cases/{foreign}/documents/1/docx", None),
        ("GET", "/api/v1/cases/999999999", None),
    ]:
        resp = call(method, url, json=body)
        assert resp.status_code == 404, (url, resp.get_json())
        assert resp.get_json() == {"code": "not_found", "message": "找不到這個資源，或您沒有權限檢視。"}
    listed = call("GET", "/api/v1/cases?limit=200").get_json()["items"]
    assert foreign not in {c["id"] for c in listed}
    assert case_row(other.db, foreign).state == "section_review"


# -- lists ------------------------------------------------------------------------------------------
def test_cases_filters_and_cursor(office: OfficeFixture, api_as: Callable[[str], Api]) -> None:
    ids = [office.case("training_report") for _ in range(3)] + [office.case("outreach_report")]
    call = api_as("liaison")
    page1 = call("GET", "/api/v1/cases?kind=training_report&limit=2").get_json()
    page2 = call("GET", f"/api/v1/cases?kind=training_report&limit=2&cursor={page1['next_cursor']}").get_json()
    got = [c["id"] for c in page1["items"] + page2["items"]]
    assert got == sorted(ids[:3], reverse=True) and page2["next_cursor"] is None
    assert [c["id"] for c in call("GET", "/api/v1/cases?state=draft&kind=outreach_report").get_json()["items"]] \
        == [ids[3]]
    assert call("GET", "/api/v1/cases?state=filed").get_json()["items"] == []


def test_the_list_holds_only_what_the_person_may_read(office: OfficeFixture, api_as: Callable[[str], Api]) -> None:
    draft, sent = office.case("training_report"), submitted(office)
    social = office.case("outreach_report")

    def listed(who: str) -> set[int]:
        return {c["id"] for c in api_as(who)("GET", "/api/v1/cases?limit=200").get_json()["items"]}

    assert {draft, sent} <= listed("personnel_chief") and social not in listed("personnel_chief")
    assert listed("convener") & {draft, sent, social} == {sent}  # the task force: submitted cases only
    assert listed("social_staff") & {draft, sent, social} == {social}
    assert {draft, sent, social} <= listed("secretariat")


def test_queue_is_the_html_queue(office: OfficeFixture, api_as: Callable[[str], Api]) -> None:
    first, second = submitted(office), submitted(office)
    items = api_as("personnel_chief")("GET", "/api/v1/queue").get_json()
    assert [i["id"] for i in items["items"]] == [first, second] and items["next_page"] is None
    assert api_as("social_chief")("GET", "/api/v1/queue").get_json()["items"] == []
    # The submitter does not review their own case.
    staff = {i["id"] for i in api_as("personnel_staff")("GET", "/api/v1/queue").get_json()["items"]}
    assert first not in staff


def test_case_lists_documents_with_api_download_urls(office: OfficeFixture, api_as: Callable[[str], Api]) -> None:
    from documents import service as documents
    from workflow.models import OutboxMessage

    cid = submitted(office)
    with office.db.unit_of_work(write=False) as uow:
        outbox = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == cid)))
    for i in outbox:
        documents.process_outbox(office.db, i, convert_formats=False)
    call = api_as("personnel_chief")
    docs = call("GET", f"/api/v1/cases/{cid}").get_json()["documents"]
    ready = [d for d in docs if d["status"] == "ready"]
    assert ready, docs
    url = ready[0]["downloads"]["docx"]
    assert url.startswith(f"/api/v1/cases/{cid}/documents/")
    resp = call("GET", url)
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    assert call("GET", url.replace("/docx", "/exe")).status_code == 404


def test_rate_limited_per_token(db: Database, office: OfficeFixture, tmp_path: Any,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from web import create_app

    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": "memory://",
                      "BACKGROUND_WORK": False, "API_RATE_LIMIT": "3 per minute"})
    one, two = api_client(app, token_for(office, "civil_staff")), api_client(app, token_for(office, "civil_chief"))
    assert [one("GET", "/api/v1/me").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert one("GET", "/api/v1/me").get_json()["code"] == "rate_limited"
    assert two("GET", "/api/v1/me").status_code == 200  # another token has its own budget


def test_made_up_tokens_share_the_callers_budget_and_cannot_spend_a_real_ones(
        db: Database, office: OfficeFixture, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A made-up token is not a fresh budget (each would otherwise get its own), and one made up
    around a real token's public prefix does not use up that token's budget."""
    import secrets

    from web import create_app

    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": "memory://",
                      "BACKGROUND_WORK": False, "API_RATE_LIMIT": "3 per minute"})
    real = token_for(office, "civil_staff")
    prefix = real.split("_")[1]
    forged = [f"cf_{secrets.token_hex(6)}_x", f"cf_{secrets.token_hex(6)}_y", f"cf_{prefix}_guess",
              f"cf_{prefix}_again"]
    assert [api_client(app, t)("GET", "/api/v1/me").status_code for t in forged] == [401, 401, 401, 429]
    assert [api_client(app, real)("GET", "/api/v1/me").status_code for _ in range(3)] == [200, 200, 200]


def test_openapi_document_is_public_and_names_every_route(app: Flask) -> None:
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    api_rules = {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", r.rule)
                 for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert api_rules == set(doc["paths"])
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_api_is_csrf_exempt_but_the_pages_are_not(app: Flask, office: OfficeFixture) -> None:
    """The API works without a CSRF token (bearer only); the HTML forms still refuse posts without one."""
    call = api_client(app, token_for(office, "personnel_staff"))
    assert call("POST", "/api/v1/cases", json={"kind": "training_report", "roc_year": 115, "period": "Q4",
                                               "title": "x"}).status_code == 201
    client = app.test_client()
    assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400


def test_an_unexpected_failure_is_a_json_500_without_details(db: Database, office: OfficeFixture, tmp_path: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from web import create_app
    from web.api import work

    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": False, "DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": "memory://",
                      "BACKGROUND_WORK": False})

    def broken(*_a: Any, **_kw: Any) -> None:
        raise RuntimeError("secret detail: table cases is on fire")

    monkeypatch.setattr(work, "queue_for", broken)
    resp = api_client(app, token_for(office, "personnel_chief"))("GET", "/api/v1/queue")
    assert resp.status_code == 500
    assert resp.get_json() == {"code": "server_error", "message": "系統暫時無法完成這個動作，請稍後再試。"}


def test_reference_page_describes_every_operation_without_scripts(app: Flask) -> None:
    resp = app.test_client().get("/api-docs")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method in set(item) - {"parameters"}:
            assert f"{method.upper()} {path}" in html
    assert "<script" not in html and "cdn" not in html.lower()
    assert "TransitionResult" in html and "Authorization: Bearer" in html


def test_reference_page_speaks_the_pages_language(app: Flask) -> None:
    """Chinese first: every operation's summary, every parameter and every status in zh-TW (a new
    endpoint without words in web/api/reference_words.py fails here); English when asked."""
    from web.api import reference
    from web.api import reference_words as words

    client = app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    html = client.get("/api-docs").get_data(as_text=True)
    english = [f"{op.method} {op.path}: {what}" for op in reference.operations(doc, chinese=True)
               for what, w in [("summary", op.summary), *((p.name, p.description) for p in op.parameters),
                               *((p.name, p.description) for p in op.body_props), *op.statuses]
               if w.lang == "en"]
    assert english == [], "add their words to web/api/reference_words.py"
    assert 'lang="en"' not in html.split("<main", 1)[1]
    assert words.SUMMARIES["GET /api/v1/me"] in html and words.STATUSES["409"] in html
    client.get("/lang/en")
    page = client.get("/api-docs").get_data(as_text=True)
    assert "office, unit and roles today" in page and words.SUMMARIES["GET /api/v1/me"] not in page


def test_an_unknown_state_or_kind_filter_is_422_naming_the_known_ones(api_as: Callable[[str], Api]) -> None:
    call = api_as("liaison")
    resp = call("GET", "/api/v1/cases?state=limbo&kind=training_report")
    assert resp.status_code == 422 and "limbo" in resp.get_json()["errors"]["state"]
    assert "section_review" in resp.get_json()["errors"]["state"]
    resp = call("GET", "/api/v1/cases?kind=trainng_report")
    assert resp.status_code == 422 and "training_report" in resp.get_json()["errors"]["kind"]
    assert call("GET", "/api/v1/cases?state=filed&kind=training_report").status_code == 200
