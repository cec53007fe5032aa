"""What a file is, from its content (never its name or the sender's claim): the one check shared by
uploads to a draft (``web.uploads``) and the public zone's publishing (``publishing.checks``).

``filetype`` reads the magic numbers. Zip packages (.docx, ODF) are opened within caps against zip
bombs and judged by their own declarations (``[Content_Types].xml``, the ODF ``mimetype`` entry).
An image counts only if Pillow opens it as the format its bytes claim; Pillow also gives its size.
Each caller then keeps to its own list of allowed types.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass

import filetype
from PIL import Image, UnidentifiedImageError

JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
ODF_PREFIX = "application/vnd.oasis.opendocument."
IMAGE_TYPES = frozenset({JPEG, PNG, GIF, WEBP})
_LABELS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WebP", PDF: "PDF"}
_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", WEBP: "WEBP"}
ZIP_MAGIC = b"PK\x03\x04"
# Problems, for the caller's message: a package over the caps, a zip that is no document, an image
# Pillow cannot open.
ZIP_ENTRIES, ZIP_SIZE, NOT_A_DOCUMENT, BAD_IMAGE = "zip_entries", "zip_size", "not_a_document", "bad_image"


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 2000
    max_uncompressed: int = 100 * 1024 * 1024


@dataclass(frozen=True)
class Identified:
    media_type: str | None  # None: not a type caseflow accepts anywhere
    label: str  # what to call it in a message ("JPEG", "PDF", "ODF", "ZIP/Office", "" when unknown)
    problem: str | None = None  # why a known-looking file is refused (ZIP_ENTRIES, ..., BAD_IMAGE)
    size: tuple[int, int] | None = None  # an image's (width, height)

    @property
    def is_image(self) -> bool:
        return self.media_type in IMAGE_TYPES


def identify(content: bytes, limits: ZipLimits = ZipLimits()) -> Identified:
    if content.startswith(ZIP_MAGIC):
        return _package(content, limits)
    kind = filetype.guess(content[:8192])
    mime = kind.mime if kind is not None else None
    if mime in IMAGE_TYPES:
        return _image(content, mime)
    if mime == PDF:
        return Identified(PDF, "PDF")
    return Identified(None, "")


def _image(content: bytes, mime: str) -> Identified:
    label = _LABELS[mime]
    try:
        with warnings.catch_warnings():
            # Only the header is read (nothing is decoded), so a large image is no bomb here: its
            # size goes to the caller, whose limits say whether it is too large.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[_PILLOW_FORMATS[mime]]) as img:
                if img.format != _PILLOW_FORMATS[mime]:
                    return Identified(None, label, BAD_IMAGE)
                width, height = img.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return Identified(None, label, BAD_IMAGE)
    return Identified(mime, label, size=(width, height))


def _package(content: bytes, limits: ZipLimits) -> Identified:
    """A .docx or ODF document, judged by the package's own declarations, within the caps."""
    refused = Identified(None, "ZIP/Office", NOT_A_DOCUMENT)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_entries:
                return Identified(None, "ZIP/Office", ZIP_ENTRIES)
            if sum(i.file_size for i in infos) > limits.max_uncompressed:
                return Identified(None, "ZIP/Office", ZIP_SIZE)
            names = {i.filename: i for i in infos}
            if infos and infos[0].filename == "mimetype" and infos[0].file_size <= 200:
                mime = zf.read(infos[0]).decode("ascii", "replace").strip()
                return Identified(mime, "ODF") if mime.startswith(ODF_PREFIX) else refused
            ct = names.get("[Content_Types].xml")
            if ct is not None and ct.file_size <= 1024 * 1024:
                declared = zf.read(ct).decode("utf-8", "replace")
                if "wordprocessingml.document.main+xml" in declared and "word/document.xml" in names:
                    return Identified(DOCX, "Word")
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
        return refused
    return refused
