"""我的工作 and 我的案件 as lists people work from: filters (kind, unit, step, due, year) and order
(waiting, newest, due date, title) from a plain GET form, kept in the URL and on the pager; the
filtered 我的工作 kept by the page cache within a bound per person; 我的案件 saying whose desk each
submitted case is on (代理 included) in a constant number of statements; and the secretariat's
and liaisons' overdue list folded to one line with its count."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import update

from tests.conftest import OfficeFixture
from tests.web.conftest import Browser, submitted, text
from workflow import clock
from workflow.cases import approval
from workflow.models import Case, User
from workflow.people import directory


def listed(html: str) -> list[int]:
    """The case links of the page's main table(s), in order (the overdue list's aside)."""
    main = html.split("</details>", 1)[-1]
    return [int(m) for m in re.findall(r'<td>\s*<a href="/cases/(\d+)"', main)]


def set_case(office: OfficeFixture, cid: int, **values: object) -> None:
    with office.db.unit_of_work() as uow:
        uow.session.execute(update(Case).where(Case.id == cid).values(**values))
        uow.commit()


@pytest.fixture
def four(office: OfficeFixture) -> dict[str, int]:
    """Four training reports with the personnel chief, sent in this order: due later, no due date,
    overdue, due soon; titled so that no two orders agree."""
    today = clock.today()
    out = {}
    for name, due, title in [("later", today + dt.timedelta(days=60), "報告 4"), ("none", None, "報告 2"),
                             ("late", today - dt.timedelta(days=3), "報告 3"),
                             ("soon", today + dt.timedelta(days=5), "報告 1")]:
        cid = submitted(office)
        set_case(office, cid, due_date=due, title=title)
        out[name] = cid
    return out


SENT = ("later", "none", "late", "soon")  # the default order: the longest waiting first
BY_DUE = ("late", "soon", "later", "none")
BY_TITLE = ("soon", "none", "late", "later")


def test_my_work_filters_by_due_year_and_kind(
        four: dict[str, int], office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    chief = as_user("personnel_chief")
    assert listed(chief.get("/").get_data(as_text=True)) == [four[k] for k in SENT]
    assert listed(chief.get("/?due=overdue").get_data(as_text=True)) == [four["late"]]
    assert listed(chief.get("/?due=soon").get_data(as_text=True)) == [four["soon"]]
    with office.db.unit_of_work(write=False) as uow:
        year = uow.session.get_one(Case, four["soon"]).roc_year
        same_year = {c for c in four.values() if uow.session.get_one(Case, c).roc_year == year}
    assert set(listed(chief.get(f"/?year={year}").get_data(as_text=True))) == same_year
    assert len(listed(chief.get("/?kind=training_report").get_data(as_text=True))) == 4
    none = chief.get("/?kind=outreach_report")
    assert listed(none.get_data(as_text=True)) == [] and "沒有符合篩選條件的案件" in text(none)
    # The form shows what is chosen, and the step filter offers the chief's own step only.
    html = chief.get("/?due=soon&kind=training_report").get_data(as_text=True)
    assert '<option value="soon" selected>' in html and '<option value="training_report" selected>' in html
    assert '<option value="section_review">' in html and 'value="secretariat_review"' not in html


def test_my_work_sorts_by_due_date_title_and_newest(
        four: dict[str, int], as_user: Callable[[str], Browser]) -> None:
    chief = as_user("personnel_chief")
    assert listed(chief.get("/").get_data(as_text=True)) == [four[k] for k in SENT]
    assert listed(chief.get("/?sort=newest").get_data(as_text=True)) == [four[k] for k in SENT][::-1]
    assert listed(chief.get("/?sort=due").get_data(as_text=True)) == [four[k] for k in BY_DUE]
    assert listed(chief.get("/?sort=title").get_data(as_text=True)) == [four[k] for k in BY_TITLE]


def test_a_value_the_form_does_not_offer_is_ignored_and_said(
        four: dict[str, int], as_user: Callable[[str], Browser]) -> None:
    chief = as_user("personnel_chief")
    for url in ["/?state=secretariat_review", "/?kind=nonsense", "/?year=999", "/?unit=99999999", "/?sort=random",
                "/?due=yesterday"]:
        resp = chief.get(url)
        assert resp.status_code == 200, url
        assert len(listed(resp.get_data(as_text=True))) == 4, url
        assert "已略過" in text(resp), url


def test_the_secretariat_filters_by_unit_and_step(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    from tests.test_search import amendment

    personnel = submitted(office)
    own = amendment(office, "秘書室的計畫修正")
    approval.fire(own, "submit", office.users["secretariat_staff"], db=office.db)
    approval.fire(personnel, "approve", office.users["personnel_chief"], db=office.db)
    approval.fire(own, "approve", office.users["secretariat_chief"], db=office.db)
    sec = as_user("secretariat")
    assert set(listed(sec.get("/").get_data(as_text=True))) == {personnel, own}
    assert listed(sec.get(f"/?unit={office.units['secretariat']}").get_data(as_text=True)) == [own]
    assert listed(sec.get(f"/?unit={office.units['personnel']}&kind=training_report").get_data(as_text=True)) == [
        personnel]
    assert set(listed(sec.get("/?state=secretariat_review").get_data(as_text=True))) == {personnel, own}


def test_filters_and_order_travel_with_the_pager(
        office: OfficeFixture, as_user: Callable[[str], Browser], monkeypatch: pytest.MonkeyPatch) -> None:
    import web.queues

    monkeypatch.setattr(web.queues, "PAGE_SIZE", 2)
    cases = [submitted(office) for _ in range(5)]
    for i, cid in enumerate(cases):
        set_case(office, cid, title=f"報告 {5 - i}", due_date=clock.today() + dt.timedelta(days=3))
    chief = as_user("personnel_chief")
    url, seen = "/?sort=title&due=soon", []
    while url:
        html = chief.get(url).get_data(as_text=True)
        seen += listed(html)
        nxt = re.search(r'href="([^"]*)" rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
        if url:
            assert "sort=title" in url and "due=soon" in url
    assert seen == cases[::-1]


def test_filtered_pages_are_kept_within_a_bound_per_person(
        four: dict[str, int], app: Flask, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cache = app.extensions["caseflow_page_cache"]
    chief, sec = as_user("personnel_chief"), as_user("secretariat")
    sec.get("/")
    chief.get("/?sort=title")
    hits = cache.stats.hits
    assert listed(chief.get("/?sort=title").get_data(as_text=True)) == [four[k] for k in BY_TITLE]
    assert cache.stats.hits == hits + 1  # kept
    chief.get("/?sort=bogus")
    chief.get("/?sort=bogus")
    assert cache.stats.hits == hits + 1  # a value the form does not spell: rendered, never kept
    for year in range(100, 120):  # one person walking through many filters
        chief.get(f"/?year={year}")
    mine = [k for k in cache._pages if k[1] == office.users["personnel_chief"]]
    assert len(mine) <= cache.per_person
    before = cache.stats.hits
    sec.get("/")
    assert cache.stats.hits == before + 1  # everyone else's pages stay


def test_mine_says_whose_desk_each_case_is_on_with_delegates(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    at_chief = submitted(office)
    at_secretariat = submitted(office)
    approval.fire(at_secretariat, "approve", office.users["personnel_chief"], db=office.db)
    with office.db.unit_of_work() as uow:  # the personnel chief is away: the civil chief acts (代理)
        s = uow.session
        directory.delegate(s, s.get_one(User, office.users["personnel_chief"]),
                           s.get_one(User, office.users["civil_chief"]), "chief",
                           clock.today() - dt.timedelta(days=1), clock.today() + dt.timedelta(days=5))
        uow.commit()
    page = as_user("personnel_staff").get("/mine")
    html = page.get_data(as_text=True)
    rows = {int(cid): cells for cid, cells in re.findall(r'<a href="/cases/(\d+)">[^<]*</a></td>(.*?)</tr>', html,
                                                        re.S)}
    assert "personnel_chief、civil_chief" in rows[at_chief]
    assert ">secretariat<" in rows[at_secretariat].replace(" ", "")
    assert "目前在誰手上" in text(page)


def test_mine_statements_do_not_grow_with_the_cases(
        office: OfficeFixture, as_user: Callable[[str], Browser], app: Flask) -> None:
    staff = as_user("personnel_staff")

    def count() -> int:
        assert staff.get("/mine").status_code == 200
        with office.db.count_statements() as n:
            assert staff.get("/mine").status_code == 200
        return n[0]

    first = submitted(office)
    approval.fire(first, "approve", office.users["personnel_chief"], db=office.db)
    submitted(office)
    before = count()
    for _ in range(4):
        cid = submitted(office)
        approval.fire(cid, "approve", office.users["personnel_chief"], db=office.db)
        submitted(office)
    assert count() == before


def test_mine_filters_sorts_and_pages_what_is_under_review(
        office: OfficeFixture, as_user: Callable[[str], Browser], monkeypatch: pytest.MonkeyPatch) -> None:
    import web.mine

    monkeypatch.setattr(web.mine, "PAGE_SIZE", 2)
    cases = [submitted(office) for _ in range(5)]
    for i, cid in enumerate(cases):
        set_case(office, cid, title=f"審核 {i}", due_date=clock.today() + dt.timedelta(days=3 if i % 2 else 90))
    staff = as_user("personnel_staff")
    url, seen = "/mine?sort=title", []
    while url:
        html = staff.get(url).get_data(as_text=True)
        seen += listed(html)
        nxt = re.search(r'href="([^"]*)" rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
    assert seen == cases
    soon = staff.get("/mine?due=soon&sort=title")
    assert listed(soon.get_data(as_text=True)) == [cases[1], cases[3]]
    assert "審核中（2 件）" in text(soon)


@pytest.mark.parametrize("who", ["liaison", "secretariat"])
def test_the_overdue_list_is_folded_to_one_line_with_its_count(
        who: str, office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    for _ in range(3):
        set_case(office, submitted(office), due_date=clock.today() - dt.timedelta(days=10))
    html = as_user(who).get("/").get_data(as_text=True)
    folded = re.search(r'<details class="late panel"[^>]*>\s*<summary>(.*?)</summary>', html, re.S)
    assert folded is not None, "no folded overdue list"
    assert " open" not in folded.group(0)  # closed until opened
    assert "逾期案件 3 件" in re.sub(r"<[^>]+>", "", folded.group(1))
    assert "<script" not in html and "style=" not in html  # CSP: nothing inline
    if '<table class="queue"' in html:  # the queue comes right after the one line
        assert html.index("</details>") < html.index('<table class="queue"')


def test_a_chief_has_no_overdue_list(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    set_case(office, submitted(office), due_date=clock.today() - dt.timedelta(days=10))
    assert "<details" not in as_user("personnel_chief").get("/").get_data(as_text=True)
