"""ODF (.odt) and PDF from a .docx via LibreOffice: a warm instance over UNO, or a cold ``soffice``.

ODF is the government's exchange format for editable files and PDF for fixed ones (DOMAIN.md §3).
When LibreOffice is not installed the product still works; documents are .docx only and the
document row says why the other formats are missing.

LibreOffice never outlives the worker that started it: it runs under ``lo_guard.py`` in a process
group of its own, which the guard kills as soon as its parent is gone, SIGKILL included (the warm
converter's UNO bridge dies with the worker by ``PR_SET_PDEATHSIG``). Each converter keeps its
profile in a temp folder marked with its owner (``workflow.pidfiles``), removed when the converter
closes (at exit, or when a Celery pool child ends) and swept by the next worker to start if its
owner was killed before it could remove it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from workflow import metrics, pidfiles

FILTERS = {"pdf": "writer_pdf_Export", "odt": "writer8"}
FONTS_CONF = Path(__file__).parent / "fonts.conf"
BRIDGE = Path(__file__).parent / "uno_bridge.py"
GUARD = Path(__file__).parent / "lo_guard.py"
SYSTEM_PYTHON = os.environ.get("CASEFLOW_UNO_PYTHON", "/usr/bin/python3")
# Profile folders in the temp directory: ``<prefix><owner pid>-<random>``.
WARM_PREFIX = "caseflow-warm-"
COLD_PREFIX = "caseflow-cold-"
log = logging.getLogger(__name__)


class ConversionError(Exception):
    pass


class _BridgeDied(Exception):
    pass


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _env(tmp: Path | str) -> dict[str, str]:
    # LibreOffice's own temp files go in the converter's folder, so they go when the folder does.
    return {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "TMPDIR": str(tmp)}


def sweep_stale_profiles() -> list[Path]:
    """Remove the profile folders of converters whose process is gone (killed before it could)."""
    return pidfiles.sweep(WARM_PREFIX) + pidfiles.sweep(COLD_PREFIX)


def guarded(args: list[str], *, python: str | None = None, **popen: object) -> subprocess.Popen[bytes]:
    """Start a LibreOffice command under ``lo_guard.py``: in a process group of its own that dies
    when this process lets go of the guard's standard input (or dies). Keep ``proc.stdin`` open
    while the command should run."""
    return subprocess.Popen([python or sys.executable, str(GUARD), *args], stdin=subprocess.PIPE,
                            start_new_session=True, **popen)  # type: ignore[call-overload]


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


class ColdConverter:
    """One ``soffice --convert-to`` process per file (~1 s): the fallback and the bench's floor."""

    def convert(self, docx: bytes, fmt: str) -> bytes:
        exe = soffice_path()
        if exe is None:
            raise ConversionError("LibreOffice is not installed")
        tmp = pidfiles.make(COLD_PREFIX)
        try:
            src = tmp / "doc.docx"
            src.write_bytes(docx)
            profile = tmp / "profile"
            with open(tmp / "stderr.txt", "wb") as err:
                proc = guarded([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                                "--outdir", str(tmp), str(src)], stdout=subprocess.DEVNULL, stderr=err, env=_env(tmp))
                try:
                    proc.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    kill_group(proc)
                finally:
                    assert proc.stdin is not None
                    proc.stdin.close()
            out = tmp / f"doc.{fmt}"
            if not out.exists():
                raise ConversionError(f"soffice failed: {(tmp / 'stderr.txt').read_text(errors='replace')[-300:]}")
            return out.read_bytes()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class WarmConverter:
    """A LibreOffice kept running for this process, driven over UNO by ``uno_bridge.py``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._tmp = str(pidfiles.make(WARM_PREFIX))
        self.last_uno_seconds = 0.0  # time of the bare UNO call inside the last conversion

    @staticmethod
    def available() -> bool:
        if soffice_path() is None or not Path(SYSTEM_PYTHON).exists():
            return False
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, check=False)
        return probe.returncode == 0

    def _start(self) -> subprocess.Popen[str]:
        # The bridge dies with this process (it sets PR_SET_PDEATHSIG for itself, knowing our pid),
        # and its LibreOffice with it (under lo_guard.py).
        proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(BRIDGE), str(Path(self._tmp) / "profile"), str(os.getpid())], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(self._tmp))
        assert proc.stdout is not None
        hello = json.loads(proc.stdout.readline() or '{"ok": false, "error": "bridge exited"}')
        if not hello.get("ok"):
            proc.kill()
            raise ConversionError(hello.get("error", "LibreOffice did not start"))
        return proc

    def convert(self, docx: bytes, fmt: str) -> bytes:
        with self._lock:
            try:
                return self._convert(docx, fmt)
            except _BridgeDied:
                # The bridge dies with the thread that started it (PR_SET_PDEATHSIG follows the
                # thread): if that thread has ended, start a new bridge and try once more.
                self._proc = None
                try:
                    return self._convert(docx, fmt)
                except _BridgeDied as exc:
                    raise ConversionError(str(exc)) from None

    def _convert(self, docx: bytes, fmt: str) -> bytes:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        fd, src = tempfile.mkstemp(suffix=".docx", dir=self._tmp)
        with os.fdopen(fd, "wb") as fh:
            fh.write(docx)
        out = src[: -len(".docx")] + f".{fmt}"
        try:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                self._proc.stdin.write(json.dumps({"in": src, "out": out, "filter": FILTERS[fmt]}) + "\n")
                self._proc.stdin.flush()
                line = self._proc.stdout.readline()
            except BrokenPipeError:
                line = ""
            except BaseException:
                # Interrupted while LibreOffice works (Celery's soft time limit, a signal): its
                # reply would answer the next request. Stop it (the guard takes LibreOffice along).
                self._proc.kill()
                self._proc.wait(timeout=10)
                self._proc = None
                raise
            if not line:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=10)
                raise _BridgeDied("the LibreOffice bridge died")
            reply = json.loads(line)
            if not reply.get("ok"):
                if self._proc.poll() is not None:
                    self._proc = None
                raise ConversionError(reply.get("error", "conversion failed"))
            self.last_uno_seconds = float(reply.get("seconds", 0.0))
            return Path(out).read_bytes()
        finally:
            for p in (src, out):
                Path(p).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                try:
                    self._proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
            self._proc = None
        shutil.rmtree(self._tmp, ignore_errors=True)


_default: WarmConverter | ColdConverter | None = None
_default_lock = threading.Lock()


def default() -> WarmConverter | ColdConverter | None:
    """The process's converter: warm when UNO is available, else cold, else None (no LibreOffice).
    The first call also sweeps the profile folders that converters of dead processes left."""
    global _default
    with _default_lock:
        if _default is None:
            removed = sweep_stale_profiles()
            if removed:
                log.info("removed %d stale LibreOffice profile folder(s)", len(removed))
            if WarmConverter.available():
                _default = WarmConverter()
                atexit.register(close_default)
            elif soffice_path():
                _default = ColdConverter()
        return _default


def close_default() -> None:
    """Stop this process's LibreOffice and remove its profile folder (at exit; a Celery pool child
    ends without running atexit, so the worker calls this on its way out)."""
    global _default
    with _default_lock:
        converter, _default = _default, None
    if isinstance(converter, WarmConverter):
        converter.close()


def convert_timed(converter: WarmConverter | ColdConverter, docx: bytes, fmt: str) -> bytes:
    """``converter.convert``, counted and timed for /metrics (``workflow.metrics``)."""
    started = time.perf_counter()
    try:
        data = converter.convert(docx, fmt)
    except ConversionError:
        metrics.CONVERSIONS.labels(format=fmt, outcome="failed").inc()
        raise
    metrics.CONVERSION_SECONDS.labels(format=fmt).observe(time.perf_counter() - started)
    metrics.CONVERSIONS.labels(format=fmt, outcome="ok").inc()
    return data
