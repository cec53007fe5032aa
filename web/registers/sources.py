"""Where a result table's numbers come from: on a case page, each rows table with men and women
gets its totals, and a link to the register rows behind them (the period's events, courses or
budget items), for the kinds ``workflow.registers.fill`` fills.

The case keeps what it was filled with; the link shows the register as it is now, so a reader can
compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for

from web.filters import paren
from web.i18n import gettext as _
from web.i18n import localized
from web.labels import period_label
from workflow.models import Case
from workflow.registers import fill

# register (``fill.Source.register``) -> the endpoints of its page
PAGES = {"training": ("registers.show",), "outreach": ("outreach.show",), "budget": ("budget.show",),
         "all": ("registers.show", "outreach.show", "budget.show", "task_force.show")}
PAGE_WORDS = {"registers.show": ("培力紀錄", "training register"), "outreach.show": ("宣導紀錄", "outreach register"),
              "budget.show": ("性別預算", "gender budget"), "task_force.show": ("專案小組", "task force")}


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Totals:
    field: str
    male: int
    female: int

    @property
    def total(self) -> int:
        return self.male + self.female


def _int(value: Any) -> int:
    try:
        return int(float(value or 0))
    except (TypeError, ValueError):
        return 0


def totals(case: Case) -> list[Totals]:
    """Men and women summed over each rows field that counts them."""
    out = []
    for name, value in (case.fields or {}).items():
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value) \
                and any("male" in r or "female" in r for r in value):
            out.append(Totals(name, sum(_int(r.get("male")) for r in value), sum(_int(r.get("female")) for r in value)))
    return out


def links(case: Case) -> list[Link]:
    src = fill.SOURCES.get(case.kind)
    if src is None:
        return []
    year = case.roc_year - 1 if case.kind == "annual_result" else case.roc_year
    period = case.period if src.by_period and case.period not in (None, "Y") else None
    when = _("%(year)s年%(period)s", year=year, period=period_label(period)) if period else _("%(year)s年", year=year)
    out = []
    for endpoint in PAGES[src.register]:
        args: dict[str, Any] = {"year": year}
        if period and endpoint in ("outreach.show", "registers.show"):
            args["period"] = period
        out.append(Link(localized(*PAGE_WORDS[endpoint]) + paren(when), url_for(endpoint, **args)))
    return out
