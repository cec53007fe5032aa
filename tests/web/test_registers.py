"""培力紀錄 through its page: the personnel office imports a file with errors (nothing imported,
every error listed), fixes it and imports it; who is short is shown; exports; who may see it."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, csrf_token, text
from workflow.models import TrainingRecord

BAD = "姓名,課程名稱,時數,上課方式,上課日期\npersonnel_staff,CEDAW 案例,1,實體,115.02.30\nnobody,課,三,實體,115.03.01\n"
GOOD = ("姓名,課程名稱,時數,上課方式,上課日期,課程代碼\npersonnel_staff,CEDAW 案例,1,實體,115.02.28,410\n"
        "personnel_staff,性別主流化工具,1,線上,115.03.01,\n")


def _upload(b: Browser, content: bytes) -> object:
    page = b.get("/registers/training?year=115").get_data(as_text=True)
    return b.client.post("/registers/training/import?year=115", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(page), "file": (io.BytesIO(content), "培力.csv")})


def test_personnel_import_with_errors_then_fixed(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    b = as_user("personnel_staff")
    resp = _upload(b, BAD.encode("utf-8"))
    assert resp.status_code == 422  # type: ignore[attr-defined]
    page = text(resp)  # type: ignore[arg-type]
    assert "檔案有 2 處錯誤，沒有匯入任何資料" in page
    assert "第 2 列「上課日期」：沒有「115.02.30」這一天" in page and "第 3 列「時數」" in page
    with office.db.unit_of_work(write=False) as uow:
        assert uow.session.query(TrainingRecord).filter_by(office_id=office.id).count() == 0
    resp = _upload(b, GOOD.encode("cp950"))
    assert resp.status_code == 303  # type: ignore[attr-defined]
    page = text(b.get("/registers/training?year=115"))
    assert "已匯入 2 筆培力紀錄（1 人）" in page and "個人資料蒐集告知" in page
    assert "CEDAW 實體課程尚缺" in page  # everyone else is short
    xlsx = b.get("/registers/training.xlsx?year=115")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:4] == ["姓名", "員工編號", "單位", "課程名稱"]
    assert sheet.cell(2, 4).value == "CEDAW 案例" and sheet.cell(2, 9).value == "115.02.28"


def test_the_liaison_reads_the_roster_but_does_not_import_and_others_do_not_see_it(
        as_user: Callable[[str], Browser]) -> None:
    liaison = as_user("liaison")
    page = liaison.get("/registers/training")
    assert page.status_code == 200 and 'action="/registers/training/import' not in page.get_data(as_text=True)
    assert 'href="/registers/training"' in liaison.get("/").get_data(as_text=True)
    assert _upload(liaison, GOOD.encode()).status_code == 403  # type: ignore[attr-defined]
    other = as_user("civil_staff")
    assert other.get("/registers/training").status_code == 403
    assert 'href="/registers/training"' not in other.get("/").get_data(as_text=True)
