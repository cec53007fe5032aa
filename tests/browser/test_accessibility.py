"""axe-core (from npm, no CDN) over the main pages in Debian's Chromium: no serious or critical
WCAG 2.1 A/AA violations. The product's CSP forbids inline script, so the test's own browser
context bypasses CSP to inject axe; the pages themselves are served unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.conftest import shot
from workflow.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# (who, path, screenshot name); None logs in nobody.
PAGES = [
    (None, "/login", "a11y-login"),
    (None, "/zone/demo/", "a11y-public-zone"),
    ("personnel.staff", "/", "a11y-queue-staff"),
    ("personnel.staff", "/mine", "a11y-mine"),
    ("personnel.staff", "/cases/4/edit", "a11y-edit"),
    ("personnel.staff", "/notifications", "a11y-notifications"),
    ("personnel.staff", "/account/notifications", "a11y-notification-settings"),
    ("social.chief", "/", "a11y-queue-chief"),
    ("social.chief", "/cases/7", "a11y-case"),
    ("secretariat", "/", "a11y-queue-secretariat"),
    ("secretariat", "/publishing/failed", "a11y-publish-failed"),
    ("liaison", "/board", "a11y-board"),
    ("liaison", "/", "a11y-queue-liaison"),  # the folded overdue list
    ("personnel.staff", "/search?q=培力", "a11y-search"),
    ("secretariat", "/?sort=due&due=overdue", "a11y-queue-filtered"),
    ("convener", "/task-force", "a11y-task-force"),
    ("admin", "/admin/office", "a11y-admin-office"),
    ("admin", "/admin/users/6", "a11y-admin-user"),  # a chief: the unit move's checkbox is shown
    ("admin", "/admin/course-codes", "a11y-admin-course-codes"),
    ("personnel.staff", "/registers/training", "a11y-training-register"),
    ("civil.staff", "/registers/training/mine", "a11y-my-training"),
    ("social.staff", "/registers/outreach", "a11y-outreach-register"),
    ("accounting.staff", "/registers/budget", "a11y-budget-register"),
    ("secretariat", "/cases/2", "a11y-case-documents"),  # several versions of its documents
    (None, "/api-docs", "a11y-api-docs"),
]


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="zh-TW", base_url=server, bypass_csp=True,
                              viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def _login(page: Page, who: str) -> None:
    page.goto("/login")
    page.get_by_label("帳號").fill(who)
    page.get_by_label("密碼").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url, f"could not log in as {who}"


@pytest.mark.parametrize("who,path,name", PAGES, ids=[p[2] for p in PAGES])
def test_no_serious_violations(context: BrowserContext, who: str | None, path: str, name: str) -> None:
    assert AXE.exists(), "axe-core is missing: run-tests installs it with npm into tests/browser/axe"
    page = context.new_page()
    if who:
        _login(page, who)
    resp = page.goto(path)
    assert resp is not None and resp.status == 200, (path, resp and resp.status)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    shot(page, name)
    assert not bad, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in bad)
