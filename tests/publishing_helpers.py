"""Shared helpers for the publishing tests: tiny real images and a posting taken to `publishing`."""

from __future__ import annotations

import struct
import zlib

from sqlalchemy import select

from tests.conftest import OfficeFixture
from workflow.cases import approval, drafts, posting
from workflow.config import PublishSettings
from workflow.models import OutboxMessage

FAST = PublishSettings(backoff_seconds=0.0, backoff_max_seconds=0.0, max_attempts=4, lease_seconds=30,
                       timeout_seconds=0.5)


def png(width: int = 4, height: int = 3) -> bytes:
    """A valid PNG of the given size (white pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff" * (width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def add_photo(office: OfficeFixture, case_id: int, name: str = "活動照片1.png", alt: str | None = "民眾參與宣導活動",
              content: bytes | None = None) -> int:
    att = drafts.add_attachment(case_id, office.users["social_staff"], name=name, content_type="image/png",
                                content=content or png(), db=office.db)
    if alt is not None:
        posting.edit_posting(case_id, office.users["social_staff"], alt_texts={att: alt}, db=office.db)
    return att


def to_publishing(office: OfficeFixture, *, fields: dict[str, str] | None = None, alt: str | None = "民眾參與宣導活動",
                  photos: int = 1) -> tuple[int, int]:
    """A web posting drafted by social affairs, with photos, approved by its chief and the
    secretariat: now `publishing`. Returns (case id, the posting.publish outbox row id)."""
    cid = office.case("web_posting", fields=fields)
    for i in range(photos):
        add_photo(office, cid, f"活動照片{i + 1}.png", alt)
    approval.fire(cid, "submit", office.users["social_staff"], db=office.db)
    approval.fire(cid, "approve", office.users["social_chief"], db=office.db)
    result = approval.fire(cid, "approve", office.users["secretariat"], db=office.db)
    assert result.to_state == "publishing"
    return cid, latest_outbox(office, cid)


def latest_outbox(office: OfficeFixture, case_id: int) -> int:
    with office.db.unit_of_work(write=False) as uow:
        ids = [m.id for m in uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.office_id == office.id, OutboxMessage.topic == "posting.publish"))
            if m.payload["case_id"] == case_id]
    assert ids, "no posting.publish outbox row"
    return max(ids)
