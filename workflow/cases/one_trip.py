"""A transition's writes (compare-and-set of the case, its hash-chained history row, its outbox rows)
in one round trip on PostgreSQL: one statement whose data-modifying CTEs do all three.

Shape (PostgreSQL)::

    WITH upd AS (UPDATE cases SET ... WHERE id = :id AND version = :seen AND history_seq = :seq
                 RETURNING cases.id),
         hist AS (INSERT INTO case_history (...) SELECT :h_... FROM upd)
    INSERT INTO outbox (...) SELECT :o0_... FROM upd UNION ALL SELECT :o1_... FROM upd
    RETURNING outbox.id

The history and outbox rows select FROM ``upd``: when the compare-and-set matches no row (someone
was first) nothing is inserted and no id comes back, exactly as when the UPDATE and INSERTs were
separate statements. A concurrent writer still blocks on the case row's lock in ``upd`` and then
matches no row, before it could collide on the history's (case_id, seq) key. Every transition has
at least one outbox row (its hand-off notice), so "no id" means "the CAS lost".

Elsewhere (SQLite: no DML in a CTE, and a statement costs no round trip there) the same writes run
as separate statements (``writes.write``, then one INSERT of the outbox rows). Statements are built
once per shape (which case columns change, how many outbox rows) and kept.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CTE, Insert, Table, bindparam, insert, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.cases import writes
from workflow.db import Database
from workflow.models import Case, HistoryEvent, OutboxMessage

_cases = cast(Table, Case.__table__)
_history = cast(Table, HistoryEvent.__table__)
_outbox = cast(Table, OutboxMessage.__table__)
_INSERT_OUTBOX = insert(_outbox)
HISTORY_KEYS = ("office_id", "case_id", "seq", "event", "at", "actor_id", "on_behalf_of_id", "trigger",
                "from_state", "to_state", "comment", "data", "prev_hash", "hash")
OUTBOX_KEYS = ("office_id", "topic", "payload", "created_at", "available_at", "attempts")
_statements: dict[tuple[tuple[str, ...], int], Insert] = {}
# INSERT ... SELECT ... UNION ALL SELECT ...: SQLAlchemy caches its compiled form, not that of a
# multi-row VALUES (compiling one costs more than running it on SQLite).
_outbox_inserts: dict[int, Insert] = {}


def write_transition(
    s: Session, database: Database, case: writes.CaseLike, values: dict[str, Any], history: dict[str, Any],
    outbox: list[dict[str, Any]],
) -> tuple[int, ...]:
    """Compare-and-set the case, append ``history``, insert ``outbox`` (at least one row); returns the
    outbox ids. Raises ``writes.HistoryMoved`` or Conflict (after rolling back) if someone was first."""
    if not outbox:
        raise ValueError("a transition writes at least one outbox row")
    if s.connection().dialect.name != "postgresql":
        writes.write(s, database, case, values, history)
        return _insert_outbox(s, outbox)
    values = {**values, "history_seq": history["seq"], "history_head": history["hash"]}
    keys = tuple(sorted(values))
    stmt = _statements.get((keys, len(outbox)))
    if stmt is None:
        stmt = _statements[(keys, len(outbox))] = _statement(keys, len(outbox))
    params: dict[str, Any] = {"c_id": case.id, "c_version": case.version, "c_seq": case.history_seq}
    params.update({f"v_{k}": v for k, v in values.items()})
    params.update({f"h_{k}": history[k] for k in HISTORY_KEYS})
    for i, row in enumerate(outbox):
        params.update({f"o{i}_{k}": row[k] for k in OUTBOX_KEYS})
    try:
        ids = tuple(sorted(s.connection().execute(stmt, params).scalars()))
    except IntegrityError:
        ids = ()
    if not ids:
        writes.lost(s, database, case)
    return ids


def _statement(value_keys: tuple[str, ...], n_outbox: int) -> Insert:
    upd = (
        update(_cases)
        .where(_cases.c.id == bindparam("c_id"), _cases.c.version == bindparam("c_version"),
               _cases.c.history_seq == bindparam("c_seq"))
        .values(version=_cases.c.version + 1,
                **{k: bindparam(f"v_{k}", type_=_cases.c[k].type) for k in value_keys})
        .returning(_cases.c.id)
        .cte("upd")
    )
    hist = insert(_history).from_select(
        HISTORY_KEYS,
        select(*[bindparam(f"h_{k}", type_=_history.c[k].type) for k in HISTORY_KEYS]).select_from(upd),
        include_defaults=False,
    ).cte("hist")
    return _outbox_insert(n_outbox, upd).returning(_outbox.c.id).add_cte(hist)


def _outbox_insert(n: int, after: CTE | None) -> Insert:
    """INSERT of ``n`` outbox rows from SELECTs of bound values (FROM ``after``, when given)."""
    rows = []
    for i in range(n):
        row = select(*[bindparam(f"o{i}_{k}", type_=_outbox.c[k].type) for k in OUTBOX_KEYS])
        rows.append(row if after is None else row.select_from(after))
    return insert(_outbox).from_select(OUTBOX_KEYS, rows[0] if n == 1 else union_all(*rows), include_defaults=False)


def _insert_outbox(s: Session, rows: list[dict[str, Any]]) -> tuple[int, ...]:
    """The outbox rows in one INSERT of as many VALUES; every row's id comes back (the after-commit
    listeners get them)."""
    conn = s.connection()
    if not conn.dialect.insert_returning:
        keys = [conn.execute(_INSERT_OUTBOX, row).inserted_primary_key for row in rows]
        return tuple(int(k[0]) for k in keys if k is not None)
    stmt = _outbox_inserts.get(len(rows))
    if stmt is None:
        stmt = _outbox_inserts[len(rows)] = _outbox_insert(len(rows), None).returning(_outbox.c.id)
    params = {f"o{i}_{k}": row[k] for i, row in enumerate(rows) for k in OUTBOX_KEYS}
    return tuple(sorted(conn.execute(stmt, params).scalars()))

