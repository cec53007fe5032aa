"""培力成果表 without typing a number: the edit page fills the period's courses and attendance by
sex from the training register, and the generated table's totals equal the register's."""

from __future__ import annotations

from collections.abc import Callable

from documents.context import build
from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, text
from workflow.cases import approval
from workflow.models import Case
from workflow.registers import training_import

CSV = """姓名,課程名稱,時數,上課方式,上課日期,課程代碼,課程類別
personnel_staff,CEDAW 案例研討,2,實體,115.02.10,410,CEDAW
civil_staff,CEDAW 案例研討,2,實體,115.02.10,410,CEDAW
social_staff,CEDAW 案例研討,2,實體,115.02.10,410,CEDAW
civil_chief,性別主流化工具,1.5,線上,115.03.05,,進階
social_chief,第二季的課,1,實體,115.04.01,,基礎
"""


def test_the_quarters_table_comes_from_the_register(as_user: Callable[[str], Browser], office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        training_import.import_csv(uow.session, office.id, None, CSV.encode())
        uow.commit()
    cid = office.case("training_report", period="Q1")
    b = as_user("personnel_staff")
    resp = b.submit(f"/cases/{cid}/edit", f"/cases/{cid}/fill")
    assert resp.status_code == 303
    assert "已從培力紀錄帶入 2 列。" in text(b.get(f"/cases/{cid}/edit"))
    with office.db.unit_of_work(write=False) as uow:
        courses = uow.session.get_one(Case, cid).fields["courses"]
    assert [(c["course"], c["date"], c["hours"], c["mode"], c["level"], c.get("cedaw_code", "")) for c in courses] == [
        ("CEDAW 案例研討", "2026-02-10", 2, "實體", "進階", "410"),
        ("性別主流化工具", "2026-03-05", 1.5, "視訊", "進階", "")]
    # STAFFING's sexes: F for odd-length keys (personnel_staff 15, civil_staff 11, civil_chief 11), else M
    assert [(c["male"], c["female"]) for c in courses] == [(1, 2), (0, 1)]
    res = approval.fire(cid, "submit", office.users["personnel_staff"], db=office.db)
    with office.db.unit_of_work(write=False) as uow:
        table = build(uow.session, office.db, cid, "training_results", res.event_seq)
    assert table["totals"] == {"male": "1", "female": "3", "total": "4", "hours": "3.5"}
    assert [r["total"] for r in table["rows"]] == ["3", "1"]
