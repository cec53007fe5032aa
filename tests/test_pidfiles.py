"""Folders owned by a process (workflow/pidfiles.py): what a starting worker may sweep."""

from __future__ import annotations

import os
import time
from pathlib import Path

from workflow import pidfiles


def test_sweeping_removes_only_folders_whose_owner_is_gone(tmp_path: Path) -> None:
    mine = pidfiles.make("caseflow-warm-", tmp_path)
    dead = tmp_path / "caseflow-warm-999999999-x"
    dead.mkdir()
    (dead / pidfiles.OWNER_FILE).write_text("999999999 1\n")
    reused = tmp_path / f"caseflow-warm-{os.getpid()}-y"  # this pid, but another start time: a reused pid
    reused.mkdir()
    (reused / pidfiles.OWNER_FILE).write_text(f"{os.getpid()} 1\n")
    unowned_fresh = tmp_path / "caseflow-warm-old"  # an older caseflow's, just made
    unowned_fresh.mkdir()
    removed = pidfiles.sweep("caseflow-warm-", tmp_path)
    assert sorted(removed) == sorted([dead, reused])
    assert mine.exists() and unowned_fresh.exists()
    old = time.time() - pidfiles.UNOWNED_GRACE_SECONDS - 60
    os.utime(unowned_fresh, (old, old))
    assert pidfiles.sweep("caseflow-warm-", tmp_path) == [unowned_fresh]
