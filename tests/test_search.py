"""Search over cases (workflow.search, migration 0018) on the database the suite runs on (SQLite's
FTS5 or PostgreSQL's full-text index): a part of a Chinese word, a field's value and a history
comment find a case as soon as the change commits; every word must be found; punctuation, quotes,
LIKE's wildcards and overlong queries are plain text or a clear refusal; and the index follows
every way a case changes, including plain SQL. On PostgreSQL the query side (Python) and the
index side (SQL functions) must cut text into the same terms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text as sql

from tests.conftest import OfficeFixture, make_office
from workflow.cases import approval, drafts
from workflow.db import Database
from workflow.errors import ValidationError
from workflow.search import find, text
from workflow.search.text import fold, terms


def amendment(office: OfficeFixture, title: str, reason: str = "配合市府修正", **changes: str) -> int:
    """A plan amendment (ad hoc: any number of them) drafted by the secretariat's staff member."""
    row = {"amended": "修正後", "current": "現行", "explanation": "說明", **changes}
    return drafts.create_case(kind="plan_amendment", unit_id=office.units["secretariat"], roc_year=115, title=title,
                              actor=office.users["secretariat_staff"], db=office.db,
                              fields={"reason": reason, "changes": [row]})


def search(office: OfficeFixture, q: str, **kw: Any) -> find.Results:
    with office.db.unit_of_work(write=False) as uow:
        return find.find(uow.session, office.id, None, text.parse(q), **kw)


def ids(office: OfficeFixture, q: str) -> set[int]:
    return {h.case_id for h in search(office, q).hits}


def test_any_part_of_a_chinese_word_finds_the_case(office: OfficeFixture) -> None:
    cid = amendment(office, "115年性別意識培力計畫修正")
    other = amendment(office, "宣導活動計畫修正")
    for part in ["培力", "意識培", "性別意識培力", "力", "115年", "１１５年", "計畫修正"]:
        assert cid in ids(office, part), part
    assert ids(office, "培力") == {cid}
    assert ids(office, "培養") == set() and ids(office, "力培") == set()
    assert ids(office, "計畫修正") == {cid, other}
    hit = search(office, "培力").hits[0]
    assert hit.matched_in == "title" and ("培力", True) in hit.snippet


def test_a_field_value_and_a_comment_find_the_case(office: OfficeFixture) -> None:
    cid = amendment(office, "第二次計畫修正", reason="依講師王大明教授建議調整課程", explanation="新增多元性別議題")
    assert ids(office, "王大明") == {cid} and ids(office, "多元性別") == {cid}
    hit = search(office, "王大明").hits[0]
    assert hit.matched_in == "fields" and ("王大明", True) in hit.snippet
    # A comment in the history is found once the transition has committed.
    approval.fire(cid, "submit", office.users["secretariat_staff"], db=office.db)
    approval.fire(cid, "return_for_revision", office.users["secretariat_chief"], comment="請補上簽到表正本",
                  db=office.db)
    hit = search(office, "簽到表").hits[0]
    assert hit.case_id == cid and hit.matched_in == "comments" and ("簽到表", True) in hit.snippet
    # Saving the fields replaces what is found: the old value is gone, the new one is there.
    version = int(_scalar(office.db, "SELECT version FROM cases WHERE id = :id", id=cid))
    changes = [{"amended": "甲", "current": "乙", "explanation": "丙"}]
    drafts.save_fields(cid, office.users["secretariat_staff"], {"reason": "依委員林小華意見修正", "changes": changes},
                       version, title="第二次計畫修正（修訂）", db=office.db)
    assert ids(office, "王大明") == set() and ids(office, "林小華") == {cid} and ids(office, "修訂") == {cid}
    assert ids(office, "簽到表") == {cid}  # the history keeps its comments


def test_every_word_must_be_found_and_title_hits_come_first(office: OfficeFixture) -> None:
    in_title = amendment(office, "性別預算審議修正")
    in_fields = amendment(office, "其他修正", reason="性別預算執行率不足")
    amendment(office, "性別平等修正")
    assert ids(office, "性別 預算") == {in_title, in_fields}
    assert [h.case_id for h in search(office, "性別 預算").hits] == [in_title, in_fields]
    assert ids(office, "性別　執行率") == {in_fields}  # a full-width space separates words too


def test_symbols_quotes_wildcards_and_long_input_are_plain_text(office: OfficeFixture) -> None:
    percent = amendment(office, "執行率100%達成")
    quoted = amendment(office, "it's \"quoted\" O'Brien")
    plain = amendment(office, "培力課程")
    for q, expected in [("100%", {percent}), ("0%達", {percent}), ("培_力", set()), ("培%力", set()),
                        ("it's", {quoted}), ('"quoted"', {quoted}), ("o'brien", {quoted}), ("培力'", set()),
                        ("'; DROP TABLE cases; --", set()), ("培力 --", {plain})]:
        assert ids(office, q) == expected, q
    for q in ["", "   ", "　", "%", "_", "%%__''\"\"", "，。！？「」", "\x00", "- -"]:
        with pytest.raises(ValidationError) as exc:
            text.parse(q)
        assert "q" in exc.value.errors
    with pytest.raises(ValidationError, match="100"):
        text.parse("培" * 101)
    assert ids(office, "培" * 100) == set()  # the longest query is answered
    with pytest.raises(ValidationError):
        text.parse(" ".join(f"w{i}" for i in range(9)))


def test_pages_and_total(office: OfficeFixture) -> None:
    made = [amendment(office, f"分頁測試修正 {i}") for i in range(7)]
    first = search(office, "分頁測試", limit=3)
    assert first.total == 7 and len(first.hits) == 3
    seen = [h.case_id for p in range(3) for h in search(office, "分頁測試", limit=3, offset=3 * p).hits]
    assert sorted(seen) == sorted(made)
    past = search(office, "分頁測試", limit=3, offset=30)
    assert past.hits == [] and past.total == 7


def test_another_office_is_never_found(office: OfficeFixture, office_factory: Callable[[], OfficeFixture]) -> None:
    theirs = office_factory()
    amendment(theirs, "他區的培力修正")
    mine = amendment(office, "本區的培力修正")
    assert ids(office, "培力修正") == {mine}


def test_the_index_follows_plain_sql_too(office: OfficeFixture) -> None:
    """The triggers keep the index whoever writes: a script or psql renaming a case."""
    cid = amendment(office, "原來的標題修正")
    with office.db.engine.begin() as conn:
        conn.execute(sql("UPDATE cases SET title = :t WHERE id = :id"), {"t": "改過的標題修正", "id": cid})
    assert ids(office, "原來的") == set() and ids(office, "改過的") == {cid}


def test_the_triggers_are_there_at_head(db: Database) -> None:
    """A later migration that rebuilds cases or case_history (SQLite's batch mode) would drop the
    triggers without a word."""
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            found = set(conn.scalars(sql("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'case_search%'")))
            wanted = {"case_search_prepare", "case_search_case_insert", "case_search_case_update",
                      "case_search_comment"}
        else:
            found = set(conn.scalars(sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
            wanted = {"case_search_case_insert", "case_search_case_update", "case_search_case_delete",
                      "case_search_comment"}
    assert wanted <= found


def _scalar(db: Database, statement: str, **params: Any) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(sql(statement), params).scalar()


SAMPLES = ["115年「性別意識培力」成果", "ＣＥＤＡＷ　１１３年", "Gender-Mainstreaming 101: Café",
           "々〇ひらがなカタカナ", "𠀋𡈽 ㄅㄆ 한국어", "tab\there, comma,and;semicolon", "", "％＿＊", "Ⅻ ① ㈱"]


@pytest.mark.postgres
def test_python_and_postgresql_cut_text_the_same_way(pg_db: Database) -> None:
    """The query's terms (Python) and the index's terms (migration 0018's SQL functions) agree, so a
    word is always looked for with the terms its text was indexed under."""
    with pg_db.engine.connect() as conn:
        for sample in SAMPLES:
            folded = conn.execute(sql("SELECT case_search_fold(:t)"), {"t": sample}).scalar()
            assert folded == fold(sample), sample
            indexed = conn.execute(sql("SELECT tsvector_to_array(case_search_terms(case_search_fold(:t)))"),
                                   {"t": sample}).scalar()
            assert set(indexed) == terms(fold(sample)), sample
        for word in ["培力", "意識培", "x", "１１３", "café", "a-b"]:
            w = text.parse(word).words[0]
            assert w.terms <= terms(fold(f"前{word}後")), word


@pytest.mark.postgres
def test_appended_comments_index_as_a_full_recomputation_would(pg_db: Database, _password_hash: str) -> None:
    """Migration 0023: a comment appended to a case's index folds and cuts only the comment; what is
    stored is exactly what folding and cutting everything again gives (comments with full-width
    forms, combining marks, ligatures and symbols, appended by transitions and by plain SQL)."""
    office = make_office(pg_db, _password_hash)
    cid = amendment(office, "標題Ⅻ修正", reason="ｆｉｅｌｄｓ ①")
    staff, chief = office.users["secretariat_staff"], office.users["secretariat_chief"]
    full = ("SELECT row(norm, doc)::text = row(case_search_fold(title || ' ' || fields_text || ' ' || comments), "
            "case_search_terms(case_search_fold(title || ' ' || fields_text || ' ' || comments)))::text "
            "FROM case_search WHERE case_id = :id")
    for comment in ["請補正", "請補正", "e\u0301 ﬁ 第二次"]:
        approval.fire(cid, "submit", staff, db=pg_db)
        approval.fire(cid, "return_for_revision", chief, comment=comment, db=pg_db)
        assert _scalar(pg_db, full, id=cid) is True, comment
    for sample in [*SAMPLES, "\u0301開頭是組合符號"]:
        with pg_db.engine.begin() as conn:
            conn.execute(sql("UPDATE case_search SET comments = comments || E'\\n' || :c WHERE case_id = :id"),
                         {"c": sample, "id": cid})
        assert _scalar(pg_db, full, id=cid) is True, sample
    assert ids(office, "開頭是") == {cid} and ids(office, "第二次") == {cid}
