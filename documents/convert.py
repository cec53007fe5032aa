"""ODF (.odt) and PDF from a .docx via LibreOffice: a warm instance over UNO, or a cold ``soffice``.

ODF is the government's exchange format for editable files and PDF for fixed ones (DOMAIN.md §3).
When LibreOffice is not installed the product still works; documents are .docx only and the
document row says why the other formats are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

FILTERS = {"pdf": "writer_pdf_Export", "odt": "writer8"}
FONTS_CONF = Path(__file__).parent / "fonts.conf"
BRIDGE = Path(__file__).parent / "uno_bridge.py"
SYSTEM_PYTHON = os.environ.get("CASEFLOW_UNO_PYTHON", "/usr/bin/python3")


class ConversionError(Exception):
    pass


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _env() -> dict[str, str]:
    return {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}


class ColdConverter:
    """One ``soffice --convert-to`` process per file (~1 s): the fallback and the bench's floor."""

    def convert(self, docx: bytes, fmt: str) -> bytes:
        exe = soffice_path()
        if exe is None:
            raise ConversionError("LibreOffice is not installed")
        with tempfile.TemporaryDirectory(prefix="caseflow-cold-") as tmp:
            src = Path(tmp) / "doc.docx"
            src.write_bytes(docx)
            profile = Path(tmp) / "profile"
            proc = subprocess.run(
                [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                 "--outdir", tmp, str(src)], capture_output=True, timeout=120, env=_env(), check=False)
            out = Path(tmp) / f"doc.{fmt}"
            if not out.exists():
                raise ConversionError(f"soffice failed: {proc.stderr.decode(errors='replace')[-300:]}")
            return out.read_bytes()


class WarmConverter:
    """A LibreOffice kept running for this process, driven over UNO by ``uno_bridge.py``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._tmp = tempfile.mkdtemp(prefix="caseflow-warm-")
        self.last_uno_seconds = 0.0  # time of the bare UNO call inside the last conversion

    @staticmethod
    def available() -> bool:
        if soffice_path() is None or not Path(SYSTEM_PYTHON).exists():
            return False
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, check=False)
        return probe.returncode == 0

    def _start(self) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(BRIDGE), str(Path(self._tmp) / "profile")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env())
        assert proc.stdout is not None
        hello = json.loads(proc.stdout.readline() or '{"ok": false, "error": "bridge exited"}')
        if not hello.get("ok"):
            proc.kill()
            raise ConversionError(hello.get("error", "LibreOffice did not start"))
        return proc

    def convert(self, docx: bytes, fmt: str) -> bytes:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            fd, src = tempfile.mkstemp(suffix=".docx", dir=self._tmp)
            with os.fdopen(fd, "wb") as fh:
                fh.write(docx)
            out = src[: -len(".docx")] + f".{fmt}"
            try:
                assert self._proc.stdin is not None and self._proc.stdout is not None
                self._proc.stdin.write(json.dumps({"in": src, "out": out, "filter": FILTERS[fmt]}) + "\n")
                self._proc.stdin.flush()
                reply = json.loads(self._proc.stdout.readline() or '{"ok": false, "error": "bridge died"}')
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
    """The process's converter: warm when UNO is available, else cold, else None (no LibreOffice)."""
    global _default
    with _default_lock:
        if _default is None:
            if WarmConverter.available():
                _default = WarmConverter()
            elif soffice_path():
                _default = ColdConverter()
        return _default
