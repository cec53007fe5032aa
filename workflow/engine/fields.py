"""Validation of a case's structured fields against its kind's declared field specs."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from workflow import rocdate
from workflow.engine.definitions import Definition, FieldSpec
from workflow.errors import ValidationError

# XML 1.0 forbids these; they would break generated documents later, so they never get in.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # lone surrogates too (JSON escapes)

Errors = dict[str, tuple[str, str]]


def plain_number(x: float) -> str:
    """A number as people write it: 1000000, 2.5, 0.0001 (``:g`` gave 1e+06 and 1.5e+06)."""
    if float(x).is_integer():
        return str(int(x))
    return format(Decimal(repr(float(x))).normalize(), "f")


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, list) and not v)


def _scalar(spec: FieldSpec, value: Any) -> tuple[Any, tuple[str, str] | None]:
    """Return the clean value, or an error (zh, en)."""
    t = spec.type
    if t in ("text", "textarea"):
        if not isinstance(value, str | int | float):
            return None, ("須為文字", "must be text")
        s = _CONTROL.sub("", str(value)).strip()
        if t == "text":
            s = " ".join(s.split())
        if spec.max_length and len(s) > spec.max_length:
            return None, (f"最多 {spec.max_length} 字，目前 {len(s)} 字",
                          f"at most {spec.max_length} characters, got {len(s)}")
        return s, None
    if t in ("int", "decimal"):
        if isinstance(value, bool):
            return None, ("須為數字", "must be a number")
        try:
            num: float = float(str(value).replace(",", "").strip()) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            return None, (f"「{value}」不是數字", f"{value!r} is not a number")
        if not math.isfinite(num):
            return None, ("須為數字", "must be a number")
        if t == "int":
            if num != int(num):
                return None, ("須為整數", "must be a whole number")
            out: Any = int(num)
        else:
            out = round(num, 2)
        if spec.min is not None and num < spec.min:
            return None, (f"不可小於 {plain_number(spec.min)}", f"must be at least {plain_number(spec.min)}")
        if spec.max is not None and num > spec.max:
            return None, (f"不可大於 {plain_number(spec.max)}", f"must be at most {plain_number(spec.max)}")
        return out, None
    if t == "date":
        if isinstance(value, dt.date):
            return value.isoformat(), None
        try:
            return rocdate.parse(str(value)).isoformat(), None
        except rocdate.NoSuchDate:
            return None, (f"沒有「{value}」這一天，請檢查月份和日期",
                          f"there is no such day as {value!r}; check the month and day")
        except ValueError:
            return None, (
                f"「{value}」不是日期，請寫成 113.04.10 或 2024-04-10",
                f"{value!r} is not a date; write 113.04.10 or 2024-04-10",
            )
    if t == "choice":
        s = str(value).strip()
        if s not in spec.choices:
            opts = "、".join(spec.choices)
            return None, (f"請從 {opts} 中選擇", f"choose one of {', '.join(spec.choices)}")
        return s, None
    if t == "bool":
        if isinstance(value, bool):
            return value, None
        s = str(value).strip().lower()
        if s in ("1", "true", "yes", "on", "是"):
            return True, None
        if s in ("0", "false", "no", "off", "否", ""):
            return False, None
        return None, ("須為是或否", "must be yes or no")
    raise AssertionError(t)  # definitions.validate refuses other types


def clean(defn: Definition, data: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
    """Validate ``data``; with ``complete`` every required field must be present.

    Unknown keys are refused (a typo must not be silently dropped). Raises ValidationError
    naming each field (``courses[2].hours`` for a cell) and what is wrong with it.
    """
    errors: Errors = {}
    out: dict[str, Any] = {}
    specs = {f.name: f for f in defn.fields}
    for key in data:
        if key not in specs:
            errors[key] = ("此類案件沒有這個欄位", f"no such field for {defn.kind}")
    for spec in defn.fields:
        value = data.get(spec.name)
        if _empty(value):
            if complete and spec.required:
                errors[spec.name] = (f"「{spec.label}」為必填", f"{spec.label_en} is required")
            continue
        if spec.type == "rows":
            rows = _rows(spec, value, errors, complete=complete)
            if rows is not None:
                out[spec.name] = rows
            continue
        v, err = _scalar(spec, value)
        if err:
            errors[spec.name] = err
        elif not _empty(v):
            out[spec.name] = v
        elif complete and spec.required:
            errors[spec.name] = (f"「{spec.label}」為必填", f"{spec.label_en} is required")
    if errors:
        raise ValidationError(errors)
    return out


def _rows(spec: FieldSpec, value: Any, errors: Errors, *, complete: bool) -> list[dict[str, Any]] | None:
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        errors[spec.name] = ("須為表格列", "must be a list of rows")
        return None
    rows: list[dict[str, Any]] = []
    if len(value) > spec.max_rows:
        errors[spec.name] = (f"最多 {spec.max_rows} 列", f"at most {spec.max_rows} rows")
        return None
    cols = {c.name: c for c in spec.columns}
    for i, raw in enumerate(value, start=1):
        if all(_empty(v) for v in raw.values()):
            continue  # a blank row left in a form
        row: dict[str, Any] = {}
        for key in raw:
            if key not in cols:
                errors[f"{spec.name}[{i}].{key}"] = ("沒有這個欄位", "no such column")
        for col in spec.columns:
            where = f"{spec.name}[{i}].{col.name}"
            cell = raw.get(col.name)
            if _empty(cell):
                if complete and col.required:
                    errors[where] = (f"第 {i} 列「{col.label}」為必填", f"row {i}: {col.label_en} is required")
                continue
            v, err = _scalar(col, cell)
            if err:
                errors[where] = (f"第 {i} 列「{col.label}」{err[0]}", f"row {i}: {col.label_en} {err[1]}")
            else:
                row[col.name] = v
        rows.append(row)
    if complete and len(rows) < spec.min_rows:
        errors[spec.name] = (f"「{spec.label}」至少需 {spec.min_rows} 列",
                             f"{spec.label_en} needs at least {spec.min_rows} row(s)")
    return rows


def missing_required(defn: Definition, data: Mapping[str, Any]) -> list[str]:
    """Labels of required fields (or cells) that are missing or invalid, for a condition message."""
    try:
        clean(defn, data, complete=True)
    except ValidationError as exc:
        return list(exc.errors)
    return []


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[str]:
    """Names of top-level fields whose value differs (for 'what changed since the last submission')."""
    before = before or {}
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
