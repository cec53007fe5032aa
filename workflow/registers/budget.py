"""The gender budget (性別預算, plan §5.2(3) and §6): each year's items by category 1-5 and unit,
budgeted and, once known, executed, with the execution rate; and what the yearly budget review
case takes from it: this year's plan and last year's execution, without typing a number.

Every change is recorded with what it was before (``admin_log``, same transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.errors import NotFound, ValidationError
from workflow.models import BudgetItem, Unit
from workflow.people import admin_log

CATEGORY_WORDS = {1: "計畫類", 2: "綱領類", 3: "工具類", 4: "性平法令類", 5: "其他類"}
MAX_AMOUNT = 10_000_000_000  # NT$ 100 億: far above any district office's line
FIELDS = ("roc_year", "category", "item", "unit_id", "budgeted", "executed")


def _amount(value: Any, key: str, zh: str, errors: dict[str, tuple[str, str]], *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_AMOUNT:
        errors[key] = (f"{zh}須為 0 到 {MAX_AMOUNT:,} 的整數（元）",
                       f"{key} must be whole NT$ from 0 to {MAX_AMOUNT:,}")


def _clean(s: Session, office_id: int, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    errors: dict[str, tuple[str, str]] = {}
    out["item"] = " ".join(str(out.get("item") or "").split())
    if not out["item"] or len(out["item"]) > 200:
        errors["item"] = ("請填寫預算項目名稱（最多 200 字）", "an item name of at most 200 characters is required")
    if out.get("category") not in CATEGORY_WORDS:
        errors["category"] = ("類別須為 1 到 5：1 計畫類、2 綱領類、3 工具類、4 性平法令類、5 其他類",
                              "the category is 1 to 5")
    year = out.get("roc_year")
    if not isinstance(year, int) or not 100 <= year <= 200:
        errors["roc_year"] = ("請填寫民國年度，例如 115", "a ROC year such as 115 is required")
    _amount(out.get("budgeted"), "budgeted", "預算數", errors, optional=False)
    _amount(out.get("executed"), "executed", "執行數", errors, optional=True)
    if s.scalar(select(Unit.office_id).where(Unit.id == out.get("unit_id"))) != office_id:
        errors["unit_id"] = ("請選擇本所的編列單位", "choose one of this office's units")
    if errors:
        raise ValidationError(errors)
    return out


def _duplicate(item: str) -> ValidationError:
    return ValidationError({"item": (f"這個單位在同一年度已有「{item}」一項；請修改該項，或換一個名稱",
                                     f"the unit already has {item!r} that year")})


def add_item(s: Session, office_id: int, actor_id: int | None, **values: Any) -> BudgetItem:
    clean = _clean(s, office_id, values)
    row = BudgetItem(office_id=office_id, **{k: clean.get(k) for k in FIELDS})
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:
        raise _duplicate(clean["item"]) from None
    admin_log.record(s, office_id, actor_id, "budget.item.add", item_id=row.id, before=None,
                     after={k: getattr(row, k) for k in FIELDS})
    return row


def update_item(s: Session, office_id: int, actor_id: int | None, item_id: int, **values: Any) -> BudgetItem:
    """Correct an item or record what was executed; before and after are recorded."""
    row = s.get(BudgetItem, item_id)
    if row is None or row.office_id != office_id:
        raise NotFound("找不到這個預算項目", f"no budget item {item_id}")
    before = {k: getattr(row, k) for k in FIELDS}
    clean = _clean(s, office_id, {**before, **values})
    try:
        with s.begin_nested():
            for k in FIELDS:
                setattr(row, k, clean.get(k))
            s.flush()
    except IntegrityError:
        raise _duplicate(clean["item"]) from None
    admin_log.record(s, office_id, actor_id, "budget.item.update", item_id=row.id, before=before,
                     after={k: getattr(row, k) for k in FIELDS})
    return row


def items(s: Session, office_id: int, roc_year: int) -> list[tuple[BudgetItem, str]]:
    return [(b, unit) for b, unit in s.execute(
        select(BudgetItem, Unit.name).join(Unit, Unit.id == BudgetItem.unit_id)
        .where(BudgetItem.office_id == office_id, BudgetItem.roc_year == roc_year)
        .order_by(BudgetItem.category, Unit.id, BudgetItem.id))]


def rate(executed: int | None, budgeted: int) -> str:
    if executed is None or not budgeted:
        return ""
    return f"{executed / budgeted * 100:.1f}%"


@dataclass(frozen=True)
class Totals:
    items: int
    budgeted: int
    executed: int  # of the items whose execution is recorded
    unreported: int  # items with no executed amount yet

    def as_json(self) -> dict[str, Any]:
        return {"items": self.items, "budgeted": self.budgeted, "executed": self.executed}


def totals(rows: list[tuple[BudgetItem, str]]) -> Totals:
    return Totals(len(rows), sum(b.budgeted for b, _u in rows), sum(b.executed or 0 for b, _u in rows),
                  sum(1 for b, _u in rows if b.executed is None))


def review_fields(s: Session, office_id: int, roc_year: int) -> dict[str, Any]:
    """The budget review case's fields: this year's items, and a sentence on last year's
    execution computed from last year's items (the rows are named so a reader can check)."""
    now = items(s, office_id, roc_year)
    last = items(s, office_id, roc_year - 1)
    t = totals(last)
    if not last:
        note = f"{roc_year - 1}年度未登錄性別預算項目。"
    else:
        parts = "；".join(f"{b.item}（{unit}）預算 {b.budgeted:,} 元、"
                         + (f"執行 {b.executed:,} 元（{rate(b.executed, b.budgeted)}）" if b.executed is not None
                            else "執行數尚未登錄") for b, unit in last)
        note = (f"{roc_year - 1}年度性別預算共 {t.items} 項，預算數 {t.budgeted:,} 元，執行數 {t.executed:,} 元"
                f"（執行率 {rate(t.executed, t.budgeted) or '—'}"
                + (f"，{t.unreported} 項執行數尚未登錄" if t.unreported else "") + f"）。{parts}。")
    return {"items": [{"category": b.category, "item": b.item[:200], "budgeted": b.budgeted,
                       **({"executed": b.executed} if b.executed is not None else {})} for b, _u in now],
            "previous_year_note": note[:4000]}


EXPORT_HEADER = ["年度", "類別", "項目", "編列單位", "預算數", "執行數", "執行率"]


def export_rows(s: Session, office_id: int, roc_year: int) -> list[list[Any]]:
    return [[b.roc_year, f"{b.category} {CATEGORY_WORDS[b.category]}", b.item, unit, b.budgeted,
             "" if b.executed is None else b.executed, rate(b.executed, b.budgeted)]
            for b, unit in items(s, office_id, roc_year)]
