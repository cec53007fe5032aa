"""A case's edit form, generated from its kind's field specs (``workflow/kinds``).

Plain HTML inputs named ``f-<field>`` and, for a rows table, ``f-<field>-<row>-<column>`` (rows
counted from 1, as in the domain's error keys ``courses[2].hours``). Parsing gives back exactly
what the person typed, so a form that fails validation is shown again with nothing lost; the
domain (``workflow.engine.fields.clean`` through ``drafts.save_fields``) decides what is valid.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from web.i18n import gettext as _
from web.i18n import localized
from workflow import rocdate
from workflow.engine.definitions import Definition, FieldSpec
from workflow.engine.fields import plain_number

BLANK_ROWS = 3  # empty rows offered under the filled ones
MORE_ROWS = 5  # rows the "add rows" button adds
_CELL = re.compile(r"^(?P<field>\w+)\[(?P<row>\d+)\]\.(?P<col>\w+)$")

Errors = Mapping[str, tuple[str, str]]


@dataclass
class Cell:
    name: str  # the input's name (and id)
    value: str
    error: str | None = None


@dataclass
class Input:
    """One field of the form: a scalar input, or a rows table (``columns`` and ``rows``)."""

    spec: FieldSpec
    name: str
    label: str
    hint: str
    value: str = ""
    error: str | None = None
    columns: list[tuple[FieldSpec, str, str]] = field(default_factory=list)  # (spec, label, hint)
    rows: list[list[Cell]] = field(default_factory=list)

    @property
    def choices(self) -> tuple[str, ...]:
        return self.spec.choices


def input_name(field_name: str) -> str:
    return f"f-{field_name}"


def cell_name(field_name: str, row: int, col: str) -> str:
    return f"f-{field_name}-{row}-{col}"


def count_name(field_name: str) -> str:
    return f"f-{field_name}-count"


def hint(spec: FieldSpec) -> str:
    """What the person should type, in words (shown under the label, linked by aria-describedby)."""
    parts: list[str] = []
    if spec.required:
        parts.append(_("必填"))
    if spec.type == "date":
        parts.append(_("民國日期，例：113.04.10"))
    elif spec.type == "int":
        parts.append(_("整數"))
    elif spec.type == "decimal":
        parts.append(_("數字，可有小數"))
    if spec.min is not None and spec.max is not None:
        parts.append(_("%(min)s 到 %(max)s", min=plain_number(spec.min), max=plain_number(spec.max)))
    if spec.max_length:
        parts.append(_("最多 %(n)s 字", n=spec.max_length))
    if spec.type == "rows":
        if spec.min_rows:
            parts.append(_("至少 %(n)s 列", n=spec.min_rows))
        parts.append(_("空白列不會儲存"))
    return "；".join(str(p) for p in parts)


def shown(spec: FieldSpec, value: Any) -> str:
    """A stored value as the form shows it: dates as ROC dates, the rest as typed."""
    if value is None:
        return ""
    if spec.type == "date":
        try:
            return rocdate.short(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if spec.type == "bool":
        return "1" if value else ""
    if spec.type == "decimal" and isinstance(value, int | float):
        return plain_number(value)
    return str(value)



def from_case(defn: Definition, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values (strings, rows as lists of dicts) from a case's stored fields."""
    out: dict[str, Any] = {}
    for spec in defn.fields:
        value = stored.get(spec.name)
        if spec.type == "rows":
            rows = value if isinstance(value, list) else []
            out[spec.name] = [{c.name: shown(c, r.get(c.name)) for c in spec.columns}
                              for r in rows if isinstance(r, dict)]
        else:
            out[spec.name] = shown(spec, value)
    return out


def parse(defn: Definition, form: Mapping[str, str]) -> dict[str, Any]:
    """What the person typed, keyed by field name; every row kept (blank ones too) so that row
    numbers in the domain's messages are the row numbers on the screen."""
    out: dict[str, Any] = {}
    for spec in defn.fields:
        if spec.type == "rows":
            raw = form.get(count_name(spec.name), "0")
            n = min(int(raw), spec.max_rows + MORE_ROWS) if raw.isdigit() else 0
            out[spec.name] = [{c.name: form.get(cell_name(spec.name, i, c.name), "") for c in spec.columns}
                              for i in range(1, n + 1)]
        elif spec.type == "bool":
            out[spec.name] = "1" if form.get(input_name(spec.name)) else ""
        else:
            out[spec.name] = form.get(input_name(spec.name), "")
    return out


def for_domain(defn: Definition, values: Mapping[str, Any]) -> dict[str, Any]:
    """The parsed form as ``drafts.save_fields`` takes it (a bool's box unticked is False)."""
    out: dict[str, Any] = {}
    for spec in defn.fields:
        v = values.get(spec.name)
        out[spec.name] = (v == "1") if spec.type == "bool" else v
    return out


def inputs(defn: Definition, values: Mapping[str, Any], errors: Errors | None = None,
           extra_rows: Mapping[str, int] | None = None) -> list[Input]:
    """The form's inputs with ``values`` and each error next to its field (or cell)."""
    errors = errors or {}
    cell_errors: dict[tuple[str, int, str], str] = {}
    for key, msg in errors.items():
        m = _CELL.match(key)
        if m:
            cell_errors[(m["field"], int(m["row"]), m["col"])] = localized(*msg)
    out = []
    for spec in defn.fields:
        err = errors.get(spec.name)
        item = Input(spec, input_name(spec.name), localized(spec.label, spec.label_en), hint(spec),
                     error=localized(*err) if err else None)
        if spec.type != "rows":
            item.value = str(values.get(spec.name) or "")
            out.append(item)
            continue
        item.columns = [(c, localized(c.label, c.label_en), hint(c)) for c in spec.columns]
        given = [r for r in values.get(spec.name) or [] if isinstance(r, dict)]
        # Trailing blank rows are not counted twice: the fixed number of blank rows is added after
        # the last row with something in it (or with an error).
        while given and not any(str(v).strip() for v in given[-1].values()) and not any(
                (spec.name, len(given), c.name) in cell_errors for c in spec.columns):
            given.pop()
        n = min(len(given) + BLANK_ROWS + (extra_rows or {}).get(spec.name, 0), spec.max_rows)
        n = max(n, len(given))
        for i in range(1, n + 1):
            row = given[i - 1] if i <= len(given) else {}
            item.rows.append([Cell(cell_name(spec.name, i, c.name), str(row.get(c.name) or ""),
                                   cell_errors.get((spec.name, i, c.name))) for c in spec.columns])
        out.append(item)
    return out


def general_errors(defn: Definition, errors: Errors) -> list[str]:
    """Errors that belong to no input on the form (shown at the top)."""
    names = {s.name for s in defn.fields} | {"title"}
    return [localized(*msg) for key, msg in errors.items() if key not in names and not _CELL.match(key)]
