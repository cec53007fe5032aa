"""聯絡人的逾期總覽: the liaison's board of overdue and due-soon cases (``workflow.views.board``), with
filters, CSV/ODS exports and server-drawn SVG charts. Only the liaison, the deputy liaison, the
secretariat and administrators see it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request
from flask_login import current_user, login_required

from web.access import holds_any
from web.charts import bars, stacked
from web.db import database, session
from web.exports import download
from web.i18n import gettext as _
from web.labels import kind_label, period_label, state_label
from workflow import rocdate
from workflow.engine import registry
from workflow.roles import Role
from workflow.views import board as boardmod

bp = Blueprint("board", __name__)
VIEWERS = frozenset({Role.LIAISON, Role.DEPUTY_LIAISON, Role.SECRETARIAT, Role.ADMIN})
PAGE_SIZE = 50  # rows per page, the most overdue first; the exports hold every row


def can_see_board() -> bool:
    """For the nav and the views: does the logged-in user hold a role that sees the board?"""
    return holds_any(VIEWERS)


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"can_see_board": can_see_board}


def state_word(state: str) -> str:
    """A state's label in the request's language, from the first kind that declares it."""
    words: dict[str, str] | None = g.get("state_words")
    if words is None:
        words = g.state_words = {}
    word = words.get(state)
    if word is None:
        word = state
        for d in registry.default().files.values():
            if state in d.state_names:
                word = state_label(d, state)
                break
        words[state] = word
    return word


FILTER_ARGS = ("unit", "state", "kind", "only")


def _filters() -> dict[str, Any]:
    def as_int(name: str) -> int | None:
        raw = request.args.get(name, "")
        return int(raw) if raw.isdigit() else None

    only = request.args.get("only") or None
    return {"unit_id": as_int("unit"), "state": request.args.get("state") or None,
            "kind": request.args.get("kind") or None, "only": only if only in ("overdue", "soon") else None}


def _page_no() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _load(limit: int | None, charts: bool, offset: int = 0) -> boardmod.Board:
    if not can_see_board():
        abort(403)
    return boardmod.board(database(), current_user.office_id, limit=limit, offset=offset, charts=charts,
                          session=session(), **_filters())


@bp.get("/board")
@login_required
def show() -> str:
    page_no = _page_no()
    b = _load(PAGE_SIZE, True, (page_no - 1) * PAGE_SIZE)
    open_states, _all = boardmod.state_names()
    rates = [(q.label, q.rate, f"{q.on_time}/{q.total}" + (f" ({q.rate:.0%})" if q.rate is not None else ""))
             for q in b.on_time]
    legend = sorted({st for per in b.states_by_unit.values() for st in per})
    chart_states = stacked(_("各課室案件狀態（本年度到期）"),
                           [(unit, [(state_word(st), per.get(st, 0)) for st in legend])
                            for unit, per in sorted(b.states_by_unit.items())],
                           [state_word(st) for st in legend])
    return render_template(
        "board.html", board=b, filters=_filters(), kind_label=kind_label, state_word=state_word,
        # Words each row repeats, looked up once per page.
        kind_words={k: kind_label(k) for k in {r.kind for r in b.rows}},
        period_words={p: period_label(p) for p in {r.period for r in b.rows}},
        days_left=_("尚餘 %(n)s 天"),
        period_label=period_label, kinds=registry.default().kinds(), states=sorted(open_states),
        chart_on_time=bars(_("每季準時完成率"), rates) if rates else None,
        chart_states=chart_states if legend else None,
        page_no=page_no, first=(page_no - 1) * PAGE_SIZE,
        more=(page_no - 1) * PAGE_SIZE + len(b.rows) < b.total,
        # Only the board's own filters travel to the paging and export links (url_for takes any
        # other name as its own argument: ?endpoint=... or ?_method=... must not reach it).
        page_args={k: v for k, v in request.args.items() if k in FILTER_ARGS and v},
    )


def _export_rows(b: boardmod.Board) -> tuple[list[str], list[list[Any]]]:
    header = [_("案件"), _("類別"), _("標題"), _("課室"), _("目前步驟"), _("期限"), _("逾期天數"), _("目前處理人")]
    rows = [[r.case_id, kind_label(r.kind), r.title, r.unit_name, state_word(r.state), rocdate.short(r.due_date),
             r.days_overdue, "、".join(r.holders)] for r in b.rows]
    return header, rows


def _download(fmt: str) -> Response:
    header, rows = _export_rows(_load(None, False))
    return download(fmt, _("逾期總覽"), "overdue-board", header, rows)


@bp.get("/board.csv")
@login_required
def export_csv() -> Response:
    return _download("csv")


@bp.get("/board.ods")
@login_required
def export_ods() -> Response:
    return _download("ods")


@bp.get("/board.xlsx")
@login_required
def export_xlsx() -> Response:
    return _download("xlsx")
