"""The API against its own OpenAPI document, with Schemathesis: generated requests (valid and
invalid) to every operation, as a user with a token. No response may be a server error, and every
response must match the schema the document gives for its status code.

A small, bounded number of examples per operation keeps this quick on SQLite and PostgreSQL; the
behaviour of each route is tested in test_api.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import OfficeFixture
from tests.web.conftest import submitted
from web import create_app
from workflow.db import Database
from workflow.people import api_tokens

EXAMPLES = 8  # per operation and mode: 10 operations x 2 modes, well under a minute in all


@pytest.fixture
def fuzz_app(db: Database, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    return create_app({"TESTING": False, "PROPAGATE_EXCEPTIONS": True, "DATABASE_URL": db.url,
                       "RATELIMIT_STORAGE_URI": "memory://", "BACKGROUND_WORK": False,
                       "API_RATE_LIMIT": "100000 per minute"})


@pytest.fixture
def api_schema(fuzz_app: Flask, office: OfficeFixture) -> Any:
    # Something to find: a draft, and a case under review (ids 1.. belong to this and other offices).
    office.case("training_report", complete=False)
    submitted(office)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


@pytest.fixture
def bearer(office: OfficeFixture) -> dict[str, str]:
    # A drafter of the personnel unit: may create, edit and submit, so the writes are reached too.
    return {"Authorization": f"Bearer {api_tokens.issue(office.db, office.users['personnel_staff'], 'fuzz').token}"}


@pytest.mark.fault
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_document(mode: GenerationMode, api_schema: Any,
                                              bearer: dict[str, str]) -> None:
    # The Python API rather than ``schemathesis.pytest.from_fixture``, whose test wrapper reads a
    # private attribute that pytest 9 no longer has (Function._nodeid).
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 12  # every route of web/api/views.py and web/api/work.py
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def run(case: Any) -> None:
            case.call_and_validate(headers=bearer, checks=[not_a_server_error, response_schema_conformance])

        run()
