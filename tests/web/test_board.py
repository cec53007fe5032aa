"""The liaison's board: who sees it, what it lists as of today, exports, charts; step deadlines in the
chief's queue and on the case page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import time_machine

from documents.convert import soffice_path
from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, text
from workflow import clock
from workflow.calendar import plan
from workflow.cases import approval


def _generated(office: OfficeFixture) -> None:
    plan.generate(office.db, 115, office_codes=[office.code])


def test_liaison_sees_which_units_are_late_with_what(office: OfficeFixture,
                                                     as_user: Callable[[str], Browser]) -> None:
    with time_machine.travel(dt.datetime(2026, 7, 20, 9, tzinfo=clock.TAIPEI), tick=False):
        _generated(office)
        b = as_user("liaison")
        home = text(b.get("/"))
        assert "逾期總覽" in home and "personnel" in home and "115年第1季培力成果報告" in home
        page = b.get("/board")
        assert page.status_code == 200
        body = text(page)
        assert "115年第2季宣導成果報告" in body  # due 2026-07-10: 10 days overdue
        assert "<svg" in page.get_data(as_text=True) and "cdn" not in page.get_data(as_text=True).lower()
        only_social = text(b.get(f"/board?unit={office.units['social']}&only=overdue"))
        assert "115年第1季宣導成果報告" in only_social and "115年第1季培力成果報告" not in only_social
        csv = b.get("/board.csv")
        assert csv.status_code == 200 and "115年第1季培力成果報告" in csv.get_data().decode("utf-8-sig")
        assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"  # once, not twice
        ods = b.get("/board.ods")
        z = zipfile.ZipFile(io.BytesIO(ods.get_data()))
        assert z.namelist()[0] == "mimetype" and "培力成果報告" in z.read("content.xml").decode()


def test_only_the_boards_filters_travel_to_its_links(office: OfficeFixture,
                                                    as_user: Callable[[str], Browser]) -> None:
    """Stray or hostile query parameters (names url_for reserves for itself) are dropped from the
    paging and export links instead of breaking the page."""
    with time_machine.travel(dt.datetime(2026, 7, 20, 9, tzinfo=clock.TAIPEI), tick=False):
        _generated(office)
        b = as_user("liaison")
        for query in ("endpoint=x", "_method=POST", "_scheme=javascript&_external=1", "utm_source=mail"):
            page = b.get(f"/board?only=overdue&{query}")
            html = page.get_data(as_text=True)
            assert page.status_code == 200, query
            links = [h for h in re.findall(r'href="([^"]+)"', html) if "/board" in h and "lang" not in h]
            exports = [h for h in links if "board.csv" in h or "board.ods" in h]
            assert exports and all("only=overdue" in h for h in exports), (query, links)
            assert not [h for h in links if "_scheme" in h or "endpoint" in h or "utm_source" in h
                        or h.startswith("javascript")], (query, links)


def test_staff_do_not_see_the_board(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    b = as_user("social_staff")
    assert b.get("/board").status_code == 403
    assert "逾期總覽" not in text(b.get("/"))


def test_chiefs_queue_and_case_page_show_the_step_deadline(office: OfficeFixture,
                                                           as_user: Callable[[str], Browser]) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=clock.TAIPEI), tick=False):
        cid = office.case("training_report")
        approval.submit(cid, office.users["personnel_staff"], db=office.db)
        b = as_user("personnel_chief")
        assert "115.03.09" in text(b.get("/"))
        assert "中華民國115年3月9日" in text(b.get(f"/cases/{cid}"))


def _as_csv_by_libreoffice(content: bytes, ext: str, workdir: Path) -> list[list[str]]:
    """The table as LibreOffice reads it: the file converted to CSV (UTF-8) by soffice itself."""
    exe = soffice_path()
    assert exe, "LibreOffice must be installed (run-tests installs it)"
    src = workdir / f"board.{ext}"
    src.write_bytes(content)
    out = workdir / ext
    read_as = ["--infilter=CSV:44,34,76"] if ext == "csv" else []  # comma-separated, UTF-8
    subprocess.run([exe, f"-env:UserInstallation=file://{workdir}/profile-{ext}", "--headless", *read_as,
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=120)
    return list(csv.reader(io.StringIO((out / "board.csv").read_text("utf-8-sig"))))


def test_board_exports_the_same_table_as_csv_ods_and_xlsx(office: OfficeFixture,
                                                          as_user: Callable[[str], Browser],
                                                          tmp_path: Path) -> None:
    """One export path: opened in LibreOffice, the CSV, the ODS and the XLSX show the same table."""
    with time_machine.travel(dt.datetime(2026, 7, 20, 9, tzinfo=clock.TAIPEI), tick=False):
        _generated(office)
        b = as_user("liaison")
        got = {ext: b.get(f"/board.{ext}") for ext in ("csv", "ods", "xlsx")}
    assert got["xlsx"].headers["Content-Type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert got["xlsx"].headers["Content-Disposition"] == "attachment; filename=overdue-board.xlsx"
    tables = {ext: _as_csv_by_libreoffice(r.get_data(), ext, tmp_path) for ext, r in got.items()}
    assert tables["csv"][0][:3] == ["案件", "類別", "標題"]
    assert any("115年第1季培力成果報告" in row for row in tables["csv"])
    due = next(row[5] for row in tables["csv"] if "115年第1季培力成果報告" in row)
    assert due == "115.04.10"  # ROC dates, as everywhere else
    assert len(tables["csv"]) > 2
    assert tables["ods"] == tables["csv"] and tables["xlsx"] == tables["csv"]


def test_the_on_time_chart_draws_each_bar_against_its_whole() -> None:
    """A quarter with nothing on time is still a bar (an empty one on its track), with the scale marked."""
    from web.charts import bars

    svg = str(bars("準時完成率", [("115.01-03", 0.0, "0/4 (0%)"), ("115.04-06", 0.75, "3/4 (75%)")]))
    assert svg.count('fill="#e7ebf0"') == 2  # a track per bar
    assert ">0%<" in svg and ">50%<" in svg and ">100%<" in svg
    assert 'width="0" height="22" fill="#12355b"' in svg and "0/4 (0%)" in svg
