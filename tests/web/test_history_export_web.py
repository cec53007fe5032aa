"""A case's history for an auditor from the case page: CSV with every event (the delegate and the
person acted for in their own columns, full hashes, the chain check last), and a PDF of the same
made by LibreOffice."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from collections.abc import Callable

import pytest

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, submitted, text
from workflow import clock
from workflow.cases import approval
from workflow.models import User
from workflow.people import directory


def _approved_by_a_delegate(office: OfficeFixture) -> int:
    cid = submitted(office)
    with office.db.unit_of_work() as uow:
        s = uow.session
        away, stand_in = s.get_one(User, office.users["personnel_chief"]), s.get_one(User, office.users["civil_chief"])
        directory.delegate(s, away, stand_in, "chief", clock.today(), clock.today() + dt.timedelta(days=2), "公差")
        uow.commit()
    approval.fire(cid, "approve", office.users["civil_chief"], "同意陳核", db=office.db)
    return cid


def test_the_history_downloads_as_csv_with_the_chain_check(as_user: Callable[[str], Browser],
                                                           office: OfficeFixture) -> None:
    cid = _approved_by_a_delegate(office)
    b = as_user("secretariat")
    assert "匯出歷程（含雜湊鏈驗證結果）" in text(b.get(f"/cases/{cid}"))
    resp = b.get(f"/cases/{cid}/history.csv")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"] == (
        f"attachment; filename=case-{cid}-history.csv")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["序號", "時間（臺北）", "事件", "動作", "處理人"]
    approve = next(r for r in rows[1:] if r[3] == "核准")
    assert approve[4:8] == ["civil_chief", "personnel_chief", "課長審核 → 秘書室審核", "同意陳核"]
    assert len(approve[8]) == 64
    assert rows[-1][0] == "驗證" and rows[-1][2].startswith("歷程雜湊鏈驗證通過：3 筆紀錄")
    assert as_user("social_staff").get(f"/cases/{cid}/history.csv").status_code == 404  # cannot read the case


@pytest.mark.slow
def test_the_history_downloads_as_a_pdf(as_user: Callable[[str], Browser], office: OfficeFixture, tmp_path) -> None:
    cid = _approved_by_a_delegate(office)
    resp = as_user("liaison").get(f"/cases/{cid}/history.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    (tmp_path / "h.pdf").write_bytes(resp.data)
    words = subprocess.run(["pdftotext", "-layout", str(tmp_path / "h.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert "案件歷程" in words and "歷程雜湊鏈驗證通過" in words and "同意陳核" in words and "liaison" in words
