"""ROC (民國) dates: stored as ISO dates, shown as 中華民國113年4月10日 or 113.04.10."""

from __future__ import annotations

import datetime as dt
import re

ROC_OFFSET = 1911
_ROC = re.compile(r"^\s*(?:民國|中華民國)?\s*(\d{2,3})\s*[./\-年]\s*(\d{1,2})\s*[./\-月]\s*(\d{1,2})\s*日?\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def roc_year(d: dt.date) -> int:
    return d.year - ROC_OFFSET


def long(d: dt.date | None) -> str:
    """中華民國113年4月10日"""
    if d is None:
        return ""
    return f"中華民國{roc_year(d)}年{d.month}月{d.day}日"


def short(d: dt.date | None) -> str:
    """113.04.10"""
    if d is None:
        return ""
    return f"{roc_year(d)}.{d.month:02d}.{d.day:02d}"


class NoSuchDate(ValueError):
    """Written as a date, but there is no such day (115.02.30, 2026-13-01)."""


def parse(text: str) -> dt.date:
    """Accept 2024-04-10, 113.04.10, 113/4/10 or 民國113年4月10日; raise NoSuchDate for a date's
    shape naming no day, ValueError for anything else."""
    m = _ISO.match(text)
    year = int(m[1]) if m else 0
    if not m:
        m = _ROC.match(text)
        year = int(m[1]) + ROC_OFFSET if m else 0
    if not m:
        raise ValueError(text)
    try:
        return dt.date(year, int(m[2]), int(m[3]))
    except ValueError:
        raise NoSuchDate(text) from None


def roc_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """The first and last day of ROC year ``year`` (民國115年: 2026-01-01 to 2026-12-31)."""
    return dt.date(year + ROC_OFFSET, 1, 1), dt.date(year + ROC_OFFSET, 12, 31)
