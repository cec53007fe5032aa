"""Every route × every role holder (R8, RELIABILITY §7 rows 12, 13, 20): the status each gets.

The table below must name every rule in ``app.url_map`` (a new route without an entry fails
``test_every_route_has_an_entry``). Ids in URLs are real: a case of the test office in each state
a route needs, its attachment and generated document, a published posting and its public file, a
posting whose publication failed. Then:

- each role holder of the test office (``STAFFING``), an anonymous visitor and a user of another
  office request every route with every method it accepts (POSTs carry the session's CSRF token and
  no other field: enough to pass CSRF and reach the view's own checks, never enough to change a
  case): the status must be the table's;
- the same routes with the id of *another office's* case answer 404 to everyone of this office;
- every route that changes state refuses GET (405) and refuses a POST without a CSRF token (400);
- the security headers are on every one of those responses;
- every 403 and 404 a view answers leaves exactly one ``authz_denied`` record (``caseflow.security``)
  naming the user, the path and the status, and no other answer leaves one.

The matrix is the fault suite's access row (``pytest -m fault``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from documents import service as documents
from publishing import service as publishing_service
from publishing.publishers import PublicZonePublisher
from tests.conftest import STAFFING, OfficeFixture, make_office
from tests.publishing_helpers import FAST, to_publishing
from tests.web.conftest import Browser, csrf_token, submitted
from web import create_app
from web.request_log import AUTHZ_DENIED
from web.security import HEADERS
from workflow.cases import drafts
from workflow.db import Database
from workflow.models import Document, OutboxMessage

pytestmark = [pytest.mark.fault]

ANON, OTHER = "anonymous", "other_office"
ROLES = [*STAFFING, ANON, OTHER]
OFFICE_PEOPLE = frozenset(STAFFING)
LOGGED_IN = OFFICE_PEOPLE | {OTHER}

# Who sees which page (mirrors the VIEWERS of each blueprint; written out so a change shows here).
BOARD = frozenset({"liaison", "deputy_liaison", "secretariat", "admin"})
FAILED_POSTINGS = BOARD
TASK_FORCE = frozenset({"convener", "deputy_convener", "member", "liaison", "deputy_liaison", "secretariat"})
TASK_FORCE_REGISTER = frozenset({"secretariat", "liaison", "deputy_liaison"})  # keep members and meetings
TRAINING_ROSTER = frozenset({"personnel_staff", "liaison", "deputy_liaison"})  # named rosters: personal data
# Who may open a case of some kind: staff of a unit that owns a kind, and the liaisons (who draft
# the task force meeting). Civil affairs owns no kind of the plan.
CREATORS = frozenset({"personnel_staff", "personnel_staff2", "social_staff", "accounting_staff",
                      "secretariat_staff", "liaison", "deputy_liaison"})
PERSONNEL_STAFF = frozenset({"personnel_staff", "personnel_staff2"})  # may edit the unit's drafts
# Outreach events: the social affairs section and the liaisons for any unit, staff and chiefs for
# their own; the gender budget: the liaisons and the accounting office.
OUTREACH = frozenset({"social_staff", "liaison", "deputy_liaison", *(
    k for k, (_unit, roles) in STAFFING.items() if {"staff", "chief"} & set(roles))})
BUDGET = frozenset({"liaison", "deputy_liaison", "accounting_staff", "accounting_chief"})
# Who reads which case (workflow/people/reading.py): its unit, the secretariat, the liaisons and the
# administrator; once submitted, also the reviewers on its path (the task force with its members).
READ_ALL = frozenset({"secretariat", "liaison", "deputy_liaison", "admin"})


def unit_people(unit: str) -> frozenset[str]:
    return frozenset(k for k, (u, _roles) in STAFFING.items() if u == unit)


DRAFT_READERS = unit_people("personnel") | READ_ALL  # personnel_staff's training report, a draft
REVIEW_READERS = DRAFT_READERS | {"convener", "deputy_convener", "member"}  # the same kind, submitted
POSTING_READERS = unit_people("social") | READ_ALL  # a web posting: its line has no task force


@dataclass
class World:
    office: OfficeFixture
    other: OfficeFixture
    draft: int  # personnel_staff's draft (with an attachment)
    review: int  # section_review, with generated documents
    document: int
    attachment: int
    posting: int  # published on the public zone
    public_file: int
    failed: int  # publish_failed
    foreign: int  # the other office's case


def _render_documents(db: Database, case_id: int) -> int:
    with db.unit_of_work(write=False) as uow:
        ids = list(uow.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.payload["case_id"].as_integer() == case_id)))
    for i in ids:
        documents.process_outbox(db, i, convert_formats=False)
    with db.unit_of_work(write=False) as uow:
        return int(uow.session.scalars(select(Document.id).where(Document.case_id == case_id,
                                                                  Document.status == "ready")).first() or 0)


@pytest.fixture(scope="module")
def world(db: Database, _password_hash: str) -> World:
    office, other = make_office(db, _password_hash), make_office(db, _password_hash)
    draft = office.case("training_report")
    attachment = drafts.add_attachment(draft, office.users["personnel_staff"], name="簽到表.pdf",
                                       content_type="application/pdf", content=b"%PDF-1.4\n%%EOF\n", db=db)
    review = submitted(office)
    document = _render_documents(db, review)
    posting, outbox = to_publishing(office)
    assert publishing_service.process_posting(db, outbox, publisher=PublicZonePublisher(),
                                              settings=FAST).status == "published"
    with db.unit_of_work(write=False) as uow:
        from workflow.models import Attachment
        public_file = int(uow.session.scalars(select(Attachment.id).where(Attachment.case_id == posting)).one())
    failed, outbox = to_publishing(office, alt=None)
    assert publishing_service.process_posting(db, outbox, publisher=PublicZonePublisher(),
                                              settings=FAST).status == "failed"
    return World(office, other, draft, review, document, attachment, posting, public_file, failed,
                 submitted(other))


@pytest.fixture(scope="module")
def matrix_app(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CASEFLOW_INSTANCE", str(tmp_path_factory.mktemp("matrix")))
        # The matrix sends hundreds of token-less API requests from one address within a minute.
        yield create_app({"TESTING": True, "DATABASE_URL": db.url, "RATELIMIT_STORAGE_URI": "memory://",
                          "BACKGROUND_WORK": False, "API_RATE_LIMIT": "100000 per minute"})


def _client(app: Flask, w: World, role: str) -> FlaskClient:
    client = app.test_client()
    if role != ANON:
        login = w.other.logins["personnel_chief"] if role == OTHER else w.office.logins[role]
        resp = Browser(client).login(login)
        assert resp.status_code == 303, (role, resp.status_code)
    return client


@pytest.fixture(scope="module")
def clients(matrix_app: Flask, world: World) -> dict[str, FlaskClient]:
    """One logged-in client per role holder (and the other office's chief); anonymous has none."""
    return {role: _client(matrix_app, world, role) for role in ROLES}


# -- the table ------------------------------------------------------------------------------------
Expect = Callable[[str], int]


def page(viewers: frozenset[str] | None = None, *, other: int = 200, ok: int = 200) -> Expect:
    """A page behind login: anonymous → login, ``viewers`` (everyone when None) ``ok``, others 403."""
    def expect(role: str) -> int:
        if role == ANON:
            return 302
        if role == OTHER:
            return other
        return ok if viewers is None or role in viewers else 403
    return expect


def case_route(inside: Expect | int, readers: frozenset[str]) -> Expect:
    """A route on a case of the test office: the other office's user, and anyone of this office who
    may not read the case (``readers``), gets 404 (ids reveal nothing)."""
    def expect(role: str) -> int:
        if role == ANON:
            return 302
        if role == OTHER or role not in readers:
            return 404
        return inside(role) if callable(inside) else inside
    return expect


def everyone(status: int) -> Expect:
    return lambda _role: status


def only(roles: frozenset[str], yes: int, no: int) -> Expect:
    return lambda role: yes if role in roles else no


@dataclass(frozen=True)
class Entry:
    url: Callable[[World], str]
    get: Expect | None = None  # None: GET is not allowed (405 for everyone)
    post: Expect | None = None  # status of a POST with a CSRF token and no fields
    changes_state: bool = False  # POST-only, refuses a missing CSRF token
    fresh: bool = False  # ends the session (logout): use a client of its own


TABLE: dict[str, Entry] = {
    "queues.my_work": Entry(lambda w: "/", get=page()),
    "queues.confirm_approve": Entry(lambda w: f"/approve-selected?case={w.review}:2", get=page()),
    "queues.approve_selected": Entry(lambda w: "/approve-selected", post=page(), changes_state=True),
    "board.show": Entry(lambda w: "/board", get=page(BOARD, other=403)),
    "board.export_csv": Entry(lambda w: "/board.csv", get=page(BOARD, other=403)),
    "board.export_ods": Entry(lambda w: "/board.ods", get=page(BOARD, other=403)),
    "board.export_xlsx": Entry(lambda w: "/board.xlsx", get=page(BOARD, other=403)),
    "task_force.show": Entry(lambda w: "/task-force", get=page(TASK_FORCE, other=403)),
    "task_force.export": Entry(lambda w: "/task-force/meetings.csv", get=page(TASK_FORCE, other=403)),
    # A POST with only a CSRF token: the register's keepers get the form back (422), others 403.
    "registers.show": Entry(lambda w: "/registers/training", get=page(TRAINING_ROSTER, other=403)),
    "registers.export_training": Entry(lambda w: "/registers/training.xlsx", get=page(TRAINING_ROSTER, other=403)),
    "registers.export_compliance": Entry(lambda w: "/registers/training/compliance.ods",
                                         get=page(TRAINING_ROSTER, other=403)),
    "registers.import_training": Entry(lambda w: "/registers/training/import",
                                       post=page(frozenset({"personnel_staff"}), ok=422, other=403),
                                       changes_state=True),
    "registers.mine": Entry(lambda w: "/registers/training/mine", get=page()),
    "outreach.show": Entry(lambda w: "/registers/outreach", get=page()),
    "outreach.export": Entry(lambda w: "/registers/outreach/export.ods", get=page()),
    "outreach.add": Entry(lambda w: "/registers/outreach", post=page(OUTREACH, ok=422, other=422), changes_state=True),
    "outreach.add_photo": Entry(lambda w: "/registers/outreach/999999/photos",
                                post=page(OUTREACH, ok=404, other=404), changes_state=True),
    "outreach.photo": Entry(lambda w: "/registers/outreach/photos/999999", get=page(ok=404, other=404)),
    "budget.show": Entry(lambda w: "/registers/budget", get=page()),
    "budget.export": Entry(lambda w: "/registers/budget/export.csv", get=page()),
    "budget.add": Entry(lambda w: "/registers/budget", post=page(BUDGET, ok=422, other=403), changes_state=True),
    "budget.set_executed": Entry(lambda w: "/registers/budget/999999/executed",
                                 post=page(BUDGET, ok=422, other=403), changes_state=True),
    "task_force.add_written": Entry(lambda w: f"/task-force/cases/{w.review}/written",
                                    # the register's keepers are checked before the case is read
                                    post=case_route(only(TASK_FORCE_REGISTER, 422, 403), OFFICE_PEOPLE),
                                    changes_state=True),
    "task_force.add_member": Entry(lambda w: "/task-force/members", post=page(TASK_FORCE_REGISTER, ok=422, other=403),
                                   changes_state=True),
    "task_force.end_member": Entry(lambda w: "/task-force/members/1/end",
                                   post=page(TASK_FORCE_REGISTER, ok=422, other=403), changes_state=True),
    "task_force.add_meeting": Entry(lambda w: "/task-force/meetings",
                                    post=page(TASK_FORCE_REGISTER, ok=422, other=403), changes_state=True),
    # 推動組 (web/city.py): the city reviewers' list; the cross-district page is the city organisation's
    # only (this office's reviewer is a district's: tests/web/test_city.py has the city's own).
    "city.show": Entry(lambda w: "/city", get=page(frozenset({"city"}), other=403)),
    "city.districts": Entry(lambda w: "/city/districts", get=page(frozenset(), other=403)),
    "city.export_districts": Entry(lambda w: "/city/districts.csv", get=page(frozenset(), other=403)),
    "publishing.failed": Entry(lambda w: "/publishing/failed", get=page(FAILED_POSTINGS, other=403)),
    "cases.show": Entry(lambda w: f"/cases/{w.review}", get=case_route(200, REVIEW_READERS)),
    "cases.documents": Entry(lambda w: f"/cases/{w.review}/documents", get=case_route(200, REVIEW_READERS)),
    "cases.history": Entry(lambda w: f"/cases/{w.review}/history.csv", get=case_route(200, REVIEW_READERS)),
    "cases.download": Entry(lambda w: f"/cases/{w.review}/documents/{w.document}.docx",
                            get=case_route(200, REVIEW_READERS)),
    # The form has no version: refused as malformed (400) once the case is found.
    "cases.act": Entry(lambda w: f"/cases/{w.review}/actions/approve", post=case_route(400, REVIEW_READERS),
                       changes_state=True),
    # The queue's viewers only, checked before the case is loaded: the other office's user (not a
    # viewer) gets 403 whatever the id, which says nothing about the id either. An empty form (no
    # version) is malformed: 400.
    "publishing.fix": Entry(lambda w: f"/publishing/{w.failed}/fix", get=page(FAILED_POSTINGS, other=403),
                            post=page(FAILED_POSTINGS, other=403, ok=400), changes_state=True),
    # Empty forms (no version): refused as malformed (400) before any role check; the workflow
    # refuses anyone but the secretariat (tests/web/test_publishing_web.py).
    "publishing.retry": Entry(lambda w: f"/publishing/{w.failed}/retry", post=case_route(400, POSTING_READERS),
                              changes_state=True),
    "publishing.manual": Entry(lambda w: f"/publishing/{w.failed}/manual", post=case_route(400, POSTING_READERS),
                               changes_state=True),
    "publishing.send_back": Entry(lambda w: f"/publishing/{w.failed}/return", post=case_route(400, POSTING_READERS),
                                  changes_state=True),
    # A logged-in user is sent to their work (303); a POST without credentials re-displays the form.
    "auth.login": Entry(lambda w: "/login", get=only(frozenset({ANON}), 200, 303),
                        post=only(frozenset({ANON}), 200, 303), changes_state=True),
    "auth.logout": Entry(lambda w: "/logout", post=lambda role: 302 if role == ANON else 303, changes_state=True,
                         fresh=True),
    "i18n.switch": Entry(lambda w: "/lang/en?next=/", get=everyone(303)),
    "static": Entry(lambda w: "/static/caseflow.css", get=everyone(200)),
    "public.index": Entry(lambda w: f"/zone/{w.office.code}/", get=everyone(200)),
    "public.year": Entry(lambda w: f"/zone/{w.office.code}/years/115", get=everyone(200)),
    "public.feed": Entry(lambda w: f"/zone/{w.office.code}/feed.atom", get=everyone(200)),
    "public.posting": Entry(lambda w: f"/zone/{w.office.code}/postings/{w.posting}", get=everyone(200)),
    "public.file": Entry(lambda w: f"/zone/{w.office.code}/files/{w.public_file}", get=everyone(200)),
    # A document of a case still in review is not public, for anyone (filed ones, as ODT and PDF only,
    # never .docx: test_public_documents).
    "public.document": Entry(lambda w: f"/zone/{w.office.code}/documents/{w.document}.pdf", get=everyone(404)),
    # 我的案件 and its forms, attachments, notifications (another developer's pages).
    "mine.show": Entry(lambda w: "/mine", get=page()),
    # An empty form from someone who may create cases: 422 (the form again, with its errors).
    "mine.new": Entry(lambda w: "/mine/new", changes_state=True,
                      post=lambda role: 302 if role == ANON else 422 if role in CREATORS else 403),
    "edit.edit": Entry(lambda w: f"/cases/{w.draft}/edit",
                       get=case_route(only(PERSONNEL_STAFF, 200, 403), DRAFT_READERS)),
    "edit.save": Entry(lambda w: f"/cases/{w.draft}/edit",
                       post=case_route(only(PERSONNEL_STAFF, 400, 403), DRAFT_READERS), changes_state=True),
    "edit.fill_from_registers": Entry(lambda w: f"/cases/{w.draft}/fill",
                                      post=case_route(only(PERSONNEL_STAFF, 400, 403), DRAFT_READERS),
                                      changes_state=True),
    # An empty upload (no file) is malformed for everyone; who may upload is tested with the uploads.
    "uploads.upload": Entry(lambda w: f"/cases/{w.draft}/attachments", post=case_route(400, DRAFT_READERS),
                            changes_state=True),
    # No version in the form: malformed for everyone (who may add them: tests/web/test_zone.py).
    "uploads.from_event": Entry(lambda w: f"/cases/{w.draft}/attachments/from-event",
                                post=case_route(400, DRAFT_READERS), changes_state=True),
    "uploads.download": Entry(lambda w: f"/cases/{w.draft}/attachments/{w.attachment}",
                              get=case_route(200, DRAFT_READERS)),
    # No version in the form: malformed for everyone; who may remove is tested with the uploads.
    "uploads.remove": Entry(lambda w: f"/cases/{w.draft}/attachments/{w.attachment}/remove",
                            post=case_route(400, DRAFT_READERS), changes_state=True),
    "notifications.show": Entry(lambda w: "/notifications", get=page()),
    # 搜尋: everyone logged in; what each finds follows the read rule (test_search_finds_what_each_may_read).
    "search.show": Entry(lambda w: "/search?q=training_report", get=page()),
    # No such notification for anyone (each person's own are checked by the inbox's tests).
    "notifications.mark": Entry(lambda w: "/notifications/999999999/read",
                                post=lambda role: 302 if role == ANON else 404, changes_state=True),
    "notifications.mark_all": Entry(lambda w: "/notifications/read", post=lambda role: 302 if role == ANON else 303,
                                    changes_state=True),
    # 通知設定: everyone's own; a form with nothing chosen comes back with its message (422).
    "notifications.settings": Entry(lambda w: "/account/notifications", get=page()),
    "notifications.save_settings": Entry(lambda w: "/account/notifications",
                                         post=lambda role: 302 if role == ANON else 422, changes_state=True),
}

# -- API 權杖 (web/tokens.py): everyone's own tokens; the JSON API (web/api): no cookie authentication,
# so every logged-in browser gets 401 there (API_TABLE below gives the statuses with a bearer token).
API_COOKIE = everyone(401)
TABLE.update({
    "tokens.show": Entry(lambda w: "/account/tokens", get=page()),
    # No name: the form again with its errors.
    "tokens.create": Entry(lambda w: "/account/tokens", post=lambda role: 302 if role == ANON else 422,
                           changes_state=True),
    # No such token of theirs, for anyone (revoking is tested in tests/web/test_api.py).
    "tokens.revoke": Entry(lambda w: "/account/tokens/999999999/revoke",
                           post=lambda role: 302 if role == ANON else 404, changes_state=True),
    "api-docs.openapi_json": Entry(lambda w: "/api/v1/openapi.json", get=everyone(200)),
    "api_reference.page": Entry(lambda w: "/api-docs", get=everyone(200)),  # public, like the document
    "api.me": Entry(lambda w: "/api/v1/me", get=API_COOKIE),
    "api.kinds": Entry(lambda w: "/api/v1/kinds", get=API_COOKIE),
    "api.cases": Entry(lambda w: "/api/v1/cases", get=API_COOKIE),
    "api.create": Entry(lambda w: "/api/v1/cases", post=API_COOKIE, changes_state=True),
    "api.case": Entry(lambda w: f"/api/v1/cases/{w.review}", get=API_COOKIE),
    "api.edit_fields": Entry(lambda w: f"/api/v1/cases/{w.draft}/fields"),  # PATCH only
    "api.transition": Entry(lambda w: f"/api/v1/cases/{w.review}/transitions", post=API_COOKIE,
                            changes_state=True),
    "api.document": Entry(lambda w: f"/api/v1/cases/{w.review}/documents/{w.document}/docx", get=API_COOKIE),
    "api.queue": Entry(lambda w: "/api/v1/queue", get=API_COOKIE),
    "api.notifications": Entry(lambda w: "/api/v1/notifications", get=API_COOKIE),
    "api.read_notification": Entry(lambda w: "/api/v1/notifications/999999999/read", post=API_COOKIE,
                                   changes_state=True),
    "api.search": Entry(lambda w: "/api/v1/search?q=training_report", get=API_COOKIE),
    # Operations (web/ops.py), no login: the process is up; not ready, since this app has no
    # background worker (BACKGROUND_WORK off); /metrics to the machine itself (the test client's
    # 127.0.0.1), others are refused (tests/web/test_ops.py).
    "ops.healthz": Entry(lambda w: "/healthz", get=everyone(200)),
    "ops.readyz": Entry(lambda w: "/readyz", get=everyone(503)),
    "ops.metrics": Entry(lambda w: "/metrics", get=everyone(200)),
})

# -- 管理 (web/admin.py): administrators of the office only; the other office's user is no admin here.
ADMIN = frozenset({"admin"})


def admin_form(admin_status: int) -> Expect:
    """A POST with only a CSRF token: the admin's form is refused as incomplete, others get 403."""
    return lambda role: 302 if role == ANON else admin_status if role in ADMIN else 403


_admin_rows: dict[int, dict[str, int]] = {}


def admin_ids(w: World) -> dict[str, int]:
    """Rows of the test office the admin routes act on (made once): a role assignment, a delegation,
    a closure day, and a plan obligation (shared reference data)."""
    if w.office.id not in _admin_rows:
        import datetime as dt

        from workflow.models import Delegation, OfficeClosure, PlanObligation, RoleAssignment

        with w.office.db.unit_of_work() as uow:
            s = uow.session
            ra = s.scalars(select(RoleAssignment.id)
                           .where(RoleAssignment.user_id == w.office.users["civil_staff"])).first()
            d = Delegation(office_id=w.office.id, from_user_id=w.office.users["civil_chief"],
                           to_user_id=w.office.users["social_chief"], role="chief", valid_from=dt.date(2099, 1, 1),
                           valid_to=dt.date(2099, 1, 2), reason="matrix")
            c = OfficeClosure(office_id=w.office.id, day=dt.date(2099, 1, 5), reason="matrix")
            s.add_all([d, c])
            s.flush()
            ob = s.scalars(select(PlanObligation.id).order_by(PlanObligation.id)).first()
            _admin_rows[w.office.id] = {"role": int(ra or 0), "delegation": d.id, "closure": c.id,
                                        "obligation": int(ob or 0)}
            uow.commit()
    return _admin_rows[w.office.id]


TABLE.update({
    "admin.index": Entry(lambda w: "/admin/", get=page(ADMIN, other=403)),
    "admin.office": Entry(lambda w: "/admin/office", get=page(ADMIN, other=403)),
    "admin.edit_office": Entry(lambda w: "/admin/office", post=admin_form(422), changes_state=True),
    "admin.units": Entry(lambda w: "/admin/units", get=page(ADMIN, other=403)),
    "admin.add_unit": Entry(lambda w: "/admin/units", post=admin_form(422), changes_state=True),
    "admin.rename_unit": Entry(lambda w: f"/admin/units/{w.office.units['civil']}", post=admin_form(422),
                               changes_state=True),
    "admin.users": Entry(lambda w: "/admin/users", get=page(ADMIN, other=403)),
    "admin.add_user": Entry(lambda w: "/admin/users", post=admin_form(422), changes_state=True),
    "admin.user": Entry(lambda w: f"/admin/users/{w.office.users['nobody']}", get=page(ADMIN, other=403)),
    "admin.edit_user": Entry(lambda w: f"/admin/users/{w.office.users['nobody']}", post=admin_form(422),
                             changes_state=True),
    "admin.set_active": Entry(lambda w: f"/admin/users/{w.office.users['nobody']}/active", post=admin_form(400),
                              changes_state=True),
    "admin.reset_password": Entry(lambda w: f"/admin/users/{w.office.users['nobody']}/password",
                                  post=admin_form(422), changes_state=True),
    "admin.grant": Entry(lambda w: f"/admin/users/{w.office.users['nobody']}/roles", post=admin_form(422),
                         changes_state=True),
    "admin.end_role": Entry(lambda w: f"/admin/roles/{admin_ids(w)['role']}/end", post=admin_form(422),
                            changes_state=True),
    "admin.delegations": Entry(lambda w: "/admin/delegations", get=page(ADMIN, other=403)),
    "admin.add_delegation": Entry(lambda w: "/admin/delegations", post=admin_form(422), changes_state=True),
    "admin.end_delegation": Entry(lambda w: f"/admin/delegations/{admin_ids(w)['delegation']}/end",
                                  post=admin_form(400), changes_state=True),
    "admin.calendar": Entry(lambda w: "/admin/calendar", get=page(ADMIN, other=403)),
    "admin.edit_obligation": Entry(lambda w: f"/admin/obligations/{admin_ids(w)['obligation']}",
                                   post=admin_form(422), changes_state=True),
    "admin.set_step_limit": Entry(lambda w: "/admin/step-limits", post=admin_form(422), changes_state=True),
    "admin.add_closure": Entry(lambda w: "/admin/closures", post=admin_form(422), changes_state=True),
    "admin.remove_closure": Entry(lambda w: f"/admin/closures/{admin_ids(w)['closure']}/delete",
                                  post=admin_form(400), changes_state=True),
    "admin.course_codes": Entry(lambda w: "/admin/course-codes", get=page(ADMIN, other=403)),
    "admin.add_course_code": Entry(lambda w: "/admin/course-codes", post=admin_form(422), changes_state=True),
    # No such code (an empty form is a valid edit of a real one: blank label, box unticked).
    "admin.update_course_code": Entry(lambda w: "/admin/course-codes/NOSUCH", post=admin_form(404),
                                      changes_state=True),
    "admin.templates": Entry(lambda w: "/admin/templates", get=page(ADMIN, other=403)),
    "admin.upload_template": Entry(lambda w: "/admin/templates/sign_memo", post=admin_form(422),
                                   changes_state=True),
    "admin.revert_template": Entry(lambda w: "/admin/templates/sign_memo/revert", post=admin_form(400),
                                   changes_state=True),
})
# Routes on a case id: the other office's case must answer 404 to everyone in this office.
CASE_ID = re.compile(r"<int:case_id>")


def _rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def _methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def _get_allowed(app: Flask, path: str) -> bool:
    """Does any rule on this path accept GET (several views may share a path, one per method)?"""
    return any("GET" in _methods(r) for r in app.url_map.iter_rules() if r.rule == path)


def _check_headers(resp: TestResponse, what: str) -> list[str]:
    return [f"{what}: no {name}" for name, value in HEADERS.items() if resp.headers.get(name) != value]


def _user_id(w: World, role: str) -> int | None:
    return None if role == ANON else w.other.users["personnel_chief"] if role == OTHER else w.office.users[role]


class Denials:
    """The ``authz_denied`` records logged since the last ``check``, held against a response."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        caplog.set_level(logging.INFO, logger="caseflow.security")
        self.mark = len(caplog.records)

    def check(self, resp: TestResponse, method: str, url: str, user_id: int | None) -> list[str]:
        found = [r for r in self.caplog.records[self.mark:] if getattr(r, "event", None) == AUTHZ_DENIED]
        self.mark = len(self.caplog.records)
        path = url.split("?", 1)[0]
        if resp.status_code in (403, 404):
            got = [(getattr(r, "method", None), getattr(r, "path", None), getattr(r, "status", None),
                    getattr(r, "denied_user_id", None)) for r in found]
            if got != [(method, path, resp.status_code, user_id)]:
                return [f"{method} {url} {resp.status_code}: authz_denied records {got}, "
                        f"expected one for user {user_id}"]
        elif found:
            return [f"{method} {url} {resp.status_code}: an authz_denied record without a denial"]
        return []


def _post(client: FlaskClient, url: str, *, token: bool = True) -> TestResponse:
    data = {}
    if token:
        login = client.get("/login")  # a form with the session's token; logged in: the logout form on /
        data["csrf_token"] = csrf_token((client.get("/") if login.status_code == 303 else login).get_data(as_text=True))
    return client.post(url, data=data)


# -- the tests ------------------------------------------------------------------------------------
def test_every_route_has_an_entry(matrix_app: Flask) -> None:
    endpoints = {r.endpoint for r in matrix_app.url_map.iter_rules()}
    assert endpoints - TABLE.keys() == set(), "add the new routes to TABLE (who gets which status)"
    for rule in _rules(matrix_app):
        entry = TABLE[rule.endpoint]
        methods = _methods(rule)
        assert ("GET" in methods) == (entry.get is not None), rule.endpoint
        assert ("POST" in methods) == (entry.post is not None), rule.endpoint


@pytest.mark.parametrize("role", ROLES)
def test_route_by_role(role: str, matrix_app: Flask, world: World, clients: dict[str, FlaskClient],
                       caplog: pytest.LogCaptureFixture) -> None:
    wrong = []
    denials = Denials(caplog)
    for rule in _rules(matrix_app):
        entry = TABLE[rule.endpoint]
        url = entry.url(world)
        client = _client(matrix_app, world, role) if entry.fresh else clients[role]
        for method, expect in (("GET", entry.get), ("POST", entry.post)):
            if method not in _methods(rule):
                if method == "GET" and not _get_allowed(matrix_app, rule.rule):
                    resp = client.get(url)
                    if resp.status_code != 405:
                        wrong.append(f"GET {url} ({rule.endpoint}): {resp.status_code}, expected 405")
                    wrong += _check_headers(resp, f"GET {url}")
                    wrong += denials.check(resp, "GET", url, _user_id(world, role))
                continue
            assert expect is not None
            resp = client.get(url) if method == "GET" else _post(client, url)
            wrong += denials.check(resp, method, url, _user_id(world, role))
            want = expect(role)
            if resp.status_code != want:
                wrong.append(f"{method} {url} ({rule.endpoint}): {resp.status_code}, expected {want}")
            elif want == 302 and role == ANON and "/login" not in resp.headers.get("Location", ""):
                wrong.append(f"{method} {url}: redirected to {resp.headers.get('Location')}, not the login")
            wrong += _check_headers(resp, f"{method} {url}")
        if entry.fresh and role != ANON:
            # Logging out ends every session of the account (web.auth), the shared client's too.
            assert clients[role].get("/").status_code == 302, f"{role}: a session outlived its logout"
            clients[role] = _client(matrix_app, world, role)
    assert wrong == [], f"{role}:\n" + "\n".join(wrong)


def test_another_offices_case_is_not_found_on_every_case_route(
    matrix_app: Flask, world: World, clients: dict[str, FlaskClient], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = []
    denials = Denials(caplog)
    ours = {world.review, world.draft, world.failed, world.posting}

    def swap(m: re.Match[str]) -> str:
        return f"/{world.foreign}" if int(m.group(1)) in ours else m.group(0)

    for rule in _rules(matrix_app):
        if not CASE_ID.search(rule.rule) or rule.endpoint.startswith("api."):
            continue  # the API's case routes: test_api_route_by_role (with bearer tokens)
        url = TABLE[rule.endpoint].url(world)
        foreign = re.sub(r"/(\d+)(?=/|$|\.)", swap, url, count=1)
        assert foreign != url, url
        for role in OFFICE_PEOPLE:
            client = clients[role]
            for method in _methods(rule) & {"GET", "POST"}:
                resp = client.get(foreign) if method == "GET" else _post(client, foreign)
                wrong += denials.check(resp, method, foreign, world.office.users[role])
                # publishing.fix turns away non-viewers before loading anything (403 for any id).
                gated = rule.endpoint == "publishing.fix" and role not in FAILED_POSTINGS
                if resp.status_code != (403 if gated else 404):
                    wrong.append(f"{role} {method} {foreign}: {resp.status_code}")
    assert wrong == []


def test_an_absurd_id_is_not_found_on_every_route_that_takes_one(
    matrix_app: Flask, world: World, clients: dict[str, FlaskClient]
) -> None:
    """An id beyond the database's integer (typed, pasted, fuzzed) is not found on every HTML route,
    never an overflow in the driver (a 500). (A POST to a path whose GET twin exists is answered
    405 by the router, which tries the twin's pattern before the id's bound: still nothing served.)"""
    wrong = []
    absurd = "/99999999999999999999"
    for rule in _rules(matrix_app):
        if "<int:" not in rule.rule or rule.endpoint.startswith("api."):
            continue  # the API bounds its ids itself (test_api_schema fuzzes them)
        url = re.sub(r"/(\d+)(?=/|$|\.)", absurd, TABLE[rule.endpoint].url(world), count=1)
        assert absurd in url, (rule.endpoint, url)
        for role in ("personnel_chief", "admin"):
            for method in _methods(rule) & {"GET", "POST"}:
                resp = clients[role].get(url) if method == "GET" else _post(clients[role], url)
                if resp.status_code not in ((404,) if method == "GET" else (404, 405)):
                    wrong.append(f"{role} {method} {url}: {resp.status_code}")
    assert wrong == []


def test_state_changing_routes_are_post_only_and_need_a_csrf_token(
    matrix_app: Flask, world: World, clients: dict[str, FlaskClient]
) -> None:
    wrong = []
    changing = [r for r in _rules(matrix_app) if "POST" in _methods(r)]
    for rule in changing:
        entry = TABLE[rule.endpoint]
        assert entry.changes_state, f"{rule.endpoint} accepts POST: mark it changes_state"
        url = entry.url(world)
        for role in ("personnel_chief", "secretariat", "personnel_staff", ANON):
            resp = _post(clients[role], url, token=False)
            # The API is CSRF-exempt because it ignores cookies: without a bearer token it is 401.
            if resp.status_code != (401 if rule.endpoint.startswith("api.") else 400):
                wrong.append(f"{role} POST {url} without a token: {resp.status_code}")
            wrong += _check_headers(resp, f"POST {url}")
    # The only views that take both GET and POST are forms that re-display themselves on GET.
    both = {r.endpoint for r in changing if "GET" in _methods(r)}
    assert both <= {"auth.login", "publishing.fix"}, both
    assert wrong == []
    # Nothing the matrix posted changed a case.
    assert _state(world.office.db, world.review) == "section_review"
    assert _state(world.office.db, world.failed) == "publish_failed"


def _state(db: Database, case_id: int) -> str:
    from workflow.models import Case

    with db.unit_of_work(write=False) as uow:
        return str(uow.session.scalar(select(Case.state).where(Case.id == case_id)))


def test_search_finds_what_each_may_read(world: World, clients: dict[str, FlaskClient],
                                         api_tokens_by_role: dict[str, str], matrix_app: Flask) -> None:
    """The draft and the case in review share their title: each person's search (page and API)
    lists exactly those of the two that the case page would show them (the read rule)."""
    api = matrix_app.test_client()
    wrong = []
    for role in [*OFFICE_PEOPLE, OTHER]:
        page = clients[role].get("/search?q=training_report")
        assert page.status_code == 200, role
        listed = {int(m) for m in re.findall(r'href="/cases/(\d+)"', page.get_data(as_text=True))}
        resp = api.get("/api/v1/search?q=training_report",
                       headers={"Authorization": f"Bearer {api_tokens_by_role[role]}"})
        assert resp.status_code == 200, (role, resp.get_data(as_text=True))
        found = {item["id"] for item in resp.get_json()["items"]}
        want = {cid for cid, readers in ((world.draft, DRAFT_READERS), (world.review, REVIEW_READERS))
                if role in readers}
        if listed & {world.draft, world.review} != want or found & {world.draft, world.review} != want:
            wrong.append(f"{role}: page {sorted(listed)}, API {sorted(found)}, expected {sorted(want)}")
        if world.foreign in listed | found and role != OTHER:
            wrong.append(f"{role} found the other office's case")
    assert wrong == []


def test_unknown_urls_and_errors_carry_the_headers_too(clients: dict[str, FlaskClient]) -> None:
    for role in (ANON, "personnel_chief"):
        resp = clients[role].get("/no-such-page")
        assert resp.status_code == 404 and _check_headers(resp, "404") == []



# -- the JSON API with bearer tokens ----------------------------------------------------------------
@dataclass(frozen=True)
class ApiEntry:
    method: str
    url: Callable[[World], str]
    expect: Expect  # for the roles of the test office; the other office's user: ``other``
    body: Callable[[World], dict[str, object]] | None = None
    other: int = 200  # None of the other office's business: 404 for a case of this office


def _version(w: World, case_id: int) -> int:
    from workflow.models import Case

    with w.office.db.unit_of_work(write=False) as uow:
        return int(uow.session.scalar(select(Case.version).where(Case.id == case_id)) or 0)


# Bodies that pass the schema and every check up to the last one, which refuses them, so nothing
# changes: a draft's field of the wrong type (422 for its drafters), a return without a comment
# (422 for the chief who may return it). Everyone else is refused by role first (403).
API_TABLE: dict[str, ApiEntry] = {
    "api.me": ApiEntry("GET", lambda w: "/api/v1/me", everyone(200)),
    "api.kinds": ApiEntry("GET", lambda w: "/api/v1/kinds", everyone(200)),
    "api.cases": ApiEntry("GET", lambda w: "/api/v1/cases", everyone(200)),
    "api.queue": ApiEntry("GET", lambda w: "/api/v1/queue", everyone(200)),
    # Everyone's own notifications; no such notification of theirs (each person's: tests/web/test_api.py).
    "api.notifications": ApiEntry("GET", lambda w: "/api/v1/notifications", everyone(200)),
    "api.read_notification": ApiEntry("POST", lambda w: "/api/v1/notifications/999999999/read", everyone(404),
                                      other=404),
    "api.search": ApiEntry("GET", lambda w: "/api/v1/search?q=training_report", everyone(200)),
    "api.create": ApiEntry("POST", lambda w: "/api/v1/cases", only(PERSONNEL_STAFF, 422, 403),
                           body=lambda w: {"kind": "training_report", "roc_year": 115, "period": "Q1", "title": ""},
                           other=403),
    "api.case": ApiEntry("GET", lambda w: f"/api/v1/cases/{w.review}", case_route(200, REVIEW_READERS), other=404),
    "api.document": ApiEntry("GET", lambda w: f"/api/v1/cases/{w.review}/documents/{w.document}/docx",
                             case_route(200, REVIEW_READERS), other=404),
    "api.edit_fields": ApiEntry("PATCH", lambda w: f"/api/v1/cases/{w.draft}/fields",
                                case_route(only(PERSONNEL_STAFF, 422, 403), DRAFT_READERS), other=404,
                                body=lambda w: {"version": _version(w, w.draft), "fields": {"summary": [1]}}),
    "api.transition": ApiEntry("POST", lambda w: f"/api/v1/cases/{w.review}/transitions",
                               case_route(only(frozenset({"personnel_chief"}), 422, 403), REVIEW_READERS), other=404,
                               body=lambda w: {"trigger": "return_for_revision", "version": _version(w, w.review)}),
}


@pytest.fixture(scope="module")
def api_tokens_by_role(world: World) -> dict[str, str]:
    from workflow.people import api_tokens

    out = {role: api_tokens.issue(world.office.db, world.office.users[role], "matrix").token for role in STAFFING}
    out[OTHER] = api_tokens.issue(world.office.db, world.other.users["personnel_chief"], "matrix").token
    return out


def test_every_api_route_has_an_api_entry(matrix_app: Flask) -> None:
    api = {r.endpoint: _methods(r) for r in matrix_app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert set(api) == set(API_TABLE)
    for endpoint, methods in api.items():
        assert methods == {API_TABLE[endpoint].method}, endpoint


@pytest.mark.parametrize("role", ROLES)
def test_api_route_by_role(role: str, matrix_app: Flask, world: World, api_tokens_by_role: dict[str, str],
                           caplog: pytest.LogCaptureFixture) -> None:
    client = matrix_app.test_client()
    denials = Denials(caplog)
    headers = {} if role == ANON else {"Authorization": f"Bearer {api_tokens_by_role[role]}"}
    wrong = []
    for endpoint, entry in API_TABLE.items():
        url = entry.url(world)
        want = 401 if role == ANON else entry.other if role == OTHER else entry.expect(role)
        resp = client.open(url, method=entry.method, headers=headers,
                           json=entry.body(world) if entry.body else None)
        wrong += denials.check(resp, entry.method, url, _user_id(world, role))
        if resp.status_code != want:
            wrong.append(f"{entry.method} {url} ({endpoint}): {resp.status_code}, expected {want}: "
                         f"{resp.get_data(as_text=True)[:200]}")
        elif not resp.is_json and endpoint != "api.document":
            wrong.append(f"{entry.method} {url}: not JSON")
        wrong += _check_headers(resp, f"{entry.method} {url}")
    assert wrong == [], f"{role}:\n" + "\n".join(wrong)
    assert _state(world.office.db, world.review) == "section_review"


def test_api_case_routes_answer_404_for_another_offices_case(
    matrix_app: Flask, world: World, api_tokens_by_role: dict[str, str]
) -> None:
    client = matrix_app.test_client()
    wrong = []
    for endpoint, entry in API_TABLE.items():
        url = entry.url(world)
        if f"/cases/{world.review}" not in url and f"/cases/{world.draft}" not in url:
            continue
        foreign = url.replace(f"/cases/{world.review}", f"/cases/{world.foreign}").replace(
            f"/cases/{world.draft}", f"/cases/{world.foreign}")
        for role in OFFICE_PEOPLE:
            resp = client.open(foreign, method=entry.method, json=entry.body(world) if entry.body else None,
                               headers={"Authorization": f"Bearer {api_tokens_by_role[role]}"})
            if resp.status_code != 404:
                wrong.append(f"{role} {entry.method} {foreign} ({endpoint}): {resp.status_code}")
    assert wrong == []
