"""Real hash chains for the history rows the benches bulk-insert, so `caseflow audit verify` passes.

The seeders write cases and their events with Core bulk inserts (a transition per event would take
hours for 100,000 cases). ``seal`` links those event rows exactly as a transition would, and
``set_heads`` writes each case's chain head, so a seeded database is told apart from a tampered one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from workflow.engine.audit import GENESIS, event_hash
from workflow.models import Case


def seal(events: Iterable[dict[str, Any]]) -> dict[int, str]:
    """Fill ``prev_hash`` and ``hash`` of event rows (given in ``seq`` order per case) in place.

    Returns each case's chain head. The rows are the dicts a bulk insert into the history takes.
    """
    heads: dict[int, str] = {}
    for ev in events:
        cid = ev["case_id"]
        prev = heads.get(cid, GENESIS)
        ev["prev_hash"] = prev
        ev["hash"] = heads[cid] = event_hash(
            prev, case_id=cid, seq=ev["seq"], event=ev["event"], at=ev["at"], actor_id=ev.get("actor_id"),
            on_behalf_of_id=ev.get("on_behalf_of_id"), trigger=ev.get("trigger"), from_state=ev.get("from_state"),
            to_state=ev.get("to_state"), comment=ev.get("comment"), data=ev.get("data") or {})
    return heads


def set_heads(s: Session, heads: dict[int, str]) -> None:
    """Write each case's chain head (one executemany UPDATE by primary key)."""
    if heads:
        s.execute(update(Case), [{"id": cid, "history_head": head} for cid, head in heads.items()])
