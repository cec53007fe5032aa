"""The one place caseflow asks what time it is.

Tests move it with time-machine. ``shifted`` lets the demo seeder write a believable past (cases
submitted weeks ago) through the same operations a user's actions go through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo

TAIPEI = ZoneInfo("Asia/Taipei")
_offset: ContextVar[dt.timedelta] = ContextVar("clock_offset", default=dt.timedelta(0))


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + _offset.get()


def today() -> dt.date:
    """Today's date in Taiwan, which is what 'valid today' and deadlines mean."""
    return now().astimezone(TAIPEI).date()


def current_roc_year() -> int:
    return today().year - 1911


@contextmanager
def shifted(to: dt.datetime) -> Iterator[None]:
    """Within the block, ``now()`` reads as ``to`` (plus the time that passes)."""
    token = _offset.set(to - dt.datetime.now(dt.UTC))
    try:
        yield
    finally:
        _offset.reset(token)
