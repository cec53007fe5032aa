"""Plain text of a .docx (body, tables, headers and footers) for comparing and for tests."""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(data: bytes) -> str:
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        extra = sorted(n for n in zf.namelist() if n.startswith(("word/header", "word/footer")))
        parts = ["word/document.xml", *extra]
        for name in parts:
            root = ElementTree.fromstring(zf.read(name))
            for p in root.iter(f"{W}p"):
                out.append("".join(t.text or "" for t in p.iter(f"{W}t")))
    return "\n".join(out)
