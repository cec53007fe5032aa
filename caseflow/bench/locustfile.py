"""The people of ``caseflow bench load``: one office's day, as locust users (read by ``locust -f``).

CASEFLOW_LOAD_PLAN names the JSON that ``caseflow.bench.load.seed`` wrote: the logins by role, the
cases a task force meeting has passed (for the convener) and those already approved (for the
liaison). Each person logs in once, then works as their role does, with a pause of 0.5-2 s
between actions: staff submit their drafts, chiefs and the secretariat take cases from their queue
and approve (four in five) or return them, the convener approves what the task force passed, the
liaison files approved cases with the city group and looks at the board, a member reads the task
force's agenda; everyone opens documents. Every answer's status is counted per page and written
to CASEFLOW_LOAD_STATUSES when locust quits: the load bench reads 5xx and other surprises there.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["CASEFLOW_LOAD_PLAN"]).read_text())
STATUSES: Counter[str] = Counter()
CASE_LINK = re.compile(r'href="/cases/(\d+)"')
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
DOCX = re.compile(r'href="(/cases/\d+/documents/\d+\.docx)"')
_logins = {role: iter(PLAN["people"].get(role, [])) for role in PLAN["people"]}


@events.request.add_listener
def _count(request_type: str, name: str, response: Any, **_kw: Any) -> None:
    STATUSES[f"{getattr(response, 'status_code', 0) or 0} {request_type} {name}"] += 1


@events.quitting.add_listener
def _write(**_kw: Any) -> None:
    Path(os.environ["CASEFLOW_LOAD_STATUSES"]).write_text(json.dumps(STATUSES))


def _why(resp: Any) -> str:
    """HTTP status, or for status 0 the client's own error (connection refused, reset, ...)."""
    error = getattr(resp, "error", None)
    return f"HTTP {resp.status_code}" + (f": {error!r}"[:300] if resp.status_code == 0 and error else "")


class Person(HttpUser):
    abstract = True
    roles: tuple[str, ...] = ()
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.login = next(chain.from_iterable(_logins[r] for r in self.roles))
        page = self.page("/login", "login page")
        token = CSRF.search(page)
        with self.client.post("/login", name="log in", allow_redirects=False, catch_response=True,
                              data={"csrf_token": token.group(1) if token else "", "username": self.login,
                                    "password": PLAN["password"]}) as resp:
            if resp.status_code != 303:
                resp.failure(f"log in as {self.login}: {_why(resp)}")

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(_why(resp))
                return ""
            return str(resp.text)

    def queue(self) -> list[int]:
        return [int(i) for i in CASE_LINK.findall(self.page("/", "我的工作 /"))]

    def act(self, case_id: int, trigger: str, comment: str = "") -> bool:
        """Open the case page and, if it offers ``trigger``, send that form as the page gave it."""
        page = self.page(f"/cases/{case_id}", "case page")
        fields = dict(re.findall(rf'name="({trigger}-(?:csrf_token|version))" type="hidden" value="([^"]*)"', page))
        if len(fields) != 2:
            return False  # not (or no longer) this person's step
        with self.client.post(f"/cases/{case_id}/actions/{trigger}", name=trigger, allow_redirects=False,
                              catch_response=True, data={**fields, f"{trigger}-comment": comment}) as resp:
            if resp.status_code == 409:
                resp.success()  # someone acted first: the page says who; a correct answer under load
            elif resp.status_code != 303:
                resp.failure(_why(resp))
                return False
        self.page(f"/cases/{case_id}", "case page")  # where the browser lands, with the outcome
        return True

    def documents(self, case_id: int) -> None:
        """The case's documents, as the page's script refreshes them, and one .docx if ready."""
        links = DOCX.findall(self.page(f"/cases/{case_id}/documents", "documents list"))
        if links:
            with self.client.get(random.choice(links), name="document .docx", catch_response=True) as resp:
                if resp.status_code != 200 or not (resp.content or b"").startswith(b"PK"):
                    resp.failure(f"{_why(resp)}, {len(resp.content or b'')} bytes")


class Staff(Person):
    roles = ("staff",)
    fixed_count = len(PLAN["people"].get("staff", []))

    @task(3)
    def my_work(self) -> None:
        self.queue()

    @task(3)
    def submit_a_draft(self) -> None:
        cases = self.queue()
        if cases:
            self.act(random.choice(cases), "submit")

    @task(2)
    def my_cases_and_their_documents(self) -> None:
        cases = [int(i) for i in CASE_LINK.findall(self.page("/mine", "我的案件 /mine"))]
        if cases:
            self.documents(random.choice(cases))


class Reviewer(Person):
    abstract = True

    @task(2)
    def my_queue(self) -> None:
        self.queue()

    @task(4)
    def review_the_oldest(self) -> None:
        cases = self.queue()[:3]
        if not cases:
            return
        case_id = random.choice(cases)
        if random.random() < 0.8:
            self.act(case_id, "approve")
        else:
            self.act(case_id, "return_for_revision", "請補充修正對照表的說明後再送。")

    @task(1)
    def documents_of_a_case(self) -> None:
        cases = self.queue()
        if cases:
            self.documents(random.choice(cases))


class Chief(Reviewer):
    roles = ("chief",)
    fixed_count = len(PLAN["people"].get("chief", []))


class Secretariat(Reviewer):
    roles = ("secretariat",)
    fixed_count = len(PLAN["people"].get("secretariat", []))


class Convener(Person):
    roles = ("convener", "deputy_convener")
    fixed_count = sum(len(PLAN["people"].get(r, [])) for r in roles)

    @task(2)
    def my_queue(self) -> None:
        self.queue()

    @task(1)
    def agenda(self) -> None:
        self.page("/task-force", "專案小組 /task-force")

    @task(3)
    def approve_what_the_task_force_passed(self) -> None:
        self.act(random.choice(PLAN["decided"]), "approve")

    @task(1)
    def documents_of_a_case(self) -> None:
        self.documents(random.choice(PLAN["decided"]))


class Liaison(Person):
    roles = ("liaison", "deputy_liaison")
    fixed_count = sum(len(PLAN["people"].get(r, [])) for r in roles)

    @task(2)
    def board(self) -> None:
        self.page("/board", "逾期總覽 /board")

    @task(1)
    def my_queue(self) -> None:
        self.queue()

    @task(3)
    def file_an_approved_case(self) -> None:
        self.act(random.choice(PLAN["approved"] + PLAN["decided"]), "file_with_city_group")

    @task(1)
    def documents_of_a_case(self) -> None:
        self.documents(random.choice(PLAN["approved"]))


class Member(Person):
    roles = ("member",)
    fixed_count = len(PLAN["people"].get("member", []))

    @task(3)
    def agenda(self) -> None:
        page = self.page("/task-force", "專案小組 /task-force")
        cases = CASE_LINK.findall(page)
        if cases:
            self.page(f"/cases/{random.choice(cases)}", "case page")

    @task(1)
    def notifications(self) -> None:
        self.page("/notifications", "通知 /notifications")
