"""Folders that belong to one process: marked with their owner, removed once the owner is gone.

A worker keeps a LibreOffice profile (and its metrics files) in such a folder. A process killed
with SIGKILL cannot clean up after itself, so the next one to start sweeps the folders whose owner
is gone. The owner is a pid plus the process's start time (from /proc), so a pid the system has
since given to another process does not keep a dead worker's folder alive.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

OWNER_FILE = "caseflow-owner"
# A folder without an owner file is left alone while it was touched within this long: an older
# caseflow that made it may simply not have started its LibreOffice yet.
UNOWNED_GRACE_SECONDS = 3600


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), "" where /proc is not there,
    None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has finished; only its parent has not collected it yet
        return None
    return fields[19]


def alive(pid: int, started: str | None = None) -> bool:
    """Whether process ``pid`` runs, and is the one that started at ``started`` when given."""
    if not Path("/proc").is_dir():  # not Linux: the pid alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    now = start_time(pid)
    if now is None:
        return False
    return not started or not now or now == started


def make(prefix: str, parent: Path | None = None) -> Path:
    """A new folder named ``<prefix><pid>-<random>`` in ``parent`` (the temp directory), owned by
    this process."""
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
    (path / OWNER_FILE).write_text(f"{os.getpid()} {start_time(os.getpid()) or ''}\n")
    return path


def owner_gone(path: Path) -> bool:
    try:
        pid_text, _sep, started = (path / OWNER_FILE).read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return _unowned_and_unused(path)
    return not alive(pid, started or None)


def _unowned_and_unused(path: Path) -> bool:
    """A folder without an owner file (made by an older caseflow, or its owner died before writing
    it): gone only if untouched for an hour and no running process names it on its command line
    (LibreOffice and the UNO bridge carry their profile's path there)."""
    proc = Path("/proc")
    try:
        idle = time.time() - path.stat().st_mtime
    except OSError:
        return False
    if not proc.is_dir() or idle < UNOWNED_GRACE_SECONDS:
        return False
    needle = str(path).encode()
    for entry in proc.iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in (entry / "cmdline").read_bytes():
                    return False
    return True


def sweep(prefix: str, parent: Path | None = None) -> list[Path]:
    """Remove the ``<prefix>*`` folders in ``parent`` (the temp directory) whose owner is gone."""
    root = parent or Path(tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for path in root.glob(f"{prefix}*"):
            if path.is_dir() and not path.is_symlink() and owner_gone(path):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed
