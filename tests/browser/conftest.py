"""Browser tests: Debian's Chromium driven by Playwright against ``caseflow serve`` in its own process.

The server runs the embedded default (a SQLite file in a temporary instance folder, demo office),
exactly what the README's first command starts. Screenshots of each main page are kept in
``test-artifacts/screenshots`` (CI keeps the folder).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from workflow.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _caseflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "caseflow", *args], env=env, capture_output=True, text=True,
                          check=True, cwd=env["CASEFLOW_INSTANCE"])


@pytest.fixture(scope="session")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served demo's instance folder (its SQLite file: ``caseflow.db``), for tests that set up
    a case of their own rather than take one another test needs."""
    return tmp_path_factory.mktemp("browser-instance")


@pytest.fixture(scope="session")
def server(instance: Path) -> Iterator[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["CASEFLOW_INSTANCE"] = str(instance)
    _caseflow("init", "--demo", env=env)
    # A second office, to check that its people see nothing of the demo office.
    subprocess.run([sys.executable, "-c", (
        "from workflow.config import load_settings; from workflow.db import Database\n"
        "from workflow.people import directory\n"
        "db = Database(load_settings().database_url)\n"
        "with db.unit_of_work() as uow:\n"
        "    s = uow.session; o = directory.add_office(s, 'other', '桃園市另一區公所')\n"
        "    u = directory.add_unit(s, o, 'civil', '民政課')\n"
        f"    x = directory.add_user(s, o, 'other.chief', '他區課長', sex='M', unit=u, password='{DEMO_PASSWORD}')\n"
        "    directory.grant(s, x, 'chief', unit=u); uow.commit()\n")], env=env, check=True, cwd=instance)
    port = _free_port()
    log = (instance / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "caseflow", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=instance, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((instance / "server.log").read_text()) from None
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "Debian's chromium must be installed (run-tests installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def login(server: str, browser: Browser) -> Iterator[Callable[[str], Page]]:
    """``login(name)`` opens a fresh browser context (its own cookies) logged in as ``name``."""
    contexts = []

    def _login(name: str) -> Page:
        ctx = browser.new_context(locale="zh-TW", base_url=server, viewport={"width": 1280, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto("/login")
        page.get_by_label("帳號").fill(name)
        page.get_by_label("密碼").fill(DEMO_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"^{re.escape(server)}/(city)?$"))  # the city group's work is /city
        return page

    yield _login
    for ctx in contexts:
        ctx.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
