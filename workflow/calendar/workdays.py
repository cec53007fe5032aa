"""Working days as a Taiwanese office counts them.

The ``holidays`` package's Taiwan calendar knows national holidays, substituted days off and the
make-up working Saturdays (補班, ``weekend_workdays``); an office adds its own closure days (停班:
typhoon days) in ``office_closures``. One ``WorkCalendar`` is built per request or task from one
query and is then pure Python.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from workflow.models import OfficeClosure

_ONE = dt.timedelta(days=1)


@lru_cache(maxsize=64)
def _national(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("TW", years=year)


def _is_national_working_day(day: dt.date) -> bool:
    tw = _national(day.year)
    if day in tw.weekend_workdays:
        return True
    return day.weekday() < 5 and day not in tw


@lru_cache(maxsize=64)
def _year_counts(year: int) -> tuple[int, ...]:
    """counts[i]: national working days among the year's first i days (counts[0] = 0). Built once
    per year: asking the holidays package day by day cost more than the rest of a queue page."""
    counts = [0]
    day = dt.date(year, 1, 1)
    while day.year == year:
        counts.append(counts[-1] + _is_national_working_day(day))
        day += _ONE
    return tuple(counts)


@lru_cache(maxsize=64)
def _jan0(year: int) -> int:
    """The ordinal of 31 December of the year before: ``day.toordinal() - _jan0(year)`` is its day
    of the year."""
    return dt.date(year, 1, 1).toordinal() - 1


def is_national_working_day(day: dt.date) -> bool:
    """Weekdays that are not holidays, and make-up working Saturdays (補班)."""
    year = day.year
    i = day.toordinal() - _jan0(year)
    counts = _year_counts(year)
    return counts[i] > counts[i - 1]


def _national_upto(day: dt.date) -> int:
    """National working days from 1 January of ``day``'s year up to and including ``day``."""
    return _year_counts(day.year)[day.toordinal() - _jan0(day.year)]


def national_working_days_between(start: dt.date, end: dt.date) -> int:
    """National working days in (start, end]."""
    if end <= start:
        return 0
    n = _national_upto(end) - _national_upto(start)
    for year in range(start.year, end.year):
        n += _year_counts(year)[-1]
    return n


class WorkCalendar:
    def __init__(self, closures: Iterable[dt.date] = ()) -> None:
        self.closures = frozenset(closures)
        # Closure days the nation works (the only ones that change a count), sorted for ranges.
        self._working_closures = sorted(d for d in self.closures if is_national_working_day(d))

    def is_working_day(self, day: dt.date) -> bool:
        return day not in self.closures and is_national_working_day(day)

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself if the office works that day, else the next day it does."""
        while not self.is_working_day(day):
            day += _ONE
        return day

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The ``n``th working day after ``start`` (start itself does not count)."""
        day = start
        while n > 0:
            day += _ONE
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many of a time limit were used from start to end."""
        if end <= start:
            return 0
        closed = (bisect.bisect_right(self._working_closures, end)
                  - bisect.bisect_right(self._working_closures, start))
        return national_working_days_between(start, end) - closed

    def first_working_day(self, year: int) -> dt.date:
        return self.next_working_day(dt.date(year, 1, 1))


_NATIONWIDE = select(OfficeClosure.day).where(OfficeClosure.office_id.is_(None))
_FOR_OFFICE = select(OfficeClosure.day).where(
    or_(OfficeClosure.office_id.is_(None), OfficeClosure.office_id == bindparam("office")))


def for_office(s: Session, office_id: int | None) -> WorkCalendar:
    """The national calendar plus the closure days of ``office_id`` and of every office."""
    if office_id is None:
        return WorkCalendar(s.scalars(_NATIONWIDE))
    return WorkCalendar(s.scalars(_FOR_OFFICE, {"office": office_id}))
