"""Filters and sorting of the case lists people work from (我的工作, 我的案件), read from the URL so a
filtered, sorted list is a link that can be bookmarked, and kept on every paging link.

A plain GET form (no JavaScript): kind, unit, step, due (overdue, due within 14 days) and ROC
year, and the order (oldest in the step first, newest first, due date, title). A value the form
does not offer (a stale bookmark, a made-up link) is ignored, as if 全部 were chosen, and the form
says so. The choices of each select are what the page can hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from web.i18n import lazy_gettext as _l
from workflow import clock
from workflow.engine import registry
from workflow.views.queues import DUE_SOON_DAYS, SORTS, QueueFilter

ARGS = ("kind", "unit", "state", "due", "year", "sort")
SORT_WORDS = {"waiting": _l("等候最久的在前"), "newest": _l("最近送達的在前"), "due": _l("期限最早的在前"),
              "title": _l("依標題")}
DUE_WORDS = {"overdue": _l("已逾期"), "soon": _l("%(n)s 天內到期", n=DUE_SOON_DAYS)}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ID = re.compile(r"^[1-9][0-9]{0,9}$")
_YEAR = re.compile(r"^[1-2][0-9]{2}$")


@dataclass(frozen=True)
class Choices:
    """What each select offers: (value, words)."""

    kinds: list[tuple[str, str]]
    units: list[tuple[int, str]]
    states: list[tuple[str, str]]
    years: list[int]
    sorts: list[tuple[str, str]] = field(default_factory=lambda: [(k, str(v)) for k, v in SORT_WORDS.items()])
    dues: list[tuple[str, str]] = field(default_factory=lambda: [(k, str(v)) for k, v in DUE_WORDS.items()])


def years() -> list[int]:
    """The plan's years (112-115) and the years around this one."""
    this = clock.today().year - 1911
    return sorted({*range(112, 116), *range(this - 2, this + 2)})


@dataclass(frozen=True)
class Listing:
    filters: QueueFilter
    ignored: list[str]  # the names of values that were not among the choices
    default_sort: str = "waiting"

    @property
    def changed(self) -> bool:
        """Narrowed, or in another order than the page's own."""
        return self.filters.narrowed or self.filters.sort != self.default_sort

    def args(self) -> dict[str, str]:
        """The filters as URL parameters (for paging links): only what was chosen."""
        f = self.filters
        out = {"kind": f.kind or "", "unit": str(f.unit_id or ""), "state": f.state or "", "due": f.due or "",
               "year": str(f.year or ""), "sort": "" if f.sort == self.default_sort else f.sort}
        return {k: v for k, v in out.items() if v}


def parse(args: Mapping[str, str], choices: Choices, default_sort: str = "waiting") -> Listing:
    """The filters in ``args`` that are among ``choices``; the others are ignored (and named)."""
    ignored: list[str] = []

    def pick(name: str, allowed: Iterable[str]) -> str | None:
        raw = args.get(name, "")
        if not raw:
            return None
        if raw in set(allowed):
            return raw
        ignored.append(name)
        return None

    unit = pick("unit", [str(u) for u, _w in choices.units])
    year = pick("year", [str(y) for y in choices.years])
    sort = pick("sort", SORTS) or default_sort
    return Listing(QueueFilter(kind=pick("kind", [k for k, _w in choices.kinds]),
                               unit_id=int(unit) if unit else None,
                               state=pick("state", [s for s, _w in choices.states]),
                               due=pick("due", DUE_WORDS), year=int(year) if year else None, sort=sort), ignored,
                   default_sort)


def plausible() -> dict[str, Callable[[str], bool]]:
    """For ``web.page_cache``: values worth keeping a page for, per parameter (the form's own
    spellings; anything else is rendered and not kept)."""
    return {
        "kind": lambda v: v == "" or v in registry.default().kinds(),
        "unit": lambda v: v == "" or bool(_ID.match(v)),
        "state": lambda v: v == "" or bool(_NAME.match(v)),
        "due": lambda v: v in ("", *DUE_WORDS),
        "year": lambda v: v == "" or bool(_YEAR.match(v)),
        "sort": lambda v: v in ("", *SORTS),
    }
