"""搜尋 as people use it: the box in every page's header, the results page (words marked, paged,
the query kept), another unit's draft never listed, a clear message for a query of spaces or
symbols (422, the query kept in the box), a constant number of SQL statements whatever the
number of hits, and the same search through the API."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.conftest import OfficeFixture
from tests.test_search import amendment
from tests.web.conftest import Browser, forms, text
from workflow.people import api_tokens


def found(html: str) -> list[int]:
    """The cases listed as results, in order (not the nav's links)."""
    part = html.split('class="hits"', 1)[1] if 'class="hits"' in html else ""
    return [int(m) for m in re.findall(r'href="/cases/(\d+)"', part)]


def test_the_search_box_is_in_every_page_header(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    b = as_user("civil_staff")
    for url in ["/", "/notifications", "/registers/outreach"]:
        html = b.get(url).get_data(as_text=True)
        assert "/search" in forms(html), url
        assert 'role="search"' in html and 'name="q"' in html


def test_a_word_of_the_title_finds_the_case_and_links_to_it(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = amendment(office, "115年性別意識培力計畫修正")
    b = as_user("secretariat_staff")
    resp = b.get("/search?q=培力")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert found(html) == [cid]
    assert "<mark>培力</mark>" in html and "找到 1 件" in text(resp)
    assert 'value="培力"' in html  # the query stays in the box
    assert b.get(f"/cases/{cid}").status_code == 200


def test_fields_and_comments_are_found_with_the_text_around_them(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    cid = amendment(office, "第三次計畫修正", reason="依委員陳曉華建議，增列多元性別友善措施")
    b = as_user("secretariat")
    page = text(b.get("/search?q=陳曉華"))
    assert "內容欄位：" in page and "陳曉華" in page
    assert found(b.get("/search?q=陳曉華").get_data(as_text=True)) == [cid]


def test_another_units_draft_is_never_found(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    """A 人事室 draft: its unit and the secretariat find it; 民政課 staff do not (the case page would
    answer 404 to them), and neither does another office."""
    cid = office.case("training_report", fields={"summary": "獨特字詞甲乙丙的草稿"})
    assert found(as_user("personnel_staff2").get("/search?q=甲乙丙").get_data(as_text=True)) == [cid]
    assert found(as_user("secretariat").get("/search?q=甲乙丙").get_data(as_text=True)) == [cid]
    civil = as_user("civil_staff")
    assert found(civil.get("/search?q=甲乙丙").get_data(as_text=True)) == []
    assert civil.get(f"/cases/{cid}").status_code == 404
    assert "沒有您可以閱讀的案件含有「甲乙丙」" in text(civil.get("/search?q=甲乙丙"))


def test_spaces_or_symbols_come_back_with_a_message_and_the_query_kept(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    b = as_user("civil_staff")
    symbols = "只有空白、標點或符號無法搜尋"
    for q, says in [("   ", "請輸入要找的字詞"), ("%_%", symbols), ("？！", symbols),
                    ("培" * 150, "搜尋字詞最多 100 字")]:
        resp = b.get("/search", query_string={"q": q})
        assert resp.status_code == 422, q
        html = resp.get_data(as_text=True)
        assert says in text(resp) and 'class="field-error"' in html and 'aria-invalid="true"' in html
        if q.strip():
            assert f'value="{q}"' in html.replace("&#34;", '"')
    assert b.get("/search").status_code == 200  # no query yet: just the box
    for q in ["'", '"', "%", "\\", "<script>", "培力' OR 1=1 --"]:
        assert b.get("/search", query_string={"q": q}).status_code in (200, 422), q
    resp = b.get("/search", query_string={"q": "<script>alert(1)</script>"})
    assert "<script>alert" not in resp.get_data(as_text=True)


def test_results_are_paged_with_the_query_kept(office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    made = [amendment(office, f"分頁搜尋修正 {i:02d}") for i in range(23)]
    b = as_user("secretariat")
    first = b.get("/search?q=分頁搜尋").get_data(as_text=True)
    assert len(found(first)) == 20 and "找到 23 件（第 1 至 20 件）" in first
    nxt = re.search(r'href="(/search\?[^"]*page=2[^"]*)" rel="next"', first)
    assert nxt is not None
    second = b.get(nxt.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert sorted(found(first) + found(second)) == sorted(made)


def test_statements_do_not_grow_with_the_number_of_hits(
        office: OfficeFixture, as_user: Callable[[str], Browser]) -> None:
    for i in range(3):
        amendment(office, f"三件修正 {i}", reason="共同字詞甲")
    for i in range(30):
        amendment(office, f"三十件修正 {i}", reason="共同字詞乙")
    b = as_user("secretariat")

    def count(q: str) -> int:
        assert b.get(f"/search?q={q}").status_code == 200  # warm
        with office.db.count_statements() as n:
            assert b.get(f"/search?q={q}").status_code == 200
        return n[0]

    assert len(found(b.get("/search?q=三件修正").get_data(as_text=True))) == 3
    assert len(found(b.get("/search?q=三十件修正").get_data(as_text=True))) == 20
    assert count("三件修正") == count("三十件修正") == count("共同字詞")


def test_the_api_answers_the_same(office: OfficeFixture) -> None:
    from web import create_app

    cid = amendment(office, "API 搜尋測試修正", reason="由介接系統查詢")
    draft = office.case("training_report", fields={"summary": "API 搜尋測試的人事室草稿"})
    app = create_app({"TESTING": True, "DATABASE_URL": office.db.url, "RATELIMIT_STORAGE_URI": "memory://",
                      "BACKGROUND_WORK": False})
    client = app.test_client()

    def get(who: str, q: str) -> tuple[int, dict[str, object]]:
        token = api_tokens.issue(office.db, office.users[who], "search").token
        resp = client.get("/api/v1/search", query_string={"q": q}, headers={"Authorization": f"Bearer {token}"})
        return resp.status_code, resp.get_json()

    status, body = get("secretariat", "搜尋測試")
    assert status == 200 and {i["id"] for i in body["items"]} == {cid, draft}  # type: ignore[union-attr]
    status, body = get("civil_staff", "搜尋測試")
    assert status == 200 and {i["id"] for i in body["items"]} == set()  # type: ignore[union-attr]
    status, body = get("secretariat", "介接")
    item = body["items"][0]  # type: ignore[index]
    assert item["matched_in"] == "fields" and item["snippet"][slice(*item["highlights"][0])] == "介接"
    status, body = get("secretariat", "%%")
    assert status == 422 and body["code"] == "validation_error" and "q" in body["errors"]  # type: ignore[operator]
