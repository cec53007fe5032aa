"""Rendered pages kept while nothing they show has changed: the first page people open all day.

我的工作 is what every person opens first and comes back to after each action; most of those visits
find the page exactly as they left it. Rendering it reads the user's roles and delegations, their
queue, its deadlines and (for the liaison) the late cases, about 13 ms; serving the page as it was
costs about a tenth of that.

The signal that a kept page is still exact comes from the database, not from the code that
writes: every change to a row an office's pages show raises that office's revision in the writer's
own transaction (triggers, migration 0009: cases and their history, people, roles, delegations,
units, notifications, closures, the plan and workflow definitions). The request reads the revision
in its first statement, together with the user (``web.auth.load_user``), before it reads anything
the page shows; so a page kept under revision R shows the data of R or later, and a page is served
from here only while the revision is still R. The rest of a page's inputs are in the key: the
user, the day (deadlines, waiting days, delegations by date), the language and the query string.

Nothing that differs between two requests of one person is kept: the CSRF token in the page's
forms is put in fresh on every response, and a request with a message to flash renders afresh.
One process keeps one page per (person, office, page, language, query): a page rendered later
replaces it, and the least recently used go first beyond ``PAGE_CACHE_ENTRIES`` (0 turns keeping
off). Only the query values a view names are kept (for 我的工作, its first five pages and its
filters, spelled as the pager and the filter form spell them), and one person keeps at most
``PER_PERSON`` pages of a view (their least recently used goes first), so someone walking through
filters or made-up parameters cannot push out everyone else's pages.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from workflow import clock

# Stands for the CSRF token in a kept page; no token, word or markup contains it.
_TOKEN = "\x00caseflow-csrf-token\x00"

F = TypeVar("F", bound=Callable[..., Any])
# The values of a query parameter worth keeping a page for: a set, or a test of the value.
Allowed = Collection[str] | Callable[[str], bool]
PER_PERSON = 8  # pages of one view one person keeps (the plain page, a few filters, the pager)


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0


class PageCache:
    """One process's kept pages: (endpoint, user, office, language, query) -> ((revision, day), html)."""

    def __init__(self, entries: int, per_person: int = PER_PERSON) -> None:
        self.entries = entries
        self.per_person = per_person
        self.stats = Stats()
        self._pages: OrderedDict[tuple[Any, ...], tuple[tuple[int, dt.date], str]] = OrderedDict()
        # (view, person, office) -> their slots, least recently used first
        self._owners: dict[tuple[Any, ...], OrderedDict[tuple[Any, ...], None]] = {}
        self._lock = threading.Lock()

    def get(self, slot: tuple[Any, ...], stamp: tuple[int, dt.date]) -> str | None:
        with self._lock:
            kept = self._pages.get(slot)
            if kept is None or kept[0] != stamp:
                self.stats.misses += 1
                return None
            self._pages.move_to_end(slot)
            owner = self._owners.get(slot[:3])
            if owner is not None and slot in owner:
                owner.move_to_end(slot)
            self.stats.hits += 1
            return kept[1]

    def put(self, slot: tuple[Any, ...], stamp: tuple[int, dt.date], html: str) -> None:
        # The last page rendered wins: if a slower request rendered an older revision, the next
        # visit does not match it and renders afresh (a miss, never a stale page).
        with self._lock:
            self._pages[slot] = (stamp, html)
            self._pages.move_to_end(slot)
            mine = self._owners.setdefault(slot[:3], OrderedDict())
            mine.pop(slot, None)
            mine[slot] = None
            while len(mine) > self.per_person:  # this person's least recently used page of the view
                self._pages.pop(mine.popitem(last=False)[0], None)
            while len(self._pages) > self.entries:
                gone, _page = self._pages.popitem(last=False)
                owner = self._owners.get(gone[:3])
                if owner is not None:
                    owner.pop(gone, None)
                    if not owner:
                        del self._owners[gone[:3]]

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._owners.clear()


def init_page_cache(app: Any) -> None:
    app.extensions["caseflow_page_cache"] = PageCache(int(app.config.get("PAGE_CACHE_ENTRIES", 0)))


def page_cache() -> PageCache:
    return cast(PageCache, current_app.extensions["caseflow_page_cache"])


def _allowed(rule: Allowed, value: str) -> bool:
    return rule(value) if callable(rule) else value in rule


def kept_while_unchanged(args: Mapping[str, Allowed] | None = None) -> Callable[[F], F]:
    """Serve a GET view's page from ``page_cache()`` while its office's revision and the day are
    those it was rendered at. ``args``: the query parameters the page reads, each with the values
    worth keeping (a set, or a test); a request with any other parameter or value is rendered
    afresh and not kept."""
    keep = args or {}

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*a: Any, **kw: Any) -> Any:
            cache = page_cache()
            revision = getattr(current_user, "revision", None)
            query = list(request.args.items(multi=True))
            if (cache.entries <= 0 or revision is None or request.method != "GET" or "_flashes" in session
                    or len(query) != len(request.args)  # a parameter given twice
                    or any(k not in keep or not _allowed(keep[k], v) for k, v in query)):
                return view(*a, **kw)
            slot = (request.endpoint, current_user.id, current_user.office_id, str(get_locale()),
                    tuple(sorted(query)), tuple(sorted(kw.items())))
            stamp = (revision, clock.today())
            html = cache.get(slot, stamp)
            if html is not None:
                return html.replace(_TOKEN, generate_csrf())
            html = view(*a, **kw)
            if isinstance(html, str):
                cache.put(slot, stamp, html.replace(generate_csrf(), _TOKEN))
            return html

        return cast(F, wrapper)

    return decorate
