"""Keep one LibreOffice warm and convert files over UNO; speaks JSON lines on stdin/stdout.

Runs under the system Python that has LibreOffice's ``uno`` module (Debian: python3-uno), not the
application's virtualenv; ``documents.convert.WarmConverter`` starts it. Request:
``{"in": "/path/a.docx", "out": "/path/a.pdf", "filter": "writer_pdf_Export"}``; reply:
``{"ok": true}`` or ``{"ok": false, "error": "..."}``.

Arguments: the LibreOffice profile folder and the pid of the process that started this bridge.
This bridge dies with that process (``PR_SET_PDEATHSIG``), and LibreOffice dies with this bridge
(it runs under ``lo_guard.py``, in a process group of its own), so a worker killed with SIGKILL,
even in the middle of a conversion, leaves no office suite behind.
"""

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


PR_SET_PDEATHSIG = 1
GUARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lo_guard.py")


def die_with_parent(parent):
    """SIGKILL this bridge when the thread that started it ends (Linux); exit now if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent and os.getppid() != parent:
        sys.exit(0)  # the parent died before the line above: nobody is left to serve


def reply(obj):
    """Write one reply line; False when nobody reads any more (the worker is gone)."""
    try:
        print(json.dumps(obj), flush=True)
    except (BrokenPipeError, OSError):
        return False
    return True


def main():
    pipe = f"caseflow_{os.getpid()}"
    profile = sys.argv[1]
    die_with_parent(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    # Fault-injection knob for tests: hold each document open in LibreOffice this long, so a test
    # can kill a worker in the middle of a conversion. Unset in every real deployment.
    delay = float(os.environ.get("CASEFLOW_CONVERT_DELAY_SECONDS") or 0)
    soffice = subprocess.Popen(
        [sys.executable, GUARD, "soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--nologo", "--norestore", "--nodefault", "--nolockcheck",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    ctx = None
    for _ in range(200):
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception:
            time.sleep(0.1)
    if ctx is None:
        reply({"ok": False, "error": "LibreOffice did not start"})
        with contextlib.suppress(OSError):
            os.killpg(soffice.pid, signal.SIGKILL)
        return
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    reply({"ok": True, "ready": True})
    for line in sys.stdin:
        try:
            req = json.loads(line)
            started = time.perf_counter()
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(req["in"]), "_blank", 0,
                                               (prop("Hidden", True),))
            try:
                if delay > 0:
                    time.sleep(delay)
                doc.storeToURL(uno.systemPathToFileUrl(req["out"]), (prop("FilterName", req["filter"]),))
            finally:
                doc.close(True)
            # The bare UNO call's own time: the floor the converter's overhead is measured against.
            answer = {"ok": True, "seconds": time.perf_counter() - started}
        except Exception as exc:  # report and keep serving
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        if not reply(answer):
            break
    with contextlib.suppress(Exception):
        desktop.terminate()
    try:
        soffice.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(soffice.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
