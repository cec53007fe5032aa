"""Jinja filters: every date is shown as a ROC (民國) date, every time in Asia/Taipei."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from web.i18n import is_english
from workflow import rocdate
from workflow.clock import TAIPEI


def _as_date(value: dt.date | dt.datetime | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(TAIPEI).date() if value.tzinfo else value.date()
    return value


def roc(value: dt.date | dt.datetime | None) -> str:
    """113.04.10"""
    return rocdate.short(_as_date(value))


def roc_long(value: dt.date | dt.datetime | None) -> str:
    """中華民國113年4月10日"""
    return rocdate.long(_as_date(value))


def roc_datetime(value: dt.datetime | None) -> str:
    """113.04.10 14:05 (Taipei time)"""
    if value is None:
        return ""
    local = value.astimezone(TAIPEI) if value.tzinfo else value
    return f"{rocdate.short(local.date())} {local:%H:%M}"


def filesize(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def paren(text: object) -> str:
    """A parenthesised aside in the page's language: 「（人事室）」 in Chinese, " (Personnel Office)"
    in English (full-width brackets after an English word read as a typo)."""
    return f" ({text})" if is_english() else f"（{text}）"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(roc=roc, roc_long=roc_long, roc_datetime=roc_datetime, filesize=filesize,
                                 paren=paren)
