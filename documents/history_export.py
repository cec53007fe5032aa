"""A case's history for an auditor: every event (who, when, in whose name, from which state to
which, the comment, its hash) with the result of checking the case's hash chain, as a table (for
CSV, ODS and XLSX through the one export path) and as a PDF laid out like the office's documents
(A4 landscape, 標楷體; a .docx converted by LibreOffice).

The table states only what the rows say: names are the users' names, 代理 the person acted for,
and the check is run on the same rows the table prints, read in one snapshot.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Cm, Pt
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from documents.build_templates import set_fonts
from documents.context import TRIGGER_LABELS
from documents.convert import ColdConverter, WarmConverter
from documents.render import clean_text
from workflow import clock, rocdate
from workflow.db import Database
from workflow.engine import audit, registry
from workflow.models import Case, HistoryEvent, Office, Unit, User

HEADER = ["序號", "時間（臺北）", "事件", "動作", "處理人", "代理", "狀態變化", "意見", "雜湊值（SHA-256）"]
EVENT_WORDS = {"created": "建立案件", "transition": "狀態變更", "edited": "修改內容", "attachment": "上傳附件",
               "attachment_removed": "移除附件", "document": "產生文件", "publication": "網站刊登",
               "migrated": "改用新版流程"}
SYSTEM_NAME = "系統"


@dataclass(frozen=True)
class CaseHistory:
    case_id: int
    title: str
    office_name: str
    unit_name: str
    kind_label: str
    state_label: str
    rows: list[list[str]]
    intact: bool
    check: str  # the chain check in words

    @property
    def heading(self) -> str:
        return f"案件歷程：{self.title}（案件編號 {self.case_id}）"


def load(db: Database, case_id: int) -> CaseHistory:
    """The case's events and the check of its chain, read in one snapshot (the caller has checked
    that the reader may read the case)."""
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        if db.dialect == "postgresql":  # the case row and its events as of one moment (see audit.verify)
            s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return _load(db, s, case_id)


def _load(db: Database, s: Session, case_id: int) -> CaseHistory:
    case = s.get_one(Case, case_id)
    defn = registry.default().get(db, case.kind, case.workflow_version, s)
    actor, principal = aliased(User), aliased(User)
    rows = s.execute(
        select(HistoryEvent, actor.display_name, principal.display_name)
        .outerjoin(actor, actor.id == HistoryEvent.actor_id)
        .outerjoin(principal, principal.id == HistoryEvent.on_behalf_of_id)
        .where(HistoryEvent.case_id == case_id).order_by(HistoryEvent.seq)).all()
    events = [ev for ev, _a, _p in rows]
    brk = audit.verify_case(events, case)
    if brk is None:
        check = f"歷程雜湊鏈驗證通過：{len(events)} 筆紀錄連續、未經修改（驗證日期 {rocdate.long(clock.today())}）。"
    else:
        check = f"歷程雜湊鏈驗證失敗：{brk.problem_zh or brk.problem}。"

    def state(name: str | None) -> str:
        if not name:
            return ""
        try:
            return defn.state(name).label
        except KeyError:
            return name

    table = []
    for ev, who, for_whom in rows:
        moved = f"{state(ev.from_state)} → {state(ev.to_state)}" if ev.from_state else state(ev.to_state)
        detail = (ev.data or {}).get("label") or (ev.data or {}).get("document") or ""
        local = ev.at.astimezone(clock.TAIPEI)
        table.append([str(ev.seq), f"{rocdate.short(local.date())} {local:%H:%M:%S}",
                      EVENT_WORDS.get(ev.event, ev.event) + (f"（{detail}）" if detail else ""),
                      TRIGGER_LABELS.get(ev.trigger or "", ev.trigger or ""), who or SYSTEM_NAME, for_whom or "",
                      moved, ev.comment or "", ev.hash])
    office = s.get_one(Office, case.office_id)
    unit = s.get(Unit, case.unit_id)
    return CaseHistory(case.id, case.title, office.name, unit.name if unit else "", defn.label,
                       state(case.state), clean_text(table), brk is None, check)


def table_rows(h: CaseHistory) -> list[list[str]]:
    """The rows as exported (CSV, ODS, XLSX), the chain check as a last row."""
    return [*h.rows, ["驗證", "", h.check, "", "", "", "", "", ""]]


def to_docx(h: CaseHistory, exported_by: str) -> bytes:
    doc = new_docx()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21.0)
    sec.left_margin = sec.right_margin = sec.top_margin = sec.bottom_margin = Cm(1.5)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(11)
    set_fonts(normal.element)
    set_fonts(doc.styles["Table Grid"].element)
    doc.core_properties.title = clean_text(h.heading)
    doc.core_properties.author = "caseflow"

    def line(text: str, size: float = 11, bold: bool = False) -> None:
        run = doc.add_paragraph().add_run(clean_text(text))
        set_fonts(run._r)
        run.font.size, run.bold = Pt(size), bold

    line(h.office_name, 16, bold=True)
    line(h.heading, 16, bold=True)
    line(f"類別：{h.kind_label}　課室：{h.unit_name}　目前狀態：{h.state_label}　"
         f"匯出：{rocdate.long(clock.today())}（{exported_by}）")
    line(h.check, 12, bold=True)
    widths = [1.0, 3.4, 3.0, 2.2, 2.4, 2.0, 4.2, 4.8, 3.7]
    t = doc.add_table(rows=1, cols=len(HEADER))
    t.style = doc.styles["Table Grid"]
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    hash_column = len(HEADER) - 1
    for row_values, header in [(HEADER, True), *((r, False) for r in h.rows)]:
        cells = t.rows[0].cells if header else t.add_row().cells
        for i, (cell, width, value) in enumerate(zip(cells, widths, row_values, strict=True)):
            cell.width = Cm(width)
            short_hash = not header and i == hash_column
            run = cell.paragraphs[0].add_run(value[:16] + "…" if short_hash else value)
            set_fonts(run._r)
            run.font.size, run.bold = Pt(8 if short_hash else 9), header
    line("雜湊值僅列前 16 碼；完整值見 CSV 匯出。", 9)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_pdf(h: CaseHistory, exported_by: str, converter: WarmConverter | ColdConverter) -> bytes:
    return converter.convert(to_docx(h, exported_by), "pdf")
