"""Which files the public zone publishes, by their content (``workflow.filetypes``, the check uploads
use too): photos (JPEG, PNG, GIF, WebP that Pillow opens, with their size) and documents to
download as PDF or ODF (the government's open document format; .docx is not published).
"""

from __future__ import annotations

from dataclasses import replace

from workflow import filetypes
from workflow.filetypes import Identified

PUBLISHED_TYPES = filetypes.IMAGE_TYPES | {filetypes.PDF}


def sniff(content: bytes) -> Identified:
    """What the file is, with ``media_type`` None unless the zone publishes that type; an image
    Pillow cannot open keeps its claimed type's label and ``problem`` (``filetypes.BAD_IMAGE``)."""
    kind = filetypes.identify(content)
    mime = kind.media_type or ""
    if mime in PUBLISHED_TYPES or mime.startswith(filetypes.ODF_PREFIX):
        return kind
    if content.startswith(filetypes.ZIP_MAGIC):
        return Identified(None, "ZIP/Office", kind.problem)
    return replace(kind, media_type=None)


def unreadable_image(kind: Identified) -> bool:
    return kind.problem == filetypes.BAD_IMAGE
