"""Keep one LibreOffice warm and convert files over UNO; speaks JSON lines on stdin/stdout.

Runs under the system Python that has LibreOffice's ``uno`` module (Debian: python3-uno), not the
application's virtualenv; ``documents.convert.WarmConverter`` starts it. Request:
``{"in": "/path/a.docx", "out": "/path/a.pdf", "filter": "writer_pdf_Export"}``; reply:
``{"ok": true}`` or ``{"ok": false, "error": "..."}``.
"""

import contextlib
import json
import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main():
    pipe = f"caseflow_{os.getpid()}"
    profile = sys.argv[1]
    soffice = subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible", "--nologo",
         "--norestore", "--nodefault", "--nolockcheck", f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
        print(json.dumps({"ok": False, "error": "LibreOffice did not start"}), flush=True)
        soffice.kill()
        return
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        try:
            req = json.loads(line)
            started = time.perf_counter()
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(req["in"]), "_blank", 0,
                                               (prop("Hidden", True),))
            try:
                doc.storeToURL(uno.systemPathToFileUrl(req["out"]), (prop("FilterName", req["filter"]),))
            finally:
                doc.close(True)
            # The bare UNO call's own time: the floor the converter's overhead is measured against.
            print(json.dumps({"ok": True, "seconds": time.perf_counter() - started}), flush=True)
        except Exception as exc:  # report and keep serving
            print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
    with contextlib.suppress(Exception):
        desktop.terminate()
    soffice.wait(timeout=10)


if __name__ == "__main__":
    main()
