"""What the image installs is what the tree holds: the wheel built from a copy of the tree carries
every package (each folder with an ``__init__.py``) and the data files the app reads at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP = ("workflow", "web", "documents", "publishing", "tasks", "caseflow")

pytestmark = pytest.mark.slow


def test_the_wheel_carries_every_package_and_data_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    skip = shutil.ignore_patterns(".git", ".venv", "instance", "build", "dist", "*.egg-info", "__pycache__",
                                  "node_modules", ".*_cache", "test-artifacts")
    shutil.copytree(ROOT, src, ignore=skip)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                    str(tmp_path / "wheels"), str(src)], check=True, capture_output=True, timeout=300)
    [wheel] = (tmp_path / "wheels").glob("caseflow-*.whl")
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
