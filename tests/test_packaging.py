"""What the image installs is what the tree holds: the wheel built from a copy of the tree carries
every package (each folder with an ``__init__.py``) and the data files the app reads at run time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP = ("workflow", "web", "documents", "publishing", "tasks", "caseflow")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """caseflow's wheel built from a copy of the tree, as the Dockerfile's first stage builds it."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    skip = shutil.ignore_patterns(".git", ".venv", "instance", "build", "dist", "*.egg-info", "__pycache__",
                                  "node_modules", ".*_cache", "test-artifacts")
    shutil.copytree(ROOT, src, ignore=skip)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                    str(tmp / "wheels"), str(src)], check=True, capture_output=True, timeout=300)
    [built] = (tmp / "wheels").glob("caseflow-*.whl")
    return built


# Every entry point a deployment starts: the web app, the Celery app and every task module it
# imports, the command line.
ENTRY_POINTS = """
import importlib, os, sys
from web import create_app
from tasks.app import celery_app
for name in ("tasks.documents", "tasks.publishing", "tasks.calendar", "tasks.relay", "tasks.schedule",
             "tasks.embedded"):
    importlib.import_module(name)
from caseflow.cli import main
for top in ("workflow", "web", "documents", "publishing", "tasks", "caseflow"):
    where = sys.modules[top].__file__
    assert where.startswith(sys.prefix), f"{top} imported from {where}, not the installed wheel"
app = create_app({"DATABASE_URL": os.environ["DATABASE_URL"], "BACKGROUND_WORK": False})
resp = app.test_client().get("/login")
assert resp.status_code == 200 and "登入" in resp.get_data(as_text=True), resp.status_code
assert "caseflow.render_document" in celery_app.tasks
print("entry points ok")
"""


def test_the_wheel_carries_every_package_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = sorted(str(p.parent.relative_to(ROOT)) for top in TOP for p in (ROOT / top).rglob("__init__.py")
                      if "__pycache__" not in p.parts)
    missing = [p for p in packages if f"{p}/__init__.py" not in names]
    assert not missing, f"packages left out of the wheel: {missing}"
    needed = [*(str(p.relative_to(ROOT)) for p in (ROOT / "workflow/kinds").rglob("*.toml")),
              *(str(p.relative_to(ROOT)) for p in (ROOT / "workflow/migrations/versions").glob("*.py")),
              *(str(p.relative_to(ROOT)) for p in (ROOT / "web/templates").rglob("*.html")),
              *(str(p.relative_to(ROOT)) for p in (ROOT / "documents/templates").glob("*.docx")),
              *(str(p.relative_to(ROOT)) for p in (ROOT / "web/static").iterdir()),
              "web/translations/en/LC_MESSAGES/messages.mo", "documents/fonts.conf", "caseflow/bench/approval.bpmn"]
    absent = [n for n in needed if n not in names]
    assert not absent, f"data files left out of the wheel: {absent}"


def test_the_wheel_installs_on_its_own_and_every_entry_point_starts(wheel: Path, tmp_path: Path) -> None:
    """Installed into a fresh virtual environment outside the tree (with its declared dependencies
    only), caseflow creates its schema from the migrations it carries and starts every entry point."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                          f"{wheel}[prod]"], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-3000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH")}
    env.update({"CASEFLOW_INSTANCE": str(work), "DATABASE_URL": f"sqlite:///{work / 'caseflow.db'}"})
    init = subprocess.run([str(venv / "bin" / "caseflow"), "init"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    assert init.returncode == 0, init.stderr[-3000:]
    run = subprocess.run([str(venv / "bin" / "python"), "-c", ENTRY_POINTS], cwd=work, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "entry points ok" in run.stdout, run.stderr[-3000:]
    assert (venv / "bin" / "gunicorn").exists()  # the prod extra: what the image runs
