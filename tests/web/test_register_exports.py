"""Every register and the compliance view export as CSV, ODS and XLSX with what the page shows:
the training hours per person, the task force's members (a departure kept with its last day) and
its meetings (attendance by sex, quorum, each decision); who may take them out."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import openpyxl

from tests.conftest import OfficeFixture
from tests.helpers import task_force_passes
from tests.web.conftest import Browser, text
from tests.web.test_task_force import to_task_force
from workflow import clock, rocdate
from workflow.registers import task_force, training_import

YEAR = clock.current_roc_year()


def _csv(b: Browser, url: str) -> list[list[str]]:
    resp = b.get(url)
    assert resp.status_code == 200, url
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def test_the_compliance_table_exports_as_the_page_shows_it(as_user: Callable[[str], Browser],
                                                           office: OfficeFixture) -> None:
    with office.db.unit_of_work() as uow:
        training_import.import_csv(uow.session, office.id, None, (
            "姓名,課程名稱,時數,上課方式,上課日期,課程代碼\n"
            f"personnel_staff,CEDAW 案例,1,實體,{YEAR}.02.03,410\n"
            f"personnel_staff,性別主流化工具,1.5,線上,{YEAR}.03.01,\n"
        ).encode())
        uow.commit()
    b = as_user("personnel_staff")
    assert "各同仁時數：" in text(b.get(f"/registers/training?year={YEAR}"))
    rows = _csv(b, f"/registers/training/compliance.csv?year={YEAR}")
    assert rows[0][:4] == ["姓名", "單位", "性別平等業務相關人員", "年中到職"]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["personnel_staff"][4:8] == ["2.5", "1", "2.5", "是"]
    assert by_name["civil_staff"][7:9] == ["否", "性別主流化課程尚缺 2 小時；CEDAW 實體課程尚缺 1 小時"]
    sheet = openpyxl.load_workbook(io.BytesIO(b.get(f"/registers/training/compliance.xlsx?year={YEAR}").data)).active
    assert sheet is not None and sheet.max_row == len(rows)
    assert as_user("civil_staff").get(f"/registers/training/compliance.csv?year={YEAR}").status_code == 403


def test_the_task_force_exports_its_members_and_meetings(as_user: Callable[[str], Browser],
                                                         office: OfficeFixture) -> None:
    cid = to_task_force(office, "training_report")
    task_force_passes(office.db, office.id, cid)  # six members (3 women), all present, the case passed
    today = clock.today()
    with office.db.unit_of_work() as uow:
        first = task_force.in_office(uow.session, office.id, today)[0]
        task_force.end_term(uow.session, office.id, None, first.id, today)
        uow.commit()
    b = as_user("liaison")
    members = _csv(b, f"/task-force/members.csv?year={YEAR}")
    assert members[0] == task_force.EXPORT_HEADER and len(members) == 7
    assert members[1][0] == "委員1" and members[1][2:4] == ["召集人", "課室主管"]
    assert members[1][6] == rocdate.short(today)  # left today: kept, with the last day
    meetings = _csv(b, f"/task-force/meetings.csv?year={YEAR}")
    assert len(meetings) == 2
    row = dict(zip(meetings[0], meetings[1], strict=True))
    assert (row["會次"], row["開會日期"], row["在任委員"], row["出席（女）"], row["出席（男）"], row["達法定人數"]) == (
        "第1次", rocdate.short(today), "6", "3", "3", "是")
    assert row["決議"].endswith("：通過（同意 6 人）")
    page = text(b.get("/task-force"))
    assert f"{YEAR}年委員名冊：" in page and f"{YEAR}年會議：" in page
    assert as_user("civil_staff").get(f"/task-force/members.csv?year={YEAR}").status_code == 403
