"""The liaison's board: who sees it, what it lists as of today, exports, charts; step deadlines in the
chief's queue and on the case page."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable

import time_machine

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, text
from workflow import clock, operations, plan


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
        operations.submit(cid, office.users["personnel_staff"], db=office.db)
        b = as_user("personnel_chief")
        assert "115.03.09" in text(b.get("/"))
        assert "中華民國115年3月9日" in text(b.get(f"/cases/{cid}"))
