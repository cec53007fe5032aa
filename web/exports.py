"""Table exports, one path for every table a page offers: CSV (UTF-8 with BOM, so Excel on an office
PC reads the Chinese), ODS (the government's open format) and XLSX, all written by tablib.

A text cell starting with = + - @ would be a formula to a spreadsheet: it is kept text (CSV injection).
"""

from __future__ import annotations

from collections.abc import Sequence

import tablib
from flask import Response

Cell = str | int | float | None

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _safe(value: Cell) -> Cell:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def dataset(title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> tablib.Dataset:
    data = tablib.Dataset(headers=list(header), title=title[:31])  # a sheet name has at most 31 characters
    for row in rows:
        data.append([_safe(c) for c in row])
    return data


def export(fmt: str, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """The table as ``fmt`` (a key of ``FORMATS``)."""
    data = dataset(title, header, rows)
    if fmt == "csv":
        return ("\ufeff" + data.export("csv")).encode("utf-8")
    out = data.export(fmt)
    return out if isinstance(out, bytes) else out.encode("utf-8")


def download(fmt: str, title: str, filename: str, header: Sequence[str],
             rows: Sequence[Sequence[Cell]]) -> Response:
    """The export as an attachment named ``filename.fmt``."""
    return Response(export(fmt, title, header, rows), content_type=FORMATS[fmt],
                    headers={"Content-Disposition": f"attachment; filename={filename}.{fmt}"})
