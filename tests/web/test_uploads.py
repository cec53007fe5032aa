"""Attachments through the edit page's upload form (CSRF on): types judged by content, docx/odt
packages opened with caps (zip bombs refused), a size limit answered with a zh-TW 413 page, names
without paths, alt text for photos, downloads only through ``load_case_for`` and as attachments."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, csrf_token, forms, text
from web import create_app
from workflow.models import Attachment


def _image(fmt: str) -> bytes:
    """A real (tiny) image: an upload counts as a photo only if it opens."""
    out = io.BytesIO()
    Image.new("RGB", (4, 3), "white").save(out, fmt)
    return out.getvalue()


JPEG = _image("JPEG")
PNG = _image("PNG")
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types><Override PartName="/word/document.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                    "</Types>")
        zf.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def odt() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def upload(b: Browser, cid: int, name: str, content: bytes, alt: str = "", version: str | None = None
           ) -> TestResponse:
    page = b.get(f"/cases/{cid}/edit").get_data(as_text=True)
    m = re.search(r'action="/cases/\d+/attachments".*?name="version" value="(\d+)"', page, re.S)
    assert m, "no upload form"
    return b.client.post(f"/cases/{cid}/attachments", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "version": version or m.group(1), "alt_text": alt,
        "file": (io.BytesIO(content), name)})


def attachments(office: OfficeFixture, cid: int) -> list[Attachment]:
    with office.db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Attachment).where(Attachment.case_id == cid).order_by(Attachment.id)))


def flashed(b: Browser, resp: TestResponse) -> str:
    assert resp.status_code == 303, text(resp)
    return text(b.get(resp.headers["Location"]))


@pytest.mark.parametrize(("name", "content", "media_type", "stored_as"), [
    ("活動照片.jpg", JPEG, "image/jpeg", "活動照片.jpg"),
    ("簽到表.png", PNG, "image/png", "簽到表.png"),
    ("成果.pdf", PDF, "application/pdf", "成果.pdf"),
    ("講義.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "講義.docx"),
    ("議程.odt", odt(), "application/vnd.oasis.opendocument.text", "議程.odt"),
    ("scan.PDF.exe", PDF, "application/pdf", "scan.PDF.pdf"),  # the extension follows the content
])
def test_allowed_types_are_stored_and_downloaded_as_attachments(
        office: OfficeFixture, as_user: Callable[[str], Browser], name: str, content: bytes, media_type: str,
        stored_as: str) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    resp = upload(b, cid, name, content, alt="學員上課情形" if media_type.startswith("image/") else "")
    assert f"已上傳「{stored_as}」" in flashed(b, resp)
    [att] = attachments(office, cid)
    assert (att.name, att.content_type, att.size) == (stored_as, media_type, len(content))
    if media_type.startswith("image/"):
        assert att.alt_text == "學員上課情形"
    got = b.get(f"/cases/{cid}/attachments/{att.id}")
    assert got.status_code == 200 and got.data == content
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["Content-Type"].startswith(media_type)
    assert got.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.fault
def test_wrong_magic_bytes_are_refused(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    for name, content in (("photo.jpg", b"<html><script>alert(1)</script></html>"),
                          ("report.pdf", b"MZ\x90\x00" + b"\x00" * 100),
                          ("notes.docx", b"PK\x03\x04 not really a zip"),
                          ("plain.zip", _zip({"a.txt": b"hello"}))):
        page = flashed(b, upload(b, cid, name, content))
        assert "附件未上傳" in page, name
    assert attachments(office, cid) == []


@pytest.mark.fault
def test_an_image_that_does_not_open_is_refused(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    """JPEG's magic bytes in front of nothing an image viewer can open: refused, saying why."""
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    fake = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
    page = flashed(b, upload(b, cid, "photo.jpg", fake, alt="活動照片"))
    assert "附件未上傳" in page and "照片無法開啟" in page and "JPEG" in page
    assert attachments(office, cid) == []


@pytest.mark.fault
def test_zip_bomb_docx_is_refused(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    bomb = docx({"word/media/padding.bin": b"\x00" * (120 * 1024 * 1024)})  # 120 MB inflates from ~120 KB
    assert len(bomb) < 1024 * 1024
    page = flashed(b, upload(b, cid, "bomb.docx", bomb))
    assert "解壓縮後過大" in page
    many = docx({f"word/x{i}.xml": b"" for i in range(2100)})
    page = flashed(b, upload(b, cid, "many.docx", many))
    assert "項目過多" in page
    assert attachments(office, cid) == []


@pytest.mark.fault
def test_path_in_the_file_name_is_neutralised(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    flashed(b, upload(b, cid, "../../../etc/passwd.pdf", PDF))
    flashed(b, upload(b, cid, "..\\..\\windows\\evil.pdf", PDF))
    flashed(b, upload(b, cid, "..", PDF))
    names = [a.name for a in attachments(office, cid)]
    assert names[0] == "passwd.pdf" and names[2] == "附件.pdf"
    # Werkzeug unescapes backslashes in the quoted multipart name first; whatever is left has no path.
    assert names[1].endswith("evil.pdf") and not any(c in names[1] for c in "\\/:")
    # Stored under the content's hash, not the given name.
    assert all("/" not in a.name and ".." not in a.storage_key for a in attachments(office, cid))


def test_a_photo_needs_alt_text(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    assert "照片須填寫替代文字" in flashed(b, upload(b, cid, "photo.jpg", JPEG))
    assert attachments(office, cid) == []


@pytest.mark.fault
def test_oversized_upload_gets_a_413_page_in_zh_tw(db: object, office: OfficeFixture, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEFLOW_INSTANCE", str(tmp_path))
    app: Flask = create_app({"TESTING": True, "DATABASE_URL": office.db.url, "RATELIMIT_STORAGE_URI": "memory://",
                             "BACKGROUND_WORK": False, "UPLOAD_MAX_BYTES": 100 * 1024})
    b = Browser(app.test_client())
    assert b.login(office.logins["personnel_staff"]).status_code == 303
    cid = office.case("training_report")
    resp = upload(b, cid, "big.pdf", PDF + b"\x00" * (300 * 1024))
    assert resp.status_code == 413
    assert "檔案太大" in text(resp) and "100.0 KB" in text(resp)
    # Just over the limit but within the form's envelope: refused by the view, same page.
    resp = upload(b, cid, "big.pdf", PDF + b"\x00" * (100 * 1024))
    assert resp.status_code == 413 and "檔案太大" in text(resp)
    assert attachments(office, cid) == []
    # Within the limit is fine.
    assert upload(b, cid, "ok.pdf", PDF + b"\x00" * (50 * 1024)).status_code == 303


def test_default_limit_allows_files_larger_than_other_forms(office: OfficeFixture,
                                                            as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    resp = upload(b, cid, "scan.pdf", PDF + b"\x00" * (3 * 1024 * 1024))  # over the app's 1 MB body cap
    assert resp.status_code == 303
    assert attachments(office, cid)[0].size > 3 * 1024 * 1024


@pytest.mark.fault
def test_another_offices_attachment_is_404(office: OfficeFixture, office_factory: Callable[[], OfficeFixture],
                                           as_user: Callable[[str], Browser], browser: Callable[[], Browser]
                                           ) -> None:
    other = office_factory()
    theirs = other.case("training_report")
    them = browser()
    assert them.login(other.logins["personnel_staff"]).status_code == 303
    flashed(them, upload(them, theirs, "secret.pdf", PDF))
    [att] = attachments(other, theirs)
    mine = office.case("training_report")
    b = as_user("personnel_staff")
    assert b.get(f"/cases/{theirs}/attachments/{att.id}").status_code == 404
    # Their attachment id under my own case: also 404.
    assert b.get(f"/cases/{mine}/attachments/{att.id}").status_code == 404
    page = b.get(f"/cases/{mine}/edit").get_data(as_text=True)
    resp = b.client.post(f"/cases/{theirs}/attachments", content_type="multipart/form-data",
                         data={"csrf_token": csrf_token(page), "version": "1", "file": (io.BytesIO(PDF), "x.pdf")})
    assert resp.status_code == 404


@pytest.mark.fault
def test_upload_needs_csrf_and_a_current_version(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    resp = b.client.post(f"/cases/{cid}/attachments", content_type="multipart/form-data",
                         data={"version": "1", "file": (io.BytesIO(PDF), "x.pdf")})
    assert resp.status_code == 400
    flashed(b, upload(b, cid, "first.pdf", PDF))
    stale = upload(b, cid, "second.pdf", PDF + b"2", version="1")
    assert stale.status_code == 409 and "personnel_staff" in text(stale)
    assert [a.name for a in attachments(office, cid)] == ["first.pdf"]


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_case_page_links_the_edit_form_and_the_downloads(office: OfficeFixture,
                                                        as_user: Callable[[str], Browser]) -> None:
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    flashed(b, upload(b, cid, "活動.png", PNG, alt="宣導活動現場"))
    [att] = attachments(office, cid)
    page = b.get(f"/cases/{cid}").get_data(as_text=True)
    assert f'href="/cases/{cid}/attachments/{att.id}"' in page and "宣導活動現場" in page
    assert f'href="/cases/{cid}/edit"' in page
    # The chief sees the download but no edit link.
    chief = as_user("personnel_chief").get(f"/cases/{cid}").get_data(as_text=True)
    assert f'href="/cases/{cid}/attachments/{att.id}"' in chief and f'href="/cases/{cid}/edit"' not in chief


def test_a_wrong_file_can_be_removed_from_a_draft(office: OfficeFixture, as_user: Callable[[str], Browser],
                                                  office_factory: Callable[[], OfficeFixture],
                                                  browser: Callable[[], Browser]) -> None:
    """A file uploaded by mistake comes off the draft (it counted towards the attachments a kind
    needs and went into the documents); the history says what was removed and by whom."""
    cid = office.case("training_report")
    b = as_user("personnel_staff")
    upload(b, cid, "錯的檔案.pdf", PDF)
    upload(b, cid, "對的檔案.pdf", PDF)
    wrong, right = attachments(office, cid)
    page = b.get(f"/cases/{cid}/edit").get_data(as_text=True)
    action = f"/cases/{cid}/attachments/{wrong.id}/remove"
    assert 'aria-label="移除附件「錯的檔案.pdf」"' in page
    data = forms(page)[action]
    stale = dict(data)
    resp = b.client.post(action, data=data)
    assert "已移除附件「錯的檔案.pdf」" in flashed(b, resp)
    assert [a.id for a in attachments(office, cid)] == [right.id]
    assert "移除附件" in text(b.get(f"/cases/{cid}"))  # in the history, with the file's name
    # The page it was removed from is now out of date: the other file is not removed from it.
    again = b.client.post(f"/cases/{cid}/attachments/{right.id}/remove", data=stale)
    assert again.status_code == 409 and [a.id for a in attachments(office, cid)] == [right.id]
    # Someone who cannot edit the draft, and another office, get nothing removed.
    fresh = forms(b.get(f"/cases/{cid}/edit").get_data(as_text=True))[f"/cases/{cid}/attachments/{right.id}/remove"]
    chief = as_user("personnel_chief")
    refused = chief.client.post(f"/cases/{cid}/attachments/{right.id}/remove",
                                data=fresh | {"csrf_token": csrf_token(chief.get("/").get_data(as_text=True))})
    assert refused.status_code == 303 and [a.id for a in attachments(office, cid)] == [right.id]
    other = office_factory()
    outsider = browser()
    assert outsider.login(other.logins["personnel_staff"]).status_code == 303
    token = csrf_token(outsider.get("/").get_data(as_text=True))
    resp = outsider.client.post(f"/cases/{cid}/attachments/{right.id}/remove", data=fresh | {"csrf_token": token})
    assert resp.status_code == 404 and [a.id for a in attachments(office, cid)] == [right.id]
