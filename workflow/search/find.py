"""Finding cases: one page of the cases a person may read that contain every word of a query, in
their title, fields or history comments, with the total, in one SQL statement whatever the number
of hits (two for a page past the end).

The caller gives the read rule as a condition on ``Case`` (``web.access.readable_cases``: the same
rule the case page applies), so a search never lists what the case page would refuse. Cases whose
title has every word come first, then the most recently changed.

PostgreSQL: the GIN index gives the cases holding every term of every word (``@@``), and
``strpos`` on the folded text keeps those containing each word as typed. SQLite: FTS5's trigram
index answers words of three characters or more (a phrase is any substring); shorter words are
looked for with instr() in every row of the index (FTS5 cannot index fewer than three characters;
its own LIKE answers nothing for them on SQLite 3.40, so it is not used). That read grows with the
rows of every office in the file: the embedded default holds one office; production runs
PostgreSQL, whose pairs index every length.

Why pairs rather than trigrams on PostgreSQL: most Chinese words are two characters (培力, 宣導,
預算), below what a trigram index can answer. Measured with ``caseflow bench search`` (an office of
10,000 cases, the page as served, p95, on a shared 2-core machine): PostgreSQL 7-41 ms whatever the
query; SQLite 8-46 ms for words FTS5 indexes and up to 81 ms for a two-character word, which it
reads from every row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Select,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import Session

from workflow.models import Case, Unit
from workflow.search.text import Query, Word, locate

# The index (migration 0018) has no model: only its triggers write it. On SQLite it is an FTS5
# table whose rowid is the case's id.
_PG = Table("case_search", MetaData(), Column("case_id", Integer, primary_key=True), Column("office_id", Integer),
            Column("title", Text), Column("fields_text", Text), Column("comments", Text), Column("norm", Text),
            Column("doc", TSVECTOR))
_SQLITE = Table("case_search", MetaData(), Column("rowid", Integer, key="case_id", primary_key=True),
                Column("office_id", Integer), Column("title", Text), Column("fields_text", Text),
                Column("comments", Text))

SNIPPET_CHARS = 60  # about this many characters around the first match


@dataclass(frozen=True)
class Hit:
    case_id: int
    kind: str
    workflow_version: int
    title: str
    state: str
    unit_id: int
    unit_name: str
    unit_name_en: str | None
    roc_year: int
    period: str | None
    updated_at: dt.datetime
    matched_in: str  # "title", "fields" or "comments": where the first word was found
    snippet: tuple[tuple[str, bool], ...]  # text around it, as (piece, is a match) pairs

    @property
    def snippet_text(self) -> str:
        return "".join(piece for piece, _match in self.snippet)


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int


def index_table(dialect: str) -> Table:
    return _PG if dialect == "postgresql" else _SQLITE


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _conditions(dialect: str, t: Table, query: Query) -> tuple[list[ColumnElement[bool]], ColumnElement[bool]]:
    """(what a hit must satisfy, whether its title has every word)."""
    if dialect == "postgresql":
        tsquery = " & ".join(f"'{term}'" for term in query.terms)  # terms are word characters only
        where: list[ColumnElement[bool]] = [t.c.doc.bool_op("@@")(cast(literal(tsquery), TSQUERY))]
        where += [func.strpos(t.c.norm, w.folded) > 0 for w in query.words]
        # For the order only: the raw title in lower case (folding every hit's title costs more).
        in_title = and_(*[func.strpos(func.lower(t.c.title), w.folded) > 0 for w in query.words])
        return where, in_title
    everything = t.c.title + " " + t.c.fields_text + " " + t.c.comments
    long_words = [w for w in query.words if min(len(w.raw), len(w.folded)) >= 3]
    where = []
    if long_words:
        where.append(literal_column("case_search").bool_op("MATCH")(" AND ".join(
            "(" + " OR ".join(_fts_phrase(v) for v in _variants(w)) + ")" for w in long_words)))
    for w in query.words:
        if w not in long_words:
            where.append(_any_instr(everything, w))
    in_title = and_(*[_any_instr(t.c.title, w) for w in query.words])
    return where, in_title


def _variants(w: Word) -> list[str]:
    """SQLite does not fold full-width forms: look for the word as typed and as folded."""
    return sorted({w.raw.lower(), w.folded})


def _any_instr(text: Any, w: Word) -> ColumnElement[bool]:
    """The word in ``text``, ASCII letters in either case (SQLite's lower() folds only those, and
    costs a copy of every text read: only when the word has such letters)."""
    variants = _variants(w)
    if any("a" <= ch <= "z" for v in variants for ch in v):
        text = func.lower(text)
    return or_(*[func.instr(text, v) > 0 for v in variants])


def _driving(dialect: str, t: Table) -> ColumnElement[Any]:
    """The index's case id, for the join to ``cases``. On SQLite as ``+rowid``: its planner would
    otherwise read the office's cases and probe FTS5 for each (five times slower than reading the
    FTS5 table once and each hit's case by its key)."""
    return t.c.case_id if dialect == "postgresql" else literal_column("+case_search.rowid")


def _matching(dialect: str, office_id: int, readable: ColumnElement[bool], query: Query
              ) -> tuple[Select[*tuple[Any, ...]], ColumnElement[bool]]:
    """The cases of the office this reader may read that hold every word (ids only), and whether
    the title has every word."""
    t = index_table(dialect)
    where, in_title = _conditions(dialect, t, query)
    return (select(Case.id).select_from(t.join(Case, Case.id == _driving(dialect, t)))
            .where(t.c.office_id == office_id, Case.office_id == office_id, readable, *where)), in_title


def _statement(dialect: str, office_id: int, readable: ColumnElement[bool], query: Query, limit: int,
               offset: int) -> Select[*tuple[Any, ...]]:
    """The page, in two steps of one statement: the hits' ids in order with their total (narrow rows:
    a word in every case sorts thousands of them), then only the page's rows with their texts."""
    t = index_table(dialect)
    matching, in_title = _matching(dialect, office_id, readable, query)
    rank = case((in_title, 0), else_=1)
    page = (matching.with_only_columns(Case.id.label("id"), rank.label("rank"), Case.updated_at.label("changed"),
                                       func.count().over().label("total"))
            .order_by(rank, Case.updated_at.desc(), Case.id.desc()).limit(limit).offset(offset).subquery("p"))
    return (
        select(Case.id, Case.kind, Case.workflow_version, Case.title, Case.state, Case.unit_id, Unit.name,
               Unit.name_en, Case.roc_year, Case.period, Case.updated_at, t.c.fields_text, t.c.comments, page.c.total)
        .select_from(page.join(Case, Case.id == page.c.id).join(Unit, Unit.id == Case.unit_id)
                     .join(t, t.c.case_id == Case.id))
        .order_by(page.c.rank, page.c.changed.desc(), page.c.id.desc())
    )


def find(s: Session, office_id: int, readable: ColumnElement[bool] | None, query: Query, *, limit: int = 20,
         offset: int = 0) -> Results:
    """One page of hits (``offset`` to ``offset + limit``) and how many there are in all."""
    dialect = s.get_bind().dialect.name
    readable = true() if readable is None else readable
    rows = s.execute(_statement(dialect, office_id, readable, query, limit, offset)).all()
    if rows:
        total = int(rows[0].total)
    elif offset:  # past the last page: no row carries the total
        matching, _in_title = _matching(dialect, office_id, readable, query)
        total = int(s.scalar(select(func.count()).select_from(matching.subquery())) or 0)
    else:
        total = 0
    return Results([_hit(row, query) for row in rows], total)


def _hit(row: Any, query: Query) -> Hit:
    matched_in, snippet = snippet_for(query, row.title, row.fields_text or "", row.comments or "")
    return Hit(row.id, row.kind, row.workflow_version, row.title, row.state, row.unit_id, row.name, row.name_en,
               row.roc_year, row.period, row.updated_at, matched_in, snippet)


def snippet_for(query: Query, title: str, fields_text: str, comments: str
                ) -> tuple[str, tuple[tuple[str, bool], ...]]:
    """Where the first word that matches is found (title, then fields, then comments) and the text
    around it with every word of the query marked."""
    sources = (("title", title), ("fields", fields_text), ("comments", comments))
    for word in query.words:
        for name, text in sources:
            found = locate(text, word.folded)
            if found is None:
                continue
            if name == "title":
                return name, _marked(title, query)
            start = max(0, found[0] - SNIPPET_CHARS // 3)
            end = min(len(text), start + SNIPPET_CHARS)
            pieces = _marked(" ".join(text[start:end].split()), query)
            if start > 0:
                pieces = (("…", False), *pieces)
            if end < len(text):
                pieces = (*pieces, ("…", False))
            return name, pieces
    return "title", ((title, False),)


def _marked(text: str, query: Query) -> tuple[tuple[str, bool], ...]:
    """``text`` cut into (piece, is a match) for every occurrence of every word."""
    spans: list[tuple[int, int]] = []
    for word in query.words:
        pos = 0
        while pos < len(text):
            found = locate(text[pos:], word.folded)
            if found is None:
                break
            spans.append((pos + found[0], pos + found[1]))
            pos += found[1]
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in sorted(spans):
        if start < at:
            continue  # overlapping another word's match
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return tuple(out)
