"""What a file is, from its first bytes (never its name or the browser's claim), and an image's size.

Only the formats the public zone offers: photos (JPEG, PNG, GIF, WebP) and documents to download
as PDF or ODF (the government's open document format; .docx is not published).
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
ODF_PREFIX = "application/vnd.oasis.opendocument."


@dataclass(frozen=True)
class Sniffed:
    media_type: str | None  # None: not an allowed type
    label: str  # what to call it in a message ("JPEG 圖片", "PDF", ...)

    @property
    def is_image(self) -> bool:
        return self.media_type in IMAGE_TYPES


def sniff(content: bytes) -> Sniffed:
    head = content[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg", "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png", "PNG")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image/gif", "GIF")
    if head[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return Sniffed("image/webp", "WebP")
    if head.startswith(b"%PDF-"):
        return Sniffed("application/pdf", "PDF")
    if head.startswith(b"PK\x03\x04"):
        mime = _odf_mimetype(content)
        if mime:
            return Sniffed(mime, "ODF")
        return Sniffed(None, "ZIP/Office")
    return Sniffed(None, "")


def _odf_mimetype(content: bytes) -> str | None:
    """An ODF package stores its type, uncompressed, as the first entry ``mimetype``."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            info = zf.getinfo("mimetype")
            if info.file_size > 200:
                return None
            mime = zf.read(info).decode("ascii", "replace").strip()
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return None
    return mime if mime.startswith(ODF_PREFIX) else None


def image_size(content: bytes, media_type: str) -> tuple[int, int] | None:
    """(width, height) from the image header, or None if the header cannot be read."""
    try:
        if media_type == "image/png" and len(content) >= 24:
            w, h = struct.unpack(">II", content[16:24])
            return int(w), int(h)
        if media_type == "image/gif" and len(content) >= 10:
            w, h = struct.unpack("<HH", content[6:10])
            return int(w), int(h)
        if media_type == "image/jpeg":
            return _jpeg_size(content)
        if media_type == "image/webp":
            return _webp_size(content)
    except struct.error:
        return None
    return None


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(b: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(b):
        if b[i] != 0xFF:
            return None
        marker = b[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", b[i + 2:i + 4])
        if marker in _SOF:
            h, w = struct.unpack(">HH", b[i + 5:i + 9])
            return int(w), int(h)
        i += 2 + length
    return None


def _webp_size(b: bytes) -> tuple[int, int] | None:
    chunk = b[12:16]
    if chunk == b"VP8X" and len(b) >= 30:
        w = int.from_bytes(b[24:27], "little") + 1
        h = int.from_bytes(b[27:30], "little") + 1
        return w, h
    if chunk == b"VP8 " and len(b) >= 30:
        w, h = struct.unpack("<HH", b[26:30])
        return int(w) & 0x3FFF, int(h) & 0x3FFF
    if chunk == b"VP8L" and len(b) >= 25:
        bits = int.from_bytes(b[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None
