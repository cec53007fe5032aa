"""What the register pages share: the ROC year a page is asked for (``?year=115``)."""

from __future__ import annotations

from flask import request

from workflow import clock


def roc_year_arg() -> int:
    """The ``year`` query argument as a ROC year (three digits, 100-200), else this year."""
    raw = request.args.get("year", "")
    year = int(raw) if raw.isascii() and raw.isdigit() and len(raw) == 3 else clock.current_roc_year()
    return year if 100 <= year <= 200 else clock.current_roc_year()
