"""The history hash chain: h_n = sha256(h_{n-1} || canonical JSON of event n), one chain per case.

Per-case chains mean offices never wait on a global chain head; the case row carries its chain's
head and length under the same version check as its state, so a deleted tail is noticed too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from workflow.db import Database
from workflow.models import Case, HistoryEvent

GENESIS = "0" * 64


def event_hash(
    prev_hash: str,
    *,
    case_id: int,
    seq: int,
    event: str,
    at: dt.datetime,
    actor_id: int | None,
    on_behalf_of_id: int | None,
    trigger: str | None,
    from_state: str | None,
    to_state: str | None,
    comment: str | None,
    data: dict[str, Any],
) -> str:
    body = {
        "case_id": case_id,
        "seq": seq,
        "event": event,
        "at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "on_behalf_of_id": on_behalf_of_id,
        "trigger": trigger,
        "from": from_state,
        "to": to_state,
        "comment": comment,
        "data": data,
    }
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def hash_of(ev: HistoryEvent) -> str:
    return event_hash(
        ev.prev_hash,
        case_id=ev.case_id,
        seq=ev.seq,
        event=ev.event,
        at=ev.at,
        actor_id=ev.actor_id,
        on_behalf_of_id=ev.on_behalf_of_id,
        trigger=ev.trigger,
        from_state=ev.from_state,
        to_state=ev.to_state,
        comment=ev.comment,
        data=ev.data or {},
    )


@dataclass(frozen=True)
class Break:
    case_id: int
    seq: int
    event_id: int | None
    problem: str
    problem_zh: str = ""  # the same in Traditional Chinese, for the history export

    def __str__(self) -> str:
        where = f"case {self.case_id} event #{self.seq}" + (f" (id {self.event_id})" if self.event_id else "")
        return f"{where}: {self.problem}"


def verify_case(events: list[HistoryEvent], case: Case) -> Break | None:
    prev = GENESIS
    for n, ev in enumerate(events, start=1):
        if ev.seq != n:
            return Break(case.id, n, ev.id, f"event #{n} is missing (found #{ev.seq} instead)",
                         f"第 {n} 筆紀錄不見了（接著的是第 {ev.seq} 筆）")
        if ev.prev_hash != prev:
            return Break(case.id, n, ev.id, "link to the previous event does not match",
                         f"第 {n} 筆紀錄與前一筆的鏈結不符")
        if hash_of(ev) != ev.hash:
            return Break(case.id, n, ev.id, "event content does not match its hash (changed after it was written)",
                         f"第 {n} 筆紀錄的內容與其雜湊值不符（寫入後被修改過）")
        prev = ev.hash
    if case.history_seq != len(events):
        return Break(case.id, len(events) + 1, None,
                     f"case says {case.history_seq} events, found {len(events)} (events removed?)",
                     f"案件記載 {case.history_seq} 筆紀錄，實有 {len(events)} 筆（紀錄被刪除？）")
    if case.history_head != prev:
        return Break(case.id, len(events), None, "case's chain head does not match its last event",
                     "案件記載的鏈首與最後一筆紀錄不符")
    return None


def verify(db: Database, *, office_id: int | None = None, batch: int = 500) -> Iterator[tuple[int, Break | None]]:
    """Yield (case id, first break or None) for every case, in id order."""
    last_id = 0
    while True:
        with db.unit_of_work(write=False) as uow:
            s = uow.session
            if db.dialect == "postgresql":
                # Read the cases and their events as of one moment. Under READ COMMITTED, a
                # transition committed between the two SELECTs shows one event more than the case
                # row says: a busy office would look tampered. (SQLite's read transaction is a
                # snapshot already.)
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            q = select(Case).where(Case.id > last_id).order_by(Case.id).limit(batch)
            if office_id is not None:
                q = q.where(Case.office_id == office_id)
            cases = list(s.scalars(q))
            if not cases:
                return
            ids = [c.id for c in cases]
            events: dict[int, list[HistoryEvent]] = {i: [] for i in ids}
            for ev in s.scalars(select(HistoryEvent).where(HistoryEvent.case_id.in_(ids))
                                .order_by(HistoryEvent.case_id, HistoryEvent.seq)):
                events[ev.case_id].append(ev)
            for c in cases:
                yield c.id, verify_case(events[c.id], c)
            last_id = ids[-1]
