"""我的工作 and the board show one page of rows at a time (the oldest, the most overdue first) with
the total and links to the next and previous pages; the board's exports still hold every row, and
the board runs the same number of SQL statements however many cases are late."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
import time_machine

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, submitted, text
from web import board as web_board
from web import queues as web_queues
from workflow import clock
from workflow.calendar import plan
from workflow.views.queues import queue_for


def _case_links(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'href="/cases/(\d+)"', html)]


def test_the_queue_pages_through_the_oldest_first_with_the_total(
        office: OfficeFixture, as_user: Callable[[str], Browser], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_queues, "PAGE_SIZE", 2)
    cases = [submitted(office) for _ in range(5)]  # oldest first
    chief = as_user("personnel_chief")

    first = chief.get("/")
    body = text(first)
    assert "共 5 件" in body and "第 1 至 2 件" in body
    assert 'rel="next"' in first.get_data(as_text=True) and 'rel="prev"' not in first.get_data(as_text=True)
    assert _case_links(first.get_data(as_text=True)) == cases[:2]

    second = chief.get("/?page=2")
    assert "第 3 至 4 件" in text(second) and 'rel="prev"' in second.get_data(as_text=True)
    assert _case_links(second.get_data(as_text=True)) == cases[2:4]

    last = chief.get("/?page=3")
    assert _case_links(last.get_data(as_text=True)) == cases[4:] and 'rel="next"' not in last.get_data(as_text=True)

    past_the_end = text(chief.get("/?page=9"))
    assert "這一頁沒有案件" in past_the_end and "回到第一頁" in past_the_end
    assert "目前沒有需要您處理的案件" not in past_the_end
    # The same queue through the function other pages use (no paging there).
    assert [i.case_id for i in queue_for(office.db, office.users["personnel_chief"])] == cases


def test_a_queue_that_fits_on_one_page_has_no_pager(office: OfficeFixture,
                                                    as_user: Callable[[str], Browser]) -> None:
    cid = submitted(office)
    page = as_user("personnel_chief").get("/")
    assert "共 1 件" in text(page) and 'rel="next"' not in page.get_data(as_text=True)
    assert _case_links(page.get_data(as_text=True)) == [cid]


@pytest.fixture
def late_office(office: OfficeFixture) -> OfficeFixture:
    with time_machine.travel(dt.datetime(2026, 7, 20, 9, tzinfo=clock.TAIPEI), tick=False):
        plan.generate(office.db, 115, office_codes=[office.code])
    return office


def _board_total(body: str) -> int:
    m = re.search(r"案件（共 (\d+) 件", body)
    assert m, body
    return int(m.group(1))


def test_the_board_pages_through_the_most_overdue_first_and_exports_everything(
        late_office: OfficeFixture, as_user: Callable[[str], Browser], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_board, "PAGE_SIZE", 2)
    with time_machine.travel(dt.datetime(2026, 7, 20, 9, tzinfo=clock.TAIPEI), tick=False):
        liaison = as_user("liaison")
        first = liaison.get("/board")
        total = _board_total(text(first))
        assert total > 4
        seen: list[int] = []
        page = 1
        while True:
            resp = liaison.get(f"/board?page={page}")
            html = resp.get_data(as_text=True)
            rows = _case_links(html)
            assert len(rows) == (2 if page * 2 <= total else total - (page - 1) * 2)
            seen += rows
            if 'rel="next"' not in html:
                break
            page += 1
        assert len(seen) == len(set(seen)) == total  # every case once, across the pages
        # Most overdue first: the days overdue never grow down the page.
        listed = liaison.get("/board").get_data(as_text=True).split('id="cases-heading"')[1]
        days = [int(d) for d in re.findall(r'<td class="num">(\d+)</td>', listed)]
        assert days and days == sorted(days, reverse=True)
        # Filters carry over to the next page.
        social = liaison.get(f"/board?unit={late_office.units['social']}").get_data(as_text=True)
        nxt = re.search(r'href="([^"]+)" rel="next"', social)
        assert nxt is None or f"unit={late_office.units['social']}" in nxt.group(1)
        # The exports hold every row, whatever page the link was on.
        csv = liaison.get("/board.csv?page=2").get_data().decode("utf-8-sig")
        assert len(csv.strip().splitlines()) == total + 1  # a header and every case


def test_the_board_runs_as_many_statements_with_many_more_late_cases(
        late_office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    with time_machine.travel(dt.datetime(2026, 7, 20, 9, tzinfo=clock.TAIPEI), tick=False):
        liaison = as_user("liaison")
        assert liaison.get("/board").status_code == 200  # warm: registry, charts
        with late_office.db.count_statements() as before:
            body = text(liaison.get("/board"))
        few = _board_total(body)
        plan.generate(late_office.db, 114, office_codes=[late_office.code])  # a whole year more, all late
        web_board.boardmod.forget_charts()
        assert liaison.get("/board").status_code == 200
        with late_office.db.count_statements() as after:
            body = text(liaison.get("/board"))
        assert _board_total(body) > few
        assert after[0] == before[0]


def test_the_late_panel_counts_by_unit_as_the_board_does(late_office: OfficeFixture) -> None:
    """My work's late panel counts by unit only (a lighter count); its numbers are the board's."""
    from workflow.views import board

    day = dt.date(2026, 7, 20)
    full = board.board(late_office.db, late_office.id, today=day, only="overdue", charts=False)
    light = board.board(late_office.db, late_office.id, today=day, only="overdue", charts=False, steps=False,
                        limit=10)
    assert light.by_unit == full.by_unit and light.total == full.total > 0
    assert light.by_step == [] and full.by_step
    assert [r.case_id for r in light.rows] == [r.case_id for r in full.rows][:10]
